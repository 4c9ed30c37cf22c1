using System.Text.Json.Nodes;
using Destinations.Host.Tests.Support;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests;

/// <summary>
/// A Webhook instance's batching and URL safety through the real host: with ordering on (D16) a batch takes at most one event
/// per user key and each user's events arrive in ingest order; <c>batch_keys</c> compares header names case-insensitively
/// (within one mapping, headers differing only in the name's case share a call, a different value does not); two mappings
/// with equal batch keys make two calls, as Segment batches each subscription on its own; <c>http://</c>
/// without <c>AllowHttp</c> stops start-up for a literal URL and makes a built one an invalid delivery, never a request; the
/// instance's rate limit (D25) spaces its requests.
/// </summary>
public sealed class WebhookBatchingTests : IDisposable
{
    const string Id = "crm";
    readonly WireMockServer _partner = WireMockServer.Start();
    readonly List<string> _files = [];

    public WebhookBatchingTests() => _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200));

    public void Dispose()
    {
        _partner.Stop();
        foreach (var f in _files) File.Delete(f);
    }

    ServiceApp Start(string mappingsJson, IDictionary<string, string?>? extra = null, bool allowHttp = true)
    {
        var file = Path.Combine(Path.GetTempPath(), $"webhook-batching-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, mappingsJson.Replace("@URL@", _partner.Url!));
        _files.Add(file);
        var settings = new Dictionary<string, string?>
        {
            ["Destinations:0:Id"] = Id,
            ["Destinations:0:Type"] = "Webhook",
            ["Destinations:0:Settings:ApiToken"] = null,
            ["Destinations:0:Settings:ApiSecret"] = null,
            ["Destinations:0:Settings:BaseUrl"] = null,
            ["Destinations:0:Settings:AllowedHosts"] = new Uri(_partner.Url!).Host,
            ["Destinations:0:Settings:AllowHttp"] = allowHttp ? "true" : null,
            ["Destinations:0:Settings:AllowPrivateNetworks"] = "true",
            ["Destinations:0:MappingsFile"] = file,
            ["Webhook:AttemptTimeout"] = "00:00:05",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) settings[k] = v;
        return new ServiceApp(_partner.Url!, settings, Id);
    }

    static string Batch(params (string UserId, string MessageId)[] events) => new JsonObject
    {
        ["batch"] = new JsonArray(events.Select(e => (JsonNode?)new JsonObject
        {
            ["type"] = "track", ["userId"] = e.UserId, ["event"] = "Order Completed", ["messageId"] = e.MessageId,
        }).ToArray()),
    }.ToJsonString();

    [Fact]
    public async Task With_ordering_on_a_batch_takes_one_event_per_user_and_each_users_events_arrive_in_order()
    {
        await using var app = Start("""
            [{"name": "Bulk", "trigger": "type = \"track\"", "action": "send",
              "fields": {"url": "@URL@/bulk", "batch_size": 100, "data": {"user": {"@path": "$.userId"}, "id": {"@path": "$.messageId"}}}}]
            """, new Dictionary<string, string?> { ["Delivery:OrderedDestinations:0"] = Id });
        await app.SendAsync("/v1/batch", Batch(("ada", "a-1"), ("ada", "a-2"), ("bob", "b-1"), ("ada", "a-3"), ("bob", "b-2"), ("cy", "c-1")));

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 6), $"{await app.StatsAsync()}");
        var calls = _partner.LogEntries.OrderBy(e => e.RequestMessage.DateTime)
            .Select(e => JsonNode.Parse(e.RequestMessage.Body!)!.AsArray().Select(i => ((string)i!["user"]!, (string)i["id"]!)).ToList()).ToList();
        Assert.All(calls, items => Assert.Equal(items.Count, items.Select(i => i.Item1).Distinct().Count()));
        var sent = calls.SelectMany(c => c).ToList();
        Assert.Equal(6, sent.Count);
        Assert.Equal(["a-1", "a-2", "a-3"], sent.Where(i => i.Item1 == "ada").Select(i => i.Item2).ToArray());
        Assert.Equal(["b-1", "b-2"], sent.Where(i => i.Item1 == "bob").Select(i => i.Item2).ToArray());
        // Batching still happens: fewer calls than events (ada's three need three calls at least).
        Assert.InRange(calls.Count, 3, 5);
    }

    [Fact]
    public async Task Header_names_differing_only_in_case_share_a_batch_and_a_different_value_does_not()
    {
        // One mapping whose headers come from the event, so its deliveries carry different header names and values.
        await using var app = Start("""
            [{"name": "H", "trigger": "type = \"track\"", "action": "send",
              "fields": {"url": "@URL@/bulk", "batch_size": 10, "headers": {"@path": "$.properties.h"}, "data": {"id": {"@path": "$.messageId"}}}}]
            """);
        await app.SendAsync("/v1/batch", """
            {"batch":[{"type":"track","userId":"u1","event":"E","messageId":"m-a","properties":{"h":{"X-Team":"t1"}}},
                      {"type":"track","userId":"u2","event":"E","messageId":"m-b","properties":{"h":{"x-team":"t1"}}},
                      {"type":"track","userId":"u3","event":"E","messageId":"m-c","properties":{"h":{"X-Team":"t2"}}}]}
            """);

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 3), $"{await app.StatsAsync()}");
        var calls = CallIds();
        Assert.Equal(2, calls.Count);
        Assert.Equal(["m-a", "m-b"], calls[0]);
        Assert.Equal(["m-c"], calls[1]);
    }

    [Fact]
    public async Task Two_mappings_with_equal_batch_keys_make_two_calls_as_Segment_batches_each_subscription_on_its_own()
    {
        // Same url, method and headers: Segment still batches each subscription's events apart (executeBatch per
        // subscription in action-destinations' destination-kit), so A's and B's events never share a call.
        await using var app = Start("""
            [{"name": "A", "trigger": "event = \"A\"", "action": "send",
              "fields": {"url": "@URL@/bulk", "batch_size": 10, "headers": {"X-Team": "t1"}, "data": {"id": {"@path": "$.messageId"}}}},
             {"name": "B", "trigger": "event = \"B\"", "action": "send",
              "fields": {"url": "@URL@/bulk", "batch_size": 10, "headers": {"X-Team": "t1"}, "data": {"id": {"@path": "$.messageId"}}}}]
            """);
        await app.SendAsync("/v1/batch", """
            {"batch":[{"type":"track","userId":"u1","event":"A","messageId":"m-a1"},{"type":"track","userId":"u2","event":"B","messageId":"m-b1"},
                      {"type":"track","userId":"u3","event":"A","messageId":"m-a2"},{"type":"track","userId":"u4","event":"B","messageId":"m-b2"}]}
            """);

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 4), $"{await app.StatsAsync()}");
        var calls = CallIds();
        Assert.All(calls, ids => Assert.Single(ids.Select(id => id[..3]).Distinct()));
        Assert.Equal(["m-a1", "m-a2", "m-b1", "m-b2"], calls.SelectMany(ids => ids).Order().ToArray());
        // Each mapping's two events were due together, so each went in one call.
        Assert.Equal(2, calls.Count);
    }

    /// <summary>The ids in each partner call, each call's sorted, the calls ordered by their first id.</summary>
    List<string[]> CallIds() => _partner.LogEntries.Select(e => JsonNode.Parse(e.RequestMessage.Body!)!.AsArray()
        .Select(i => (string)i!["id"]!).Order().ToArray()).OrderBy(ids => ids[0], StringComparer.Ordinal).ToList();

    [Fact]
    public async Task The_instances_rate_limit_spaces_its_requests_and_the_waits_are_not_attempts()
    {
        await using var app = Start("""
            [{"name": "One by one", "trigger": "type = \"track\"", "action": "send", "fields": {"url": "@URL@/events"}}]
            """, new Dictionary<string, string?>
        {
            ["Delivery:RateLimits:crm:Limit"] = "2",
            ["Delivery:RateLimits:crm:Period"] = "00:00:01",
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await app.SendAsync("/v1/batch", Batch(Enumerable.Range(1, 14).Select(i => ($"u{i}", $"r-{i}")).ToArray()));

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 14), $"{await app.StatsAsync()}");
        // Two calls a second with a bucket of two: the twelve after the first two need six seconds (unlimited, the fourteen
        // go in about two, most of it the first request's start-up). Measured here, not from the partner's timestamps, which
        // a cold first request makes late.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(4.5), $"fourteen requests in {clock.ElapsedMilliseconds} ms");
        Assert.Equal(14, _partner.LogEntries.Count());
        Assert.Equal(0, (await app.StatsAsync()).Retrying);
    }

    [Fact]
    public void A_literal_http_url_without_AllowHttp_stops_start_up_naming_the_mapping()
    {
        var sink = new StartupTestsSink();
        using var app = Start("""
            [{"name": "Plain", "trigger": "type = \"track\"", "action": "send", "fields": {"url": "@URL@/events"}}]
            """, allowHttp: false);
        using var withSink = app.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<Serilog.Core.ILogEventSink>(sink)));
        Assert.ThrowsAny<Exception>(() => withSink.CreateClient());
        var message = Assert.Single(sink.Messages);
        Assert.Contains("http:// URLs are refused unless Settings.AllowHttp is true", message);
        Assert.Contains("Plain", message);
        Assert.Empty(_partner.LogEntries);
    }

    [Fact]
    public async Task A_built_http_url_without_AllowHttp_is_an_invalid_delivery_and_never_requested()
    {
        await using var app = Start("""
            [{"name": "Built", "trigger": "type = \"track\"", "action": "send",
              "fields": {"url": {"@template": "{{properties.scheme}}://@HOST@/events"}}}]
            """.Replace("@HOST@", new Uri(_partner.Url!).Authority), allowHttp: false);
        await app.SendAsync("/v1/track", """{"userId":"u1","event":"E","messageId":"wh-http","properties":{"scheme":"http"}}""");
        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Invalid == 1), $"{await app.StatsAsync()}");
        Assert.Equal(0, (await app.StatsAsync()).Delivered);
        Assert.Empty(_partner.LogEntries);
    }

    sealed class StartupTestsSink : Serilog.Core.ILogEventSink
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();
        public void Emit(Serilog.Events.LogEvent e)
        {
            if (e.Level == Serilog.Events.LogEventLevel.Fatal) Messages.Enqueue(e.RenderMessage());
        }
    }
}
