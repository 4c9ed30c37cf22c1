using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests;

/// <summary>POST /v1/batch and /v1/import (docs/ingress.md "Batch envelope", D2, D3).</summary>
public class BatchTests(DefaultIngressApp app) : IClassFixture<DefaultIngressApp>
{
    [Fact]
    public async Task Analytics_node_batch_is_stored()
    {
        var response = await app.PostAsync("/v1/batch", Json.Fixture("tracking-api-batch.json"), IngressApp.WebWriteKey);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("""{"success":true,"accepted":2,"rejected":[],"generated":[]}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("2026-11-20T10:20:00.200Z", app.Store.Find("node-17-b").Event.StringAt("sentAt"));
    }

    [Fact]
    public async Task Envelope_merge_reaches_the_store_D3()
    {
        // The fixture carries writeKey "example-write-key", which is not configured: the header key authenticates instead.
        var response = await app.PostAsync("/v1/import", Json.Fixture("tracking-api-batch-envelope-merge.json"), IngressApp.WebWriteKey);
        Assert.Equal(200, (int)response.StatusCode);
        var a = app.Store.Find("http-18-a").Event;
        var b = app.Store.Find("http-18-b").Event;
        Assert.Equal("nl-NL", a.StringAt("context.locale"));
        Assert.Equal("203.0.113.9", a.StringAt("context.ip"));
        Assert.Equal("en-US", b.StringAt("context.locale"));
        Assert.Equal("""{"Salesmachine":false,"UserMotion (Actions)":false}""", b.Integrations!.ToJsonString());
        Assert.False(b.Json.ContainsKey("writeKey"));
    }

    [Fact]
    public async Task Partial_batch_is_200_with_rejected_and_generated_D2()
    {
        var body = """
            {"batch":[
              {"type":"track","event":"A","userId":"u","messageId":"batch-partial-ok"},
              {"type":"track","userId":"u","messageId":"batch-partial-bad"},
              {"type":"identify","anonymousId":"anon-partial"},
              {"type":"purchase","userId":"u","messageId":"batch-partial-type"}
            ]}
            """;
        var response = await app.PostAsync("/v1/batch", body, IngressApp.WebWriteKey);
        Assert.Equal(200, (int)response.StatusCode);
        var json = await Json.ReadAsync(response);
        Assert.True(json["success"]!.GetValue<bool>());
        Assert.Equal(2, json["accepted"]!.GetValue<int>());
        var rejected = json["rejected"]!.AsArray();
        Assert.Equal(2, rejected.Count);
        Assert.Equal(1, rejected[0]!["index"]!.GetValue<int>());
        Assert.Equal("batch-partial-bad", rejected[0]!["messageId"]!.GetValue<string>());
        Assert.Equal("batch[1].event: track needs an event name", rejected[0]!["message"]!.GetValue<string>());
        Assert.Equal(3, rejected[1]!["index"]!.GetValue<int>());
        Assert.StartsWith("batch[3].type: type 'purchase' is not a Segment call type", rejected[1]!["message"]!.GetValue<string>());
        var generated = Assert.Single(json["generated"]!.AsArray())!;
        Assert.Equal(2, generated["index"]!.GetValue<int>());
        Assert.Equal("anon-partial", app.Store.Find(generated["messageId"]!.GetValue<string>()).Event.AnonymousId);
        app.Store.Find("batch-partial-ok");
        Assert.DoesNotContain(app.Store.Stored, e => e.Event.MessageId == "batch-partial-bad");
    }

    [Fact]
    public async Task All_bad_batch_is_400_with_the_rejected_list()
    {
        var body = """{"batch":[{"type":"track","userId":"u","messageId":"allbad-0"},{"type":"group","userId":"u","messageId":"allbad-1"}]}""";
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/batch", body, IngressApp.WebWriteKey), 400);
        Assert.Equal(["track needs an event name"], Json.Errors(problem, "batch[0].event"));
        Assert.Equal(["group needs a groupId"], Json.Errors(problem, "batch[1].groupId"));
        var rejected = problem["rejected"]!.AsArray();
        Assert.Equal(["allbad-0", "allbad-1"], rejected.Select(r => r!["messageId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Missing_batch_array_is_400_naming_batch()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/batch", """{"events":[]}""", IngressApp.WebWriteKey), 400);
        Assert.Equal(["batch is required: an array of events"], Json.Errors(problem, "batch"));
    }

    [Fact]
    public async Task Too_many_events_is_400_naming_the_limit()
    {
        var events = string.Join(",", Enumerable.Range(0, 2501).Select(i => $$"""{"type":"track","event":"E","userId":"u","messageId":"many-{{i}}"}"""));
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/batch", $$"""{"batch":[{{events}}]}""", IngressApp.WebWriteKey), 400);
        Assert.Equal(["batch has 2501 events; the limit is 2,500 events per batch"], Json.Errors(problem, "batch"));
    }

    [Fact]
    public async Task Batch_over_500_KB_is_400_naming_the_limit()
    {
        var pad = new string('x', 30 * 1024);
        var events = string.Join(",", Enumerable.Range(0, 18).Select(i => $$$"""{"type":"track","event":"E","userId":"u","properties":{"pad":"{{{pad}}}"}}"""));
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/batch", $$"""{"batch":[{{events}}]}""", IngressApp.WebWriteKey), 400);
        Assert.EndsWith("the limit for a batch is 500 KB", Assert.Single(Json.Errors(problem, "body")));
    }

    [Fact]
    public async Task An_oversize_element_is_rejected_on_its_own()
    {
        var big = $$$"""{"type":"track","event":"E","userId":"u","messageId":"elem-big","properties":{"pad":"{{{new string('x', 33 * 1024)}}}"}}""";
        var body = $$"""{"batch":[{{big}},{"type":"track","event":"E","userId":"u","messageId":"elem-small"}]}""";
        var json = await Json.ReadAsync(await app.PostAsync("/v1/batch", body, IngressApp.WebWriteKey));
        Assert.Equal(1, json["accepted"]!.GetValue<int>());
        var rejected = Assert.Single(json["rejected"]!.AsArray())!;
        Assert.Equal("elem-big", rejected["messageId"]!.GetValue<string>());
        Assert.EndsWith("the limit is 32 KB per event", rejected["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Duplicates_are_answered_200_and_counted_as_accepted_D5()
    {
        var body = """{"batch":[{"type":"track","event":"E","userId":"u","messageId":"dup-1"}]}""";
        Assert.Equal(200, (int)(await app.PostAsync("/v1/batch", body, IngressApp.WebWriteKey)).StatusCode);
        var again = await app.PostAsync("/v1/batch", body, IngressApp.WebWriteKey);
        Assert.Equal(200, (int)again.StatusCode);
        Assert.Equal(1, (await Json.ReadAsync(again))["accepted"]!.GetValue<int>());
        app.Store.Find("dup-1"); // stored once
    }

    [Fact]
    public async Task WriteKey_in_the_batch_body_authenticates()
    {
        var body = $$"""{"writeKey":"{{IngressApp.DevWriteKey}}","batch":[{"type":"track","event":"E","userId":"u","messageId":"batch-bodykey"}]}""";
        Assert.Equal(200, (int)(await app.PostAsync("/v1/batch", body)).StatusCode);
        Assert.Equal("dev", app.Store.Find("batch-bodykey").SourceId);
    }
}
