using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Destinations.Core.Storage;
using Destinations.Host.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// Every console page in process (WebApplicationFactory) on a PostgreSQL store, with real deliveries to a WireMock partner:
/// the store's counts, the dead letter, each event's partner calls, a replay from the console reaching the partner and its
/// audit entry, the tester. The provider is a host setting, so it is seen when the store is registered.
/// </summary>
public sealed class ConsolePostgresAppTests : IDisposable
{
    const string AdminKey = "console-pg-admin-key-4e1b9a";
    const string WriteKey = "console-pg-write-key";
    const string ApiToken = "console-pg-sm-token";
    const string ApiSecret = "console-pg-sm-secret";

    readonly WireMockServer _partner = WireMockServer.Start();

    public void Dispose() => _partner.Stop();

    sealed class App(string partnerUrl, IReadOnlyDictionary<string, string>? overrides = null) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            foreach (var (key, value) in new Dictionary<string, string>
                     {
                         ["Storage:Provider"] = "Postgres",
                         ["Storage:ConnectionString"] = PostgresTestDatabase.NewSchema(out _),
                         ["Admin:ApiKey"] = AdminKey,
                         ["Sources:0:Id"] = "web",
                         ["Sources:0:WriteKey"] = WriteKey,
                         ["Destinations:0:Id"] = "sm",
                         ["Destinations:0:Type"] = "Salesmachine",
                         ["Destinations:0:Settings:ApiToken"] = ApiToken,
                         ["Destinations:0:Settings:ApiSecret"] = ApiSecret,
                         ["Destinations:0:Settings:BaseUrl"] = partnerUrl,
                         ["Salesmachine:ConnectRetries"] = "0",
                         ["Delivery:BaseDelay"] = "00:00:00.100",
                         ["Delivery:PollInterval"] = "00:00:00.100",
                     }.Concat(overrides ?? new Dictionary<string, string>()))
                builder.UseSetting(key, value);
        }
    }

    static async Task IdentifyAsync(HttpClient http, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/identify") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(WriteKey + ":")));
        (await http.SendAsync(request)).EnsureSuccessStatusCode();
    }

    /// <summary>Waits up to 30 s for the counter; fails with the last stats read (where the delivery stopped).</summary>
    static async Task StatsReachAsync(HttpClient admin, string counter, long expected)
    {
        var stats = "";
        for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until; await Task.Delay(100))
            if ((long?)JsonNode.Parse(stats = await admin.GetStringAsync("/admin/destinations/sm/stats"))![counter] == expected) return;
        Assert.Fail($"{counter} did not reach {expected} in 30 s; stats: {stats}");
    }

    [Fact]
    public async Task Every_page_shows_real_deliveries_on_postgresql_and_a_replay_reaches_the_partner_and_the_audit_log()
    {
        _partner.Given(Request.Create().UsingPost().WithBody(new WildcardMatcher("*pg-reject*"))).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error":"unknown contact"}"""));
        _partner.Given(Request.Create().UsingAnyMethod()).AtPriority(100).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        await using var app = new App(_partner.Url!);
        using var http = app.CreateClient();
        // The service really runs on PostgreSQL (not the default SQLite file).
        Assert.Equal("Destinations.Storage.Postgres.PostgresEventHistory", app.Services.GetRequiredService<IEventHistory>().GetType().FullName);
        using var admin = app.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);

        await IdentifyAsync(http, """{"userId":"pg-reject-1","messageId":"pg-dead-1","traits":{"plan":"pro"}}""");
        await StatsReachAsync(admin, "dead", 1);
        await IdentifyAsync(http, """{"userId":"pg-ok-1","messageId":"pg-ok-1","traits":{"plan":"pro"}}""");
        await IdentifyAsync(http, """{"userId":"pg-ok-1","messageId":"pg-ok-2","traits":{"plan":"team"}}""");
        await StatsReachAsync(admin, "delivered", 2);

        var client = ConsoleClient.For(app);
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync(AdminKey)).StatusCode);

        var overview = await client.Http.GetStringAsync("/console");
        Assert.Contains("<td class=\"num day-delivered\">2</td>", overview);
        Assert.Contains("<td class=\"num day-dead\">1</td>", overview);
        Assert.Contains("id=\"chart-sm\" data-delivered=\"2\"", overview);

        var destination = await client.Http.GetStringAsync("/console/destinations/sm");
        Assert.Contains("partner answered 400", destination);
        Assert.Contains("unknown contact", destination);
        Assert.DoesNotContain(ApiToken, destination);
        Assert.DoesNotContain(ApiSecret, destination);

        // Events by messageId: the call that delivered it; by userId: both of the user's events, newest first.
        var story = await client.Http.GetStringAsync("/console/events?messageId=pg-ok-1");
        Assert.Matches(@"delivered at [^<]+ in call \d+, HTTP 201</div>", story);
        Assert.Contains("<span class=\"ok\">HTTP 201</span>", story);
        var byUser = await client.Http.GetStringAsync("/console/events?userId=pg-ok-1");
        Assert.Matches(new Regex("<tr data-message-id=\"pg-ok-2\">.*<tr data-message-id=\"pg-ok-1\">", RegexOptions.Singleline), byUser);
        Assert.DoesNotContain("pg-dead-1", byUser);

        var deadLetters = await client.Http.GetStringAsync("/console/dead-letters");
        Assert.Contains("<span id=\"matching\">1</span>", deadLetters);
        var id = Regex.Match(deadLetters, "href=\"/console/dead-letters/(\\d+)\"").Groups[1].Value;
        var letter = await client.Http.GetStringAsync($"/console/dead-letters/{id}");
        Assert.Contains("<dt>Partner status</dt><dd>400</dd>", letter);
        Assert.Contains($"<code>POST {_partner.Url}/v1/contact</code>", letter);

        // Replay from the console: the partner now accepts it; the audit log names the replay.
        _partner.Reset();
        _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        var replayed = await client.PostFormAsync($"/console/dead-letters/{id}?handler=Replay", $"/console/dead-letters/{id}");
        Assert.Contains("Replayed: the delivery is pending again.", await replayed.Content.ReadAsStringAsync());
        await StatsReachAsync(admin, "delivered", 3);
        var replayedStory = await client.Http.GetStringAsync("/console/events?messageId=pg-dead-1");
        Assert.Contains("<span class=\"bad\">HTTP 400</span>", replayedStory);
        Assert.Matches(@"delivered at [^<]+ in call \d+, HTTP 201", replayedStory);
        // Each call with its request line and answer (PostgreSQL's partner_calls): the rejected one keeps its body too.
        var rejected = Regex.Match(replayedStory, "<li class=\"attempt\" data-call-id=\"\\d+\" data-status=\"400\">(.*?)</li>", RegexOptions.Singleline);
        Assert.True(rejected.Success, replayedStory);
        Assert.Contains($"<code class=\"request-line\">POST {_partner.Url}/v1/contact</code>", rejected.Groups[1].Value);
        Assert.Contains("<pre class=\"answer\">{&#xA;  &quot;error&quot;: &quot;unknown contact&quot;&#xA;}</pre>", rejected.Groups[1].Value);
        Assert.Contains("&quot;contact_uid&quot;: &quot;pg-reject-1&quot;", rejected.Groups[1].Value);
        Assert.DoesNotContain(ApiToken, replayedStory);
        var audit = await client.Http.GetStringAsync("/console/audit");
        Assert.Contains($"<td>replay</td><td>id {id}</td><td class=\"num\">1</td>", audit);

        var run = await client.PostFormAsync("/console/tester?handler=Run", "/console/tester", ("source", "web"),
            ("body", """{"type":"identify","userId":"tester-1","traits":{"plan":"pro"}}"""));
        Assert.Contains($"POST {_partner.Url}/v1/contact", await run.Content.ReadAsStringAsync());
        Assert.Contains("what the replica serving this page sees", await client.Http.GetStringAsync("/console/live"));
    }

    [Fact]
    public async Task Test_connection_Resume_and_the_live_stream_work_on_postgresql()
    {
        _partner.Given(Request.Create().UsingGet().WithPath("/v1/ping")).RespondWith(Response.Create().WithStatusCode(200).WithBody("pong"));
        _partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(401).WithBody("invalid token"));
        // The canary waits long: only Resume can end the pause within the test.
        await using var app = new App(_partner.Url!, new Dictionary<string, string> { ["Delivery:ProbeBaseDelay"] = "00:10:00" });
        Assert.Equal("Destinations.Storage.Postgres.PostgresEventHistory", app.Services.GetRequiredService<IEventHistory>().GetType().FullName);
        using var http = app.CreateClient();
        using var admin = app.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        var client = ConsoleClient.For(app);
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync(AdminKey)).StatusCode);

        // Test connection: the partner's credential check (GET /v1/ping with the Basic header), its result on the page.
        var test = await client.PostFormAsync("/console/destinations/sm?handler=TestConnection", "/console/destinations/sm");
        Assert.Equal(HttpStatusCode.OK, test.StatusCode);
        var testHtml = await test.Content.ReadAsStringAsync();
        Assert.Matches("<div class=\"notice\" id=\"connection-result\">\\s*<strong>Connection test: ok</strong>", testHtml);
        var ping = Assert.Single(_partner.LogEntries, e => e.RequestMessage.Path == "/v1/ping");
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ApiToken}:{ApiSecret}")),
            ping.RequestMessage.Headers!["Authorization"].Single());
        Assert.DoesNotContain(ApiToken, testHtml);
        Assert.DoesNotContain(ApiSecret, testHtml);

        // The live stream on PostgreSQL: an accepted event arrives as a line.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var stream = await client.Http.GetAsync("/console/live/stream", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(cts.Token), Encoding.UTF8);
        // The stream subscribes before it says "connected" (its first event): nothing sent after that is missed.
        while (await reader.ReadLineAsync(cts.Token) is { } line && line != "event: status") { }
        await IdentifyAsync(http, """{"userId":"pg-live-user","messageId":"pg-live-1","traits":{"plan":"pro"}}""");
        JsonObject? accepted = null;
        while (accepted is null && await reader.ReadLineAsync(cts.Token) is { } line)
            if (line.StartsWith("data: ", StringComparison.Ordinal) && JsonNode.Parse(line["data: ".Length..]) is JsonObject data
                && (string?)data["messageId"] == "pg-live-1" && (string?)data["kind"] == "accepted")
                accepted = data;
        Assert.NotNull(accepted);
        Assert.Equal("pg-live-user", (string?)accepted["userId"]);

        // The partner answers 401: the instance is paused (D12) with the delivery held; Resume sends it.
        var overview = "";
        for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until && !overview.Contains("state paused", StringComparison.Ordinal); await Task.Delay(100))
            overview = await client.Http.GetStringAsync("/console");
        Assert.Contains("<span class=\"state paused\">paused</span>", overview);
        _partner.Reset();
        _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        var resume = await client.PostFormAsync("/console/destinations/sm?handler=Resume", "/console/destinations/sm");
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Contains("Resumed: the held deliveries go out again.", await resume.Content.ReadAsStringAsync());
        await StatsReachAsync(admin, "delivered", 1);
        Assert.Contains("pg-live-user", Assert.Single(_partner.LogEntries, e => e.RequestMessage.Path == "/v1/contact").RequestMessage.Body);

        var audit = await client.Http.GetStringAsync("/console/audit");
        Assert.Contains("<td>test-connection</td><td>sm</td><td class=\"num\">1</td><td>ok</td>", audit);
        Assert.Contains("<td>resume</td><td>sm</td><td class=\"num\">1</td><td>resumed</td>", audit);
    }
}
