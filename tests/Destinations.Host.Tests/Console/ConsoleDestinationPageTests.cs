using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Destinations.Core.Storage;
using Destinations.Host.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// The Destination page of a Webhook instance whose requests carry a secret (in the URL and an Authorization header) and are
/// signed with a shared secret: failures grouped by partner status and reason with their counts and the latest sample (no
/// header, no secret, even when the partner echoes it), filter reasons with counts, masked settings, and Test connection's
/// result on the page.
/// </summary>
public sealed partial class ConsoleDestinationPageTests : IDisposable
{
    const string Id = "crm";
    const string SharedSecret = "whsec-console-page-6b1e";
    const string CrmToken = "crm-token-console-page-93d4";
    readonly string _mappings = Path.Combine(Path.GetTempPath(), $"console-webhook-{Guid.NewGuid():N}.json");

    readonly WireMockServer _partner = WireMockServer.Start();

    public void Dispose()
    {
        _partner.Stop();
        File.Delete(_mappings);
    }

    OperatorApp Start()
    {
        File.WriteAllText(_mappings, """
            [{"name": "Events", "trigger": "type = \"track\"", "action": "send",
              "fields": {"url": {"@template": "@URL@/e/{{userId}}?key={{secrets.CrmToken}}"},
                         "headers": {"Authorization": "Bearer {{secrets.CrmToken}}"}}}]
            """.Replace("@URL@", _partner.Url));
        return new OperatorApp(new Dictionary<string, string?>
        {
            ["Destinations:0:Id"] = Id,
            ["Destinations:0:Type"] = "Webhook",
            ["Destinations:0:Settings:ApiToken"] = null,
            ["Destinations:0:Settings:ApiSecret"] = null,
            ["Destinations:0:Settings:BaseUrl"] = null,
            ["Destinations:0:Settings:SharedSecret"] = SharedSecret,
            ["Destinations:0:Settings:AllowedHosts"] = new Uri(_partner.Url!).Host,
            ["Destinations:0:Settings:AllowHttp"] = "true",
            ["Destinations:0:Settings:AllowPrivateNetworks"] = "true",
            ["Destinations:0:Settings:Secrets:CrmToken"] = CrmToken,
            ["Destinations:0:Settings:TestConnection:Method"] = "GET",
            ["Destinations:0:Settings:TestConnection:Url"] = _partner.Url + "/ping?key={{secrets.CrmToken}}",
            ["Destinations:0:MappingsFile"] = _mappings,
            ["Webhook:AttemptTimeout"] = "00:00:05",
        });
    }

