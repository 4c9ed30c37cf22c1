using System.Net;
using System.Text.RegularExpressions;
using Destinations.Core.Storage;
using Destinations.Host.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// An event's story per instance when it was not routed to one (and why) and filtered by another (and why); the tester's
/// example per call type, its source picker, and Run saying per instance routed or not and why.
/// </summary>
public sealed class ConsoleStoryAndTesterTests
{
    [Fact]
    public async Task The_story_shows_per_instance_not_routed_and_filtered_with_the_reasons()
    {
        using var app = new OperatorApp();
        var dev = app.Source(IngressApp.DevWriteKey);
        // Source dev: sm takes only web, so it is not routed there; test-1 maps every event to a filter.
        (await dev.PostAsync("/v1/identify", OperatorApp.JsonBody("""{"userId":"story-u","messageId":"story-dev-1","traits":{}}"""))).EnsureSuccessStatusCode();
        await app.WaitForFilteredAsync("test-1");

        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);
        var html = await client.Http.GetStringAsync("/console/events?messageId=story-dev-1");
        var sm = Regex.Match(html, "<tr class=\"router-filtered\" data-instance=\"sm\" data-status=\"not-routed\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(sm.Success, html);
        Assert.Matches(@"<span class=""outcome filtered"">not routed</span><div class=""summary"">router: source_not_linked</div>", sm.Groups[1].Value);
        var test = Regex.Match(html, "<tr class=\"delivery\" data-instance=\"test-1\" data-status=\"filtered\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(test.Success, html);
        Assert.Contains("<span class=\"outcome filtered\">filtered</span><div class=\"summary\">filtered at mapping: no_subscription_matched</div>", test.Groups[1].Value);
    }

    [Fact]
    public async Task The_tester_has_an_example_per_call_type_a_source_picker_and_run_says_routed_or_not_and_why()
    {
        using var app = new OperatorApp();
        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);
        foreach (var type in new[] { "identify", "track", "page", "screen", "group", "alias" })
        {
            var page = await client.Http.GetStringAsync($"/console/tester?type={type}");
            var body = WebUtility.HtmlDecode(Regex.Match(page, "<textarea name=\"body\" id=\"tester-body\"[^>]*>(.*?)</textarea>", RegexOptions.Singleline).Groups[1].Value);
            Assert.Contains($"\"type\": \"{type}\"", body);
            Assert.Matches($"<option value=\"{type}\" selected=\"selected\">", page);
            Assert.Contains("<option value=\"web\"", page);
            Assert.Contains("<option value=\"dev\"", page);
        }

        const string Identify = """{"type":"identify","userId":"tester-u","traits":{"plan":"pro"}}""";
        var fromDev = await (await client.PostFormAsync("/console/tester?handler=Run", "/console/tester", ("source", "dev"), ("body", Identify))).Content.ReadAsStringAsync();
        var smFromDev = Card(fromDev, "sm");
        Assert.Contains("<span class=\"state paused\">not routed</span>", smFromDev);
        Assert.Contains("<div><code>source_not_linked</code> The event&#x27;s source is not linked to this destination instance. </div>", smFromDev);
        Assert.DoesNotContain("request-line", smFromDev);
        var testFromDev = Card(fromDev, "test-1");
        Assert.Contains("<span class=\"state active\">routed</span>", testFromDev);
        Assert.Contains("<h2>identify: Filtered</h2>", testFromDev);
        Assert.Contains("<code>no_subscription_matched</code>", testFromDev);

        var fromWeb = await (await client.PostFormAsync("/console/tester?handler=Run", "/console/tester", ("source", "web"), ("body", Identify))).Content.ReadAsStringAsync();
        var smFromWeb = Card(fromWeb, "sm");
        Assert.Contains("<span class=\"state active\">routed</span>", smFromWeb);
        Assert.Contains($"<code class=\"request-line\">POST {app.PartnerUrl}/v1/contact</code>", smFromWeb);
        Assert.Empty(app.Partner.LogEntries); // Run sends nothing
    }

    static string Card(string html, string destination)
    {
        var start = html.IndexOf($"<div class=\"card\" data-destination=\"{destination}\">", StringComparison.Ordinal);
        if (start < 0) throw new InvalidOperationException($"no result for {destination}:\n{html}");
        var next = html.IndexOf("<div class=\"card\" data-destination=", start + 1, StringComparison.Ordinal);
        return html[start..(next < 0 ? html.IndexOf("</main>", start, StringComparison.Ordinal) : next)];
    }
}
