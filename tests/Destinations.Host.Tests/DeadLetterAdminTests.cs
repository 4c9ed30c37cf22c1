using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Destinations.Host.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests;

/// <summary>Dead letters, replay and resume over HTTP (D11–D13, admin key D21), through the real store and dispatcher.</summary>
public sealed class DeadLetterAdminTests : IDisposable
{
    const string AdminKey = "admin-key-for-dead-letter-tests";
    readonly WireMockServer _partner = WireMockServer.Start();

    public void Dispose() => _partner.Stop();

    ServiceApp App() => new(_partner.Url!, new Dictionary<string, string?>
    {
        ["Admin:ApiKey"] = AdminKey,
        // Pausing (D12): probe soon so the test does not wait 30 s; the operator resume is what is tested.
        ["Delivery:ProbeBaseDelay"] = "00:01:00",
    });

    static HttpClient Admin(ServiceApp app)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    [Fact]
    public async Task A_dead_letter_is_listed_with_the_partner_answer_and_a_replay_delivers_it_with_the_current_settings()
    {
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error":"bad contact"}"""));
        await using var app = App();
        var admin = Admin(app);
        await app.SendAsync("/v1/identify", """{"userId":"user_8412","messageId":"dl-1","traits":{"plan":"pro"}}""");
        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Dead == 1));

        var page = JsonNode.Parse(await admin.GetStringAsync("/admin/dead-letters?destination=" + ServiceApp.DestinationId))!;
        var item = Assert.Single(page["items"]!.AsArray())!;
        Assert.Equal("dl-1", (string?)item["messageId"]);
        Assert.Equal(400, (int?)item["lastStatus"]);
        Assert.Equal("""{"error":"bad contact"}""", (string?)item["responseExcerpt"]);
        Assert.Equal("POST", (string?)item["lastRequest"]!["method"]);
        Assert.Equal(_partner.Url + "/v1/contact", (string?)item["lastRequest"]!["url"]);
        Assert.Equal("user_8412", (string?)item["event"]!["userId"]);
        Assert.DoesNotContain(ServiceApp.ApiToken, page.ToJsonString());

        _partner.Reset();
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        var replay = await admin.PostAsJsonAsync("/admin/dead-letters/replay", new { ids = new[] { (long)item["id"]! } });
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(1, (int?)JsonNode.Parse(await replay.Content.ReadAsStringAsync())!["replayed"]);

        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 1));
        Assert.Equal(0, (await app.StatsAsync()).Dead);
        var empty = JsonNode.Parse(await admin.GetStringAsync("/admin/dead-letters"))!;
        Assert.Empty(empty["items"]!.AsArray());
    }

    [Fact]
    public async Task A_replay_must_say_what_to_replay_and_names_the_field_at_fault()
    {
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(201));
        await using var app = App();
        var admin = Admin(app);

        var nothing = await admin.PostAsync("/admin/dead-letters/replay", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, nothing.StatusCode);
        Assert.NotNull(JsonNode.Parse(await nothing.Content.ReadAsStringAsync())!["errors"]!["all"]);

        var unknown = await admin.PostAsJsonAsync("/admin/dead-letters/replay", new { destination = "nope" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.NotNull(JsonNode.Parse(await unknown.Content.ReadAsStringAsync())!["errors"]!["destination"]);

        var badLimit = await admin.GetAsync("/admin/dead-letters?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);

        var all = await admin.PostAsJsonAsync("/admin/dead-letters/replay", new { all = true });
        Assert.Equal(0, (int?)JsonNode.Parse(await all.Content.ReadAsStringAsync())!["replayed"]);

        var anonymous = await app.CreateClient().GetAsync("/admin/dead-letters");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task A_401_pauses_the_instance_without_spending_attempts_and_the_operator_resumes_it()
    {
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(401).WithBody("invalid token"));
        await using var app = App();
        var admin = Admin(app);
        await app.SendAsync("/v1/identify", """{"userId":"user_8412","messageId":"pause-1","traits":{}}""");

        Assert.True(await ServiceApp.EventuallyAsync(async () =>
            (string?)JsonNode.Parse(await admin.GetStringAsync($"/admin/destinations/{ServiceApp.DestinationId}/stats"))!["state"] == "paused"));
        var stats = JsonNode.Parse(await admin.GetStringAsync($"/admin/destinations/{ServiceApp.DestinationId}/stats"))!;
        Assert.Equal(1, (long?)stats["held"]);
        Assert.Equal(0, (long?)stats["dead"]);

        _partner.Reset();
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        var resume = await admin.PostAsync($"/admin/destinations/{ServiceApp.DestinationId}/resume", null);
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Equal(true, (bool?)JsonNode.Parse(await resume.Content.ReadAsStringAsync())!["resumed"]);
        Assert.True(await ServiceApp.EventuallyAsync(async () => (await app.StatsAsync()).Delivered == 1));

        var again = JsonNode.Parse(await (await admin.PostAsync($"/admin/destinations/{ServiceApp.DestinationId}/resume", null)).Content.ReadAsStringAsync())!;
        Assert.Equal(false, (bool?)again["resumed"]);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/admin/destinations/nope/resume", null)).StatusCode);
    }
}
