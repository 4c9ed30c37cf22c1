using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Destinations.Core.Storage;
using Destinations.Host.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// The Overview row of each instance: the breaker-open state with since when and why, the last 24 h delivered / retried /
/// filtered counts, and the last error; and a link to the instance.
/// </summary>
public sealed class ConsoleOverviewTests
{
    [Fact]
    public async Task An_open_breaker_shows_since_when_and_why_beside_the_days_counts_and_the_last_error()
    {
        using var app = new OperatorApp(new Dictionary<string, string?>
        {
            ["Delivery:BreakerThreshold"] = "2",
            ["Delivery:BaseDelay"] = "00:10:00",
            ["Delivery:MaxDelay"] = "01:00:00",
            ["Delivery:ProbeBaseDelay"] = "00:10:00",
        });
        app.Partner.Given(Request.Create().UsingPost().WithBody(new WildcardMatcher("*ov-busy-*"))).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(503).WithBody("""{"error":"partner busy"}"""));
        app.Partner.Given(Request.Create().UsingAnyMethod()).AtPriority(100).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        var ingest = app.CreateClient();
        ingest.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(IngressApp.WebWriteKey + ":")));
        var queue = app.Services.GetRequiredService<IDeliveryQueue>();
        async Task SendAndWait(string user, Func<DestinationStats, bool> done)
        {
            (await ingest.PostAsync("/v1/identify", OperatorApp.JsonBody($$"""{"userId":"{{user}}","messageId":"{{user}}","traits":{"plan":"pro"} }"""))).EnsureSuccessStatusCode();
            for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until; await Task.Delay(100))
                if (done(await queue.GetStatsAsync("sm", CancellationToken.None))) return;
            Assert.Fail($"{user}: sm did not get there within 30 s");
        }

        await SendAndWait("ov-ok-1", s => s.Delivered == 1);
        await SendAndWait("ov-busy-1", s => s.State?.ConsecutiveFailures == 1);
        await SendAndWait("ov-busy-2", s => s.State?.Hold == InstanceHold.BreakerOpen);
        for (var until = DateTime.UtcNow.AddSeconds(30); (await queue.GetStatsAsync("test-1", CancellationToken.None)).FilteredTotal < 3 && DateTime.UtcNow < until;)
            await Task.Delay(100);

        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);
        var html = await client.Http.GetStringAsync("/console");
        var sm = Row(html, "sm");
        Assert.Contains("<span class=\"state breaker-open\">breaker-open</span>", sm);
        Assert.Matches(@"<div class=""muted"">since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ</div>", sm);
        Assert.Contains("circuit breaker open: 2 failures in a row", sm);
        Assert.Contains("<td class=\"num day-delivered\">1</td>", sm);
        Assert.Contains("<td class=\"num day-retried\">2</td>", sm);
        Assert.Contains("<td class=\"num day-dead\">0</td>", sm);
        Assert.Matches(@"<span class=""bad"">HTTP 503</span>", sm);
        Assert.Contains("<a href=\"/console/destinations/sm\">sm</a>", sm);

        var test = Row(html, "test-1");
        Assert.Contains("<span class=\"state active\">active</span>", test);
        Assert.Contains("<td class=\"num day-filtered\">3</td>", test);
        Assert.Contains("<td class=\"num day-delivered\">0</td>", test);
        Assert.Contains("<span class=\"muted\">none</span>", test); // no error
    }

    static string Row(string html, string id) =>
        Regex.Match(html, $"<tr data-instance=\"{id}\">(.*?)</tr>", RegexOptions.Singleline) is { Success: true } m ? m.Groups[1].Value
            : throw new InvalidOperationException($"no row for {id}:\n{html}");
}
