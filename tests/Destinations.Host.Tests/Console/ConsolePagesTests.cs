using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Destinations.Host.Tests.Support;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// Every console page over HTTP against the service (a child process: the store provider is chosen when services are
/// registered, from the environment) with real deliveries, on SQLite and on PostgreSQL: the counts, the failure groups,
/// dead letters filtered by partner status, "Replay all matching" (count, then replay) reaching the partner, the tester,
/// and the audit log in the store.
/// </summary>
public abstract class ConsolePagesTests(string provider) : IDisposable
{
    const string AdminKey = "console-pages-admin-key-71c2";
    readonly WireMockServer _partner = WireMockServer.Start();

    public void Dispose() => _partner.Stop();

    const string WriteKey = "console-pages-write-key";
    const string DestinationId = "sm";
    const string ApiToken = "console-pages-sm-token";
    const string ApiSecret = "console-pages-sm-secret";

    Task<ServiceProcess> StartAsync()
    {
        var env = new Dictionary<string, string>
        {
            ["Admin__ApiKey"] = AdminKey,
            ["Sources__0__Id"] = "web",
            ["Sources__0__WriteKey"] = WriteKey,
            ["Destinations__0__Id"] = DestinationId,
            ["Destinations__0__Type"] = "Salesmachine",
            ["Destinations__0__Settings__ApiToken"] = ApiToken,
            ["Destinations__0__Settings__ApiSecret"] = ApiSecret,
            ["Destinations__0__Settings__BaseUrl"] = _partner.Url!,
            ["Delivery__BaseDelay"] = "00:00:00.100",
            ["Delivery__PollInterval"] = "00:00:00.100",
        };
        if (provider == "Postgres")
        {
            env["Storage__Provider"] = "Postgres";
            env["Storage__ConnectionString"] = PostgresTestDatabase.NewSchema(out _);
        }
        return ServiceProcess.StartAsync(env);
    }

    static async Task SendAsync(HttpClient http, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/identify") { Content = OperatorApp.JsonBody(json) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(WriteKey + ":")));
        (await http.SendAsync(request)).EnsureSuccessStatusCode();
    }

