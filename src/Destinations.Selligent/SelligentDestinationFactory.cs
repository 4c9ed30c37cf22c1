using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Destinations.Selligent;

/// <summary>Builds SMC instances from <c>Destinations</c> entries with <c>Type: SelligentMarketingCloud</c>.</summary>
public sealed class SelligentDestinationFactory(IServiceProvider services, IOptions<SelligentOptions> options) : IDestinationFactory
{
    public string Type => SelligentApi.Type;
    public string IntegrationName => SelligentApi.IntegrationName;

    /// <summary>2,500 requests per minute (docs/partners/selligent.md "Rate limit").</summary>
    public PartnerRateLimit? DefaultRateLimit { get; } = new(2500, TimeSpan.FromSeconds(60));

    public DestinationBuildResult Create(string id, IConfigurationSection instanceSection, string keyPath)
    {
        var read = SelligentSettingsReader.Read(instanceSection.GetSection("Settings"), keyPath, options.Value);
        if (read.Settings is null) return new DestinationBuildResult(null, read.Errors, read.Warnings);
        // Typed clients are transient: resolve one per send so handler rotation by IHttpClientFactory keeps working.
        var destination = new SelligentDestination(id, read.Settings, options.Value.MaxRowsPerLoad,
            () => services.GetRequiredService<SelligentClient>());
        return DestinationBuildResult.Ok(destination, [.. read.Warnings]);
    }
}
