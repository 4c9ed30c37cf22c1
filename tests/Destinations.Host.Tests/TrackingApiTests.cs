using Destinations.Core.Delivery;
using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests;

/// <summary>POST /v1/track|identify|page|screen|group|alias (docs/ingress.md "Endpoints", D1–D3).</summary>
public class TrackingApiTests(DefaultIngressApp app) : IClassFixture<DefaultIngressApp>
{
    [Theory]
    [InlineData("track", """{"userId":"u1","event":"Order Completed","messageId":"tapi-track","properties":{"revenue":19.9}}""")]
    [InlineData("identify", """{"userId":"u1","messageId":"tapi-identify","traits":{"email":"ada@example.com"}}""")]
    [InlineData("page", """{"anonymousId":"a1","name":"Pricing","messageId":"tapi-page"}""")]
    [InlineData("screen", """{"userId":"u1","name":"Dashboard","messageId":"tapi-screen"}""")]
    [InlineData("group", """{"userId":"u1","groupId":"acct_77","messageId":"tapi-group","traits":{"name":"Acme"}}""")]
    [InlineData("alias", """{"userId":"u1","previousId":"a1","messageId":"tapi-alias"}""")]
    public async Task Each_call_type_is_stored_and_answered_success(string type, string body)
    {
        var response = await app.PostAsync($"/v1/{type}", body, IngressApp.WebWriteKey);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("""{"success":true}""", await response.Content.ReadAsStringAsync());
        var stored = app.Store.Find($"tapi-{type}");
        Assert.Equal("web", stored.SourceId);
        Assert.Equal(type, stored.Event.Type);
        Assert.Equal(new Core.Routing.RoutedDelivery("test-1", type), Assert.Single(stored.Routing.Deliveries));
        Assert.NotNull(stored.Event.StringAt("receivedAt"));
    }

    [Fact]
    public async Task The_success_answer_is_the_json_an_Ok_result_writes_with_its_length()
    {
        var response = await app.PostAsync("/v1/track", """{"userId":"u1","event":"E","messageId":"tapi-answer"}""", IngressApp.WebWriteKey);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(16, response.Content.Headers.ContentLength);
        Assert.Equal("""{"success":true}""", await response.Content.ReadAsStringAsync());
        var generated = await app.PostAsync("/v1/track", """{"userId":"u1","event":"E"}""", IngressApp.WebWriteKey);
        Assert.Equal("application/json; charset=utf-8", generated.Content.Headers.ContentType!.ToString());
        Assert.Matches("""^\{"success":true,"messageId":"ingress-[0-9a-f]{32}"\}$""", await generated.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_path_decides_the_type_D3()
    {
        var response = await app.PostAsync("/v1/track", """{"type":"identify","userId":"u1","event":"E","messageId":"tapi-pathtype"}""", IngressApp.WebWriteKey);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("track", app.Store.Find("tapi-pathtype").Event.Type);
    }

    [Fact]
    public async Task A_generated_messageId_is_returned_D2()
    {
        var response = await app.PostAsync("/v1/track", """{"userId":"u1","event":"No Id"}""", IngressApp.WebWriteKey);
        var json = await Json.ReadAsync(response);
        Assert.True(json["success"]!.GetValue<bool>());
        var id = json["messageId"]!.GetValue<string>();
        Assert.StartsWith("ingress-", id);
        Assert.Equal("No Id", app.Store.Find(id).Event.Event);
    }

    [Fact]
    public async Task WriteKey_in_the_body_authenticates_and_is_not_stored()
    {
        var response = await app.PostAsync("/v1/identify", $$"""{"userId":"u1","messageId":"tapi-bodykey","writeKey":"{{IngressApp.DevWriteKey}}"}""");
        Assert.Equal(200, (int)response.StatusCode);
        var stored = app.Store.Find("tapi-bodykey");
        Assert.Equal("dev", stored.SourceId);
        Assert.DoesNotContain(IngressApp.DevWriteKey, stored.Event.ToJsonString());
    }

    [Fact]
    public async Task Bad_write_key_is_401_and_never_echoed()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/track", """{"userId":"u","event":"E","messageId":"tapi-badkey"}""", "wk-wrong-secret"), 401);
        Assert.Equal("the write key is not valid", problem["message"]!.GetValue<string>());
        Assert.DoesNotContain("wk-wrong-secret", problem.ToJsonString());
        Assert.DoesNotContain(app.Store.Stored, e => e.Event.MessageId == "tapi-badkey");
    }

    [Fact]
    public async Task Bad_write_key_in_the_body_is_401() =>
        await Json.ProblemAsync(await app.PostAsync("/v1/track", """{"userId":"u","event":"E","writeKey":"nope"}"""), 401);

    [Fact]
    public async Task Missing_write_key_is_401()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/track", """{"userId":"u","event":"E"}"""), 401);
        Assert.Equal("a write key is required: HTTP Basic username (empty password) or writeKey in the body", problem["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Track_without_event_is_400_naming_the_field()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/track", """{"userId":"u","messageId":"tapi-noevent"}""", IngressApp.WebWriteKey), 400);
        Assert.Equal(["track needs an event name"], Json.Errors(problem, "event"));
        Assert.Equal("event: track needs an event name", problem["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Missing_ids_is_400_naming_userId()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/identify", """{"traits":{"a":1}}""", IngressApp.WebWriteKey), 400);
        Assert.Equal(["identify needs a userId or an anonymousId"], Json.Errors(problem, "userId"));
    }

    [Fact]
    public async Task Numeric_userId_is_coerced_D3()
    {
        Assert.Equal(200, (int)(await app.PostAsync("/v1/track", """{"userId":8412,"event":"E","messageId":"tapi-numeric"}""", IngressApp.WebWriteKey)).StatusCode);
        Assert.Equal("8412", app.Store.Find("tapi-numeric").Event.UserId);
    }

    [Theory]
    [InlineData("""{"userId":{"id":1},"event":"E"}""", "userId", "userId must be a string or a number, not an object")]
    [InlineData("""{"userId":"u","event":"E","properties":"x"}""", "properties", "properties must be an object, not a string")]
    [InlineData("""{"userId":"u","event":42}""", "event", "event must be a string, not a number")]
    [InlineData("""{"userId":"u","event":"E","timestamp":"last tuesday"}""", "timestamp", "timestamp must be an ISO-8601 timestamp such as 2026-11-20T10:15:30.622Z")]
    public async Task Wrong_types_are_400_naming_the_field(string body, string field, string message)
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/track", body, IngressApp.WebWriteKey), 400);
        Assert.Equal([message], Json.Errors(problem, field));
    }

    [Fact]
    public async Task An_event_over_32_KB_is_400_naming_the_limit()
    {
        var body = $$$"""{"userId":"u","event":"E","properties":{"pad":"{{{new string('x', 33 * 1024)}}}"}}""";
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/track", body, IngressApp.WebWriteKey), 400);
        Assert.Contains("the limit for a Tracking-API event is 32 KB", problem["message"]!.GetValue<string>());
        Assert.Single(Json.Errors(problem, "body"));
    }

    [Fact]
    public async Task Delete_is_accepted_and_routed_nowhere_D4()
    {
        var response = await app.PostAsync("/v1/webhook/dev", Json.Fixture("delete.json"));
        Assert.Equal(200, (int)response.StatusCode);
        var stored = app.Store.Find("delete-16");
        Assert.Empty(stored.Routing.Deliveries);
        var filter = Assert.Single(stored.Routing.Filtered);
        Assert.Equal((FilterReason.DeleteNotSupported, "Test Destination"), (filter.Reason, filter.Detail));
    }
}
