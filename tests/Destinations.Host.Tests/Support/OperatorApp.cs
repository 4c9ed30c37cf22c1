using System.Net.Http.Headers;
using System.Text;
using Destinations.Core.Delivery;
using Destinations.Core.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Server;

namespace Destinations.Host.Tests.Support;

/// <summary>
/// The whole host with the real SQLite store (temp file) and dispatcher, a Salesmachine instance pointed at a WireMock
/// partner, the "Test" destination and an admin key — for the operator surface (admin API, dry-run, metrics, logs).
/// </summary>
public sealed class OperatorApp : WebApplicationFactory<Program>
{
    public const string AdminKey = "admin-key-5d8e2f7a91c4";
    public const string ApiToken = "sm-token-3e9d1c";
    public const string ApiSecret = "sm-secret-8b2f4a";

    readonly Dictionary<string, string?> _settings;

    /// <param name="overrides">Keys to add or replace (null value removes the key).</param>
    public OperatorApp(IDictionary<string, string?>? overrides = null)
    {
        Partner = WireMockServer.Start();
        _settings = new Dictionary<string, string?>
        {
            ["Sources:0:Id"] = "web",
            ["Sources:0:WriteKey"] = IngressApp.WebWriteKey,
            ["Sources:0:SharedSecret"] = IngressApp.SharedSecret,
            ["Sources:1:Id"] = "dev",
            ["Sources:1:WriteKey"] = IngressApp.DevWriteKey,
            ["Sources:1:AllowUnsigned"] = "true",
            ["Destinations:0:Id"] = "sm",
            ["Destinations:0:Type"] = "Salesmachine",
            ["Destinations:0:Sources:0"] = "web",
            ["Destinations:0:Settings:ApiToken"] = ApiToken,
            ["Destinations:0:Settings:ApiSecret"] = ApiSecret,
            ["Destinations:0:Settings:BaseUrl"] = Partner.Url,
            ["Destinations:1:Id"] = "test-1",
            ["Destinations:1:Type"] = "Test",
            ["Admin:ApiKey"] = AdminKey,
            ["Salesmachine:ConnectRetries"] = "0",
            ["Salesmachine:AttemptTimeout"] = "00:00:05",
            ["Delivery:PollInterval"] = "00:00:00.100",
            ["Delivery:BaseDelay"] = "00:00:00.100",
            ["Metrics:QueueSampleInterval"] = "00:00:00.200",
            ["Storage:ConnectionString"] = $"Data Source={TempDatabase.NewPath()}",
        };
        foreach (var (k, v) in overrides ?? new Dictionary<string, string?>())
            if (v is null) _settings.Remove(k); else _settings[k] = v;
    }

    public WireMockServer Partner { get; }

    public string PartnerUrl => Partner.Url!;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_settings));
        builder.ConfigureTestServices(services => services.AddSingleton<IDestinationFactory>(TestDestination.Factory()));
    }

    public HttpClient Admin(string? key = AdminKey)
    {
        var client = CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A client that sends events with a source's write key (<see cref="IngressApp.Basic"/>).</summary>
    public HttpClient Source(string writeKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = IngressApp.Basic(writeKey);
        return client;
    }

    /// <summary>Waits, up to 30 s, until <paramref name="instance"/> has counted <paramref name="count"/> filtered deliveries
    /// (the dispatcher settles them after the acknowledgement); the caller's assertions say what is missing otherwise.</summary>
    public async Task WaitForFilteredAsync(string instance, long count = 1)
    {
        var queue = Services.GetRequiredService<IDeliveryQueue>();
        for (var until = DateTime.UtcNow.AddSeconds(30); (await queue.GetStatsAsync(instance, CancellationToken.None)).FilteredTotal < count && DateTime.UtcNow < until;)
            await Task.Delay(100);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Partner.Stop();
    }
}
