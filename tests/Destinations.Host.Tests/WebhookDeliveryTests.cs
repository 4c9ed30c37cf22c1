using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Segment;
using Destinations.Host.Tests.Support;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests;

/// <summary>
/// A Webhook instance configured by settings and a mappings file, through the real host (ingress → SQLite queue → dispatcher →
/// the Webhook client → a WireMock partner): single and batched requests signed and carrying the secret header, the
/// allowed-hosts refusal, the dry-run showing placeholders, and the shared failure paths (retry, 401 pause, dead letter and
/// replay), for a single and a batched mapping.
/// </summary>
public sealed class WebhookDeliveryTests : IDisposable
{
    const string Id = "crm";
    const string SharedSecret = "whsec-host-4c1d";
    const string CrmToken = "crm-token-host-77e0";

    readonly WireMockServer _partner = WireMockServer.Start();
    readonly List<string> _files = [];

    public void Dispose()
    {
        _partner.Stop();
        foreach (var f in _files) File.Delete(f);
    }

    string MappingsFile(string json)
    {
        var file = Path.Combine(Path.GetTempPath(), $"webhook-host-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json.Replace("@URL@", _partner.Url!));
        _files.Add(file);
        return file;
    }

    ServiceApp Start(string mappingsJson, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Destinations:0:Id"] = Id,
            ["Destinations:0:Type"] = "Webhook",
            ["Destinations:0:Settings:ApiToken"] = null,
            ["Destinations:0:Settings:ApiSecret"] = null,
            ["Destinations:0:Settings:BaseUrl"] = null,
            ["Destinations:0:Settings:SharedSecret"] = SharedSecret,
            ["Destinations:0:Settings:AllowedHosts"] = new Uri(_partner.Url!).Host + ", *.example.com",
            ["Destinations:0:Settings:AllowHttp"] = "true",
            ["Destinations:0:Settings:AllowPrivateNetworks"] = "true",
            ["Destinations:0:Settings:Secrets:CrmToken"] = CrmToken,
            ["Destinations:0:MappingsFile"] = MappingsFile(mappingsJson),
            ["Webhook:AttemptTimeout"] = "00:00:05",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) settings[k] = v;
        return new ServiceApp(_partner.Url!, settings, Id);
    }

    const string Single = """
        [{"name": "Events", "trigger": "type = \"track\"", "action": "send",
          "fields": {"url": "@URL@/events", "headers": {"Authorization": "Bearer {{secrets.CrmToken}}"}}}]
        """;

    const string Batched = """
        [{"name": "Events in batches", "trigger": "type = \"track\"", "action": "send",
          "fields": {"url": "@URL@/bulk", "batch_size": 50, "headers": {"Authorization": "Bearer {{secrets.CrmToken}}"},
                     "data": {"event": {"@path": "$.event"}, "user": {"@path": "$.userId"}, "properties": {"@path": "$.properties"}}}}]
        """;

