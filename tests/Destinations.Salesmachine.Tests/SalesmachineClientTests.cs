using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Salesmachine;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Salesmachine.Tests;

/// <summary>The real typed client and pipeline (AddSalesmachine) against a loopback WireMock partner.</summary>
public sealed class SalesmachineClientTests : IDisposable
{
    const string Token = "tok-9f8e7d6c5b4a";
    const string Secret = "sec-1a2b3c4d5e6f";
    static readonly string ExpectedAuth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Token}:{Secret}"));

    readonly WireMockServer _partner = LoopbackPartner.Start();
    readonly TestHost _host;
    readonly SalesmachineDestination _destination;

    public SalesmachineClientTests()
    {
        // Generous here: a cold in-process WireMock on a shared 2-core machine can take a second to answer its first request.
        // The timeout test builds its own host with a short timeout.
        (_host, _destination) = Host("00:00:05");
    }

    (TestHost, SalesmachineDestination) Host(string attemptTimeout)
    {
        var host = new TestHost(new Dictionary<string, string?>
        {
            ["Salesmachine:AttemptTimeout"] = attemptTimeout,
            ["Destinations:0:Id"] = "sm-main",
            ["Destinations:0:Type"] = "Salesmachine",
            ["Destinations:0:Settings:ApiToken"] = Token,
            ["Destinations:0:Settings:ApiSecret"] = Secret,
            // A trailing slash on purpose: paths must still be /v1/...
            ["Destinations:0:Settings:BaseUrl"] = _partner.Urls[0] + "/",
        });
        return (host, (SalesmachineDestination)host.Create().Destination!);
    }

    public void Dispose()
    {
        _host.Dispose();
        _partner.Stop();
        _partner.Dispose();
    }

    void Answer(int status, string? body = null, params (string Name, string Value)[] headers)
    {
        var response = Response.Create().WithStatusCode(status);
        if (body is not null) response = response.WithBody(body);
        foreach (var (name, value) in headers) response = response.WithHeader(name, value);
        _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(response);
    }

    async Task<IReadOnlyList<AttemptResult>> SendAll(string fixture)
    {
        var e = TestEvents.FromFixture(fixture);
        var plan = _destination.Map(e, e.Type);
        Assert.Equal(MappingOutcome.Send, plan.Outcome);
        var results = new List<AttemptResult>();
        foreach (var request in plan.Requests) results.Add(await _destination.SendAsync(request, CancellationToken.None));
        return results;
    }

    /// <summary>Exactly what reached the partner: method, path, auth, content type, accept and JSON body, in order.</summary>
    void AssertReceived(params (string Method, string Path, string Body)[] expected)
    {
        var log = _partner.LogEntries.OrderBy(l => l.RequestMessage.DateTime).ToList();
        Assert.Equal(expected.Length, log.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            var request = log[i].RequestMessage;
            Assert.Equal(expected[i].Method, request.Method);
            Assert.Equal(expected[i].Path, request.Path);
            Assert.Equal(ExpectedAuth, log[i].Header("Authorization"));
            Assert.Equal("application/json", log[i].Header("Content-Type"));
            Assert.Equal("application/json", log[i].Header("Accept"));
            var actual = JsonNode.Parse(request.Body!);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected[i].Body), actual), $"request {i} body: {request.Body}");
        }
    }

    [Fact]
    public async Task Identify_posts_the_contact()
    {
        Answer(201);
        var results = await SendAll("identify.json");
        Assert.All(results, r => Assert.Equal(new AttemptResult(AttemptOutcome.Succeeded, 201, null, null, null), r));
        AssertReceived(("POST", "/v1/contact",
            """{"contact_uid":"user_8412","params":{"email":"grace@example.com","name":"Grace Hopper","firstName":"Grace","lastName":"Hopper","plan":"pro","account_uid":"acct_77","createdAt":"2025-03-01T09:00:00Z"}}"""));
    }

    [Fact]
    public async Task Track_posts_the_event()
    {
        Answer(201);
        await SendAll("track-context-groupid.json");
        AssertReceived(("POST", "/v1/track/event",
            """{"contact_uid":"user_8412","event_uid":"Order Completed","params":{"order_id":"ord_1009","total":129.9,"revenue":119.9,"currency":"EUR","products":[{"product_id":"sku_1","name":"Seat","price":59.95,"quantity":2}],"account_uid":"acct_99"}}"""));
    }

    [Fact]
    public async Task Named_page_posts_the_pageview_then_the_page_event()
    {
        Answer(201);
        var results = await SendAll("page-named-with-category.json");
        Assert.Equal(2, results.Count);
        Assert.All(results, r => Assert.True(r.IsSuccess));
        AssertReceived(
            ("POST", "/v1/track/event",
                """{"contact_uid":"user_8412","event_uid":"pageview","params":{"visit_url":"https://app.example.com/pricing?plan=pro","visit_ip":"198.51.100.23","visit_agent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36","display_name":"Pricing","referrer":"https://www.example.org/","title":"Pricing"}}"""),
            ("POST", "/v1/track/event",
                """{"contact_uid":"user_8412","event_uid":"Docs Pricing","params":{"path":"/pricing","referrer":"https://www.example.org/","search":"?plan=pro","title":"Pricing","url":"https://app.example.com/pricing?plan=pro"}}"""));
    }

    [Fact]
    public async Task Group_posts_the_account_then_links_the_contact()
    {
        Answer(201);
        await SendAll("group-with-userid.json");
        AssertReceived(
            ("POST", "/v1/account",
                """{"account_uid":"acct_77","params":{"name":"Initech","domain":"initech.example","employees":329,"industry":"Software","plan":"enterprise"}}"""),
            ("POST", "/v1/contact", """{"contact_uid":"user_8412","params":{"account_uid":"acct_77"}}"""));
    }

    [Fact]
    public async Task Ping_gets_v1_ping_with_basic_auth()
    {
        _partner.Given(Request.Create().WithPath("/v1/ping").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        var result = await _destination.PingAsync(CancellationToken.None);
        Assert.Equal(AttemptOutcome.Succeeded, result.Outcome);
        var entry = Assert.Single(_partner.LogEntries);
        Assert.Equal("GET", entry.RequestMessage.Method);
        Assert.Equal("/v1/ping", entry.RequestMessage.Path);
        Assert.Equal(ExpectedAuth, entry.Header("Authorization"));
        Assert.Equal("application/json", entry.Header("Accept"));
    }

    [Fact]
    public async Task An_empty_secret_still_sends_token_colon()
    {
        Answer(201);
        var settings = new SalesmachineSettings { ApiToken = Token, ApiSecret = "", BaseUrl = new Uri(_partner.Urls[0]) };
        await _host.Client.PingAsync(settings, CancellationToken.None);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Token + ":")), Assert.Single(_partner.LogEntries).Header("Authorization"));
    }

    static PartnerRequest Contact => PartnerRequest.Post("contact", "/v1/contact", new JsonObject { ["contact_uid"] = "u1", ["params"] = new JsonObject() });

    [Theory]
    [InlineData(200, AttemptOutcome.Succeeded)]
    [InlineData(201, AttemptOutcome.Succeeded)]
    [InlineData(500, AttemptOutcome.Retry)]
    [InlineData(429, AttemptOutcome.Retry)]
    [InlineData(408, AttemptOutcome.Retry)]
    [InlineData(401, AttemptOutcome.AuthFailure)]
    [InlineData(403, AttemptOutcome.AuthFailure)]
    [InlineData(404, AttemptOutcome.Final)]
    [InlineData(501, AttemptOutcome.Final)]
    public async Task Answers_are_classified_D12(int status, AttemptOutcome outcome)
    {
        Answer(status);
        var result = await _destination.SendAsync(Contact, CancellationToken.None);
        Assert.Equal(outcome, result.Outcome);
        Assert.Equal(status, result.StatusCode);
        // D14: no in-process retry of HTTP answers — the durable queue retries.
        Assert.Single(_partner.LogEntries);
    }

    [Fact]
    public async Task A_503_with_retry_after_keeps_the_delay()
    {
        Answer(503, null, ("Retry-After", "7"));
        var result = await _destination.SendAsync(Contact, CancellationToken.None);
        Assert.Equal(AttemptOutcome.Retry, result.Outcome);
        Assert.Equal(503, result.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), result.RetryAfter);
        Assert.Single(_partner.LogEntries);
    }

    [Fact]
    public async Task A_400_is_final_with_status_and_body_excerpt()
    {
        Answer(400, """{"error":"contact_uid is invalid"}""");
        var result = await _destination.SendAsync(Contact, CancellationToken.None);
        Assert.Equal(new AttemptResult(AttemptOutcome.Final, 400, """{"error":"contact_uid is invalid"}""", null, "HTTP 400"), result);
    }

    [Fact]
    public async Task A_slow_answer_times_out_per_attempt_and_is_retried_later()
    {
        _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(201).WithDelay(TimeSpan.FromSeconds(3)));
        var (host, destination) = Host("00:00:00.500");
        using var _ = host;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = await destination.SendAsync(Contact, CancellationToken.None);
        watch.Stop();
        Assert.Equal(new AttemptResult(AttemptOutcome.Retry, null, null, null, "timeout: the partner did not answer in time"), result);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"took {watch.Elapsed}: the 500 ms attempt timeout did not fire");
    }

    [Fact]
    public async Task Caller_cancellation_is_not_classified_but_propagates()
    {
        _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(201).WithDelay(TimeSpan.FromSeconds(3)));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _destination.SendAsync(Contact, cts.Token));
    }
}