    static async Task TrackAsync(OperatorApp app, string userId, string messageId)
    {
        var ingest = app.CreateClient();
        ingest.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(IngressApp.WebWriteKey + ":")));
        var body = $$"""{"userId":"{{userId}}","event":"Order Completed","messageId":"{{messageId}}","properties":{"total":12} }""";
        (await ingest.PostAsync("/v1/track", OperatorApp.JsonBody(body))).EnsureSuccessStatusCode();
    }

    static async Task IdentifyAsync(OperatorApp app, string messageId)
    {
        var ingest = app.CreateClient();
        ingest.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(IngressApp.WebWriteKey + ":")));
        (await ingest.PostAsync("/v1/identify", OperatorApp.JsonBody($$"""{"userId":"u-id","messageId":"{{messageId}}","traits":{} }"""))).EnsureSuccessStatusCode();
    }

    static async Task WaitAsync(OperatorApp app, Func<DestinationStats, bool> done)
    {
        var queue = app.Services.GetRequiredService<IDeliveryQueue>();
        for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until; await Task.Delay(100))
            if (done(await queue.GetStatsAsync(Id, CancellationToken.None))) return;
        Assert.Fail("the deliveries did not settle within 30 s");
    }

    static void AssertNoSecret(string html)
    {
        foreach (var secret in new[] { CrmToken, SharedSecret })
            foreach (var form in new[] { secret, Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), Uri.EscapeDataString(secret) })
                Assert.DoesNotContain(form, html);
        Assert.DoesNotContain("Bearer", html);
        Assert.DoesNotContain("X-Signature", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Failures_are_grouped_by_status_with_counts_and_the_latest_request_without_headers_or_secrets()
    {
        using var app = Start();
        // The partner refuses some users with 400 and others with 422, echoing the key it was sent.
        _partner.Given(Request.Create().UsingPost().WithPath(new WildcardMatcher("/e/reject-*"))).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(400).WithBody($$"""{"error":"unknown key {{CrmToken}}"}"""));
        _partner.Given(Request.Create().UsingPost().WithPath(new WildcardMatcher("/e/invalid-*"))).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(422).WithBody("""{"error":"total must be a string"}"""));
        // One at a time, so "latest" is well defined.
        await TrackAsync(app, "reject-1", "grp-reject-1");
        await WaitAsync(app, s => s.Dead == 1);
        await TrackAsync(app, "invalid-1", "grp-invalid-1");
        await WaitAsync(app, s => s.Dead == 2);
        await TrackAsync(app, "reject-2", "grp-reject-2");
        await WaitAsync(app, s => s.Dead == 3);
        // Sent, and with the secrets: what the page must not show.
        Assert.Contains(_partner.LogEntries, e => e.RequestMessage.Headers!["Authorization"].Single() == $"Bearer {CrmToken}");

        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);
        var html = await client.Http.GetStringAsync($"/console/destinations/{Id}");
        var rows = FailureRows().Matches(Table(html, "failures")).Select(m => m.Value).ToList();
        Assert.Equal(2, rows.Count);
        var rejected = Assert.Single(rows, r => r.Contains("<td>400</td>"));
        Assert.Contains("<td class=\"bad\">dead</td>", rejected);
        Assert.Contains("<td class=\"num\">2</td>", rejected);
        Assert.Contains("grp-reject-2", rejected); // the latest of the two
        Assert.DoesNotContain("grp-reject-1", rejected);
        Assert.Contains($"<summary>POST {_partner.Url}/e/reject-2?key={{{{secrets.CrmToken}}}}</summary>", rejected);
        Assert.Contains("&quot;event&quot;: &quot;Order Completed&quot;", rejected); // the body, encoded
        Assert.Contains("unknown key ********", rejected); // the echoed secret, masked
        var invalid = Assert.Single(rows, r => r.Contains("<td>422</td>"));
        Assert.Contains("<td class=\"num\">1</td>", invalid);
        Assert.Contains("total must be a string", invalid);
        AssertNoSecret(html);
    }

    [Fact]
    public async Task Filter_reasons_show_with_counts_and_settings_are_masked()
    {
        using var app = Start();
        // The mapping sends track only: identify matches no subscription.
        await IdentifyAsync(app, "flt-1");
        await IdentifyAsync(app, "flt-2");
        await WaitAsync(app, s => s.FilteredTotal == 2);

        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);
        var html = await client.Http.GetStringAsync($"/console/destinations/{Id}");
        var filtered = Table(html, "filtered");
        var row = Assert.Single(FailureRows().Matches(filtered).Select(m => m.Value));
        Assert.Matches(@"<td><code>[a-z_]+</code></td><td>[^<]+</td><td class=""num"">2</td>", row);
        Assert.Contains("id=\"no-failures\"", html);

        var settings = Regex.Match(html, "<dl class=\"settings\" id=\"settings\">(.*?)</dl>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains("<dt>SharedSecret</dt><dd>********</dd>", settings);
        Assert.Contains("<dt>Secrets</dt><dd>CrmToken=********</dd>", settings);
        Assert.Contains($"<dt>AllowedHosts</dt><dd>{new Uri(_partner.Url!).Host}</dd>", settings);
        AssertNoSecret(html);
    }

    [Fact]
    public async Task Test_connection_shows_its_result_on_the_page_and_in_the_audit_log()
    {
        using var app = Start();
        var ping = Request.Create().UsingGet().WithPath("/ping");
        _partner.Given(ping).RespondWith(Response.Create().WithStatusCode(200).WithBody("pong"));
        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);

        var ok = await client.PostFormAsync($"/console/destinations/{Id}?handler=TestConnection", $"/console/destinations/{Id}");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var okHtml = await ok.Content.ReadAsStringAsync();
        Assert.Matches("<div class=\"notice\" id=\"connection-result\">\\s*<strong>Connection test: ok</strong>", okHtml);
        Assert.Contains("HTTP 200", okHtml);
        Assert.Equal(CrmToken, Assert.Single(_partner.LogEntries).RequestMessage.Query!["key"].Single());

        _partner.Reset();
        _partner.Given(ping).RespondWith(Response.Create().WithStatusCode(401).WithBody($"key {CrmToken} revoked"));
        var failed = await client.PostFormAsync($"/console/destinations/{Id}?handler=TestConnection", $"/console/destinations/{Id}");
        var failedHtml = await failed.Content.ReadAsStringAsync();
        Assert.Matches("<div class=\"error\" id=\"connection-result\">\\s*<strong>Connection test: failed</strong>", failedHtml);
        Assert.Contains("HTTP 401", failedHtml);
        AssertNoSecret(okHtml + failedHtml);

        var audit = await client.Http.GetStringAsync("/console/audit");
        Assert.Contains($"<td>test-connection</td><td>{Id}</td><td class=\"num\">1</td><td>ok</td>", audit);
        Assert.Contains($"<td>test-connection</td><td>{Id}</td><td class=\"num\">1</td><td>failed: ", audit);
        AssertNoSecret(audit);
    }

    static string Table(string html, string id) =>
        Regex.Match(html, $"<table id=\"{id}\">.*?<tbody>(.*?)</tbody>", RegexOptions.Singleline) is { Success: true } m ? m.Groups[1].Value
            : throw new InvalidOperationException($"no table #{id}:\n{html}");

    [GeneratedRegex("<tr>.*?</tr>", RegexOptions.Singleline)]
    private static partial Regex FailureRows();
}
