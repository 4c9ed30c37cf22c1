using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Destinations.Salesmachine;

/// <summary>Builds Salesmachine instances from <c>Destinations</c> entries with <c>Type: Salesmachine</c>.</summary>
public sealed class SalesmachineDestinationFactory(IServiceProvider services) : IDestinationFactory
{
    public string Type => "Salesmachine";
    public string IntegrationName => SalesmachineApi.IntegrationName;

    /// <summary>About 900 requests per 300 s per API token (docs/partners/salesmachine.md "Rate limit").</summary>
    public PartnerRateLimit? DefaultRateLimit { get; } = new(900, TimeSpan.FromSeconds(300));

    public DestinationBuildResult Create(string id, IConfigurationSection instanceSection, string keyPath)
    {
        var read = SalesmachineSettingsReader.Read(instanceSection.GetSection("Settings"), keyPath);
        if (read.Settings is null) return new DestinationBuildResult(null, read.Errors, read.Warnings);
        // Typed clients are transient: resolve one per send so handler rotation by IHttpClientFactory keeps working.
        var destination = new SalesmachineDestination(id, read.Settings, () => services.GetRequiredService<SalesmachineClient>());
        return DestinationBuildResult.Ok(destination, [.. read.Warnings]);
    }
}
