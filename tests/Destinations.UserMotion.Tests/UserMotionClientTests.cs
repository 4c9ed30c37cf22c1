using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.UserMotion.Tests;

/// <summary>The real typed client and pipeline (AddUserMotion) against a loopback WireMock partner: exact requests and headers.</summary>
public sealed class UserMotionClientTests : IDisposable
{
    const string ApiKey = "um-key-5f4e3d2c1b0a";

    readonly WireMockServer _partner = LoopbackPartner.Start();
    readonly TestHost _host;
    readonly UserMotionDestination _destination;

    public UserMotionClientTests()
    {
        _host = new TestHost(new Dictionary<string, string?>
        {
            ["UserMotion:AttemptTimeout"] = "00:00:05",
            ["Destinations:0:Id"] = "um-main",
            ["Destinations:0:Type"] = "UserMotion",
            ["Destinations:0:Settings:ApiKey"] = ApiKey,
            ["Destinations:0:Settings:BaseUrl"] = _partner.Urls[0] + "/", // trailing slash on purpose
        });
        var built = _host.Create();
        Assert.Empty(built.Errors);
        _destination = (UserMotionDestination)built.Destination!;
    }

    public void Dispose()
    {
        _host.Dispose();
        _partner.Stop();
        _partner.Dispose();
    }

    void Answer(int status, string? body = null)
    {
        var response = Response.Create().WithStatusCode(status);
        if (body is not null) response = response.WithBody(body);
        _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(response);
    }

    async Task<AttemptResult> Send(JsonObject e)
    {
        var ev = new SegmentEvent(e);
        var subscription = Assert.Single(_destination.Subscribe(ev).Subscriptions);
        var plan = _destination.Map(ev, subscription);
        Assert.Equal(MappingOutcome.Send, plan.Outcome);
        return await _destination.SendAsync(Assert.Single(plan.Requests), CancellationToken.None);
    }

    void AssertReceived(string path, string? body)
    {
        var entry = Assert.Single(_partner.LogEntries);
        Assert.Equal("POST", entry.RequestMessage.Method);
        Assert.Equal(path, entry.RequestMessage.Path);
        // The raw key after "Basic ", not base64 (Segment's extendRequest).
        Assert.Equal("Basic " + ApiKey, entry.Header("Authorization"));
        Assert.Equal("Segment", entry.Header("x-source"));
        Assert.Equal("application/json", entry.Header("Content-Type"));
        if (body is null) Assert.True(string.IsNullOrEmpty(entry.RequestMessage.Body));
        else Assert.Equal(body, entry.RequestMessage.Body);
    }

    [Fact]
    public async Task Identify_posts_the_exact_body()
    {
        Answer(200);
        var result = await Send(JsonNode.Parse("""
            {"type":"identify","messageId":"m1","userId":"u1","anonymousId":"a1","traits":{"name":"Ada","email":"ada@example.com","plan":"pro"}}
            """)!.AsObject());
        Assert.Equal(new AttemptResult(AttemptOutcome.Succeeded, 200, null, null, null), result);
        AssertReceived("/v1/identify", """{"id":"u1","anonymousId":"a1","properties":{"name":"Ada","email":"ada@example.com","plan":"pro"}}""");
    }

    [Fact]
    public async Task Group_posts_the_exact_body()
    {
        Answer(200);
        await Send(JsonNode.Parse("""{"type":"group","messageId":"m2","userId":"u1","anonymousId":"","groupId":"g1"}""")!.AsObject());
        AssertReceived("/v1/group", """{"id":"g1","userId":"u1","properties":{}}""");
    }

    [Fact]
    public async Task Page_posts_a_pageview_track()
    {
        Answer(200);
        await Send(JsonNode.Parse("""{"type":"page","messageId":"m3","anonymousId":"a3","name":"Pricing","properties":{"path":"/pricing"}}""")!.AsObject());
        AssertReceived("/v1/track", """{"event":"pageview","anonymousId":"a3","context":{},"properties":{"path":"/pricing"}}""");
    }

    [Fact]
    public async Task Verify_posts_v1_verify_without_a_body()
    {
        _partner.Given(Request.Create().WithPath("/v1/verify").UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        var check = await _destination.TestConnectionAsync(CancellationToken.None);
        Assert.True(check.Ok);
        Assert.Equal(new ConnectionCheckStep("credentials (POST /v1/verify)", true, 200, "ok"), Assert.Single(check.Steps));
        AssertReceived("/v1/verify", null);
    }

    [Fact]
    public async Task Verify_answered_403_is_not_ok()
    {
        Answer(403, "forbidden");
        var check = await _destination.TestConnectionAsync(CancellationToken.None);
        Assert.False(check.Ok);
        Assert.Equal(new ConnectionCheckStep("credentials (POST /v1/verify)", false, 403, "AuthFailure: HTTP 403 — forbidden"), Assert.Single(check.Steps));
    }

    static PartnerRequest Track => PartnerRequest.Post("track", "/v1/track", new JsonObject { ["event"] = "E", ["context"] = new JsonObject(), ["properties"] = new JsonObject() });

    [Theory]
    [InlineData(200, AttemptOutcome.Succeeded)]
    [InlineData(408, AttemptOutcome.Retry)]
    [InlineData(423, AttemptOutcome.Retry)]
    [InlineData(429, AttemptOutcome.Retry)]
    [InlineData(500, AttemptOutcome.Retry)]
    [InlineData(503, AttemptOutcome.Retry)]
    [InlineData(501, AttemptOutcome.Final)]
    [InlineData(401, AttemptOutcome.AuthFailure)]
    [InlineData(403, AttemptOutcome.AuthFailure)]
    [InlineData(400, AttemptOutcome.Final)]
    [InlineData(404, AttemptOutcome.Final)]
    public async Task Answers_are_classified_D12_and_not_retried_in_process_D14(int status, AttemptOutcome outcome)
    {
        Answer(status);
        var result = await _destination.SendAsync(Track, CancellationToken.None);
        Assert.Equal(outcome, result.Outcome);
        Assert.Equal(status, result.StatusCode);
        Assert.Single(_partner.LogEntries);
    }

    [Fact]
    public async Task A_refused_connection_is_classified_retry()
    {
        var settings = new UserMotionSettings { ApiKey = ApiKey, BaseUrl = new Uri($"http://127.0.0.1:{LoopbackPartner.FreePort()}") };
        var dead = new UserMotionDestination("um", settings, UserMotionActions.Presets(), null,
            () => new UserMotionClient(new HttpClient(), TimeProvider.System));
        var result = await dead.SendAsync(Track, CancellationToken.None);
        Assert.Equal(AttemptOutcome.Retry, result.Outcome);
        Assert.Null(result.StatusCode);
        Assert.StartsWith("connection error", result.Error);
    }
}
