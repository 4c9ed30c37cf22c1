using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Segment;
using Destinations.Host.Tests.Support;
using Destinations.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests;

/// <summary>
/// The worked example of docs/partners/webhook.md: a fourth partner (the fictional Northwind CRM, contacts and events endpoints,
/// Bearer token) added by configuration only — docs/examples/webhook-crm/crm.env and mappings.json as they are in the repository,
/// given to the real service (a child process) as its environment variables, with one change: the CRM's host is swapped for a
/// loopback WireMock (so http and a private address are allowed here).
/// </summary>
public sealed class WebhookWorkedExampleTests : IDisposable
{
    const string CrmHost = "https://api.northwind-crm.example";

    readonly WireMockServer _crm = WireMockServer.Start();
    readonly string _mappings = Path.Combine(Path.GetTempPath(), $"northwind-{Guid.NewGuid():N}.json");

    public void Dispose()
    {
        _crm.Stop();
        File.Delete(_mappings);
    }

    static string Example(string file) => Path.Combine(Repository.Root(), "docs", "examples", "webhook-crm", file);

    /// <summary>crm.env's variables, comments and blank lines skipped.</summary>
    static Dictionary<string, string> EnvFile() =>
        File.ReadAllLines(Example("crm.env"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public async Task The_northwind_crm_example_upserts_contacts_and_records_events_in_batches()
    {
        _crm.Given(Request.Create().UsingPut().WithPath("/v2/contacts/*")).RespondWith(Response.Create().WithStatusCode(200));
        _crm.Given(Request.Create().UsingPost().WithPath("/v2/events")).RespondWith(Response.Create().WithStatusCode(202));
        File.WriteAllText(_mappings, File.ReadAllText(Example("mappings.json")).Replace(CrmHost, _crm.Url!));

        var env = EnvFile();
        var token = env["Destinations__0__Settings__Secrets__CrmToken"];
        var secret = env["Destinations__0__Settings__SharedSecret"];
        Assert.Equal("Webhook", env["Destinations__0__Type"]);
        Assert.Equal("api.northwind-crm.example", env["Destinations__0__Settings__AllowedHosts"]);
        env["Destinations__0__MappingsFile"] = _mappings;
        env["Destinations__0__Settings__AllowedHosts"] = new Uri(_crm.Url!).Host;
        env["Destinations__0__Settings__AllowHttp"] = "true";
        env["Destinations__0__Settings__AllowPrivateNetworks"] = "true";
        env["Sources__0__Id"] = "web";
        env["Sources__0__WriteKey"] = ServiceApp.WriteKey;
        env["Admin__ApiKey"] = FailurePaths.AdminKey;
        env["Delivery__PollInterval"] = "00:00:00.100";

        await using var service = await ServiceProcess.StartAsync(env);
        using var http = new HttpClient { BaseAddress = service.BaseAddress };
        var batch = """
            {"batch": [
              {"type": "identify", "userId": "user-42", "messageId": "nw-1", "timestamp": "2026-12-07T03:00:00.000Z",
               "traits": {"email": "ada@example.com", "name": "Ada Lovelace", "plan": "PRO", "custom": {"seats": 12, "region": null}}},
              {"type": "track", "userId": "user-42", "event": "Invoice Paid", "messageId": "nw-2", "timestamp": "2026-12-07T03:01:00.000Z",
               "properties": {"amount": 1290.50, "currency": "EUR", "invoice": {"id": "inv-9"}}},
              {"type": "track", "userId": "user-43", "event": "Trial Started", "messageId": "nw-3", "timestamp": "2026-12-07T03:02:00.000Z"},
              {"type": "track", "anonymousId": "anon-1", "event": "Page Viewed", "messageId": "nw-4"}
            ]}
            """;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/batch") { Content = new StringContent(batch, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(ServiceApp.WriteKey + ":")));
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);

        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", FailurePaths.AdminKey);
        JsonNode? stats = null;
        Assert.True(await ServiceApp.EventuallyAsync(async () =>
        {
            stats = JsonNode.Parse(await http.GetStringAsync($"/admin/destinations/{env["Destinations__0__Id"]}/stats"));
            return (long?)stats!["delivered"] == 3;
        }), $"not delivered: {stats}\n{service.Output}");
        // The anonymous track matches no mapping (the triggers want a userId).
        Assert.Contains("no_trigger_matched", stats!.ToJsonString());

        var calls = _crm.LogEntries.ToList();
        Assert.All(calls, c => Assert.Equal("Bearer " + token, Header(c, "Authorization")));
        Assert.All(calls, c => Assert.True(WebhookSignature.IsValid(c.RequestMessage.BodyAsBytes, secret, Header(c, "X-Signature"))));

        var contact = Assert.Single(calls, c => c.RequestMessage.Method == "PUT");
        Assert.Equal("/v2/contacts/user-42", contact.RequestMessage.Path);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"external_id":"user-42","email":"ada@example.com","name":"Ada Lovelace","plan":"pro","attributes":{"seats":12},
             "updated_at":"2026-12-07T03:00:00.000Z"}
            """), JsonNode.Parse(contact.RequestMessage.Body!)), contact.RequestMessage.Body);

        var events = calls.Where(c => c.RequestMessage.Path == "/v2/events")
            .SelectMany(c => JsonNode.Parse(c.RequestMessage.Body!)!.AsArray()).OrderBy(e => (string?)e!["contact_external_id"]).ToList();
        Assert.Equal(2, events.Count);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"contact_external_id":"user-42","event":"Invoice Paid","occurred_at":"2026-12-07T03:01:00.000Z",
             "properties":{"amount":1290.50,"currency":"EUR","invoice.id":"inv-9"}}
            """), events[0]), events[0]!.ToJsonString());
        Assert.Equal("Trial Started", (string?)events[1]!["event"]);
        Assert.Contains("\"amount\":1290.50", string.Join("", calls.Select(c => c.RequestMessage.Body)));
    }

    static string Header(WireMock.Logging.ILogEntry e, string name) =>
        e.RequestMessage.Headers!.Single(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value.Single();
}
