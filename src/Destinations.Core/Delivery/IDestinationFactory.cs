using Microsoft.Extensions.Configuration;

namespace Destinations.Core.Delivery;

/// <summary>
/// Registered once per partner (by its <c>AddXxx()</c> extension): the partner declares itself here — its type name, its name
/// in the Integrations object, its default rate limit — and builds instances from configuration entries whose <c>Type</c>
/// equals <see cref="Type"/>. Nothing outside the partner's project names it.
/// </summary>
public interface IDestinationFactory
{
    /// <summary>The configuration value of <c>Destinations:n:Type</c>, e.g. <c>Salesmachine</c>.</summary>
    string Type { get; }

    /// <summary>The destination's name in the Integrations object.</summary>
    string IntegrationName { get; }

    /// <summary>The partner's documented request limit per instance (D25), or null when it documents none. Configuration
    /// (<c>Delivery:RateLimitDefaults:{Type}</c>, <c>Delivery:RateLimits:{id}</c>) overrides it.</summary>
    PartnerRateLimit? DefaultRateLimit { get; }

    /// <summary>
    /// Validates and binds the instance's <c>Settings</c> section. Returns errors as
    /// "<c>{keyPath}.Settings.ApiToken: is required</c>" (keyPath like <c>Destinations[0]</c>); an instance only when there are none.
    /// </summary>
    DestinationBuildResult Create(string id, IConfigurationSection instanceSection, string keyPath);
}

public sealed record DestinationBuildResult(IDestination? Destination, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings)
{
    public static DestinationBuildResult Ok(IDestination d, params string[] warnings) => new(d, [], warnings);
    public static DestinationBuildResult Failed(IReadOnlyList<string> errors) => new(null, errors, []);
}
