using System.Text.Json.Nodes;
using Microsoft.Playwright;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Xunit.Abstractions;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// Every console page in a real browser against the published service: sign-in, overview, dead letters and replay reaching
/// the partner, an event's story with its attempts and the charts, the live tail, the event tester, the XSS payload that must never run, and a forged POST. A screenshot of
/// each page is saved under the test output (screenshots/console-*.png).
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleBrowserFixture env, ITestOutputHelper output) : IClassFixture<ConsoleBrowserFixture>
{
    static Task Expect(ILocator locator, string text) => Assertions.Expect(locator).ToContainTextAsync(text, new() { Timeout = 15_000 });

    [Fact]
    public async Task A_wrong_key_is_refused_and_the_admin_key_opens_the_overview_with_every_instance()
    {
        var context = await env.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(env.Url("/console"));
        Assert.Contains("/console/sign-in", page.Url);
        await page.FillAsync("#key", "definitely-not-the-admin-key");
        await page.ClickAsync("#sign-in");
        await Expect(page.Locator("#sign-in-error"), "not the admin key");
        Assert.Equal(0, await page.Locator("#instances").CountAsync());
        await env.ScreenshotAsync(page, "sign-in-refused");

        await page.FillAsync("#key", ConsoleBrowserFixture.AdminKey);
        await page.ClickAsync("#sign-in");
        await Expect(page.Locator("#instances tr[data-instance=sm]"), "Salesmachine");
        await Expect(page.Locator("#instances tr[data-instance=um]"), "UserMotion");
        await Expect(page.Locator("#instances tr[data-instance=sm]"), "active");
        await env.ScreenshotAsync(page, "overview");
        await context.CloseAsync();
    }

    [Fact]
    public async Task A_rejected_event_shows_in_dead_letters_and_replay_reaches_the_partner()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var reject = Guid.NewGuid();
        env.Partner.Given(Request.Create().UsingPost().WithBody(new WildcardMatcher($"*reject-{run}*")))
            .WithGuid(reject).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error":"contact_uid rejected"}"""));
        string[] ids = [$"dl-{run}-1", $"dl-{run}-2", $"dl-{run}-3"];
        // One at a time, so each is its own /v1/contact call (several pending at once go as one Salesmachine batch).
        for (var i = 0; i < ids.Length; i++)
        {
            await env.SendAsync("identify", new JsonObject { ["userId"] = $"reject-{run}-{i}", ["messageId"] = ids[i], ["traits"] = new JsonObject { ["plan"] = "pro" } });
            await env.WaitForDeadAsync("sm", ids[i]);
        }

        var watched = await env.SignedInPageAsync();
        var page = watched.Page;
        await page.GotoAsync(env.Url("/console/destinations/sm"));
        await Expect(page.Locator("#failures"), "400");
        await Expect(page.Locator("#failures"), "contact_uid rejected");
        await env.ScreenshotAsync(page, "destination");

        await page.GotoAsync(env.Url("/console/dead-letters?destination=sm&status=400"));
        var first = page.Locator("#dead-letters tr", new() { HasText = ids[0] });
        await Expect(first, "400");
        await env.ScreenshotAsync(page, "dead-letters");

        await first.Locator("a").First.ClickAsync();
        await Expect(page.Locator("#response"), "contact_uid rejected");
        await Expect(page.Locator("#request-body"), $"reject-{run}-0");
        await env.ScreenshotAsync(page, "dead-letter");

        // The partner accepts now: replay the one selected, then all that match the filter (after the confirmation).
        env.Partner.DeleteMapping(reject);
        await page.GotoAsync(env.Url("/console/dead-letters?destination=sm&status=400"));
        await page.Locator("#dead-letters tr", new() { HasText = ids[0] }).Locator("input[name=ids]").CheckAsync();
        await page.ClickAsync("#replay-selected");
        await Expect(page.Locator("#replay-result"), "1 dead letter replayed");
        Assert.True(await WaitUntilAsync(() => Delivered($"reject-{run}-0")), "the replayed contact never reached the partner");

        await page.GotoAsync(env.Url("/console/dead-letters?destination=sm&status=400"));
        var matching = await page.Locator("#matching").InnerTextAsync();
        await page.ClickAsync("#replay-all");
        await Expect(page.Locator("#confirm-count"), matching);
        Assert.True(int.Parse(matching) >= 2, matching);
        await env.ScreenshotAsync(page, "replay-all-confirm");
        await page.ClickAsync("#confirm-replay-all");
        await Expect(page.Locator("#replay-result"), $"{matching} dead letters replayed");
        Assert.True(await WaitUntilAsync(() => Delivered($"reject-{run}-1") && Delivered($"reject-{run}-2")), "replay all did not reach the partner");

        await page.GotoAsync(env.Url("/console/audit"));
        await Expect(page.Locator("#audit"), "replay");
        await Expect(page.Locator("#audit"), "partner status 400");
        await env.ScreenshotAsync(page, "audit");
        await page.GotoAsync(env.Url("/console"));
        await env.ScreenshotAsync(page, "overview-after-replay");
        await watched.AssertNothingRanAsync();
    }

    /// <summary>A 2xx answer to a request naming the contact (alone on /v1/contact, or in a /v1/batch).</summary>
    bool Delivered(string contactUid) => env.Partner.LogEntries.Any(e => e.RequestMessage.Path is "/v1/contact" or "/v1/batch"
        && e.ResponseMessage.StatusCode is 200 && (e.RequestMessage.Body ?? "").Contains($"\"{contactUid}\"", StringComparison.Ordinal));

    static async Task<bool> WaitUntilAsync(Func<bool> condition)
    {
        for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until; await Task.Delay(100))
            if (condition()) return true;
        return condition();
    }

    [Fact]
    public async Task Events_finds_an_event_by_message_id_and_shows_its_attempts_and_the_charts_draw_them()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var user = $"story-{run}";
        var messageId = $"story-{run}-1";
        // The partner fails the contact once (503: retried), then takes it.
        var contact = Request.Create().UsingPost().WithPath("/v1/contact").WithBody(new WildcardMatcher($"*{user}*"));
        var scenario = $"fail-once-{run}";
        env.Partner.Given(contact).InScenario(scenario).WillSetStateTo("failed").AtPriority(2)
            .RespondWith(Response.Create().WithStatusCode(503).WithBody("""{"error":"try later"}"""));
        env.Partner.Given(contact).InScenario(scenario).WhenStateIs("failed").AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        await env.SendAsync("identify", new JsonObject { ["userId"] = user, ["messageId"] = messageId, ["traits"] = new JsonObject { ["plan"] = "pro" } });
        Assert.True(await WaitUntilAsync(() => Delivered(user)), "the contact never reached the partner after its retry");

        var watched = await env.SignedInPageAsync();
        var page = watched.Page;
        await page.GotoAsync(env.Url("/console/events"));
        await page.FillAsync("#message-id", messageId);
        await page.ClickAsync("#find");
        var sm = page.Locator($"section.story[data-message-id='{messageId}'] tr.delivery[data-instance=sm]");
        // The story is read from the store: wait until the delivery's settlement is committed.
        for (var until = DateTime.UtcNow.AddSeconds(15); await sm.GetAttributeAsync("data-status") != "delivered" && DateTime.UtcNow < until;)
        {
            await Task.Delay(300);
            await page.ReloadAsync();
        }
        await Expect(sm, "delivered at");
        var attempts = sm.Locator("li.attempt");
        await Assertions.Expect(attempts).ToHaveCountAsync(2);
        await Expect(attempts.Nth(0), "HTTP 503");
        await Expect(attempts.Nth(1), "HTTP 200");
        await Expect(sm, $"POST {env.Partner.Url}/v1/contact");
        await Expect(sm, "try later");
        await Expect(page.Locator("section.story pre.event"), $"\"userId\": \"{user}\"");
        // UserMotion needs an email on identify: the story says why nothing was sent there.
        await Expect(page.Locator($"section.story[data-message-id='{messageId}'] tr.delivery[data-instance=um]"), "invalid, nothing sent: missing the required field");
        await env.ScreenshotAsync(page, "events");

        // The user's look-up lists it and links to the story.
        await page.GotoAsync(env.Url("/console/events"));
        await page.FillAsync("#user-id", user);
        await page.ClickAsync("#find");
        await page.Locator($"#user-events tr[data-message-id='{messageId}'] a").ClickAsync();
        await Expect(page.Locator("section.story h2"), messageId);

        // The charts count the retried attempt as failed and the delivery as delivered (server-rendered SVG, no script).
        await page.GotoAsync(env.Url("/console"));
        Assert.True(int.Parse(await page.Locator("#chart-sm").GetAttributeAsync("data-failed") ?? "0") >= 1);
        Assert.True(await page.Locator("#chart-sm rect.failed").CountAsync() >= 1);
        Assert.True(await page.Locator("#chart-sm rect.delivered").CountAsync() >= 1);
        await env.ScreenshotAsync(page, "overview-chart");
        await page.GotoAsync(env.Url("/console/destinations/sm"));
        Assert.True(await page.Locator("#chart rect.failed").CountAsync() >= 1);
        await page.Locator("#chart").ScreenshotAsync(new() { Path = Path.Combine(env.Screenshots, "console-chart-1h.png") });
        await page.ClickAsync("#range-24h");
        Assert.True(await page.Locator("#chart rect.delivered").CountAsync() >= 1);
        await env.ScreenshotAsync(page, "destination-24h");
        await watched.AssertNothingRanAsync();
    }

    [Fact]
    public async Task The_live_tail_shows_a_new_event_and_its_delivery_within_ten_seconds()
    {
        var watched = await env.SignedInPageAsync();
        var page = watched.Page;
        await page.GotoAsync(env.Url("/console/live"));
        await Expect(page.Locator("#live-status"), "connected");

        var messageId = "live-" + Guid.NewGuid().ToString("N")[..8];
        await env.SendAsync("track", new JsonObject { ["userId"] = "user-live", ["event"] = "Plan Upgraded", ["messageId"] = messageId });
        var lines = page.Locator("#live li", new() { HasText = messageId });
        await Assertions.Expect(lines.Filter(new() { HasText = "accepted" })).ToHaveCountAsync(1, new() { Timeout = 10_000 });
        await Assertions.Expect(lines.Filter(new() { HasText = "delivered" }).First).ToBeVisibleAsync(new() { Timeout = 10_000 });

        // Filtered by user id: another user's event does not show.
        await page.FillAsync("#live-user", "user-live");
        await page.PressAsync("#live-user", "Enter");
        await Expect(page.Locator("#live-status"), "connected");
        var other = "live-other-" + Guid.NewGuid().ToString("N")[..8];
        var mine = "live-mine-" + Guid.NewGuid().ToString("N")[..8];
        await env.SendAsync("track", new JsonObject { ["userId"] = "someone-else", ["event"] = "Plan Upgraded", ["messageId"] = other });
        await env.SendAsync("track", new JsonObject { ["userId"] = "user-live", ["event"] = "Plan Upgraded", ["messageId"] = mine });
        await Assertions.Expect(page.Locator("#live li", new() { HasText = mine }).First).ToBeVisibleAsync(new() { Timeout = 10_000 });
        Assert.Equal(0, await page.Locator("#live li", new() { HasText = other }).CountAsync());
        await env.ScreenshotAsync(page, "live");
        await watched.AssertNothingRanAsync();
    }

    /// <summary>The live tail's rows as text: time, kind, destination(s), call type, and the ids with the detail.</summary>
    static async Task<List<string[]>> LiveRowsAsync(IPage page) =>
        [.. (await page.EvaluateAsync<string[][]>("() => [...document.querySelectorAll('#live li')].map(li => [...li.children].map(c => c.textContent))"))];

    [Fact]
    public async Task The_live_tail_filters_by_destination_and_call_type_and_pause_holds_lines_back_until_resume()
    {
        var watched = await env.SignedInPageAsync();
        var page = watched.Page;
        await page.GotoAsync(env.Url("/console/live"));
        await Expect(page.Locator("#live-status"), "connected");
        await page.SelectOptionAsync("#live-filter select[name=destination]", "um");
        await page.SelectOptionAsync("#live-filter select[name=type]", "track");
        await page.ClickAsync("#live-filter button[type=submit]");
        await Expect(page.Locator("#live-status"), "connected");

        var run = Guid.NewGuid().ToString("N")[..8];
        // An identify (another call type) first, then a track: routed to sm and um, delivered by both.
        await env.SendAsync("identify", new JsonObject { ["userId"] = $"live-f-{run}", ["messageId"] = $"live-identify-{run}", ["traits"] = new JsonObject { ["email"] = "a@example.com" } });
        await env.SendAsync("track", new JsonObject { ["userId"] = $"live-f-{run}", ["event"] = "Plan Upgraded", ["messageId"] = $"live-track-{run}" });
        var track = page.Locator("#live li", new() { HasText = $"live-track-{run}" });
        await Assertions.Expect(track.Filter(new() { HasText = "accepted" })).ToHaveCountAsync(1, new() { Timeout = 10_000 });
        await Assertions.Expect(track.Filter(new() { HasText = "delivered" })).ToHaveCountAsync(1, new() { Timeout = 10_000 });
        var rows = await LiveRowsAsync(page);
        Assert.DoesNotContain(rows, r => r[4].Contains($"live-identify-{run}", StringComparison.Ordinal));
        var mine = rows.Where(r => r[4].Contains($"live-track-{run}", StringComparison.Ordinal)).ToList();
        Assert.All(mine, r => Assert.Equal("track", r[3]));
        Assert.Equal("um", Assert.Single(mine, r => r[1] == "delivered")[2]); // sm's delivery of the same event is not shown
        Assert.Equal("sm, um", Assert.Single(mine, r => r[1] == "accepted")[2]);
        // Newest first: the delivery above the acceptance that preceded it.
        Assert.True(mine.FindIndex(r => r[1] == "delivered") < mine.FindIndex(r => r[1] == "accepted"), "the live tail is not newest first");

        // Paused: what arrives is counted, not shown (both lines of the event: accepted, and um's delivery).
        await page.ClickAsync("#live-pause");
        await Expect(page.Locator("#live-pause"), "Resume");
        await env.SendAsync("track", new JsonObject { ["userId"] = $"live-f-{run}", ["event"] = "Plan Upgraded", ["messageId"] = $"live-paused-{run}" });
        await Assertions.Expect(page.Locator("#live-status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^paused - 2 lines not shown$"), new() { Timeout = 10_000 });
        Assert.Equal(0, await page.Locator("#live li", new() { HasText = $"live-paused-{run}" }).CountAsync());
        await env.ScreenshotAsync(page, "live-paused");

        // Resumed: new lines show again; those that came while paused stay out (the status said so).
        await page.ClickAsync("#live-pause");
        await Expect(page.Locator("#live-pause"), "Pause");
        await Expect(page.Locator("#live-status"), "connected");
        await env.SendAsync("track", new JsonObject { ["userId"] = $"live-f-{run}", ["event"] = "Plan Upgraded", ["messageId"] = $"live-resumed-{run}" });
        await Assertions.Expect(page.Locator("#live li", new() { HasText = $"live-resumed-{run}" }).First).ToBeVisibleAsync(new() { Timeout = 10_000 });
        Assert.Equal(0, await page.Locator("#live li", new() { HasText = $"live-paused-{run}" }).CountAsync());
        await watched.AssertNothingRanAsync();
    }

    [Fact]
    public async Task The_tester_shows_the_salesmachine_contact_request_for_an_identify()
    {
        var watched = await env.SignedInPageAsync();
        var page = watched.Page;
        await page.GotoAsync(env.Url("/console/tester?type=identify"));
        Assert.Contains("\"type\": \"identify\"", await page.InputValueAsync("#tester-body"));
        await page.ClickAsync("#run");
        var sm = page.Locator("#results [data-destination=sm]");
        await Expect(sm.Locator(".request-line").First, $"POST {env.Partner.Url}/v1/contact");
        await Expect(sm, "\"contact_uid\": \"user_8412\"");
        Assert.DoesNotContain(env.Partner.LogEntries, e => (e.RequestMessage.Body ?? "").Contains("\"user_8412\"", StringComparison.Ordinal));
        await env.ScreenshotAsync(page, "tester");

        // Send: the same requests for real, with the partner's answers; audited.
        await page.ClickAsync("#send");
        await Expect(page.Locator("#results [data-destination=sm] .result").First, "Succeeded 200");
        Assert.Contains(env.Partner.LogEntries, e => e.RequestMessage.Path == "/v1/contact" && (e.RequestMessage.Body ?? "").Contains("\"user_8412\"", StringComparison.Ordinal));
        await page.GotoAsync(env.Url("/console/audit"));
        await Expect(page.Locator("#audit"), "identify ajs-next-01-identify from web");
        await watched.AssertNothingRanAsync();
    }

    [Fact]
    public async Task Script_and_markup_in_an_event_are_shown_as_text_on_every_page_and_never_run()
    {
        const string Img = "<img src=x onerror=\"window.__xss=1;alert('xss')\">";
        const string Script = "</script><script>window.__xss=2;alert('xss')</script>";
        var run = Guid.NewGuid().ToString("N")[..8];
        env.Partner.Given(Request.Create().UsingPost().WithBody(new WildcardMatcher($"*xss-{run}*"))).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(400).WithBody($$"""{"error":"{{Img.Replace("\"", "\\\"")}}"}"""));

        var watched = await env.SignedInPageAsync();
        var page = watched.Page;
        await page.GotoAsync(env.Url("/console/live"));
        await Expect(page.Locator("#live-status"), "connected");

        var userId = $"xss-{run}{Img}";
        await env.SendAsync("identify", new JsonObject
        {
            ["userId"] = userId, ["messageId"] = $"xss-{run}-identify{Script}",
            ["traits"] = new JsonObject { [Img] = Script, ["name"] = Img, [Script] = "x" },
        });
        await env.SendAsync("track", new JsonObject
        {
            ["userId"] = userId, ["messageId"] = $"xss-{run}-track", ["event"] = Img + Script,
            ["properties"] = new JsonObject { [Img] = Script },
        });
        await Expect(page.Locator("#live"), $"xss-{run}-identify</script>");
        await Expect(page.Locator("#live"), Img);
        await watched.AssertNothingRanAsync();

        await env.WaitForDeadAsync("sm", $"xss-{run}-identify{Script}", $"xss-{run}-track");
        await page.GotoAsync(env.Url("/console/dead-letters?destination=sm"));
        await Expect(page.Locator("#dead-letters"), $"xss-{run}-identify</script><script>");
        await watched.AssertNothingRanAsync();
        await page.Locator("#dead-letters tr", new() { HasText = $"xss-{run}-track" }).Locator("a").First.ClickAsync();
        // Inside JSON the quotes are escaped; the tags are there as text.
        await Expect(page.Locator("#event"), "\"event\": \"<img src=x onerror=");
        await Expect(page.Locator("#event"), "</script><script>window.__xss=2");
        await Expect(page.Locator("#response"), "onerror");
        await watched.AssertNothingRanAsync();
        await env.ScreenshotAsync(page, "xss-dead-letter");

        await page.GotoAsync(env.Url("/console/destinations/sm"));
        await Expect(page.Locator("#failures"), "400");
        await page.Locator("#failures details").First.EvaluateAsync("d => d.open = true");
        await watched.AssertNothingRanAsync();
        await page.GotoAsync(env.Url("/console"));
        await watched.AssertNothingRanAsync();

        // Events: the stored event, the request and the partner's answer as text; the user's look-up with the markup in its id.
        await page.GotoAsync(env.Url($"/console/events?messageId=xss-{run}-track"));
        await Expect(page.Locator("section.story pre.event"), "\"event\": \"<img src=x onerror=");
        await Expect(page.Locator("section.story tr.delivery[data-instance=sm]"), "onerror");
        await watched.AssertNothingRanAsync();
        await env.ScreenshotAsync(page, "xss-events");
        await page.GotoAsync(env.Url($"/console/events?userId={Uri.EscapeDataString(userId)}"));
        await Expect(page.Locator("#user-events"), $"xss-{run}-identify</script><script>");
        await Expect(page.Locator("h2"), Img);
        await page.Locator("#user-events tr", new() { HasText = $"xss-{run}-identify" }).Locator("a").First.ClickAsync();
        await Expect(page.Locator("section.story pre.event"), "</script><script>window.__xss=2");
        await watched.AssertNothingRanAsync();

        await page.GotoAsync(env.Url("/console/tester?type=track"));
        await page.FillAsync("#tester-body", new JsonObject
        {
            ["type"] = "track", ["userId"] = userId, ["event"] = Img + Script, ["properties"] = new JsonObject { [Img] = Script },
        }.ToJsonString());
        await page.ClickAsync("#run");
        await Expect(page.Locator("#results"), "onerror");
        await watched.AssertNothingRanAsync();
        await env.ScreenshotAsync(page, "xss-tester");
        output.WriteLine($"screenshots: {env.Screenshots}");
    }

    [Fact]
    public async Task A_post_without_the_antiforgery_token_is_refused_in_the_browser_session()
    {
        var watched = await env.SignedInPageAsync();
        var page = watched.Page;
        await page.GotoAsync(env.Url("/console/destinations/sm"));
        // The session cookie goes with it (same origin), the token does not: refused.
        var forged = await page.EvaluateAsync<int>("""
            async () => (await fetch('/console/destinations/sm?handler=Resume', { method: 'POST', credentials: 'same-origin',
                headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'x=1' })).status
            """);
        Assert.Equal(400, forged);
        // The page's own form carries it: accepted, and the result shows.
        await page.ClickAsync("#resume");
        await Expect(page.Locator("#resume-result"), "not paused");
        await page.ClickAsync("#test-connection");
        await Expect(page.Locator("#connection-result"), "Connection test");
        await env.ScreenshotAsync(page, "destination-actions");
    }
}
