using Destinations.Core.Delivery;
using Destinations.Salesmachine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Destinations.Salesmachine.Tests;

/// <summary>A real ServiceCollection + AddSalesmachine, so tests exercise the production pipeline (D14).</summary>
sealed class TestHost : IDisposable
{
    readonly ServiceProvider _provider;

    public TestHost(IDictionary<string, string?> config, Action<IServiceCollection>? extra = null)
    {
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(config).Build();
        var services = new ServiceCollection();
        services.AddSalesmachine(Configuration);
        extra?.Invoke(services);
        _provider = services.BuildServiceProvider(validateScopes: true);
    }

    public IConfiguration Configuration { get; }
    public IServiceProvider Services => _provider;

    public SalesmachineDestinationFactory Factory =>
        _provider.GetServices<IDestinationFactory>().OfType<SalesmachineDestinationFactory>().Single();

    public SalesmachineClient Client => _provider.GetRequiredService<SalesmachineClient>();

    /// <summary>Builds <c>Destinations[0]</c> from the configuration given to the host.</summary>
    public DestinationBuildResult Create(string id = "sm-main") =>
        Factory.Create(id, Configuration.GetSection("Destinations:0"), "Destinations[0]");

    public void Dispose() => _provider.Dispose();
}