    [Fact]
    public async Task A_single_mapping_sends_each_event_signed_with_the_secret_header()
    {
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        await using var app = Start(Single);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/track",
            """{"userId":"user_8412","event":"Order Completed","messageId":"wh-1","properties":{"total":129.90,"name":"Zoë"}}""")).StatusCode);

        var call = Assert.Single(await CallsAsync(1));
        Assert.Equal("/events", call.RequestMessage.Path);
        Assert.Equal("Bearer " + CrmToken, H(call, "Authorization"));
        var body = call.RequestMessage.BodyAsBytes!;
        Assert.True(WebhookSignature.IsValid(body, SharedSecret, H(call, "X-Signature")));
        var json = Encoding.UTF8.GetString(body);
        Assert.Contains("\"total\":129.90", json);
        Assert.Contains("Zoë", json);
        Assert.Equal("wh-1", (string?)JsonNode.Parse(json)!["messageId"]);
    }

    [Fact]
    public async Task A_batched_mapping_sends_due_events_together_as_an_array_signed_over_the_first()
    {
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        await using var app = Start(Batched);
        var batch = new JsonObject
        {
            ["batch"] = new JsonArray(Enumerable.Range(1, 5).Select(i => (JsonNode?)new JsonObject
            {
                ["type"] = "track", ["userId"] = $"user-{i}", ["event"] = "Order Completed", ["messageId"] = $"wh-b-{i}",
                ["properties"] = new JsonObject { ["n"] = i },
            }).ToArray()),
        };
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/batch", batch.ToJsonString())).StatusCode);

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 5), "not all five were delivered");
        var calls = _partner.LogEntries.ToList();
        var items = calls.SelectMany(c => JsonNode.Parse(c.RequestMessage.Body!)!.AsArray()).Select(i => (string?)i!["user"]).Order().ToList();
        Assert.Equal(["user-1", "user-2", "user-3", "user-4", "user-5"], items);
        Assert.True(calls.Count < 5, $"expected fewer calls than events, saw {calls.Count}");
        Assert.All(calls, c =>
        {
            Assert.Equal("Bearer " + CrmToken, H(c, "Authorization"));
            var first = JsonNode.Parse(c.RequestMessage.Body!)!.AsArray()[0]!.ToJsonString();
            Assert.Equal(WebhookSignature.Sign(Encoding.UTF8.GetBytes(first), SharedSecret), H(c, "X-Signature"));
        });
    }

    [Fact]
    public async Task A_url_built_for_a_host_outside_AllowedHosts_is_invalid_and_never_requested()
    {
        _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200));
        await using var app = Start("""
            [{"name": "Per tenant", "trigger": "type = \"track\"", "action": "send",
              "fields": {"url": {"@template": "https://{{properties.tenant}}/events"}}}]
            """);
        await app.SendAsync("/v1/track", """{"userId":"u1","event":"Leak","messageId":"wh-evil","properties":{"tenant":"169.254.169.254"}}""");
        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Invalid == 1), $"not invalid: {await app.StatsAsync()}");
        Assert.Equal(0, (await app.StatsAsync()).Delivered);
        Assert.Empty(_partner.LogEntries);
    }

    [Fact]
    public async Task The_dry_run_shows_the_request_with_the_secret_as_its_placeholder()
    {
        await using var app = Start(Single, new Dictionary<string, string?> { ["Admin:ApiKey"] = FailurePaths.AdminKey });
        var admin = app.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FailurePaths.AdminKey);
        var response = await admin.PostAsync("/v1/dry-run?source=web",
            new StringContent("""{"type":"track","userId":"u1","event":"Order Completed","messageId":"wh-dry"}""", Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.DoesNotContain(CrmToken, text);
        Assert.DoesNotContain(SharedSecret, text);
        var request = JsonNode.Parse(text)!["destinations"]![0]!["deliveries"]![0]!["requests"]![0]!;
        Assert.Equal("Bearer {{secrets.CrmToken}}", (string?)request["headers"]!["Authorization"]);
        Assert.Equal(_partner.Url + "/events", (string?)request["url"]);
        Assert.Empty(_partner.LogEntries);
    }

    [Fact]
    public async Task The_Integrations_object_names_the_instance_as_Webhooks_Actions_and_its_own_Id_wins_D9()
    {
        await using var app = Start(Single, new Dictionary<string, string?> { ["Admin:ApiKey"] = FailurePaths.AdminKey });
        var admin = app.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FailurePaths.AdminKey);
        async Task<JsonNode> DryRun(string integrations)
        {
            var response = await admin.PostAsync("/v1/dry-run?source=web", new StringContent(
                $$"""{"type":"track","userId":"u1","event":"E","messageId":"wh-int","integrations":{{integrations}}}""", Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            return JsonNode.Parse(text)!["destinations"]![0]!;
        }

        Assert.Equal("Webhooks (Actions)", (string?)(await DryRun("{}"))["integration"]);
        Assert.Equal("integrations_off", (string?)(await DryRun("""{"Webhooks (Actions)":false}"""))["reason"]);
        Assert.Equal("integrations_off", (string?)(await DryRun("""{"All":false}"""))["reason"]);
        Assert.True((bool)(await DryRun("""{"All":false,"crm":true}"""))["routed"]!);
        Assert.Equal("integrations_off", (string?)(await DryRun("""{"Webhooks (Actions)":true,"crm":false}"""))["reason"]);
        Assert.Empty(_partner.LogEntries);
    }

    sealed class CapturingSink : ILogEventSink
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();
        public void Emit(LogEvent e)
        {
            var w = new StringWriter();
            e.RenderMessage(w);
            foreach (var p in e.Properties) w.Write($" {p.Key}={p.Value}");
            w.Write(e.Exception?.ToString());
            Lines.Enqueue(w.ToString());
        }
    }

    [Fact]
    public async Task The_secrets_never_reach_logs_answers_or_stored_errors_even_when_the_partner_echoes_them()
    {
        // The partner echoes the URL's query (which holds the token) in its 400 answer.
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(400).WithBody($"unknown key {CrmToken}"));
        var sink = new CapturingSink();
        await using var app = Start("""
            [{"name": "Events", "trigger": "type = \"track\"", "action": "send",
              "fields": {"url": {"@template": "@URL@/e/{{userId}}?key={{secrets.CrmToken}}"},
                         "headers": {"Authorization": "Bearer {{secrets.CrmToken}}"}}}]
            """, new Dictionary<string, string?> { ["Admin:ApiKey"] = FailurePaths.AdminKey });
        using var logged = app.WithWebHostBuilder(b => b.ConfigureTestServices(services => services.AddSingleton<ILogEventSink>(sink)));
        var admin = logged.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FailurePaths.AdminKey);

        var ingest = new HttpRequestMessage(HttpMethod.Post, "/v1/track")
        {
            Content = new StringContent("""{"userId":"u1","event":"Order Completed","messageId":"wh-secret"}""", Encoding.UTF8, "application/json"),
        };
        ingest.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(ServiceApp.WriteKey + ":")));
        var answers = new List<string> { await (await admin.SendAsync(ingest)).Content.ReadAsStringAsync() };
        Assert.True(await ServiceApp.EventuallyAsync(async () =>
            (await admin.GetStringAsync("/admin/dead-letters?destination=" + Id)).Contains("wh-secret")), "no dead letter");
        Assert.Equal(CrmToken, Assert.Single(_partner.LogEntries).RequestMessage.Query!["key"].Single());

        foreach (var path in new[] { "/admin/dead-letters?destination=" + Id, "/admin/destinations", $"/admin/destinations/{Id}/stats" })
            answers.Add(await admin.GetStringAsync(path));
        answers.Add(await (await admin.PostAsync("/v1/dry-run?source=web&send=true",
            new StringContent("""{"type":"track","userId":"u2","event":"E","messageId":"wh-dry"}""", Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync());
        answers.Add(await (await admin.PostAsync($"/admin/destinations/{Id}/test-connection", null)).Content.ReadAsStringAsync());

        Assert.Contains(answers, a => a.Contains("{{secrets.CrmToken}}"));
        var everything = string.Join("\n", answers.Concat(sink.Lines));
        Assert.NotEmpty(sink.Lines);
        foreach (var secret in new[] { CrmToken, SharedSecret })
            foreach (var form in new[] { secret, Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), Uri.EscapeDataString(secret) })
                Assert.DoesNotContain(form, everything);
    }

    FailurePaths Failures(string mappings) =>
        new(_partner, Id, settings => Start(mappings, settings), () => Response.Create().WithStatusCode(200));

    [Fact]
    public Task A_500_is_retried_with_the_same_request_until_the_webhook_accepts() =>
        Failures(Single).A_500_is_retried_with_the_same_request_until_the_partner_accepts();

    [Fact]
    public Task A_401_pauses_the_webhook_instance_until_the_operator_resumes_it() =>
        Failures(Single).A_401_pauses_the_instance_without_spending_attempts_until_the_operator_resumes_it();

    [Fact]
    public Task A_400_from_the_webhook_is_dead_lettered_and_a_replay_delivers_it() =>
        Failures(Single).A_400_is_dead_lettered_after_one_attempt_and_a_replay_delivers_it();

    [Fact]
    public Task A_batched_mapping_retries_a_500_until_the_webhook_accepts() =>
        Failures(Batched).A_500_is_retried_with_the_same_request_until_the_partner_accepts();

    [Fact]
    public Task A_batched_mapping_pauses_on_401() =>
        Failures(Batched).A_401_pauses_the_instance_without_spending_attempts_until_the_operator_resumes_it();

    [Fact]
    public Task A_batched_mapping_dead_letters_a_400_and_replays_it() =>
        Failures(Batched).A_400_is_dead_lettered_after_one_attempt_and_a_replay_delivers_it();

    static string H(ILogEntry e, string name) =>
        e.RequestMessage.Headers!.Single(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value.Single();

    async Task<IReadOnlyList<ILogEntry>> CallsAsync(int count)
    {
        Assert.True(await ServiceApp.EventuallyAsync(() => Task.FromResult(_partner.LogEntries.Count() >= count)),
            $"expected {count} partner calls, saw {_partner.LogEntries.Count()}");
        return _partner.LogEntries.OrderBy(e => e.RequestMessage.DateTime).ToList();
    }
}