    static async Task<bool> EventuallyAsync(HttpClient admin, string counter, long expected)
    {
        for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until; await Task.Delay(100))
            if ((long?)JsonNode.Parse(await admin.GetStringAsync($"/admin/destinations/{DestinationId}/stats"))![counter] == expected) return true;
        return false;
    }

    [Fact]
    public async Task Every_page_shows_the_stores_data_and_replay_all_matching_replays_what_it_counted()
    {
        _partner.Given(Request.Create().UsingPost().WithBody(new WildcardMatcher("*page-reject*"))).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error":"unknown contact"}"""));
        _partner.Given(Request.Create().UsingAnyMethod()).AtPriority(100).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        await using var service = await StartAsync();
        using var http = new HttpClient { BaseAddress = service.BaseAddress };
        using var admin = new HttpClient { BaseAddress = service.BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        await SendAsync(http, """{"userId":"page-reject-1","messageId":"page-dead-1","traits":{"plan":"pro"}}""");
        Assert.True(await EventuallyAsync(admin, "dead", 1), service.Output);
        await SendAsync(http, """{"userId":"page-ok-1","messageId":"page-ok-1","traits":{"plan":"pro"}}""");
        Assert.True(await EventuallyAsync(admin, "delivered", 1), service.Output);

        var client = new ConsoleClient(new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new() }) { BaseAddress = service.BaseAddress });
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync(AdminKey)).StatusCode);
        var overview = await client.Http.GetStringAsync("/console");
        Assert.Contains($"data-instance=\"{DestinationId}\"", overview);
        Assert.Contains("Salesmachine", overview);

        var destination = await client.Http.GetStringAsync($"/console/destinations/{DestinationId}");
        Assert.Contains("partner answered 400", destination);
        Assert.Contains("&quot;contact_uid&quot;: &quot;page-reject-1&quot;", destination); // the latest request, encoded
        Assert.Contains("unknown contact", destination);
        Assert.DoesNotContain(ApiToken, destination);
        Assert.DoesNotContain(ApiSecret, destination);

        var deadLetters = await client.Http.GetStringAsync("/console/dead-letters?status=400");
        Assert.Contains("page-dead-1", deadLetters);
        Assert.Contains("<span id=\"matching\">1</span>", deadLetters);
        Assert.Contains("<span id=\"matching\">0</span>", await client.Http.GetStringAsync("/console/dead-letters?status=500"));
        // The dead letter itself: the partner's status and answer, the request it refused (no headers), the stored event.
        var letterId = Regex.Match(deadLetters, "href=\"/console/dead-letters/(\\d+)\"").Groups[1].Value;
        var letter = await client.Http.GetStringAsync($"/console/dead-letters/{letterId}");
        Assert.Contains("<dt>Partner status</dt><dd>400</dd>", letter);
        Assert.Contains($"<code>POST {_partner.Url}/v1/contact</code>", letter);
        Assert.Contains("unknown contact", letter);
        Assert.Contains("&quot;messageId&quot;: &quot;page-dead-1&quot;", letter);
        Assert.DoesNotContain(ApiToken, letter);
        Assert.DoesNotContain(ApiSecret, letter);

        // The API takes the same status filter: nothing with 500, so nothing replayed.
        var none = await admin.PostAsJsonAsync("/admin/dead-letters/replay", new { destination = DestinationId, status = 500 });
        Assert.Equal(0, (int?)JsonNode.Parse(await none.Content.ReadAsStringAsync())!["replayed"]);

        var confirm = await client.PostFormAsync("/console/dead-letters?handler=ConfirmAll", "/console/dead-letters?status=400", ("status", "400"));
        Assert.Contains("<strong id=\"confirm-count\">1</strong>", await confirm.Content.ReadAsStringAsync());
        _partner.Reset();
        _partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        var replayed = await client.PostFormAsync("/console/dead-letters?handler=ReplayAll", "/console/dead-letters?status=400", ("status", "400"));
        Assert.Contains("1 dead letter replayed.", await replayed.Content.ReadAsStringAsync());
        Assert.True(await EventuallyAsync(admin, "delivered", 2), service.Output);

        // Events: the replayed dead letter's story (dead, replayed, delivered), its stored event and last failed request encoded.
        var story = await client.Http.GetStringAsync("/console/events?messageId=page-dead-1");
        Assert.Contains("<tr class=\"delivery\" data-instance=\"sm\" data-status=\"delivered\">", story);
        // Each partner call is recorded (both stores): the rejected one and the replay's, and the call that delivered it.
        Assert.Matches(@"delivered at [^<]+ in call \d+, HTTP 201", story);
        Assert.Matches(new Regex(@"<li class=""attempt"" data-call-id=""\d+"" data-status=""400""><span>[^<]+</span> <code>contact</code>\s*<span class=""bad"">HTTP 400</span>\s*<span class=""muted"">call \d+</span>\s*"
            + $@"<div><code class=""request-line"">POST {Regex.Escape(_partner.Url!)}/v1/contact</code></div>.*?unknown contact.*?</li>\s*"
            + @"<li class=""attempt"" data-call-id=""\d+"" data-status=""201""><span>[^<]+</span> <code>contact</code>\s*<span class=""ok"">HTTP 201</span>", RegexOptions.Singleline), story);
        Assert.Contains($"POST {_partner.Url}/v1/contact", story);
        Assert.Contains("&quot;contact_uid&quot;: &quot;page-reject-1&quot;", story);
        Assert.Contains("unknown contact", story);
        Assert.Contains("&quot;messageId&quot;: &quot;page-dead-1&quot;", story); // the stored event, pretty and encoded
        Assert.DoesNotContain(ApiToken, story);
        Assert.DoesNotContain(ApiSecret, story);
        // A first-pass success: when, in which call, with which answer.
        var firstPass = await client.Http.GetStringAsync("/console/events?messageId=page-ok-1");
        Assert.Matches(@"delivered at [^<]+ in call \d+, HTTP 201</div>", firstPass);
        Assert.Matches(new Regex(@"<li class=""attempt"" data-call-id=""\d+"" data-status=""201""><span>[^<]+</span> <code>contact</code>\s*<span class=""ok"">HTTP 201</span>"), firstPass);
        var byUser = await client.Http.GetStringAsync("/console/events?userId=page-ok-1");
        Assert.Contains("<tr data-message-id=\"page-ok-1\">", byUser);
        Assert.DoesNotContain("page-dead-1", byUser);
        Assert.Contains("id=\"not-found\"", await client.Http.GetStringAsync("/console/events?messageId=never-sent"));

        // 24 h counts and charts from the per-minute outcomes: two delivered (one first pass, one after the replay).
        overview = await client.Http.GetStringAsync("/console");
        Assert.Contains("<td class=\"num day-delivered\">2</td>", overview);
        Assert.Contains("id=\"chart-sm\" data-delivered=\"2\"", overview);
        // Each outcome is counted when it happens: the replayed dead letter still counts as dead in its minute.
        Assert.Contains("<td class=\"num day-dead\">1</td>", overview);
        Assert.Contains("id=\"chart\" data-delivered=\"2\"", await client.Http.GetStringAsync($"/console/destinations/{DestinationId}?range=24h"));
        Assert.Contains("<svg", await client.Http.GetStringAsync($"/console/destinations/{DestinationId}"));

        Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync("/console/tester?type=track")).StatusCode);
        var run = await client.PostFormAsync("/console/tester?handler=Run", "/console/tester", ("source", "web"),
            ("body", """{"type":"identify","userId":"tester-1","traits":{"plan":"pro"}}"""));
        Assert.Contains($"POST {_partner.Url}/v1/contact", await run.Content.ReadAsStringAsync());
        Assert.Contains("what the replica serving this page sees", await client.Http.GetStringAsync("/console/live"));

        var audit = await client.Http.GetStringAsync("/console/audit");
        Assert.Contains("<td>replay</td><td>all matching: every destination, partner status 400</td><td class=\"num\">1</td>", audit);
    }
}

public sealed class SqliteConsolePagesTests() : ConsolePagesTests("Sqlite");

public sealed class PostgresConsolePagesTests() : ConsolePagesTests("Postgres");
