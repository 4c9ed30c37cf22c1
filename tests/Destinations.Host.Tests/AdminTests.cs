using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Destinations.Host.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Destinations.Host.Tests;

/// <summary>The admin API and its key (D21): bearer, constant-time compare, 401 otherwise, 404 when no key is configured.</summary>
public class AdminTests
{
    [Theory]
    [InlineData("GET", "/admin/destinations")]
    [InlineData("GET", "/admin/destinations/sm/stats")]
    [InlineData("POST", "/admin/destinations/sm/test-connection")]
    [InlineData("POST", "/v1/dry-run")]
    public async Task Without_an_admin_key_configured_admin_endpoints_are_404_D21(string method, string path)
    {
        using var app = new OperatorApp(new Dictionary<string, string?> { ["Admin:ApiKey"] = null });
        var response = await app.Admin().SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = OperatorApp.JsonBody("{}") });
        var problem = await Json.ProblemAsync(response, 404);
        Assert.Equal("the admin API is off: set Admin:ApiKey to enable it", problem["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("Bearer", "admin-key-5d8e2f7a91c")]
    [InlineData("Bearer", "admin-key-5d8e2f7a91c4x")]
    [InlineData("Basic", OperatorApp.AdminKey)]
    [InlineData("Bearer", "")]
    public async Task A_missing_or_wrong_admin_key_is_401_D21(string? scheme, string? key)
    {
        using var app = new OperatorApp();
        var client = app.CreateClient();
        if (scheme is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, key);
        var response = await client.GetAsync("/admin/destinations");
        var problem = await Json.ProblemAsync(response, 401);
        Assert.Equal("an admin key is required: Authorization: Bearer <Admin:ApiKey>", problem["message"]!.GetValue<string>());
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Lists_destinations_with_masked_settings_and_stats()
    {
        using var app = new OperatorApp();
        var response = await app.Admin().GetAsync("/admin/destinations");
        Assert.Equal(200, (int)response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var zeroStats = """{"pending":0,"retrying":0,"delivered":0,"invalid":0,"dead":0,"filtered":0,"filteredByReason":{},"filterReasonSentences":{},"duplicates":0,"state":"active","heldSince":null,"holdReason":null,"nextProbeAt":null,"held":0,"lastErrors":[]}""";
        var expected = $$"""
            {"destinations":[
              {"id":"sm","integration":"Salesmachine","sources":["web"],
               "settings":{"ApiToken":"********","ApiSecret":"********","BaseUrl":"{{app.PartnerUrl}}/","AliasPath":null},
               "supportsConnectionTest":true,"stats":{{zeroStats}}},
              {"id":"test-1","integration":"Test Destination","sources":["web","dev"],"settings":{},"supportsConnectionTest":false,"stats":{{zeroStats}}}]}
            """;
        Assert.Equal(JsonNode.Parse(expected)!.ToJsonString(), JsonNode.Parse(body)!.ToJsonString());
        Assert.DoesNotContain(OperatorApp.ApiToken, body);
        Assert.DoesNotContain(OperatorApp.ApiSecret, body);
    }

    [Fact]
    public async Task One_destination_and_its_stats_and_unknown_ids()
    {
        using var app = new OperatorApp();
        var client = app.Admin();
        var one = await Json.ReadAsync(await client.GetAsync("/admin/destinations/sm"));
        Assert.Equal("sm", one["id"]!.GetValue<string>());
        var stats = await Json.ReadAsync(await client.GetAsync("/admin/destinations/test-1/stats"));
        Assert.Equal(0, stats["delivered"]!.GetValue<long>());

        // A router-time filter is counted by its code; the admin API puts the sentence next to it.
        var ingest = await app.CreateClient().PostAsync("/v1/webhook/dev", new StringContent(
            """{"type":"track","userId":"u1","event":"E","messageId":"admin-filter-1","integrations":{"test-1":false}}""",
            System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)ingest.StatusCode);
        stats = await Json.ReadAsync(await client.GetAsync("/admin/destinations/test-1/stats"));
        Assert.Equal("""{"integrations_off":1}""", stats["filteredByReason"]!.ToJsonString());
        var sentence = Assert.Single(stats["filterReasonSentences"]!.AsObject());
        Assert.Equal(("integrations_off", "The event's Integrations object switches this destination off."), (sentence.Key, sentence.Value!.GetValue<string>()));
        var unknown = await Json.ProblemAsync(await client.GetAsync("/admin/destinations/nope/stats"), 404);
        Assert.Equal("no destination instance 'nope' is configured", unknown["message"]!.GetValue<string>());
        await Json.ProblemAsync(await client.PostAsync("/admin/destinations/nope/test-connection", null), 404);
    }

    [Fact]
    public async Task Test_connection_pings_Salesmachine_with_its_credentials()
    {
        using var app = new OperatorApp();
        app.Partner.Given(Request.Create().WithPath("/v1/ping").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"status":"ok"}"""));
        var response = await app.Admin().PostAsync("/admin/destinations/sm/test-connection", null);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("""{"destination":"sm","ok":true,"steps":[{"name":"credentials (GET /v1/ping)","ok":true,"statusCode":200,"detail":"ok"}]}""",
            await response.Content.ReadAsStringAsync());
        var ping = Assert.Single(app.Partner.LogEntries);
        var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{OperatorApp.ApiToken}:{OperatorApp.ApiSecret}"));
        Assert.Equal($"Basic {basic}", ping.RequestMessage!.Headers!["Authorization"].Single());
    }

    [Fact]
    public async Task Test_connection_reports_a_rejected_credential_as_ok_false()
    {
        using var app = new OperatorApp();
        app.Partner.Given(Request.Create().WithPath("/v1/ping")).RespondWith(Response.Create().WithStatusCode(401).WithBody("bad token"));
        var answer = await Json.ReadAsync(await app.Admin().PostAsync("/admin/destinations/sm/test-connection", null));
        Assert.False(answer["ok"]!.GetValue<bool>());
        var step = answer["steps"]![0]!;
        Assert.Equal(401, step["statusCode"]!.GetValue<int>());
        Assert.False(step["ok"]!.GetValue<bool>());
        Assert.StartsWith("AuthFailure: ", step["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Test_connection_of_a_destination_without_one_is_501()
    {
        using var app = new OperatorApp();
        var problem = await Json.ProblemAsync(await app.Admin().PostAsync("/admin/destinations/test-1/test-connection", null), 501);
        Assert.Equal("destination instance 'test-1' (Test Destination) offers no connection test", problem["message"]!.GetValue<string>());
    }
}
