using System.Text.Json.Nodes;
using Destinations.Host.Tests.Support;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Destinations.Host.Tests;

/// <summary>Swagger, health and start-up behaviour of the host.</summary>
public class HostTests(DefaultIngressApp app) : IClassFixture<DefaultIngressApp>
{
    [Fact]
    public async Task Swagger_lists_every_ingress_path_with_examples_and_security()
    {
        var response = await app.CreateClient().GetAsync("/swagger/v1/swagger.json");
        Assert.Equal(200, (int)response.StatusCode);
        var doc = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        string[] paths = ["/v1/webhook/{sourceId}", "/v1/webhook", "/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch", "/v1/import"];
        foreach (var path in paths)
        {
            var post = doc["paths"]?[path]?["post"];
            Assert.True(post is not null, $"{path} is missing");
            Assert.NotNull(post!["requestBody"]?["content"]?["application/json"]?["examples"]);
            Assert.NotNull(post["security"]);
            Assert.NotNull(post["responses"]?["401"]);
        }
        Assert.Equal("basic", doc["components"]!["securitySchemes"]!["writeKey"]!["scheme"]!.GetValue<string>());
        Assert.Equal("X-Signature", doc["components"]!["securitySchemes"]!["webhookSignature"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Swagger_ui_is_served() =>
        Assert.Equal(200, (int)(await app.CreateClient().GetAsync("/swagger/index.html")).StatusCode);

    [Fact]
    public async Task Health_live_and_ready()
    {
        var client = app.CreateClient();
        Assert.Equal(200, (int)(await client.GetAsync("/health/live")).StatusCode);
        app.Store.Ready = true;
        Assert.Equal(200, (int)(await client.GetAsync("/health/ready")).StatusCode);
        app.Store.Ready = false;
        try
        {
            Assert.Equal(503, (int)(await client.GetAsync("/health/ready")).StatusCode);
            Assert.Equal(200, (int)(await client.GetAsync("/health/live")).StatusCode);
        }
        finally { app.Store.Ready = true; }
    }
}

public class StartupTests
{
    sealed class FatalSink : Serilog.Core.ILogEventSink
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();
        public void Emit(Serilog.Events.LogEvent e)
        {
            if (e.Level == Serilog.Events.LogEventLevel.Fatal) Messages.Enqueue(e.RenderMessage());
        }
    }

    [Fact]
    public void A_bad_configuration_stops_start_up_with_its_message()
    {
        var settings = IngressApp.TwoSources();
        settings["Destinations:1:Id"] = "test-2";
        settings["Destinations:1:Type"] = "Nope";
        var sink = new FatalSink();
        using var app = new IngressApp(settings);
        using var withSink = app.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<Serilog.Core.ILogEventSink>(sink)));
        Assert.ThrowsAny<Exception>(() => withSink.CreateClient());
        var message = Assert.Single(sink.Messages);
        Assert.Contains("Destinations[1].Type: 'Nope' is not a known destination type (known: Salesmachine, SelligentMarketingCloud, Test, UserMotion, Webhook)", message);
    }
}
