using System.Text.Json.Nodes;
using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests;

/// <summary>
/// JSON whose escapes decode to invalid UTF-16 (a lone surrogate), in a value or a property name, at any depth, on every
/// ingress endpoint: a 400 naming the field for a single event, that event rejected (D2) in a batch — never a 500, never
/// altered. U+0000 in an id is the same: PostgreSQL text cannot hold it.
/// </summary>
public class InvalidTextTests(DefaultIngressApp app) : IClassFixture<DefaultIngressApp>
{
    static int _next;

    static string NewId(string prefix) => $"{prefix}-{Interlocked.Increment(ref _next)}";

    [Theory]
    [InlineData("/v1/track", """{"userId":"u","event":"E","properties":{"note":"\ud800"}}""", "properties.note")]
    [InlineData("/v1/track", """{"userId":"u","event":"E","properties":{"a":[1,{"b":"x\udc00"}]}}""", "properties.a[1].b")]
    [InlineData("/v1/identify", """{"userId":"u","traits":{"name":"\ud800\u0041"}}""", "traits.name")]
    [InlineData("/v1/identify", """{"userId":"u","traits":{"\ud800":"x"}}""", "traits")]
    [InlineData("/v1/group", """{"userId":"u","groupId":"\udbff"}""", "groupId")]
    [InlineData("/v1/page", """{"userId":"u","\udc00":1}""", "body")]
    [InlineData("/v1/webhook/dev", """{"type":"track","userId":"u","event":"E","context":{"page":{"title":"\ud800"}}}""", "context.page.title")]
    public async Task A_single_event_is_a_400_naming_the_field(string path, string body, string field)
    {
        var problem = await Json.ProblemAsync(await app.PostAsync(path, body, path.StartsWith("/v1/webhook") ? null : IngressApp.WebWriteKey), 400);
        var errors = Json.Errors(problem, field);
        Assert.Single(errors);
        Assert.Contains("unpaired UTF-16 surrogate", errors[0]);
    }

    [Fact]
    public async Task Without_a_write_key_it_is_still_a_400_not_a_401_or_500()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/track", """{"writeKey":"x","userId":"\ud800","event":"E"}"""), 400);
        Assert.Single(Json.Errors(problem, "userId"));
    }

    [Theory]
    [InlineData("/v1/batch")]
    [InlineData("/v1/import")]
    public async Task In_a_batch_that_event_is_rejected_and_the_others_stored(string path)
    {
        var (a, bad, c) = (NewId("it"), NewId("it-bad"), NewId("it"));
        var body = $$"""
            {"batch":[
              {"type":"track","userId":"u","event":"E","messageId":"{{a}}"},
              {"type":"track","userId":"u","event":"E","messageId":"{{bad}}","properties":{"deep":{"er":["\udc00"]} } },
              {"type":"identify","userId":"u","messageId":"{{c}}","traits":{"emoji":"\ud83d\ude00"} }
            ]}
            """;
        var response = await app.PostAsync(path, body, IngressApp.WebWriteKey);
        Assert.Equal(200, (int)response.StatusCode);
        var answer = await Json.ReadAsync(response);
        Assert.Equal(2, answer["accepted"]!.GetValue<int>());
        var rejected = Assert.Single((JsonArray)answer["rejected"]!)!;
        Assert.Equal(1, rejected["index"]!.GetValue<int>());
        Assert.Equal(bad, rejected["messageId"]!.GetValue<string>());
        Assert.Contains("batch[1].properties.deep.er[0]", rejected["message"]!.GetValue<string>());
        app.Store.Find(a);
        Assert.Equal("😀", app.Store.Find(c).Event.StringAt("traits.emoji"));
        Assert.DoesNotContain(app.Store.Stored, e => e.Event.MessageId == bad);
    }

    [Fact]
    public async Task A_batch_of_only_bad_events_is_a_400_listing_them()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/batch",
            """{"batch":[{"type":"track","userId":"\ud800","event":"E"},{"type":"track","userId":"u","\udc00":"E"}]}""", IngressApp.WebWriteKey), 400);
        Assert.Single(Json.Errors(problem, "batch[0].userId"));
        Assert.Single(Json.Errors(problem, "batch[1]"));
        Assert.Equal(2, ((JsonArray)problem["rejected"]!).Count);
    }

    [Fact]
    public async Task Bad_text_in_the_batch_envelope_is_a_400()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/batch",
            """{"context":{"library":{"name":"\ud800"}},"batch":[{"type":"track","userId":"u","event":"E"}]}""", IngressApp.WebWriteKey), 400);
        Assert.Single(Json.Errors(problem, "context.library.name"));
    }

    [Fact]
    public async Task In_a_webhook_array_that_element_is_rejected_and_the_others_stored()
    {
        var (a, bad) = (NewId("itwh"), NewId("itwh-bad"));
        var body = $$"""[{"type":"track","userId":"u","event":"E","messageId":"{{a}}"},{"type":"track","userId":"u","event":"\ud800","messageId":"{{bad}}"}]""";
        var response = await app.PostAsync("/v1/webhook/dev", body);
        Assert.Equal(200, (int)response.StatusCode);
        var rejected = Assert.Single((JsonArray)(await Json.ReadAsync(response))["rejected"]!)!;
        Assert.Contains("[1].event", rejected["message"]!.GetValue<string>());
        app.Store.Find(a);
    }

    [Theory]
    [InlineData("userId")]
    [InlineData("anonymousId")]
    [InlineData("messageId")]
    public async Task Nul_in_an_id_is_a_400_for_that_event(string field)
    {
        var single = $$"""{"userId":"u","anonymousId":"a","messageId":"{{NewId("nul")}}","event":"E"}""".Replace($"\"{field}\":\"", $"\"{field}\":\"\\u0000");
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/track", single, IngressApp.WebWriteKey), 400);
        Assert.Single(Json.Errors(problem, field));

        var ok = NewId("nul-ok");
        var response = await app.PostAsync("/v1/batch", $$"""{"batch":[{{single.Replace("{", "{\"type\":\"track\",")}},{"type":"track","userId":"u","event":"E","messageId":"{{ok}}"}]}""",
            IngressApp.WebWriteKey);
        Assert.Equal(200, (int)response.StatusCode);
        var rejected = Assert.Single((JsonArray)(await Json.ReadAsync(response))["rejected"]!)!;
        Assert.Equal(0, rejected["index"]!.GetValue<int>());
        app.Store.Find(ok);
    }
}
