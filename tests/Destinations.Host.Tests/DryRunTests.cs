using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Host.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Destinations.Host.Tests;

/// <summary>POST /v1/dry-run: routing, the mapped plan and filter reasons per instance; ?send=true sends synchronously (D21).</summary>
public class DryRunTests
{
    const string Track = """{"type":"track","userId":"user_8412","event":"Order Completed","messageId":"dry-1","properties":{"revenue":119.9}}""";

    static async Task<JsonObject> DryRunAsync(OperatorApp app, string body, string query = "?source=web", int status = 200)
    {
        var response = await app.Admin().PostAsync("/v1/dry-run" + query, OperatorApp.JsonBody(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, text);
        return (JsonObject)JsonNode.Parse(text)!;
    }

    static JsonObject For(JsonObject answer, string destination) =>
        (JsonObject)answer["destinations"]!.AsArray().Single(d => d!["destination"]!.GetValue<string>() == destination)!;

    [Fact]
    public async Task Shows_the_exact_partner_requests_without_sending_or_storing()
    {
        using var app = new OperatorApp();
        var answer = await DryRunAsync(app, Track);
        var expected = """
            {"source":"web","messageId":"dry-1","type":"track","sent":false,"destinations":[
              {"destination":"sm","integration":"Salesmachine","routed":true,
               "settings":{"ApiToken":"********","ApiSecret":"********","BaseUrl":"PARTNER/","AliasPath":null},
               "deliveries":[{"subscription":"track","outcome":"Send","requests":[
                 {"step":"event","method":"POST","url":"PARTNER/v1/track/event",
                  "body":{"contact_uid":"user_8412","event_uid":"Order Completed","params":{"revenue":119.9}}}]}]},
              {"destination":"test-1","integration":"Test Destination","routed":true,"settings":{},
               "deliveries":[{"subscription":"track","outcome":"Filtered","reason":"no_subscription_matched",
                 "sentence":"The destination matched no subscription for the event.","detail":"the test destination sends nothing",
                 "requests":[]}]}]}
            """.Replace("PARTNER", app.PartnerUrl);
        Assert.Equal(JsonNode.Parse(expected)!.ToJsonString(), answer.ToJsonString());
        Assert.Empty(app.Partner.LogEntries);
        var stats = await Json.ReadAsync(await app.Admin().GetAsync("/admin/destinations/sm/stats"));
        Assert.Equal(0, stats["pending"]!.GetValue<long>() + stats["delivered"]!.GetValue<long>() + stats["filtered"]!.GetValue<long>());
    }

    [Fact]
    public async Task Router_reasons_source_integrations_and_call_type_D8()
    {
        using var app = new OperatorApp();
        var notLinked = For(await DryRunAsync(app, Track, "?source=dev"), "sm");
        Assert.False(notLinked["routed"]!.GetValue<bool>());
        Assert.Equal("source_not_linked", notLinked["reason"]!.GetValue<string>());
        Assert.Equal(FilterReason.SourceNotLinked.Sentence, notLinked["sentence"]!.GetValue<string>());
        Assert.Null(notLinked["detail"]);
        Assert.Empty(notLinked["deliveries"]!.AsArray());

        var disabled = await DryRunAsync(app, """{"type":"identify","userId":"u1","integrations":{"All":false,"test-1":true}}""");
        Assert.Equal("integrations_off", For(disabled, "sm")["reason"]!.GetValue<string>());
        Assert.True(For(disabled, "test-1")["routed"]!.GetValue<bool>());

        var screen = For(await DryRunAsync(app, """{"type":"screen","userId":"u1","name":"Home"}"""), "sm");
        Assert.Equal(("call_type_not_accepted", "The partner does not accept this call type.", "screen"),
            (screen["reason"]!.GetValue<string>(), screen["sentence"]!.GetValue<string>(), screen["detail"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Mapper_filter_reasons_D8()
    {
        using var app = new OperatorApp();
        var anonymous = For(await DryRunAsync(app, """{"type":"track","anonymousId":"a1","event":"E"}"""), "sm");
        Assert.True(anonymous["routed"]!.GetValue<bool>());
        var delivery = anonymous["deliveries"]![0]!;
        Assert.Equal("Filtered", delivery["outcome"]!.GetValue<string>());
        Assert.Equal(("no_user_id", FilterReason.NoUserId.Sentence), (delivery["reason"]!.GetValue<string>(), delivery["sentence"]!.GetValue<string>()));

        var alias = For(await DryRunAsync(app, """{"type":"alias","userId":"u1","previousId":"a1"}"""), "sm");
        Assert.Equal("Filtered", alias["deliveries"]![0]!["outcome"]!.GetValue<string>());
        Assert.Equal("no_alias_path", alias["deliveries"]![0]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_only_source_is_the_default_otherwise_source_is_required()
    {
        using var app = new OperatorApp();
        var missing = await Json.ProblemAsync(await app.Admin().PostAsync("/v1/dry-run", OperatorApp.JsonBody(Track)), 400);
        Assert.Equal(["is required when several sources are configured (one of: web, dev)"], Json.Errors(missing, "source"));
        var unknown = await Json.ProblemAsync(await app.Admin().PostAsync("/v1/dry-run?source=ios", OperatorApp.JsonBody(Track)), 400);
        Assert.Equal(["no source 'ios' is configured (one of: web, dev)"], Json.Errors(unknown, "source"));

        using var single = new OperatorApp(new Dictionary<string, string?>
        {
            ["Sources:1:Id"] = null, ["Sources:1:WriteKey"] = null, ["Sources:1:AllowUnsigned"] = null,
        });
        Assert.Equal("web", (await DryRunAsync(single, Track, ""))["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_invalid_event_is_a_400_problem_like_ingress()
    {
        using var app = new OperatorApp();
        var notJson = await Json.ProblemAsync(await app.Admin().PostAsync("/v1/dry-run?source=web", OperatorApp.JsonBody("{nope")), 400);
        Assert.NotEmpty(Json.Errors(notJson, "body"));
        var noEvent = await Json.ProblemAsync(await app.Admin().PostAsync("/v1/dry-run?source=web", OperatorApp.JsonBody("""{"type":"track","userId":"u"}""")), 400);
        Assert.NotEmpty(Json.Errors(noEvent, "event"));
        var array = await Json.ProblemAsync(await app.Admin().PostAsync("/v1/dry-run?source=web", OperatorApp.JsonBody($"[{Track}]")), 400);
        Assert.Equal(["the event tester takes one event object, not an array"], Json.Errors(array, "body"));
    }

    [Fact]
    public async Task Send_true_sends_synchronously_and_returns_the_partners_answer_D21()
    {
        using var app = new OperatorApp();
        app.Partner.Given(Request.Create().WithPath("/v1/track/event").UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"ok":1}"""));
        var answer = await DryRunAsync(app, Track, "?source=web&send=true");
        Assert.True(answer["sent"]!.GetValue<bool>());
        var request = For(answer, "sm")["deliveries"]![0]!["requests"]![0]!;
        Assert.Equal("""{"outcome":"Succeeded","statusCode":200}""", request["result"]!.ToJsonString());
        var sent = Assert.Single(app.Partner.LogEntries);
        Assert.Equal("""{"contact_uid":"user_8412","event_uid":"Order Completed","params":{"revenue":119.9}}""", sent.RequestMessage!.Body);
        var stats = await Json.ReadAsync(await app.Admin().GetAsync("/admin/destinations/sm/stats"));
        Assert.Equal(0, stats["delivered"]!.GetValue<long>()); // D21: bypasses queue and stats
    }

    [Fact]
    public async Task Send_stops_at_the_first_failed_step_D11()
    {
        using var app = new OperatorApp();
        app.Partner.Given(Request.Create().WithPath("/v1/account")).RespondWith(Response.Create().WithStatusCode(500).WithBody("boom"));
        var answer = await DryRunAsync(app, """{"type":"group","userId":"u1","groupId":"acct_1","traits":{"name":"Acme"}}""", "?source=web&send=true");
        var requests = For(answer, "sm")["deliveries"]![0]!["requests"]!.AsArray();
        Assert.Equal(["account", "contact-link"], requests.Select(r => r!["step"]!.GetValue<string>()));
        Assert.Equal("Retry", requests[0]!["result"]!["outcome"]!.GetValue<string>());
        Assert.Equal(500, requests[0]!["result"]!["statusCode"]!.GetValue<int>());
        Assert.Equal("""{"outcome":"NotSent","error":"not sent: an earlier step of the plan failed (the steps go in order and stop at the first failure)"}""", requests[1]!["result"]!.ToJsonString());
        Assert.Single(app.Partner.LogEntries);
    }
}
