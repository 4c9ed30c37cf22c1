using Destinations.Core.Diagnostics;
using Destinations.Host.Tests.Support;
using Microsoft.AspNetCore.Hosting;
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
        // A batch's filter decisions are added up per instance and reason before they are counted: two more.
        await Post("/v1/batch", """{"batch":[{"type":"screen","userId":"u1","name":"A","messageId":"m-3"},{"type":"screen","userId":"u2","name":"B","messageId":"m-4"}]}""");
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
        Assert.Equal(4, Prometheus.Sample(scrape, "destinations_events_accepted_total", ("source", "web"), ("status", "stored")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_events_accepted_total", ("source", "web"), ("status", "duplicate")));
        Assert.Equal(3, Prometheus.Sample(scrape, "destinations_events_filtered_total", ("destination", "sm"), ("reason", "call_type_not_accepted")));
        Assert.Equal(1, Prometheus.Sample(scrape, "destinations_queue_depth", ("destination", "sm"), ("state", "retrying")));
        Assert.Equal(0, Prometheus.Sample(scrape, "destinations_queue_depth", ("destination", "sm"), ("state", "new")));
        Assert.Equal(0, Prometheus.Sample(scrape, "destinations_queue_dead", ("destination", "sm")));
        // ASP.NET Core's request duration is exported; its per-buffer and per-match counters are not collected.
        Assert.Contains("http_server_request_duration_seconds_count", scrape);
        Assert.DoesNotContain("aspnetcore_memory_pool_", scrape);
        Assert.DoesNotContain("aspnetcore_routing_match_attempts", scrape);
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

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public async Task The_cursor_lag_gauges_show_an_instance_behind_the_head_and_zero_once_it_caught_up(string provider)
    {
        var settings = new Dictionary<string, string?> { ["Metrics:QueueSampleInterval"] = "00:00:00.100" };
        if (provider == "Postgres") settings["Storage:ConnectionString"] = null; // the app configuration would override the host setting
        using var operatorApp = new OperatorApp(settings);
        // The provider is a host setting: it must be seen when the store is registered.
        var app = provider == "Postgres"
            ? operatorApp.WithWebHostBuilder(b => b.UseSetting("Storage:Provider", "Postgres")
                .UseSetting("Storage:ConnectionString", PostgresTestDatabase.NewSchema(out _)))
            : operatorApp;
        // A 401 pauses sm (D12): its cursor stops while events keep arriving (the first canary is 30 s away).
        operatorApp.Partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(401));
        var client = app.CreateClient();
        var admin = app.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new("Bearer", OperatorApp.AdminKey);
        async Task Identify(string messageId, string userId)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/identify")
            {
                Content = OperatorApp.JsonBody($$$"""{"userId":"{{{userId}}}","messageId":"{{{messageId}}}","traits":{"plan":"pro"}}"""),
            };
            request.Headers.Authorization = IngressApp.Basic(IngressApp.WebWriteKey);
            Assert.True((await client.SendAsync(request)).IsSuccessStatusCode);
        }
        async Task<string> ScrapeUntil(Func<string, bool> done)
        {
            var scrape = "";
            for (var i = 0; i < 150; i++)
            {
                scrape = await client.GetStringAsync("/metrics");
                if (done(scrape)) break;
                await Task.Delay(100);
            }
            return scrape;
        }
        static double? Lag(string scrape) => Prometheus.Sample(scrape, "destinations_queue_cursor_lag", ("destination", "sm"));
        static double? LagAge(string scrape) => Prometheus.Sample(scrape, "destinations_queue_cursor_lag_age_seconds", ("destination", "sm"));

        await Identify("lag-0", "u0");
        var state = "";
        for (var i = 0; i < 300 && state != "paused"; i++)
        {
            await Task.Delay(100);
            state = (await Json.ReadAsync(await admin.GetAsync("/admin/destinations/sm/stats")))["state"]!.GetValue<string>();
        }
        Assert.True(state == "paused", $"sm is {state} after {operatorApp.Partner.LogEntries.Count()} partner calls: " + await admin.GetStringAsync("/admin/destinations/sm/stats"));

        for (var i = 1; i <= 3; i++) await Identify($"lag-{i}", $"u{i}");
        // Three events behind the head, the oldest accepted a moment ago (seconds, not milliseconds).
        var behind = await ScrapeUntil(s => Lag(s) == 3 && LagAge(s) >= 0.3);
        Assert.Equal(3, Lag(behind));
        Assert.InRange(LagAge(behind) ?? 0, 0.3, 60);

        operatorApp.Partner.ResetMappings();
        operatorApp.Partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        var resumed = await Json.ReadAsync(await admin.PostAsync("/admin/destinations/sm/resume", null));
        Assert.True(resumed["resumed"]!.GetValue<bool>());
        var caughtUp = await ScrapeUntil(s => Lag(s) == 0 && LagAge(s) == 0
            && Prometheus.Sample(s, "destinations_deliveries_total", ("destination", "sm"), ("outcome", "delivered")) == 4);
        Assert.Equal(0, Lag(caughtUp));
        Assert.Equal(0, LagAge(caughtUp));
        Assert.Equal(4, Prometheus.Sample(caughtUp, "destinations_deliveries_total", ("destination", "sm"), ("outcome", "delivered")));
    }
}
