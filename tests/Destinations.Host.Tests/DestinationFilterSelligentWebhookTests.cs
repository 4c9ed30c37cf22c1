using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Segment;
using Destinations.Host.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests;

/// <summary>
/// Destination filters on the two other destination types, through the real host (ingress → SQLite → router → dispatcher →
/// WireMock partner): a Selligent Marketing Cloud instance (classic) and a Webhook instance (Actions, mappings file). What
/// <c>drop</c>, <c>only</c> and <c>sample</c> decide is counted with its reason code and never sent; what the property
/// filters remove is missing from what the partner receives; the dry-run names the filter or the fields removed.
/// Sample positions (SHA-256, docs/configuration.md "Destination filters"): msg-0001 10.3%, msg-0002 1.9%, msg-0003 56.1%,
/// msg-0005 92.2%; userId user-1 77.6%, user-5 36.5%.
/// </summary>
public sealed class DestinationFilterSelligentWebhookTests : IDisposable
{
    const string AdminKey = "admin-key-filters-smc-wh-71b3";
    readonly WireMockServer _partner = WireMockServer.Start();
    readonly List<string> _files = [];

    public void Dispose()
    {
        _partner.Stop();
        foreach (var f in _files) File.Delete(f);
    }

    [Fact]
    public async Task Selligent_drop_only_and_sample_are_counted_and_the_event_row_lacks_the_dropped_properties()
    {
        _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
            .WithBody("""{"result_code":"Succeeded","number_of_inserted_records":1,"number_of_updated_records":0,"number_of_failed_records":0}"""));
        await using var app = ServiceApp.ForSelligent(_partner.Url!, new Dictionary<string, string?>
        {
            ["Admin:ApiKey"] = AdminKey,
            ["Destinations:0:Filters:0:drop"] = "event = \"Test Event\"",
            ["Destinations:0:Filters:1:only"] = "anonymousId != \"bot-1\"",
            ["Destinations:0:Filters:2:sample"] = "50",
            ["Destinations:0:Filters:3:dropProperties:0"] = "properties.email",
            ["Destinations:0:Filters:3:dropProperties:1"] = "properties.card.number",
        }, "Order Completed", "Test Event");

        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/track", """{"userId":"a@b.com","event":"Test Event","messageId":"msg-0001"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/track",
            """{"userId":"a@b.com","anonymousId":"bot-1","event":"Order Completed","messageId":"msg-0002"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/track", """{"userId":"a@b.com","event":"Order Completed","messageId":"msg-0003"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/batch", """
            {"batch":[{"type":"track","userId":"a@b.com","event":"Order Completed","messageId":"msg-0004",
                       "properties":{"email":"ada@example.com","total":12.5,"card":{"number":"4111111111111111","brand":"visa"}}}]}
            """)).StatusCode);

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 1), $"{await app.StatsAsync()}");
        var stats = await app.StatsAsync();
        Assert.Equal(1, stats.Filtered.GetValueOrDefault("filter_drop"));
        Assert.Equal(1, stats.Filtered.GetValueOrDefault("filter_only"));
        Assert.Equal(1, stats.Filtered.GetValueOrDefault("filter_sample"));
        Assert.Equal(3, stats.FilteredTotal);
        Assert.Equal(0, stats.PendingNew + stats.Retrying + stats.Dead + stats.Invalid);

        var sent = Assert.Single(_partner.LogEntries);
        Assert.Equal("/Portal/Api/organizations/ACME/lists/segment_events/data/load", sent.RequestMessage.Path);
        var rows = JsonNode.Parse(sent.RequestMessage.Body!)!.AsArray();
        var columns = rows[0]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        var row = rows[1]!.AsArray();
        Assert.Equal("msg-0004", (string?)row[columns.IndexOf("MESSAGE_ID")]);
        AssertJson("""{"total":12.5,"card":{"brand":"visa"}}""", (string?)row[columns.IndexOf("PROPERTIES")]);
        Assert.DoesNotContain("ada@example.com", sent.RequestMessage.Body);

        // The dry-run names the filter that drops an event, and lists what the property filter removes from a kept one.
        var dropped = await DryRunAsync(app, """{"type":"track","userId":"a@b.com","anonymousId":"bot-1","event":"Order Completed","messageId":"msg-0002"}""");
        Assert.Equal("filter_only", (string?)dropped["reason"]);
        AssertJson("""{"index":1,"kind":"only","condition":"anonymousId != \"bot-1\""}""", dropped["filter"]!.ToJsonString());
        var kept = await DryRunAsync(app, """
            {"type":"track","userId":"a@b.com","event":"Order Completed","messageId":"msg-0002","properties":{"email":"x@example.com","n":1}}
            """);
        AssertJson("""[{"filter":3,"kind":"dropProperties","path":"properties.email"}]""", kept["deliveries"]![0]!["removed"]!.ToJsonString());
        Assert.DoesNotContain("x@example.com", kept["deliveries"]![0]!["requests"]!.ToJsonString());
        Assert.Single(_partner.LogEntries);
    }

    [Fact]
    public async Task Webhook_drop_only_and_sample_by_user_are_counted_and_the_body_holds_only_the_allowed_properties()
    {
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        await using var app = StartWebhook(new Dictionary<string, string?>
        {
            ["Destinations:0:Filters:0:drop"] = "groupId = \"internal\"",
            ["Destinations:0:Filters:1:only"] = "type = \"track\" or type = \"group\"",
            ["Destinations:0:Filters:2:sample"] = "50",
            ["Destinations:0:Filters:2:by"] = "userId",
            ["Destinations:0:Filters:3:allowProperties:0"] = "properties.plan",
            ["Destinations:0:Filters:3:allowProperties:1"] = "traits.plan",
            ["Destinations:0:Filters:4:dropProperties:0"] = "context.ip",
        });

        // filter_drop: the internal group; filter_only: the page (which the trigger would take); filter_sample: user-1,
        // whose messageId alone (1.9%) would have been kept.
        await app.SendAsync("/v1/group", """{"userId":"user-5","groupId":"internal","messageId":"wh-f-1","traits":{"plan":"pro"}}""");
        await app.SendAsync("/v1/page", """{"userId":"user-5","name":"Pricing","messageId":"wh-f-2"}""");
        await app.SendAsync("/v1/track", """{"userId":"user-1","event":"Order Completed","messageId":"msg-0002"}""");
        // Kept: user-5 is at 36.5% (its messageId alone, 92.2%, would have been dropped).
        await app.SendAsync("/v1/track", """
            {"userId":"user-5","event":"Order Completed","messageId":"msg-0005",
             "properties":{"plan":"pro","email":"ada@example.com","total":12.5},"context":{"ip":"203.0.113.9","locale":"de-DE"}}
            """);
        await app.SendAsync("/v1/group", """{"userId":"user-5","groupId":"g-7","messageId":"wh-f-5","traits":{"plan":"team","phone":"+1 555 0100"}}""");

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 2), $"{await app.StatsAsync()}");
        var stats = await app.StatsAsync();
        Assert.Equal(1, stats.Filtered.GetValueOrDefault("filter_drop"));
        Assert.Equal(1, stats.Filtered.GetValueOrDefault("filter_only"));
        Assert.Equal(1, stats.Filtered.GetValueOrDefault("filter_sample"));
        Assert.Equal(3, stats.FilteredTotal);

        var bodies = _partner.LogEntries.Select(e => JsonNode.Parse(e.RequestMessage.Body!)!.AsObject())
            .ToDictionary(b => (string)b["messageId"]!);
        Assert.Equal(new[] { "msg-0005", "wh-f-5" }, bodies.Keys.Order().ToArray());
        var track = bodies["msg-0005"];
        AssertJson("""{"plan":"pro"}""", track["properties"]!.ToJsonString());
        Assert.Null(track["context"]!["ip"]);
        Assert.Equal("de-DE", (string?)track["context"]!["locale"]);
        AssertJson("""{"plan":"team"}""", bodies["wh-f-5"]["traits"]!.ToJsonString());
        // The signature covers the filtered body that was sent.
        Assert.All(_partner.LogEntries, e => Assert.True(WebhookSignature.IsValid(e.RequestMessage.BodyAsBytes!, "whsec-filters-2c",
            e.RequestMessage.Headers!["X-Signature"].Single())));

        var dropped = await DryRunAsync(app, """{"type":"group","userId":"user-5","groupId":"internal","messageId":"wh-f-d"}""");
        Assert.Equal(("filter_drop", "Filters[0] drop: groupId = \"internal\""), ((string?)dropped["reason"], (string?)dropped["detail"]));
        AssertJson("""{"index":0,"kind":"drop","condition":"groupId = \"internal\""}""", dropped["filter"]!.ToJsonString());
        var sampled = await DryRunAsync(app, """{"type":"track","userId":"user-1","event":"E","messageId":"wh-f-s"}""");
        Assert.Equal("filter_sample", (string?)sampled["reason"]);
        var kept = await DryRunAsync(app, """
            {"type":"track","userId":"user-5","event":"E","messageId":"wh-f-k","properties":{"plan":"pro","email":"x@example.com"},"context":{"ip":"198.51.100.1"}}
            """);
        var delivery = kept["deliveries"]![0]!;
        AssertJson("""
            [{"filter":3,"kind":"allowProperties","path":"properties.email"},{"filter":4,"kind":"dropProperties","path":"context.ip"}]
            """, delivery["removed"]!.ToJsonString());
        var body = delivery["requests"]![0]!["body"]!;
        AssertJson("""{"plan":"pro"}""", body["properties"]!.ToJsonString());
        Assert.Null(body["context"]!["ip"]);
        Assert.Equal(2, _partner.LogEntries.Count());
    }

    ServiceApp StartWebhook(IDictionary<string, string?> filters)
    {
        var file = Path.Combine(Path.GetTempPath(), $"webhook-filters-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """
            [{"name": "Everything", "trigger": "type = \"track\" or type = \"page\" or type = \"group\"", "action": "send",
              "fields": {"url": "@URL@/events"}}]
            """.Replace("@URL@", _partner.Url!));
        _files.Add(file);
        var settings = new Dictionary<string, string?>
        {
            ["Admin:ApiKey"] = AdminKey,
            ["Destinations:0:Id"] = "crm",
            ["Destinations:0:Type"] = "Webhook",
            ["Destinations:0:Settings:ApiToken"] = null,
            ["Destinations:0:Settings:ApiSecret"] = null,
            ["Destinations:0:Settings:BaseUrl"] = null,
            ["Destinations:0:Settings:SharedSecret"] = "whsec-filters-2c",
            ["Destinations:0:Settings:AllowedHosts"] = new Uri(_partner.Url!).Host,
            ["Destinations:0:Settings:AllowHttp"] = "true",
            ["Destinations:0:Settings:AllowPrivateNetworks"] = "true",
            ["Destinations:0:MappingsFile"] = file,
            ["Webhook:AttemptTimeout"] = "00:00:05",
        };
        foreach (var (k, v) in filters) settings[k] = v;
        return new ServiceApp(_partner.Url!, settings, "crm");
    }

    /// <summary>The dry-run's answer for the one instance.</summary>
    static async Task<JsonObject> DryRunAsync(ServiceApp app, string body)
    {
        var admin = app.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        var response = await admin.PostAsync("/v1/dry-run?source=web", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!["destinations"]!.AsArray().Single()!.AsObject();
    }

    static void AssertJson(string expected, string? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual ?? "null")), $"expected {expected}\nactual   {actual}");
}
