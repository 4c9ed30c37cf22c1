using Destinations.Core.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Destinations.Webhook.Tests;

/// <summary>A real ServiceCollection + AddWebhook (the production client and handler), an instance built from configuration
/// and a mappings file written for the test.</summary>
sealed class TestHost : IDisposable
{
    readonly ServiceProvider _provider;
    readonly string _file = Path.Combine(Path.GetTempPath(), $"webhook-mappings-{Guid.NewGuid():N}.json");

    public TestHost(string mappingsJson, IDictionary<string, string?> settings)
    {
        File.WriteAllText(_file, mappingsJson);
        var config = new Dictionary<string, string?>
        {
            ["Webhook:AttemptTimeout"] = "00:00:05",
            ["Webhook:ConnectRetries"] = "0",
            ["Destinations:0:Id"] = "crm",
            ["Destinations:0:Type"] = "Webhook",
            ["Destinations:0:MappingsFile"] = _file,
        };
        foreach (var (k, v) in settings) config[$"Destinations:0:Settings:{k}"] = v;
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(config).Build();
        var services = new ServiceCollection();
        services.AddWebhook(Configuration);
        _provider = services.BuildServiceProvider(validateScopes: true);
    }

    public IConfiguration Configuration { get; }

    public DestinationBuildResult Create() =>
        _provider.GetServices<IDestinationFactory>().OfType<WebhookDestinationFactory>().Single()
            .Create("crm", Configuration.GetSection("Destinations:0"), "Destinations[0]");

    public WebhookDestination Destination()
    {
        var built = Create();
        Assert.True(built.Errors.Count == 0, string.Join("\n", built.Errors));
        return (WebhookDestination)built.Destination!;
    }

    public void Dispose()
    {
        _provider.Dispose();
        File.Delete(_file);
    }
}
