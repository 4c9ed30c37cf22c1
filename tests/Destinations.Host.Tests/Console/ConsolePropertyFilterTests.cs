using System.Text.RegularExpressions;
using Destinations.Core.Storage;
using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// What an instance's property filters (dropProperties, allowProperties) removed, as the console shows it: the tester's Run
/// per instance, and the event story per delivery (re-derived from the stored event). Paths only, HTML-encoded (a removed key
/// comes from the event, so it may hold markup); a removed value is never shown.
/// </summary>
public sealed class ConsolePropertyFilterTests
{
    const string Email = "ada.lovelace@example.com";
    const string Ip = "203.0.113.77";
    const string MarkupValue = "markup-value-91f3";

    // test-1 (the Test destination) takes every source; dropProperties first, then allowProperties keeps only plan.
    static OperatorApp App() => new(new Dictionary<string, string?>
    {
        ["Destinations:1:Filters:0:dropProperties:0"] = "properties.email",
        ["Destinations:1:Filters:0:dropProperties:1"] = "context.ip",
        ["Destinations:1:Filters:1:allowProperties:0"] = "properties.plan",
    });

    static string Event(string messageId) => $$"""
        {"type":"track","event":"Signed Up","userId":"filter-u","messageId":"{{messageId}}",
         "properties":{"plan":"pro","email":"{{Email}}","<img src=x>":"{{MarkupValue}}"},"context":{"ip":"{{Ip}}"} }
        """;

    const string Paths = "properties.email, context.ip, properties.&lt;img src=x&gt;";

    [Fact]
    public async Task Run_shows_per_instance_the_paths_the_property_filters_removed_encoded_and_without_values()
    {
        using var app = App();
        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);

        var page = await (await client.PostFormAsync("/console/tester?handler=Run", "/console/tester", ("source", "web"), ("body", Event("filter-run-1"))))
            .Content.ReadAsStringAsync();
        var results = page[page.IndexOf("<div id=\"results\">", StringComparison.Ordinal)..];
        var test = Card(results, "test-1");
        Assert.Contains($"<div class=\"removed\">filters removed: <span class=\"paths\">{Paths}</span>", test);
        Assert.Contains("(Filters[0] dropProperties, Filters[1] allowProperties)", test);
        // sm has no filters: nothing listed there.
        Assert.DoesNotContain("filters removed", Card(results, "sm"));
        Assert.DoesNotContain("<img src=x>", page);
        foreach (var value in new[] { Email, Ip, MarkupValue }) Assert.DoesNotContain(value, test);
    }

    [Fact]
    public async Task The_event_story_shows_the_paths_the_instances_property_filters_remove_from_the_stored_event()
    {
        using var app = App();
        var dev = app.Source(IngressApp.DevWriteKey);
        (await dev.PostAsync("/v1/track", OperatorApp.JsonBody(Event("filter-story-1")))).EnsureSuccessStatusCode();
        await app.WaitForFilteredAsync("test-1");

        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);
        var html = await client.Http.GetStringAsync("/console/events?messageId=filter-story-1");
        var row = Regex.Match(html, "<tr class=\"delivery\" data-instance=\"test-1\"[^>]*>(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(row.Success, html);
        Assert.Contains($"filters removed: <span class=\"paths\">{Paths}</span>", row.Groups[1].Value);
        foreach (var value in new[] { Email, Ip, MarkupValue }) Assert.DoesNotContain(value, row.Groups[1].Value);
        // The key with markup shows encoded everywhere on the page, the stored event included.
        Assert.DoesNotContain("<img src=x>", html);
    }

    static string Card(string html, string destination)
    {
        var start = html.IndexOf($"<div class=\"card\" data-destination=\"{destination}\">", StringComparison.Ordinal);
        if (start < 0) throw new InvalidOperationException($"no result for {destination}:\n{html}");
        var next = html.IndexOf("<div class=\"card\" data-destination=", start + 1, StringComparison.Ordinal);
        return html[start..(next < 0 ? html.IndexOf("</main>", start, StringComparison.Ordinal) : next)];
    }
}
