using System.Net;
using System.Text.Json.Nodes;
using Destinations.Host.Tests.Support;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests;

/// <summary>
/// With no mappings configured, track, page, identify and group events sent through the service reach
/// a fake UserMotion as /v1/track (page as pageview), /v1/identify, /v1/group with the bodies and headers of docs/partners/usermotion.md "API"; a custom
/// mapping from configuration changes what is sent. And the failure paths through the real host (<see cref="FailurePaths"/>):
/// retry then success, 401 pause then resume, 400 to dead letter then replay.
/// </summary>
public sealed class UserMotionDeliveryTests : IDisposable
{
    readonly WireMockServer _partner = WireMockServer.Start();

    public UserMotionDeliveryTests() =>
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));

    public void Dispose() => _partner.Stop();

    [Fact]
    public async Task The_presets_send_identify_group_track_and_page_as_pageview_with_the_contract_headers()
    {
        await using var app = ServiceApp.ForUserMotion(_partner.Url!);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/identify",
            """{"userId":"user_8412","anonymousId":"anon-1","messageId":"um-identify","traits":{"email":"grace@example.com","plan":"pro"}}""")).StatusCode);
        await AwaitCallsAsync(1);
        await app.SendAsync("/v1/group", """{"userId":"user_8412","groupId":"acct_77","messageId":"um-group","traits":{"name":"Initech"}}""");
        await AwaitCallsAsync(2);
        await app.SendAsync("/v1/track", """{"userId":"user_8412","event":"Order Completed","messageId":"um-track","properties":{"total":129.9},"context":{"ip":"198.51.100.23"}}""");
        await AwaitCallsAsync(3);
        await app.SendAsync("/v1/page", """{"userId":"user_8412","name":"Pricing","messageId":"um-page","properties":{"url":"https://app.example.com/pricing"}}""");
        var calls = await AwaitCallsAsync(4);

        Assert.All(calls, c =>
        {
            Assert.Equal("Basic " + ServiceApp.UserMotionApiKey, c.RequestMessage.Headers!["Authorization"].Single());
            Assert.Equal("Segment", c.RequestMessage.Headers!["x-source"].Single());
            Assert.StartsWith("application/json", c.RequestMessage.Headers!["Content-Type"].Single());
        });
        Assert.Equal(["/v1/identify", "/v1/group", "/v1/track", "/v1/track"], calls.Select(c => c.RequestMessage.Path).ToArray());
        AssertJson("""{"id":"user_8412","anonymousId":"anon-1","properties":{"email":"grace@example.com","plan":"pro"}}""", calls[0]);
        AssertJson("""{"id":"acct_77","userId":"user_8412","properties":{"name":"Initech"}}""", calls[1]);
        AssertJson("""{"event":"Order Completed","userId":"user_8412","context":{"ip":"198.51.100.23"},"properties":{"total":129.9}}""", calls[2]);
        AssertJson("""{"event":"pageview","userId":"user_8412","context":{},"properties":{"url":"https://app.example.com/pricing"}}""", calls[3]);
    }

    [Fact]
    public async Task A_custom_mapping_from_the_mappings_file_changes_what_is_sent()
    {
        var file = Path.Combine(Path.GetTempPath(), $"um-mappings-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """
            [ { "name": "Signups only", "trigger": "type = \"track\" and event = \"Signed Up\"", "action": "track",
                "fields": { "eventName": { "@template": "signup: {{properties.plan}}" }, "context": null } } ]
            """);
        // Ordering on (D16): the marker, sent last for the same user, goes only once the identify has settled.
        await using var app = ServiceApp.ForUserMotion(_partner.Url!, file,
            new Dictionary<string, string?> { ["Delivery:OrderedDestinations:0"] = ServiceApp.UserMotionId });
        await app.SendAsync("/v1/track", """{"userId":"user_8412","event":"Signed Up","messageId":"um-signup","properties":{"plan":"pro"},"context":{"ip":"1.2.3.4"}}""");
        await app.SendAsync("/v1/identify", """{"userId":"user_8412","messageId":"um-identify-2","traits":{"email":"grace@example.com"}}""");
        await app.SendAsync("/v1/track", """{"userId":"user_8412","event":"Signed Up","messageId":"um-marker","properties":{"plan":"marker"}}""");

        var calls = await AwaitCallsAsync(2);
        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).FilteredTotal == 1));
        // The identify matched no mapping: filtered, not sent (D20); the marker is the only call after the first.
        Assert.Equal(["/v1/track", "/v1/track"], calls.Select(c => c.RequestMessage.Path));
        Assert.Contains("signup: marker", calls[1].RequestMessage.Body);
        // "context": null removed the default mapping; UserMotion still gets the object field, empty (docs/partners/usermotion.md "API").
        AssertJson("""{"event":"signup: pro","userId":"user_8412","context":{},"properties":{"plan":"pro"}}""", calls[0]);
        Assert.Equal(1, (await app.StatsAsync()).Filtered["no_trigger_matched"]);
    }

    FailurePaths Failures => new(_partner, ServiceApp.UserMotionId, settings => ServiceApp.ForUserMotion(_partner.Url!, settings: settings),
        () => Response.Create().WithStatusCode(200).WithBody("{}"));

    [Fact]
    public Task A_500_is_retried_with_the_same_request_until_UserMotion_accepts() =>
        Failures.A_500_is_retried_with_the_same_request_until_the_partner_accepts();

    [Fact]
    public Task A_401_pauses_the_UserMotion_instance_until_the_operator_resumes_it() =>
        Failures.A_401_pauses_the_instance_without_spending_attempts_until_the_operator_resumes_it();

    [Fact]
    public Task A_400_from_UserMotion_is_dead_lettered_and_a_replay_delivers_it() =>
        Failures.A_400_is_dead_lettered_after_one_attempt_and_a_replay_delivers_it();

    async Task<IReadOnlyList<ILogEntry>> AwaitCallsAsync(int count)
    {
        Assert.True(await ServiceApp.EventuallyAsync(() => Task.FromResult(_partner.LogEntries.Count() >= count)),
            $"expected {count} partner calls, saw {_partner.LogEntries.Count()}");
        return _partner.LogEntries.OrderBy(e => e.RequestMessage.DateTime).ToList();
    }

    static void AssertJson(string expected, ILogEntry call) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(call.RequestMessage.Body ?? "null")),
            $"expected {expected}\nactual   {call.RequestMessage.Body}");
}
