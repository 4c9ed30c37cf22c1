using Destinations.Core.Diagnostics;
using Destinations.Host.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Destinations.Host.Tests;

/// <summary>/metrics (OpenTelemetry, Prometheus text): ingress, accepted/filtered events, deliveries, queue gauges.</summary>
public class MetricsTests
{
    [Fact]
    public async Task Scrape_shows_ingress_events_queue_and_delivery_metrics()
    {
        using var app = new OperatorApp(new Dictionary<string, string?> { ["Delivery:BaseDelay"] = "00:10:00" });
        app.Partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(503));
        var client = app.CreateClient();
        async Task Post(string path, string body, string? key = IngressApp.WebWriteKey)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = OperatorApp.JsonBody(body) };
            if (key is not null) request.Headers.Authorization = IngressApp.Basic(key);
            await client.SendAsync(request);
        }
        await Post("/v1/track", """{"userId":"u1","event":"E","messageId":"m-1"}""");
        await Post("/v1/track", """{"userId":"u1","event":"E","messageId":"m-1"}""");   // duplicate (D5)
        await Post("/v1/screen", """{"userId":"u1","name":"Home","messageId":"m-2"}"""); // Salesmachine takes no screen
        await Post("/v1/track", """{"userId":"u1","event":"E"}""", "wk-wrong");         // 401
        await Post("/v1/webhook/nope", """{"type":"track","userId":"u1","event":"E"}""", null); // 404

        // The partner answers 503, so the track delivery is retried (BaseDelay 10 min): it sits in the queue as retrying.
        string scrape = "";
        for (var i = 0; i < 100; i++)
        {
            scrape = await client.GetStringAsync("/metrics");
            if (Prometheus.Sample(scrape, "destinations_queue_depth", ("destination", "sm"), ("state", "retrying")) == 1) break;
            await Task.Delay(100);
        }

        Assert.Equal(2, Prometheus.Sample(scrape, "destinations_ingress_requests_total", ("endpoint", "/v1/track"), ("status_code", "200")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_ingress_requests_total", ("endpoint", "/v1/screen"), ("status_code", "200")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_ingress_requests_total", ("endpoint", "/v1/track"), ("status_code", "401")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_ingress_requests_total", ("endpoint", "/v1/webhook/{sourceId}"), ("status_code", "404")));
        Assert.Equal(2, Prometheus.Sample(scrape, "destinations_events_accepted_total", ("source", "web"), ("status", "stored")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_events_accepted_total", ("source", "web"), ("status", "duplicate")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_events_filtered_total", ("destination", "sm"), ("reason", "call_type_not_accepted")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_queue_depth", ("destination", "sm"), ("state", "retrying")));
        Assert.Equal(0, Prometheus.Sample(scrape, "destinations_queue_depth", ("destination", "sm"), ("state", "new")));
        Assert.Equal(0, Prometheus.Sample(scrape, "destinations_queue_dead", ("destination", "sm")));
    }

    [Fact]
    public async Task Delivery_counters_and_attempt_latency_are_exported_per_destination()
    {
        using var app = new OperatorApp();
        // The dispatcher records these (Storage); here the export of the shared instruments is what is checked.
        var metrics = app.Services.GetRequiredService<DestinationsMetrics>();
        metrics.Delivery("sm", "delivered");
        metrics.Delivery("sm", "delivered");
        metrics.Delivery("sm", "dead");
        metrics.AttemptDuration("sm", "Succeeded", TimeSpan.FromMilliseconds(30));

        var scrape = await app.CreateClient().GetStringAsync("/metrics");
        Assert.Equal(2, Prometheus.Sample(scrape, "destinations_deliveries_total", ("destination", "sm"), ("outcome", "delivered")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_deliveries_total", ("destination", "sm"), ("outcome", "dead")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_delivery_attempt_duration_seconds_count", ("destination", "sm"), ("result", "Succeeded")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_delivery_attempt_duration_seconds_bucket", ("destination", "sm"), ("result", "Succeeded"), ("le", "0.05")));
        Assert.Equal(0, Prometheus.Sample(scrape, "destinations_delivery_attempt_duration_seconds_bucket", ("destination", "sm"), ("result", "Succeeded"), ("le", "0.025")));
    }

    [Fact]
    public async Task A_real_delivery_shows_in_the_per_destination_counters_and_the_lag_gauge()
    {
        using var app = new OperatorApp(new Dictionary<string, string?>
        {
            ["Metrics:QueueSampleInterval"] = "00:00:00.100",
            ["Delivery:PollInterval"] = "00:00:00.100",
        });
        app.Partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        var client = app.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/identify")
        {
            Content = OperatorApp.JsonBody("""{"userId":"u1","messageId":"metrics-real-1","traits":{"plan":"pro"}}"""),
        };
        request.Headers.Authorization = IngressApp.Basic(IngressApp.WebWriteKey);
        await client.SendAsync(request);

        string scrape = "";
        for (var i = 0; i < 100; i++)
        {
            scrape = await client.GetStringAsync("/metrics");
            if (Prometheus.Sample(scrape, "destinations_deliveries_total", ("destination", "sm"), ("outcome", "delivered")) == 1) break;
            await Task.Delay(100);
        }
        // Recorded by the dispatcher itself (no test double): one delivery, one attempt, nothing left due.
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_deliveries_total", ("destination", "sm"), ("outcome", "delivered")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_delivery_attempt_duration_seconds_count", ("destination", "sm"), ("result", "Succeeded")));
        for (var i = 0; i < 50 && Prometheus.Sample(scrape, "destinations_queue_oldest_due_age_seconds", ("destination", "sm")) != 0; i++)
        {
            await Task.Delay(100);
            scrape = await client.GetStringAsync("/metrics");
        }
        Assert.Equal(0, Prometheus.Sample(scrape, "destinations_queue_oldest_due_age_seconds", ("destination", "sm")));
    }
}
