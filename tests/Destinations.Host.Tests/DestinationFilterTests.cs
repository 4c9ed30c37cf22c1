using System.Net;
using System.Text.Json.Nodes;
using Destinations.Host.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests;

/// <summary>
/// Destination filters through the real host: events posted to the ingress, stored, routed with the instance's
/// <c>Filters</c>, delivered by the dispatcher to a WireMock partner — what is dropped is counted by its reason code and
/// never sent, and what is sent has lost the fields the property filters name. On a classic type (Salesmachine) and an
/// Actions type (UserMotion), configured the way environment variables would (<c>Destinations__0__Filters__0__drop</c>).
/// </summary>
public sealed class DestinationFilterTests : IDisposable
{
    readonly WireMockServer _partner = WireMockServer.Start();

    public DestinationFilterTests() =>
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));

    public void Dispose() => _partner.Stop();

    [Fact]
    public async Task Salesmachine_drops_and_samples_at_ingest_and_sends_what_is_kept_without_the_dropped_properties()
    {
        await using var app = new ServiceApp(_partner.Url!, new Dictionary<string, string?>
        {
            ["Destinations:0:Filters:0:drop"] = "event = \"Test Event\"",
            // msg-0003 is at 56.1% of the hash range, msg-0001 at 10.3%, msg-0002 at 1.9% (SHA-256, docs/configuration.md
            // "Destination filters"): the sample alone would keep msg-0001, the drop before it takes it.
            ["Destinations:0:Filters:1:sample"] = "50",
            ["Destinations:0:Filters:2:dropProperties:0"] = "properties.email",
            ["Destinations:0:Filters:2:dropProperties:1"] = "properties.card.number",
        });
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/track", """{"userId":"u1","event":"Test Event","messageId":"msg-0001"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/track", """{"userId":"u1","event":"Order Completed","messageId":"msg-0003"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync("/v1/batch", """
            {"batch":[{"type":"track","userId":"u1","event":"Order Completed","messageId":"msg-0002",
                       "properties":{"email":"ada@example.com","total":12.5,"card":{"number":"4111111111111111","brand":"visa"}}}]}
            """)).StatusCode);

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 1), $"{await app.StatsAsync()}");
        var stats = await app.StatsAsync();
        Assert.Equal(1, stats.Filtered.GetValueOrDefault("filter_drop"));
        Assert.Equal(1, stats.Filtered.GetValueOrDefault("filter_sample"));
        Assert.Equal(2, stats.FilteredTotal);
        Assert.Equal(0, stats.PendingNew + stats.Retrying + stats.Dead + stats.Invalid);

        var sent = Assert.Single(_partner.LogEntries);
        Assert.Equal("/v1/track/event", sent.RequestMessage.Path);
        AssertJson("""{"contact_uid":"u1","event_uid":"Order Completed","params":{"total":12.5,"card":{"brand":"visa"}}}""", sent.RequestMessage.Body);
    }

    [Fact]
    public async Task UserMotion_only_filter_acts_before_its_triggers_and_allowProperties_shapes_the_identify()
    {
        await using var app = ServiceApp.ForUserMotion(_partner.Url!, settings: new Dictionary<string, string?>
        {
            ["Destinations:0:Filters:0:only"] = "type = \"identify\" or type = \"alias\"",
            ["Destinations:0:Filters:1:allowProperties:0"] = "traits.email",
            ["Destinations:0:Filters:1:allowProperties:1"] = "traits.plan",
        });
        // A track would match the preset trigger; the only filter stops it first.
        await app.SendAsync("/v1/track", """{"userId":"user_8412","event":"Order Completed","messageId":"um-f-1"}""");
        // An alias matches no preset: a filter-kept event still meets the triggers.
        await app.SendAsync("/v1/alias", """{"userId":"user_8412","previousId":"anon-1","messageId":"um-f-2"}""");
        await app.SendAsync("/v1/identify",
            """{"userId":"user_8412","messageId":"um-f-3","traits":{"email":"grace@example.com","plan":"pro","phone":"+1 555 0100"}}""");

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 1), $"{await app.StatsAsync()}");
        var stats = await app.StatsAsync();
        Assert.Equal(1, stats.Filtered.GetValueOrDefault("filter_only"));
        Assert.Equal(1, stats.Filtered.GetValueOrDefault("no_trigger_matched"));
        var sent = Assert.Single(_partner.LogEntries);
        Assert.Equal("/v1/identify", sent.RequestMessage.Path);
        AssertJson("""{"id":"user_8412","properties":{"email":"grace@example.com","plan":"pro"}}""", sent.RequestMessage.Body);
    }

    [Fact]
    public async Task The_dry_run_names_the_filter_that_dropped_an_event_and_lists_the_fields_removed_and_admin_lists_the_filters()
    {
        using var app = new OperatorApp(new Dictionary<string, string?>
        {
            ["Destinations:0:Filters:0:dropProperties:0"] = "properties.email",
            ["Destinations:0:Filters:1:drop"] = "properties.internal = true",
            ["Destinations:0:Filters:2:allowProperties:0"] = "properties.revenue",
        });
        var dropped = await DryRunAsync(app, """{"type":"track","userId":"u1","event":"E","messageId":"d-1","properties":{"internal":true}}""");
        AssertJson("""
            {"destination":"sm","integration":"Salesmachine","routed":false,"reason":"filter_drop",
             "sentence":"A drop filter of the instance matches the event.","detail":"Filters[1] drop: properties.internal = true",
             "settings":{"ApiToken":"********","ApiSecret":"********","BaseUrl":"PARTNER/","AliasPath":null},"deliveries":[],
             "filter":{"index":1,"kind":"drop","condition":"properties.internal = true"}}
            """.Replace("PARTNER", app.PartnerUrl), For(dropped, "sm").ToJsonString());
        Assert.Null(For(dropped, "test-1")["filter"]); // another instance's filters do not touch it

        var kept = await DryRunAsync(app, """
            {"type":"track","userId":"u1","event":"Order Completed","messageId":"d-2","properties":{"email":"ada@example.com","revenue":119.9,"coupon":"X"}}
            """);
        var delivery = For(kept, "sm")["deliveries"]![0]!;
        AssertJson("""
            [{"filter":0,"kind":"dropProperties","path":"properties.email"},{"filter":2,"kind":"allowProperties","path":"properties.coupon"}]
            """, delivery["removed"]!.ToJsonString());
        AssertJson("""{"contact_uid":"u1","event_uid":"Order Completed","params":{"revenue":119.9}}""", delivery["requests"]![0]!["body"]!.ToJsonString());
        Assert.Null(For(kept, "test-1")["deliveries"]![0]!["removed"]);
        Assert.Empty(app.Partner.LogEntries);

        // The admin API lists the instance's filters as configured; an instance without filters has no such key.
        var sm = await Json.ReadAsync(await app.Admin().GetAsync("/admin/destinations/sm"));
        AssertJson("""
            [{"index":0,"kind":"dropProperties","condition":"properties.email"},{"index":1,"kind":"drop","condition":"properties.internal = true"},
             {"index":2,"kind":"allowProperties","condition":"properties.revenue"}]
            """, sm["filters"]!.ToJsonString());
        Assert.Null((await Json.ReadAsync(await app.Admin().GetAsync("/admin/destinations/test-1")))["filters"]);
    }

    [Fact]
    public async Task A_replay_maps_the_stored_event_afresh_through_the_filters_configured_now()
    {
        const string adminKey = "admin-key-filters-4c1e9a";
        var database = $"Data Source={TempDatabase.NewPath()}";
        _partner.Reset();
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error":"bad"}"""));
        var common = new Dictionary<string, string?> { ["Storage:ConnectionString"] = database, ["Admin:ApiKey"] = adminKey };
        await using (var before = new ServiceApp(_partner.Url!, common))
        {
            await before.SendAsync("/v1/track", """{"userId":"u1","event":"Order Completed","messageId":"rp-1","properties":{"email":"ada@example.com","total":3}}""");
            Assert.True(await ServiceApp.EventuallyAsync(async () => (await before.StatsAsync()).Dead == 1), $"{await before.StatsAsync()}");
        }
        // The first attempt sent the email; the instance is restarted with a filter that removes it, and the dead letter replayed.
        AssertJson("""{"contact_uid":"u1","event_uid":"Order Completed","params":{"email":"ada@example.com","total":3}}""",
            Assert.Single(_partner.LogEntries).RequestMessage.Body);
        _partner.Reset();
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        await using var after = new ServiceApp(_partner.Url!, new Dictionary<string, string?>(common)
        {
            ["Destinations:0:Filters:0:dropProperties:0"] = "properties.email",
        });
        using var admin = after.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminKey);
        var replay = await admin.PostAsync("/admin/dead-letters/replay",
            new StringContent($$"""{"destination":"{{ServiceApp.DestinationId}}"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await after.StatsAsync()).Delivered == 1), $"{await after.StatsAsync()}");
        AssertJson("""{"contact_uid":"u1","event_uid":"Order Completed","params":{"total":3}}""", Assert.Single(_partner.LogEntries).RequestMessage.Body);
    }

    static async Task<JsonObject> DryRunAsync(OperatorApp app, string body)
    {
        var response = await app.Admin().PostAsync("/v1/dry-run?source=web", OperatorApp.JsonBody(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return (JsonObject)JsonNode.Parse(text)!;
    }

    static JsonObject For(JsonObject answer, string destination) =>
        (JsonObject)answer["destinations"]!.AsArray().Single(d => d!["destination"]!.GetValue<string>() == destination)!;

    static void AssertJson(string expected, string? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual ?? "null")), $"expected {expected}\nactual   {actual}");
}
