using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Destinations.Selligent.Tests;

/// <summary>A real ServiceCollection + AddSelligent, so tests exercise the production pipeline (D14) and the SSRF guard.</summary>
sealed class TestHost : IDisposable
{
    readonly ServiceProvider _provider;

    public TestHost(IDictionary<string, string?> config, Action<IServiceCollection>? extra = null)
    {
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(config).Build();
        var services = new ServiceCollection();
        services.AddSelligent(Configuration);
        extra?.Invoke(services);
        _provider = services.BuildServiceProvider(validateScopes: true);
    }

    public IConfiguration Configuration { get; }
    public IServiceProvider Services => _provider;

    public SelligentDestinationFactory Factory =>
        _provider.GetServices<IDestinationFactory>().OfType<SelligentDestinationFactory>().Single();

    /// <summary>Builds <c>Destinations[n]</c> from the configuration given to the host.</summary>
    public DestinationBuildResult Create(int index = 0, string id = "smc-main") =>
        Factory.Create(id, Configuration.GetSection($"Destinations:{index}"), $"Destinations[{index}]");

    public void Dispose() => _provider.Dispose();
}
