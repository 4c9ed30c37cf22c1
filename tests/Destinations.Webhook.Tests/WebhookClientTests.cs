using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Webhook.Tests;

/// <summary>The real typed client and handler (AddWebhook) against a loopback WireMock partner: exact bytes, headers, signatures,
/// batching, the per-item retry of a rejected batch, redirects, secrets and the safety rules.</summary>
public sealed class WebhookClientTests : IDisposable
{
    const string SharedSecret = "whsec-3b7d1e9a";
    const string CrmToken = "crm-token-a8f2c61d";

    readonly WireMockServer _partner = LoopbackPartner.Start();
    readonly List<TestHost> _hosts = [];

    public void Dispose()
    {
        foreach (var h in _hosts) h.Dispose();
        _partner.Stop();
        _partner.Dispose();
    }

    string Url => _partner.Urls[0];

    WebhookDestination Build(string fields, Dictionary<string, string?>? settings = null, string trigger = "type = \"track\"")
    {
        var s = new Dictionary<string, string?>
        {
            ["SharedSecret"] = SharedSecret,
            ["AllowedHosts:0"] = "127.0.0.1",
            ["AllowedHosts:2"] = "localhost",
            ["AllowHttp"] = "true",
            ["AllowPrivateNetworks"] = "true",
            ["Secrets:CrmToken"] = CrmToken,
        };
        foreach (var (k, v) in settings ?? []) s[k] = v;
        var host = new TestHost(Mappings(("m", trigger, fields)), s);
        _hosts.Add(host);
        return host.Destination();
    }

    /// <summary>One instance with several mappings (name, trigger, fields).</summary>
    WebhookDestination BuildMappings(params (string Name, string Trigger, string Fields)[] mappings)
    {
        var host = new TestHost(Mappings(mappings), new Dictionary<string, string?>
        {
            ["AllowedHosts:0"] = "127.0.0.1",
            ["AllowedHosts:1"] = "localhost",
            ["AllowHttp"] = "true",
            ["AllowPrivateNetworks"] = "true",
        });
        _hosts.Add(host);
        return host.Destination();
    }

    string Mappings(params (string Name, string Trigger, string Fields)[] mappings) =>
        "[" + string.Join(",", mappings.Select(m => "{\"name\": " + JsonValue.Create(m.Name).ToJsonString() + ", \"trigger\": "
            + JsonValue.Create(m.Trigger).ToJsonString() + ", \"action\": \"send\", \"fields\": " + m.Fields.Replace("@URL@", Url) + "}")) + "]";

