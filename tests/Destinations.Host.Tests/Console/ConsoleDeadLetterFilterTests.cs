using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Destinations.Core.Storage;
using Destinations.Host.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// The Dead letters page's filters, each on its own and together: destination, time of death (since inclusive, until
/// exclusive) and partner status, over three dead letters that differ in exactly one of them at a time.
/// </summary>
public sealed partial class ConsoleDeadLetterFilterTests
{
    [Fact]
    public async Task Destination_time_range_and_partner_status_each_narrow_the_list_and_the_count()
    {
        // Two Salesmachine instances on the same partner: "sm" takes source web, "sm2" source dev.
        using var operatorApp = new OperatorApp(new Dictionary<string, string?>
        {
            ["Destinations:1:Id"] = "sm2",
            ["Destinations:1:Type"] = "Salesmachine",
            ["Destinations:1:Sources:0"] = "dev",
            ["Destinations:1:Settings:ApiToken"] = "sm2-token-0c4d",
            ["Destinations:1:Settings:ApiSecret"] = "sm2-secret-7e1a",
        });
        using var app = operatorApp.WithWebHostBuilder(b => b.ConfigureAppConfiguration((_, config) =>
            config.AddInMemoryCollection(new Dictionary<string, string?> { ["Destinations:1:Settings:BaseUrl"] = operatorApp.PartnerUrl })));
        operatorApp.Partner.Given(Request.Create().UsingPost().WithBody(new WildcardMatcher("*dl400-*"))).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error":"unknown contact"}"""));
        operatorApp.Partner.Given(Request.Create().UsingPost().WithBody(new WildcardMatcher("*dl422-*"))).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(422).WithBody("""{"error":"bad plan"}"""));

        await DieAsync(app, IngressApp.WebWriteKey, "dl400-a", "sm", 1);
        await DieAsync(app, IngressApp.DevWriteKey, "dl400-b", "sm2", 1);
        // A boundary on a whole second, strictly after the first two died and before the third does.
        var now = DateTimeOffset.UtcNow;
        var boundary = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(1);
        while (DateTimeOffset.UtcNow <= boundary) await Task.Delay(50);
        await DieAsync(app, IngressApp.WebWriteKey, "dl422-c", "sm", 2);
        var at = boundary.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);

        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);
        async Task Shows(string query, params string[] expected)
        {
            var html = await client.Http.GetStringAsync("/console/dead-letters" + query);
            var shown = Rows().Matches(html).Select(m => m.Groups[1].Value).Order().ToArray();
            Assert.True(expected.Order().SequenceEqual(shown), $"{query}: expected {string.Join(", ", expected)}, shown {string.Join(", ", shown)}");
            Assert.Contains($"<span id=\"matching\">{expected.Length}</span>", html);
        }

        await Shows("", "dl400-a", "dl400-b", "dl422-c");
        await Shows("?destination=sm", "dl400-a", "dl422-c");
        await Shows("?destination=sm2", "dl400-b");
        await Shows("?status=400", "dl400-a", "dl400-b");
        await Shows("?status=422", "dl422-c");
        await Shows($"?since={at}", "dl422-c");
        await Shows($"?until={at}", "dl400-a", "dl400-b");
        await Shows($"?destination=sm&status=400", "dl400-a");
        await Shows($"?destination=sm2&status=422");
        await Shows($"?destination=sm&since={at}&status=422", "dl422-c");
    }

    static async Task DieAsync(WebApplicationFactory<Program> app, string writeKey, string user, string destination, int dead)
    {
        var ingest = app.CreateClient();
        ingest.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":")));
        (await ingest.PostAsync("/v1/identify", OperatorApp.JsonBody($$"""{"userId":"{{user}}","messageId":"{{user}}","traits":{} }"""))).EnsureSuccessStatusCode();
        var queue = app.Services.GetRequiredService<IDeliveryQueue>();
        for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until; await Task.Delay(100))
            if ((await queue.GetStatsAsync(destination, CancellationToken.None)).Dead == dead) return;
        Assert.Fail($"{user} was not dead-lettered by {destination} within 30 s");
    }

    [GeneratedRegex("<td><code>([^<]+)</code></td>")]
    private static partial Regex Rows();
}
