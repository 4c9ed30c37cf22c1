using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Salesmachine.Tests;

/// <summary><c>POST /v1/batch</c> (D15) with the real typed client and pipeline against a loopback WireMock partner.</summary>
public sealed class BatchTests : IDisposable
{
    const string Token = "tok-batch-5e6f7a8b";
    const string Secret = "sec-batch-9c0d1e2f";

    readonly WireMockServer _partner = LoopbackPartner.Start();
    readonly TestHost _host;
    readonly SalesmachineDestination _destination;

    static readonly PartnerRequest Contact = PartnerRequest.Post("contact", "/v1/contact", JsonNode.Parse("""{"contact_uid":"u1","params":{"plan":"pro"}}""")!);
    static readonly PartnerRequest Account = PartnerRequest.Post("account", "/v1/account", JsonNode.Parse("""{"account_uid":"a1","params":{}}""")!);
    static readonly PartnerRequest Event = PartnerRequest.Post("event", "/v1/track/event", JsonNode.Parse("""{"contact_uid":"u1","event_uid":"Signed Up","params":{}}""")!);

    public BatchTests()
    {
        _host = new TestHost(new Dictionary<string, string?>
        {
            ["Salesmachine:AttemptTimeout"] = "00:00:05",
            ["Destinations:0:Id"] = "sm-main",
            ["Destinations:0:Type"] = "Salesmachine",
            ["Destinations:0:Settings:ApiToken"] = Token,
            ["Destinations:0:Settings:ApiSecret"] = Secret,
            ["Destinations:0:Settings:BaseUrl"] = _partner.Urls[0],
            ["Destinations:0:Settings:AliasPath"] = "/v1/alias",
        });
        _destination = (SalesmachineDestination)_host.Create().Destination!;
    }

    public void Dispose()
    {
        _host.Dispose();
        _partner.Stop();
        _partner.Dispose();
    }

    void Answer(string path, int status, params (string Name, string Value)[] headers)
    {
        var response = Response.Create().WithStatusCode(status);
        foreach (var (name, value) in headers) response = response.WithHeader(name, value);
        _partner.Given(Request.Create().WithPath(path).UsingPost()).RespondWith(response);
    }

    Task<IReadOnlyList<AttemptResult>> SendAsync(params PartnerRequest[] requests) => _destination.SendBatchAsync(requests, CancellationToken.None);

    [Fact]
    public void Contact_account_and_event_share_the_batch_key_alias_goes_alone_and_at_most_100_items()
    {
        Assert.Equal(["batch", "batch", "batch"], new[] { Contact, Account, Event }.Select(_destination.BatchKey));
        Assert.Null(_destination.BatchKey(PartnerRequest.Post("alias", "/v1/alias", new JsonObject { ["contact_uid"] = "u1" })));
        Assert.Equal(100, _destination.MaxBatchSize);
    }

    [Fact]
    public async Task A_2xx_batch_succeeds_every_item_and_sends_one_array_with_methods_and_basic_auth()
    {
        Answer("/v1/batch", 201);
        var results = await SendAsync(Contact, Account, Event);

        Assert.All(results, r => Assert.Equal(AttemptOutcome.Succeeded, r.Outcome));
        var entry = Assert.Single(_partner.LogEntries);
        Assert.Equal(("POST", "/v1/batch"), (entry.RequestMessage.Method, entry.RequestMessage.Path));
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Token}:{Secret}")), entry.Header("Authorization"));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            [{"contact_uid":"u1","params":{"plan":"pro"},"method":"contact"},
             {"account_uid":"a1","params":{},"method":"account"},
             {"contact_uid":"u1","event_uid":"Signed Up","params":{},"method":"event"}]
            """), JsonNode.Parse(entry.RequestMessage.Body!)), entry.RequestMessage.Body);
        Assert.False(Contact.Body!.AsObject().ContainsKey("method")); // the plan's bodies are not changed
    }

    [Theory]
    [InlineData(503, AttemptOutcome.Retry)]
    [InlineData(500, AttemptOutcome.Retry)]
    [InlineData(401, AttemptOutcome.AuthFailure)]
    [InlineData(403, AttemptOutcome.AuthFailure)]
    public async Task A_5xx_retries_and_401_403_fail_auth_for_every_item_without_resending_alone(int status, AttemptOutcome expected)
    {
        Answer("/v1/batch", status);
        var results = await SendAsync(Contact, Event);

        Assert.Equal([expected, expected], results.Select(r => r.Outcome));
        Assert.All(results, r => Assert.Equal(status, r.StatusCode));
        Assert.Single(_partner.LogEntries);
    }

    [Fact]
    public async Task A_429_retries_every_item_with_its_Retry_After()
    {
        Answer("/v1/batch", 429, ("Retry-After", "7"));
        var results = await SendAsync(Contact, Event);

        Assert.All(results, r => Assert.Equal((AttemptOutcome.Retry, 429, (TimeSpan?)TimeSpan.FromSeconds(7)), (r.Outcome, r.StatusCode, r.RetryAfter)));
    }

    [Fact]
    public async Task A_400_batch_is_split_to_find_the_bad_item_D15()
    {
        Answer("/v1/batch", 400);
        Answer("/v1/contact", 201);
        Answer("/v1/account", 201);
        Answer("/v1/track/event", 400);
        var results = await SendAsync(Contact, Event, Account);

        Assert.Equal([AttemptOutcome.Succeeded, AttemptOutcome.Final, AttemptOutcome.Succeeded], results.Select(r => r.Outcome));
        Assert.Equal(["/v1/batch", "/v1/contact", "/v1/track/event", "/v1/account"],
            _partner.LogEntries.OrderBy(l => l.RequestMessage.DateTime).Select(l => l.RequestMessage.Path));
    }

    [Fact]
    public async Task A_refused_connection_retries_every_item()
    {
        using var host = new TestHost(new Dictionary<string, string?>
        {
            ["Destinations:0:Id"] = "sm-main",
            ["Destinations:0:Type"] = "Salesmachine",
            ["Destinations:0:Settings:ApiToken"] = Token,
            ["Destinations:0:Settings:ApiSecret"] = Secret,
            ["Destinations:0:Settings:BaseUrl"] = $"http://127.0.0.1:{LoopbackPartner.FreePort()}",
        });
        var destination = (SalesmachineDestination)host.Create().Destination!;
        var results = await destination.SendBatchAsync([Contact, Event], CancellationToken.None);

        Assert.All(results, r => Assert.Equal(AttemptOutcome.Retry, r.Outcome));
        Assert.All(results, r => Assert.StartsWith("connection error", r.Error));
    }
}