    void Answer(int status, string body = "{}") =>
        _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(status).WithBody(body));

    static SegmentEvent Track(string userId, string extra = "") => new(JsonNode.Parse($$"""
        {"type":"track","event":"Order Completed","userId":"{{userId}}","messageId":"m-{{userId}}",
         "properties":{"total":129.90,"big":12345678901234567890,"name":"Zoë <b>&</b> 😀","tenant":"t-1"{{extra}}} }
        """)!.AsObject());

    static PartnerRequest Plan(WebhookDestination d, SegmentEvent e)
    {
        var result = d.Map(e, Assert.Single(d.Subscribe(e).Subscriptions));
        Assert.True(result.Outcome == MappingOutcome.Send, result.Reason);
        return Assert.Single(result.Requests);
    }

    IReadOnlyList<ILogEntry> Calls => _partner.LogEntries.OrderBy(e => e.RequestMessage.DateTime).ToList();

    static string Header(ILogEntry e, string name) => e.Header(name);

    static bool HasHeader(ILogEntry e, string name) =>
        e.RequestMessage.Headers!.Keys.Any(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));

    [Fact]
    public async Task A_single_event_is_sent_as_its_data_with_the_exact_bytes_signed_and_the_secret_put_in_only_when_sending()
    {
        Answer(200);
        var d = Build("""{"url": "@URL@/events", "headers": {"Authorization": "Bearer {{secrets.CrmToken}}", "X-Tenant": {"@path": "$.properties.tenant"}}}""");
        var e = Track("u1");
        var request = Plan(d, e);

        // The plan (stored, shown by the dry-run) holds the placeholder, never the token (D29).
        Assert.Equal("Bearer {{secrets.CrmToken}}", request.Headers!.Single(h => h.Key == "Authorization").Value);
        Assert.DoesNotContain(CrmToken, d.Describe(request).ToString());

        var result = await d.SendAsync(request, CancellationToken.None);
        Assert.True(result.IsSuccess, result.Error);
        var call = Assert.Single(Calls);
        Assert.Equal("POST", call.RequestMessage.Method);
        Assert.Equal("/events", call.RequestMessage.Path);
        Assert.Equal("Bearer " + CrmToken, Header(call, "Authorization"));
        Assert.Equal("t-1", Header(call, "X-Tenant"));
        Assert.Equal("Segment (Actions)", Header(call, "User-Agent"));
        Assert.Equal("application/json", Header(call, "Content-Type"));

        var body = call.RequestMessage.BodyAsBytes!;
        // The default data is the whole event: numbers keep their text, non-ASCII and HTML characters are not escaped.
        Assert.Equal(JsJson.Utf8(e.Json), body);
        var text = Encoding.UTF8.GetString(body);
        Assert.Contains("\"total\":129.90", text);
        Assert.Contains("\"big\":12345678901234567890", text);
        Assert.Contains("Zoë <b>&</b> 😀", text);
        Assert.Equal(WebhookSignature.Sign(body, SharedSecret), Header(call, "X-Signature"));
        Assert.True(WebhookSignature.IsValid(body, SharedSecret, Header(call, "X-Signature")));
    }

    [Fact]
    public async Task A_batch_is_the_array_of_each_events_data_signed_over_the_first_and_split_at_batch_size()
    {
        Answer(200);
        var d = Build("""{"url": "@URL@/bulk", "method": "PUT", "batch_size": 2, "data": {"id": {"@path": "$.userId"}, "total": {"@path": "$.properties.total"}}}""");
        Assert.Equal(2, d.MaxBatchSize);
        var requests = new[] { "u1", "u2", "u3" }.Select(u => Plan(d, Track(u))).ToList();
        Assert.Single(requests.Select(r => d.BatchKey(r)).Distinct());
        Assert.NotNull(d.BatchKey(requests[0]));

        var results = await d.SendBatchAsync(requests, CancellationToken.None);
        Assert.All(results, r => Assert.True(r.IsSuccess));
        Assert.Equal(2, Calls.Count);
        Assert.All(Calls, c => Assert.Equal("PUT", c.RequestMessage.Method));
        Assert.Equal("""[{"id":"u1","total":129.90},{"id":"u2","total":129.90}]""", Encoding.UTF8.GetString(Calls[0].RequestMessage.BodyAsBytes!));
        // A batch of one is still an array, as Segment sends it.
        Assert.Equal("""[{"id":"u3","total":129.90}]""", Encoding.UTF8.GetString(Calls[1].RequestMessage.BodyAsBytes!));
        // Segment signs the first element's data; our own ingress accepts that (D4).
        Assert.Equal(WebhookSignature.Sign("""{"id":"u1","total":129.90}"""u8, SharedSecret), Header(Calls[0], "X-Signature"));
        Assert.True(WebhookSignature.IsValid(Calls[0].RequestMessage.BodyAsBytes, SharedSecret, Header(Calls[0], "X-Signature")));

        // A batched request that the dispatcher sends alone is a batch of one too.
        Assert.True((await d.SendAsync(requests[0], CancellationToken.None)).IsSuccess);
        Assert.Equal("""[{"id":"u1","total":129.90}]""", Encoding.UTF8.GetString(Calls[2].RequestMessage.BodyAsBytes!));
    }

    [Fact]
    public void Events_share_a_batch_only_when_url_method_and_headers_are_equal_header_names_compared_case_insensitively()
    {
        var d = Build("""{"url": {"@template": "@URL@/t/{{properties.team}}"}, "batch_size": 10, "headers": {"X-Plan": {"@path": "$.properties.plan"}}}""");
        string? Key(string team, string plan) => d.BatchKey(Plan(d, Track("u1", $", \"team\": \"{team}\", \"plan\": \"{plan}\"")));
        Assert.Equal(Key("a", "pro"), Key("a", "pro"));
        Assert.NotEqual(Key("a", "pro"), Key("b", "pro"));
        Assert.NotEqual(Key("a", "pro"), Key("a", "free"));

        // Header names from the event: within one mapping, names differing only in case share a batch; another value does not.
        var named = Build("""{"url": "@URL@/x", "batch_size": 10, "headers": {"@path": "$.properties.h"}}""");
        string? HeaderKey(string name, string value) => named.BatchKey(Plan(named, Track("u1", $", \"h\": {{\"{name}\": \"{value}\"}}")));
        Assert.Equal(HeaderKey("X-PLAN", "pro"), HeaderKey("x-plan", "pro"));
        Assert.NotEqual(HeaderKey("X-PLAN", "pro"), HeaderKey("X-PLAN", "free"));

        var single = Build("""{"url": "@URL@/x"}""");
        Assert.Null(single.BatchKey(Plan(single, Track("u1"))));
        Assert.Equal(1, single.MaxBatchSize);
    }

    [Fact]
    public void Two_mappings_with_equal_batch_key_values_batch_apart_as_Segment_batches_each_subscription_on_its_own()
    {
        // Segment's onSubscription runs executeBatch per subscription with that subscription's events only, and its batch
        // keys group within one (action-destinations README "Batch Keys"), so equal url, method and headers do not join
        // two mappings' events.
        const string Fields = """{"url": "@URL@/bulk", "batch_size": 10, "headers": {"X-Team": "t1"}}""";
        var d = BuildMappings(("A", "type = \"track\"", Fields), ("B", "type = \"track\"", Fields));
        var e = Track("u1");
        Assert.Equal(["A", "B"], d.Subscribe(e).Subscriptions);
        var a = Assert.Single(d.Map(e, "A").Requests);
        var b = Assert.Single(d.Map(e, "B").Requests);
        Assert.Equal((a.Method, a.Path), (b.Method, b.Path));
        Assert.NotNull(d.BatchKey(a));
        Assert.NotEqual(d.BatchKey(a), d.BatchKey(b));
        Assert.Equal(d.BatchKey(a), d.BatchKey(Assert.Single(d.Map(Track("u2"), "A").Requests)));
    }

    [Theory]
    [InlineData("4000", "send", 4000)]
    [InlineData("4001", "invalid", 0)]
    [InlineData("0", "send", 0)]
    [InlineData("\"ten\"", "invalid", 0)]
    public void A_batch_size_mapped_from_the_event_is_checked_per_delivery_at_most_4000(string size, string outcome, int batchSize)
    {
        var d = Build("""{"url": "@URL@/bulk", "batch_size": {"@path": "$.properties.size"}}""");
        Assert.Equal(4000, d.MaxBatchSize);
        var result = d.Map(Track("u1", $", \"size\": {size}"), Assert.Single(d.Subscribe(Track("u1")).Subscriptions));
        if (outcome == "invalid")
        {
            Assert.Equal(MappingOutcome.Invalid, result.Outcome);
            Assert.Contains("batch_size", result.Reason);
            return;
        }
        Assert.True(result.Outcome == MappingOutcome.Send, result.Reason);
        Assert.Equal(batchSize, WebhookRequests.BatchSize(Assert.Single(result.Requests)));
    }

    [Fact]
    public async Task A_non_auth_4xx_on_a_batch_is_resent_item_by_item_so_only_the_bad_one_fails()
    {
        _partner.Given(Request.Create().UsingPost().WithBody((string? b) => b?.Contains("bad") == true))
            .AtPriority(1).RespondWith(Response.Create().WithStatusCode(422).WithBody("""{"error":"bad item"}"""));
        _partner.Given(Request.Create().UsingPost()).AtPriority(5).RespondWith(Response.Create().WithStatusCode(200));
        var d = Build("""{"url": "@URL@/bulk", "batch_size": 10, "data": {"id": {"@path": "$.userId"}}}""");
        var requests = new[] { "ok1", "bad", "ok2" }.Select(u => Plan(d, Track(u))).ToList();

        var results = await d.SendBatchAsync(requests, CancellationToken.None);
        Assert.Equal([AttemptOutcome.Succeeded, AttemptOutcome.Final, AttemptOutcome.Succeeded], results.Select(r => r.Outcome));
        Assert.Equal(422, results[1].StatusCode);
        Assert.Equal(4, Calls.Count);
        Assert.Equal(["""[{"id":"ok1"}]""", """[{"id":"bad"}]""", """[{"id":"ok2"}]"""], Calls.Skip(1).Select(c => c.RequestMessage.Body));
    }

    [Theory]
    [InlineData(401, AttemptOutcome.AuthFailure)]
    [InlineData(403, AttemptOutcome.AuthFailure)]
    [InlineData(503, AttemptOutcome.Retry)]
    [InlineData(429, AttemptOutcome.Retry)]
    public async Task Auth_failures_and_retryable_answers_apply_to_the_whole_batch_without_splitting_it(int status, AttemptOutcome expected)
    {
        Answer(status);
        var d = Build("""{"url": "@URL@/bulk", "batch_size": 10}""");
        var results = await d.SendBatchAsync([Plan(d, Track("u1")), Plan(d, Track("u2"))], CancellationToken.None);
        Assert.All(results, r => Assert.Equal(expected, r.Outcome));
        Assert.Single(Calls);
    }

    [Fact]
    public async Task A_redirect_is_final_and_not_followed()
    {
        _partner.Given(Request.Create().WithPath("/moved")).RespondWith(Response.Create().WithStatusCode(302).WithHeader("Location", $"{Url}/elsewhere?token=x"));
        _partner.Given(Request.Create().WithPath("/elsewhere")).RespondWith(Response.Create().WithStatusCode(200));
        var d = Build("""{"url": "@URL@/moved"}""");
        var result = await d.SendAsync(Plan(d, Track("u1")), CancellationToken.None);
        Assert.Equal(AttemptOutcome.Final, result.Outcome);
        Assert.Equal(302, result.StatusCode);
        Assert.Contains("redirects are not followed", result.Error);
        Assert.DoesNotContain("token=x", result.Error);
        Assert.Equal("/moved", Assert.Single(Calls).RequestMessage.Path);
    }

    [Fact]
    public async Task A_built_url_outside_AllowedHosts_is_invalid_and_nothing_is_sent()
    {
        Answer(200);
        var d = Build("""{"url": {"@template": "https://{{properties.host}}/collect"}}""", new() { ["AllowedHosts:1"] = "*.example.com" });
        var ok = d.Map(Track("u1", ", \"host\": \"api.example.com\""), "m");
        Assert.Equal(MappingOutcome.Send, ok.Outcome);
        var apex = d.Map(Track("u1", ", \"host\": \"example.com\""), "m");
        Assert.Equal(MappingOutcome.Invalid, apex.Outcome);
        var evil = d.Map(Track("u1", ", \"host\": \"evil.test\""), "m");
        Assert.Equal(MappingOutcome.Invalid, evil.Outcome);
        Assert.Contains("not in Settings.AllowedHosts", evil.Reason);
        Assert.Empty(Calls);
    }

    [Fact]
    public async Task A_host_on_a_private_network_is_refused_unless_AllowPrivateNetworks_is_true()
    {
        Answer(200);
        var d = Build("""{"url": "@URL@/events"}""", new() { ["AllowPrivateNetworks"] = "false" });
        var result = await d.SendAsync(Plan(d, Track("u1")), CancellationToken.None);
        Assert.Equal(AttemptOutcome.Final, result.Outcome);
        Assert.Contains("private", result.Error);
        Assert.Empty(Calls);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("64:ff9b::a00:1", true)]           // NAT64 well-known prefix: 10.0.0.1
    [InlineData("64:ff9b::a9fe:a9fe", true)]       // 169.254.169.254, the cloud metadata address
    [InlineData("64:ff9b::5db8:d822", false)]      // 93.184.216.34
    [InlineData("64:ff9b:1::c0a8:101", true)]      // NAT64 local-use prefix: 192.168.1.1
    [InlineData("2002:7f00:1::1", true)]           // 6to4 of 127.0.0.1
    [InlineData("2002:5db8:d822::1", false)]       // 6to4 of 93.184.216.34
    [InlineData("93.184.216.34", false)]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946", false)]
    public void Private_addresses_are_recognised(string address, bool expected) =>
        Assert.Equal(expected, NetworkGuard.IsPrivate(System.Net.IPAddress.Parse(address)));

    [Fact]
    public async Task Without_data_there_is_no_body_no_content_type_and_no_signature()
    {
        Answer(200);
        var d = Build("""{"url": "@URL@/ping", "method": "PATCH", "data": null}""");
        var request = Plan(d, Track("u1"));
        Assert.Null(request.Body);
        Assert.True((await d.SendAsync(request, CancellationToken.None)).IsSuccess);
        var call = Assert.Single(Calls);
        Assert.Equal("PATCH", call.RequestMessage.Method);
        Assert.True(string.IsNullOrEmpty(call.RequestMessage.Body));
        Assert.False(HasHeader(call, "X-Signature"));
        Assert.False(HasHeader(call, "Content-Type"));
    }

    [Fact]
    public async Task Without_a_SharedSecret_there_is_no_signature()
    {
        Answer(200);
        var d = Build("""{"url": "@URL@/events"}""", new() { ["SharedSecret"] = null });
        Assert.True((await d.SendAsync(Plan(d, Track("u1")), CancellationToken.None)).IsSuccess);
        Assert.False(HasHeader(Assert.Single(Calls), "X-Signature"));
    }

    [Fact]
    public async Task A_secret_in_the_url_is_put_in_when_sending_and_a_partner_echoing_it_back_is_scrubbed()
    {
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(400).WithBody($"bad key {CrmToken} for tenant"));
        var d = Build("""{"url": {"@template": "@URL@/e/{{userId}}?key={{secrets.CrmToken}}"}}""");
        var request = Plan(d, Track("u1"));
        Assert.EndsWith("/e/u1?key={{secrets.CrmToken}}", request.Path);
        var result = await d.SendAsync(request, CancellationToken.None);
        Assert.Equal(CrmToken, Assert.Single(Calls).RequestMessage.Query!["key"].Single());
        Assert.Equal(AttemptOutcome.Final, result.Outcome);
        Assert.DoesNotContain(CrmToken, result.ResponseExcerpt);
        Assert.Contains("********", result.ResponseExcerpt);
        foreach (var (_, value) in d.MaskedSettings) Assert.DoesNotContain(CrmToken, value ?? "");
        foreach (var (_, value) in d.MaskedSettings) Assert.DoesNotContain(SharedSecret, value ?? "");
        Assert.DoesNotContain(CrmToken, d.Settings.ToString());
    }

    [Fact]
    public async Task A_placeholder_that_arrives_in_event_data_does_not_move_a_secret_into_another_field()
    {
        Answer(200);
        // The url names no secret: a placeholder written by the event's sender stays text there.
        var d = Build("""{"url": {"@template": "@URL@/e/{{properties.team}}"}, "headers": {"Authorization": "Bearer {{secrets.CrmToken}}"}}""");
        var request = Plan(d, Track("u1", ", \"team\": \"{{secrets.CrmToken}}\""));
        await d.SendAsync(request, CancellationToken.None);
        Assert.DoesNotContain(CrmToken, Assert.Single(Calls).RequestMessage.Url);
    }

    [Fact]
    public async Task Test_connection_is_none_by_default_and_an_optional_request_expecting_2xx()
    {
        var none = Build("""{"url": "@URL@/events"}""");
        var check = await none.TestConnectionAsync(CancellationToken.None);
        Assert.Contains("Settings.TestConnection", Assert.Single(check.Steps).Detail);
        Assert.Empty(Calls);

        _partner.Given(Request.Create().WithPath("/me").UsingGet().WithHeader("User-Agent", "Segment (Actions)"))
            .RespondWith(Response.Create().WithStatusCode(200));
        _partner.Given(Request.Create().WithPath("/nope")).RespondWith(Response.Create().WithStatusCode(401));
        var ok = Build("""{"url": "@URL@/events"}""", new() { ["TestConnection:Method"] = "GET", ["TestConnection:Url"] = $"{Url}/me?t={{{{secrets.CrmToken}}}}" });
        Assert.True((await ok.TestConnectionAsync(CancellationToken.None)).Ok);
        Assert.Equal(CrmToken, Calls.Last().RequestMessage.Query!["t"].Single());
        var bad = Build("""{"url": "@URL@/events"}""", new() { ["TestConnection:Url"] = $"{Url}/nope" });
        Assert.False((await bad.TestConnectionAsync(CancellationToken.None)).Ok);
    }
}
