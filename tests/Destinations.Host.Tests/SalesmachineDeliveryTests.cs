using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Destinations.Host.Tests.Support;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests;

/// <summary>
/// Ingress → durable SQLite queue → dispatcher → Salesmachine, in one process with the real store and client,
/// against a WireMock Salesmachine: the exact requests, and what the store records when nothing is sent.
/// </summary>
public sealed class SalesmachineDeliveryTests : IDisposable
{
    readonly WireMockServer _partner = WireMockServer.Start();

    public SalesmachineDeliveryTests() =>
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));

    public void Dispose() => _partner.Stop();

    static readonly string Auth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ServiceApp.ApiToken}:{ServiceApp.ApiSecret}"));

    [Fact]
    public async Task Identify_reaches_Salesmachine_as_a_contact_with_basic_auth_and_all_traits()
    {
        await using var app = new ServiceApp(_partner.Url!);
        var response = await app.SendAsync("/v1/identify",
            """{"userId":"user_8412","messageId":"it-identify-1","traits":{"email":"grace@example.com","name":"Grace Hopper","account_uid":"acct_77"}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var calls = await CallsAsync(1);
        var call = calls[0].RequestMessage;
        Assert.Equal("POST", call.Method);
        Assert.Equal("/v1/contact", call.Path);
        Assert.Equal(Auth, call.Headers!["Authorization"].Single());
        AssertJson("""{"contact_uid":"user_8412","params":{"email":"grace@example.com","name":"Grace Hopper","account_uid":"acct_77"}}""", call.Body);
        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 1));
    }

    [Fact]
    public async Task A_named_page_is_a_pageview_then_a_named_event_in_that_order()
    {
        await using var app = new ServiceApp(_partner.Url!);
        await app.SendAsync("/v1/page", """
            {"userId":"user_8412","messageId":"it-page-1","category":"Docs","name":"Pricing",
             "properties":{"url":"https://app.example.com/pricing","title":"Pricing"},
             "context":{"ip":"198.51.100.23","userAgent":"Mozilla/5.0"}}
            """);
        var calls = await CallsAsync(2);
        Assert.All(calls, c => Assert.Equal("/v1/track/event", c.RequestMessage.Path));
        AssertJson("""
            {"contact_uid":"user_8412","event_uid":"pageview","params":{"visit_url":"https://app.example.com/pricing",
             "visit_ip":"198.51.100.23","visit_agent":"Mozilla/5.0","display_name":"Pricing","title":"Pricing"}}
            """, calls[0].RequestMessage.Body);
        AssertJson("""
            {"contact_uid":"user_8412","event_uid":"Docs Pricing","params":{"url":"https://app.example.com/pricing","title":"Pricing"}}
            """, calls[1].RequestMessage.Body);
    }

    [Fact]
    public async Task A_group_is_an_account_then_the_contact_link()
    {
        await using var app = new ServiceApp(_partner.Url!);
        await app.SendAsync("/v1/group", """{"userId":"user_8412","groupId":"acct_77","messageId":"it-group-1","traits":{"name":"Initech"}}""");
        var calls = await CallsAsync(2);
        Assert.Equal("/v1/account", calls[0].RequestMessage.Path);
        AssertJson("""{"account_uid":"acct_77","params":{"name":"Initech"}}""", calls[0].RequestMessage.Body);
        Assert.Equal("/v1/contact", calls[1].RequestMessage.Path);
        AssertJson("""{"contact_uid":"user_8412","params":{"account_uid":"acct_77"}}""", calls[1].RequestMessage.Body);
    }

    [Fact]
    public async Task What_is_not_sent_is_recorded_with_its_reason_and_never_reaches_the_partner()
    {
        await using var app = new ServiceApp(_partner.Url!);
        // Mapper-time (D8): an anonymous track becomes a filtered delivery row.
        await app.SendAsync("/v1/track", """{"anonymousId":"anon-1","event":"Viewed","messageId":"it-anon-1"}""");
        // Router-time (D8): screen is not accepted; the Integrations object turns Salesmachine off; deletion (D4).
        await app.SendAsync("/v1/screen", """{"userId":"user_8412","name":"Home","messageId":"it-screen-1"}""");
        await app.SendAsync("/v1/track", """{"userId":"user_8412","event":"Internal","messageId":"it-off-1","integrations":{"Salesmachine":false}}""");

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).FilteredTotal == 3),
            "filtered: " + string.Join(", ", (await app.StatsAsync()).Filtered));
        var stats = await app.StatsAsync();
        Assert.Equal(1, stats.Filtered["no_user_id"]);
        Assert.Equal(1, stats.Filtered["call_type_not_accepted"]);
        Assert.Equal(1, stats.Filtered["integrations_off"]);
        Assert.Empty(_partner.LogEntries);
    }

    [Fact]
    public async Task A_duplicate_messageId_is_acknowledged_but_delivered_once()
    {
        await using var app = Ordered();
        const string body = """{"userId":"user_8412","event":"Order Completed","messageId":"it-dup-1"}""";
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/track", body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/track", body)).StatusCode);
        await MarkerDeliveredAsync(app);
        Assert.Single(Calls("Order Completed"));
        Assert.Equal(1, (await app.StatsAsync()).Duplicates);
    }

    [Fact]
    public async Task A_500_is_retried_until_the_partner_accepts()
    {
        _partner.Reset();
        _partner.Given(Request.Create().UsingPost()).InScenario("flaky").WillSetStateTo("recovered")
            .RespondWith(Response.Create().WithStatusCode(500).WithBody("oops"));
        _partner.Given(Request.Create().UsingPost()).InScenario("flaky").WhenStateIs("recovered")
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        await using var app = new ServiceApp(_partner.Url!);
        await app.SendAsync("/v1/identify", """{"userId":"user_8412","messageId":"it-retry-1","traits":{}}""");

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 1));
        Assert.Equal(new int?[] { 500, 201 }, _partner.LogEntries.Select(e => (int?)e.ResponseMessage.StatusCode).ToArray());
    }

    [Fact]
    public async Task A_429_waits_for_its_Retry_After_before_the_next_attempt()
    {
        _partner.Reset();
        _partner.Given(Request.Create().UsingPost()).InScenario("limited").WillSetStateTo("open")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "1").WithBody("slow down"));
        _partner.Given(Request.Create().UsingPost()).InScenario("limited").WhenStateIs("open")
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        await using var app = new ServiceApp(_partner.Url!);
        await app.SendAsync("/v1/identify", """{"userId":"user_8412","messageId":"it-429-1","traits":{}}""");

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 1));
        var calls = _partner.LogEntries.OrderBy(e => e.RequestMessage.DateTime).ToList();
        Assert.Equal(new int?[] { 429, 201 }, calls.Select(e => (int?)e.ResponseMessage.StatusCode).ToArray());
        // D12: Retry-After is honoured (BaseDelay here is 50 ms, so only the header explains the wait).
        Assert.True(calls[1].RequestMessage.DateTime - calls[0].RequestMessage.DateTime >= TimeSpan.FromMilliseconds(950),
            $"second attempt after {(calls[1].RequestMessage.DateTime - calls[0].RequestMessage.DateTime).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task A_400_is_dead_lettered_after_one_attempt()
    {
        _partner.Reset();
        _partner.Given(Request.Create().UsingPost()).AtPriority(10).RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error":"bad contact"}"""));
        AcceptMarker();
        await using var app = Ordered();
        await app.SendAsync("/v1/identify", """{"userId":"user_8412","messageId":"it-dead-1","traits":{}}""");

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Dead == 1));
        await MarkerDeliveredAsync(app);
        Assert.Equal([400], _partner.LogEntries.Where(e => e.RequestMessage.Path == "/v1/contact").Select(e => (int)e.ResponseMessage.StatusCode!));
    }

    const string MarkerEvent = "Marker Sent";

    /// <summary>The service with ordering on (D16) for its instance: a marker event sent last for the same user is delivered
    /// only after every earlier delivery of that user settled, so once it arrived, "nothing else was sent" can be checked.</summary>
    ServiceApp Ordered() => new(_partner.Url!, new Dictionary<string, string?> { ["Delivery:OrderedDestinations:0"] = ServiceApp.DestinationId });

    /// <summary>The marker is accepted whatever the other mappings answer.</summary>
    void AcceptMarker() => _partner.Given(Request.Create().UsingPost().WithBody((string? body) => body?.Contains(MarkerEvent) == true))
        .AtPriority(1).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));

    async Task MarkerDeliveredAsync(ServiceApp app)
    {
        var response = await app.SendAsync("/v1/track", $$"""{"userId":"user_8412","event":"{{MarkerEvent}}","messageId":"marker-{{Guid.NewGuid():N}}"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await ServiceApp.EventuallyAsync(() => Task.FromResult(Calls(MarkerEvent).Any(e => e.ResponseMessage.StatusCode is 201))),
            $"the marker was not delivered; partner calls: {string.Join(", ", _partner.LogEntries.Select(e => e.RequestMessage.Path))}");
    }

    List<ILogEntry> Calls(string containing) =>
        _partner.LogEntries.Where(e => e.RequestMessage.Body?.Contains(containing) == true).ToList();

    async Task<IReadOnlyList<ILogEntry>> CallsAsync(int count)
    {
        Assert.True(await ServiceApp.EventuallyAsync(() => Task.FromResult(_partner.LogEntries.Count() >= count)),
            $"expected {count} partner calls, saw {_partner.LogEntries.Count()}");
        return _partner.LogEntries.OrderBy(e => e.RequestMessage.DateTime).ToList();
    }

    static void AssertJson(string expected, string? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual ?? "null")), $"expected {expected}\nactual   {actual}");
}
