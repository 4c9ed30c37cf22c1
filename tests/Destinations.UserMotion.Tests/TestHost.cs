using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Destinations.UserMotion.Tests;

/// <summary>A real ServiceCollection + AddUserMotion, so tests exercise the production pipeline (D14).</summary>
sealed class TestHost : IDisposable
{
    readonly ServiceProvider _provider;

    public TestHost(IDictionary<string, string?> config)
    {
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(config).Build();
        var services = new ServiceCollection();
        services.AddUserMotion(Configuration);
        _provider = services.BuildServiceProvider(validateScopes: true);
    }

    public IConfiguration Configuration { get; }

    public UserMotionDestinationFactory Factory =>
        _provider.GetServices<IDestinationFactory>().OfType<UserMotionDestinationFactory>().Single();

    public DestinationBuildResult Create(string id = "um-main") =>
        Factory.Create(id, Configuration.GetSection("Destinations:0"), "Destinations[0]");

    public void Dispose() => _provider.Dispose();
}
