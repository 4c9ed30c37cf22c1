using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests;

/// <summary>POST /v1/webhook[/{sourceId}] (docs/ingress.md "Endpoints", "Webhook signature", D4).</summary>
public class WebhookTests(DefaultIngressApp app) : IClassFixture<DefaultIngressApp>
{
    [Fact]
    public async Task Classic_signed_fixture_is_accepted()
    {
        var response = await app.PostAsync("/v1/webhook/web", Json.Fixture("webhook-classic.body.json"),
            signature: Json.FixtureTrimmed("webhook-classic.signature.txt"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("""{"success":true}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("web", app.Store.Find("ajs-next-02-track").SourceId);
    }

    [Fact]
    public async Task Actions_batch_signed_on_its_first_element_is_accepted()
    {
        var response = await app.PostAsync("/v1/webhook/web", Json.Fixture("webhook-actions-batch.body.json"),
            signature: Json.FixtureTrimmed("webhook-actions-batch.signature.txt"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("""{"success":true,"accepted":2,"rejected":[],"generated":[]}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("page", app.Store.Find("ajs-next-19-b").Event.Type);
    }

    [Fact]
    public async Task Bad_signature_is_401_and_not_echoed()
    {
        const string wrong = "0000000000000000000000000000000000000000";
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/webhook/web", Json.Fixture("webhook-classic.body.json"), signature: wrong), 401);
        Assert.Equal("the X-Signature does not match the body for this source's shared secret", problem["message"]!.GetValue<string>());
        Assert.DoesNotContain(wrong, problem.ToJsonString());
    }

    [Fact]
    public async Task Missing_signature_is_401()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/webhook/web", Json.Fixture("webhook-classic.body.json")), 401);
        Assert.Equal("the X-Signature header is missing", problem["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unsigned_is_accepted_where_the_source_allows_it_D4()
    {
        var response = await app.PostAsync("/v1/webhook/dev", """{"type":"Identify","userId":"u","messageId":"wh-unsigned"}""");
        Assert.Equal(200, (int)response.StatusCode);
        var stored = app.Store.Find("wh-unsigned");
        Assert.Equal("dev", stored.SourceId);
        Assert.Equal("identify", stored.Event.Type);
    }

    [Fact]
    public async Task Plain_webhook_with_two_sources_is_404_listing_the_right_form_D4()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/webhook", Json.Fixture("webhook-classic.body.json")), 404);
        Assert.Equal("2 sources are configured: post to /v1/webhook/{sourceId} (one of: web, dev)", problem["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_source_is_404() =>
        await Json.ProblemAsync(await app.PostAsync("/v1/webhook/nope", "{}"), 404);

    [Fact]
    public async Task Unknown_type_is_400()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/webhook/dev", """{"type":"purchase","userId":"u"}"""), 400);
        Assert.Equal(["type 'purchase' is not a Segment call type (one of alias, delete, group, identify, page, screen, track)"], Json.Errors(problem, "type"));
    }

    [Fact]
    public async Task Webhook_array_errors_name_the_element()
    {
        var response = await app.PostAsync("/v1/webhook/dev", """[{"type":"track","userId":"u","messageId":"wh-arr-ok","event":"E"},{"type":"track","userId":[1]}]""");
        var json = await Json.ReadAsync(response);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("[1].userId: userId must be a string or a number, not an array", json["rejected"]![0]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Webhook_event_over_64_KB_is_400_naming_the_limit()
    {
        var body = $$$"""{"type":"track","event":"E","userId":"u","properties":{"pad":"{{{new string('x', 65 * 1024)}}}"}}""";
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/webhook/dev", body), 400);
        Assert.EndsWith("the limit for a webhook event is 64 KB", problem["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Webhook_array_over_4000_events_is_400()
    {
        var body = "[" + string.Join(",", Enumerable.Repeat("""{"type":"track","event":"E","userId":"u"}""", 4001)) + "]";
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/webhook/dev", body), 400);
        Assert.Equal(["the array has 4001 events; the limit is 4,000 events per webhook request"], Json.Errors(problem, "body"));
    }
}

public class SingleSourceWebhookTests
{
    [Fact]
    public async Task Plain_webhook_goes_to_the_only_source()
    {
        using var app = new IngressApp(new Dictionary<string, string?>
        {
            ["Sources:0:Id"] = "only",
            ["Sources:0:SharedSecret"] = IngressApp.SharedSecret,
            ["Destinations:0:Id"] = "test-1",
            ["Destinations:0:Type"] = "Test",
        });
        var response = await app.PostAsync("/v1/webhook", Json.Fixture("webhook-classic.body.json"),
            signature: Json.FixtureTrimmed("webhook-classic.signature.txt"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("only", app.Store.Find("ajs-next-02-track").SourceId);
    }
}
