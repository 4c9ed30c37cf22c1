using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests.Support;

/// <summary>
/// The failure paths a partner's deliveries take through the real host (ingress → SQLite queue → dispatcher → the partner's
/// client → a WireMock partner): a 500 retried until the partner accepts, a 401 that pauses the instance until the operator
/// resumes it, a 400 dead-lettered and then replayed (D12, D11).
/// <para>"Nothing else was sent" is checked after a positive signal, not a sleep: the instance has ordering on (D16), so a
/// marker event sent last for the same user is claimed only once every earlier delivery of that user has settled
/// (delivered or dead). When the marker has arrived, whatever the earlier event was going to cost has been sent.</para>
/// </summary>
/// <param name="start">The service with this partner's instance, given the extra settings.</param>
/// <param name="accepted">The partner's success answer.</param>
public sealed class FailurePaths(WireMockServer partner, string destinationId,
    Func<IDictionary<string, string?>, ServiceApp> start, Func<IResponseBuilder> accepted)
{
    public const string AdminKey = "admin-key-for-failure-paths";
    /// <summary>The event under test and the marker, as track event names (Selligent's AllowedEvents must list both).</summary>
    public const string EventName = "Order Completed", MarkerName = "Marker Sent";

    Dictionary<string, string?> Settings() => new()
    {
        ["Admin:ApiKey"] = AdminKey,
        ["Delivery:OrderedDestinations:0"] = destinationId,
        // The first automatic probe of a paused instance comes long after the test: the operator's resume is what is tested.
        ["Delivery:ProbeBaseDelay"] = "00:01:00",
    };

    public async Task A_500_is_retried_with_the_same_request_until_the_partner_accepts()
    {
        partner.Reset();
        AcceptMarker();
        partner.Given(EventRequest()).AtPriority(5).InScenario("flaky").WillSetStateTo("recovered")
            .RespondWith(Response.Create().WithStatusCode(500).WithBody("oops"));
        partner.Given(EventRequest()).AtPriority(5).InScenario("flaky").WhenStateIs("recovered").RespondWith(accepted());
        await using var app = start(Settings());

        await SendAsync(app, EventName, "fp-retry-1");
        await SendAsync(app, MarkerName, "fp-retry-marker");
        await MarkerDeliveredAsync(app, delivered: 2);

        var calls = Calls(EventName);
        Assert.Equal([500, 200], calls.Select(Status).Select(s => s / 100 == 2 ? 200 : s));
        Assert.Equal(calls[0].RequestMessage.Path, calls[1].RequestMessage.Path);
        Assert.Equal(calls[0].RequestMessage.Body, calls[1].RequestMessage.Body); // the stored plan is resent as it was
        var stats = await app.StatsAsync();
        Assert.Equal((2L, 0L), (stats.Delivered, stats.Dead));
    }

    public async Task A_401_pauses_the_instance_without_spending_attempts_until_the_operator_resumes_it()
    {
        partner.Reset();
        AcceptMarker();
        partner.Given(EventRequest()).AtPriority(5).RespondWith(Response.Create().WithStatusCode(401).WithBody("invalid credentials"));
        await using var app = start(Settings());
        using var admin = Admin(app);

        await SendAsync(app, EventName, "fp-pause-1");
        Assert.True(await ServiceApp.EventuallyAsync(async () => (string?)(await DestinationStatsAsync(admin))["state"] == "paused"),
            "the instance was not paused: " + await DestinationStatsAsync(admin));
        var paused = await DestinationStatsAsync(admin);
        Assert.Equal(1, (long?)paused["held"]);
        Assert.Equal(0, (long?)paused["dead"]);
        Assert.Single(Calls(EventName));

        partner.Reset();
        AcceptMarker();
        partner.Given(EventRequest()).AtPriority(5).RespondWith(accepted());
        var resume = await admin.PostAsync($"/admin/destinations/{destinationId}/resume", null);
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Equal(true, (bool?)JsonNode.Parse(await resume.Content.ReadAsStringAsync())!["resumed"]);

        await SendAsync(app, MarkerName, "fp-pause-marker");
        await MarkerDeliveredAsync(app, delivered: 2);
        Assert.Equal(2, Status(Assert.Single(Calls(EventName))) / 100); // after the resume: one attempt, accepted
        Assert.Equal("active", (string?)(await DestinationStatsAsync(admin))["state"]);
        var stats = await app.StatsAsync();
        Assert.Equal((2L, 0L), (stats.Delivered, stats.Dead));
    }

    public async Task A_400_is_dead_lettered_after_one_attempt_and_a_replay_delivers_it()
    {
        partner.Reset();
        AcceptMarker();
        partner.Given(EventRequest()).AtPriority(5).RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error":"bad request"}"""));
        await using var app = start(Settings());
        using var admin = Admin(app);

        await SendAsync(app, EventName, "fp-dead-1");
        await SendAsync(app, MarkerName, "fp-dead-marker");
        await MarkerDeliveredAsync(app, delivered: 1); // a dead-lettered delivery no longer holds the user's later ones (D16)

        Assert.Equal([400], Calls(EventName).Select(Status));
        Assert.Equal(1, (await app.StatsAsync()).Dead);
        var page = JsonNode.Parse(await admin.GetStringAsync("/admin/dead-letters?destination=" + destinationId))!;
        var item = Assert.Single(page["items"]!.AsArray())!;
        Assert.Equal("fp-dead-1", (string?)item["messageId"]);
        Assert.Equal(400, (int?)item["lastStatus"]);
        Assert.Equal("""{"error":"bad request"}""", (string?)item["responseExcerpt"]);

        partner.Reset();
        partner.Given(EventRequest()).AtPriority(5).RespondWith(accepted());
        var replay = await admin.PostAsJsonAsync("/admin/dead-letters/replay", new { ids = new[] { (long)item["id"]! } });
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(1, (int?)JsonNode.Parse(await replay.Content.ReadAsStringAsync())!["replayed"]);

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 2),
            $"the replayed event was not delivered: {await app.StatsAsync()}");
        Assert.Equal(0, (await app.StatsAsync()).Dead);
        Assert.Single(Calls(EventName)); // the partner's log was reset: this is the replay's one attempt
        Assert.Empty(JsonNode.Parse(await admin.GetStringAsync("/admin/dead-letters"))!["items"]!.AsArray());
    }

    static IRequestBuilder EventRequest() => Request.Create().UsingPost().WithBody((string? body) => body?.Contains(EventName) == true);

    /// <summary>The marker is always accepted, ahead of the event's mappings.</summary>
    void AcceptMarker() => partner.Given(Request.Create().UsingPost().WithBody((string? body) => body?.Contains(MarkerName) == true))
        .AtPriority(1).RespondWith(accepted());

    static async Task SendAsync(ServiceApp app, string eventName, string messageId)
    {
        var response = await app.SendAsync("/v1/track",
            $$$"""{"userId":"user_8412","event":"{{{eventName}}}","messageId":"{{{messageId}}}","properties":{"total":12.5}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Until the partner accepted the marker and the store has recorded <paramref name="delivered"/> deliveries.</summary>
    async Task MarkerDeliveredAsync(ServiceApp app, long delivered) =>
        Assert.True(await ServiceApp.EventuallyAsync(async () =>
                Calls(MarkerName).Any(c => Status(c) / 100 == 2) && (await app.StatsAsync()).Delivered >= delivered),
            $"the marker was not delivered ({await app.StatsAsync()}); partner calls: " +
            string.Join(", ", partner.LogEntries.Select(e => $"{e.RequestMessage.Path} {Status(e)}")));

    /// <summary>The partner's calls carrying <paramref name="eventName"/>, oldest first.</summary>
    List<ILogEntry> Calls(string eventName) =>
        partner.LogEntries.Where(e => e.RequestMessage.Body?.Contains(eventName) == true).OrderBy(e => e.RequestMessage.DateTime).ToList();

    static int Status(ILogEntry call) => Convert.ToInt32(call.ResponseMessage.StatusCode);

    static HttpClient Admin(ServiceApp app)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    async Task<JsonNode> DestinationStatsAsync(HttpClient admin) =>
        JsonNode.Parse(await admin.GetStringAsync($"/admin/destinations/{destinationId}/stats"))!;
}
