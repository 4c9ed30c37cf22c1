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
/// with one change: the CRM's host is swapped for a loopback WireMock (so http and a private address are allowed here).
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

    static string Example(string file) => Path.Combine(ServiceProcess.RepositoryRoot(), "docs", "examples", "webhook-crm", file);

    /// <summary>crm.env as configuration keys (<c>A__B</c> → <c>A:B</c>), comments and blank lines skipped.</summary>
    static Dictionary<string, string?> EnvFile() =>
        File.ReadAllLines(Example("crm.env"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0].Replace("__", ":"), p => (string?)p[1]);

    [Fact]
    public async Task The_northwind_crm_example_upserts_contacts_and_records_events_in_batches()
    {
        _crm.Given(Request.Create().UsingPut().WithPath("/v2/contacts/*")).RespondWith(Response.Create().WithStatusCode(200));
        _crm.Given(Request.Create().UsingPost().WithPath("/v2/events")).RespondWith(Response.Create().WithStatusCode(202));
        File.WriteAllText(_mappings, File.ReadAllText(Example("mappings.json")).Replace(CrmHost, _crm.Url!));

        var config = EnvFile();
        var id = config["Destinations:0:Id"]!;
        var token = config["Destinations:0:Settings:Secrets:CrmToken"]!;
        var secret = config["Destinations:0:Settings:SharedSecret"]!;
        Assert.Equal("Webhook", config["Destinations:0:Type"]);
        Assert.Equal("api.northwind-crm.example", config["Destinations:0:Settings:AllowedHosts"]);
        config["Destinations:0:MappingsFile"] = _mappings;
        config["Destinations:0:Settings:AllowedHosts"] = new Uri(_crm.Url!).Host;
        config["Destinations:0:Settings:AllowHttp"] = "true";
        config["Destinations:0:Settings:AllowPrivateNetworks"] = "true";
        foreach (var salesmachine in new[] { "ApiToken", "ApiSecret", "BaseUrl" }) config[$"Destinations:0:Settings:{salesmachine}"] = null;

        await using var app = new ServiceApp(_crm.Url!, config, id);
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
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/batch", batch)).StatusCode);
        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 3), $"not delivered: {await app.StatsAsync()}");
        // The anonymous track matches no mapping (the triggers want a userId).
        Assert.Equal(1, (await app.StatsAsync()).Filtered["no_trigger_matched"]);

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
