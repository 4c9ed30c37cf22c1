using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Destinations.Host.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// The Events page shows each partner call of a delivery: when, the step, the status, the request line, the answer's excerpt,
/// a failed call's body, and for a success the request re-derived from the stored event; every value HTML-encoded. The Live
/// page keeps as many lines as <c>Console:LiveBufferLines</c> says.
/// </summary>
public sealed class ConsoleAttemptsTests
{
    [Fact]
    public async Task An_event_that_failed_once_then_succeeded_shows_both_attempts_with_status_request_line_and_answer_encoded()
    {
        using var app = new OperatorApp();
        app.Partner.Given(Request.Create().UsingPost().WithPath("/v1/contact")).InScenario("flaky").WillSetStateTo("recovered")
            .RespondWith(Response.Create().WithStatusCode(500).WithBody("""{"error":"<b>overloaded</b> try later"}"""));
        app.Partner.Given(Request.Create().UsingPost().WithPath("/v1/contact")).InScenario("flaky").WhenStateIs("recovered")
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        var web = app.CreateClient();
        web.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(IngressApp.WebWriteKey + ":")));
        (await web.PostAsync("/v1/identify", OperatorApp.JsonBody(
            """{"userId":"attempts-u","messageId":"attempts-1","traits":{"plan":"<i>pro</i>"}}"""))).EnsureSuccessStatusCode();
        using var admin = app.Admin();
        var delivered = false;
        for (var until = DateTime.UtcNow.AddSeconds(30); !delivered && DateTime.UtcNow < until; await Task.Delay(100))
            delivered = (long?)JsonNode.Parse(await admin.GetStringAsync("/admin/destinations/sm/stats"))!["delivered"] == 1;
        Assert.True(delivered);

        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);
        var html = await client.Http.GetStringAsync("/console/events?messageId=attempts-1");
        var row = Regex.Match(html, "<tr class=\"delivery\" data-instance=\"sm\" data-status=\"delivered\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(row.Success, html);
        var attempts = Regex.Matches(row.Groups[1].Value, "<li class=\"attempt\" data-call-id=\"\\d+\" data-status=\"(\\d+)\">(.*?)</li>", RegexOptions.Singleline);
        Assert.Equal(["500", "201"], attempts.Select(a => a.Groups[1].Value));
        var (failed, succeeded) = (attempts[0].Groups[2].Value, attempts[1].Groups[2].Value);

        var requestLine = $"<code class=\"request-line\">POST {app.PartnerUrl}/v1/contact</code>";
        Assert.Contains("<span class=\"bad\">HTTP 500</span>", failed);
        Assert.Contains(requestLine, failed);
        // The partner's answer and the event's values are shown as text, never as markup.
        Assert.Contains("<pre class=\"answer\">{&#xA;  &quot;error&quot;: &quot;&lt;b&gt;overloaded&lt;/b&gt; try later&quot;&#xA;}</pre>", failed);
        Assert.Contains("<summary>Request body (no headers)</summary>", failed);
        Assert.Contains("&quot;contact_uid&quot;: &quot;attempts-u&quot;", failed);
        Assert.Contains("&lt;i&gt;pro&lt;/i&gt;", failed);

        Assert.Contains("<span class=\"ok\">HTTP 201</span>", succeeded);
        Assert.Contains(requestLine, succeeded);
        Assert.DoesNotContain("class=\"answer\"", succeeded);
        Assert.DoesNotContain("Request body (no headers)", succeeded);
        // A success's body is not kept: the page re-derives it from the stored event and says so.
        Assert.Contains("<summary>Request as mapped now (re-derived)</summary>", succeeded);
        Assert.Contains($"<code>POST {app.PartnerUrl}/v1/contact</code>", succeeded);
        Assert.Contains("&quot;contact_uid&quot;: &quot;attempts-u&quot;", succeeded);

        Assert.DoesNotContain("<b>overloaded</b>", html);
        Assert.DoesNotContain("<i>pro</i>", html);
        Assert.DoesNotContain(OperatorApp.ApiToken, html);
        Assert.DoesNotContain(OperatorApp.ApiSecret, html);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{OperatorApp.ApiToken}:{OperatorApp.ApiSecret}")), html);
    }

    [Theory]
    [InlineData(null, "500")]
    [InlineData("7", "7")]
    public async Task The_live_page_keeps_as_many_lines_as_Console_LiveBufferLines(string? configured, string expected)
    {
        using var app = new OperatorApp(configured is null ? null : new Dictionary<string, string?> { ["Console:LiveBufferLines"] = configured });
        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);
        Assert.Contains($"<ol id=\"live\" class=\"live\" data-max-lines=\"{expected}\"></ol>", await client.Http.GetStringAsync("/console/live"));
    }
}
