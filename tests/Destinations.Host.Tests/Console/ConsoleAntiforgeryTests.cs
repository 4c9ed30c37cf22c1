using System.Net;
using System.Text.RegularExpressions;
using Destinations.Host.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// Every state-changing console form (replay selected and all, resume, test connection, the tester's send and run, sign-out)
/// refused without its antiforgery token, or with a token issued to no session, with nothing sent and nothing audited; and
/// the audit log naming each session apart.
/// </summary>
public sealed class ConsoleAntiforgeryTests
{
    const string Identify = """{"type":"identify","userId":"af-user","messageId":"af-1","traits":{"plan":"pro"}}""";

    static readonly (string Path, (string Key, string Value)[] Fields)[] Forms =
    [
        ("/console/destinations/sm?handler=TestConnection", []),
        ("/console/destinations/sm?handler=Resume", []),
        ("/console/dead-letters?handler=ReplaySelected", [("ids", "1")]),
        ("/console/dead-letters?handler=ConfirmAll", []),
        ("/console/dead-letters?handler=ReplayAll", []),
        ("/console/tester?handler=Send", [("source", "web"), ("body", Identify)]),
        ("/console/tester?handler=Run", [("source", "web"), ("body", Identify)]),
        ("/console/sign-out", []),
    ];

    static FormUrlEncodedContent Form((string Key, string Value)[] fields, string? token = null) =>
        new([.. fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)),
            .. token is null ? Array.Empty<KeyValuePair<string, string>>() : [new KeyValuePair<string, string>("__af", token)]]);

    [Fact]
    public async Task Each_state_changing_form_without_a_valid_token_is_refused_and_changes_nothing()
    {
        using var app = new OperatorApp();
        app.Partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        var client = ConsoleClient.For(app);
        // A token issued on the sign-in page, before there was a session: bound to no one.
        var anonymousToken = await client.TokenAsync("/console/sign-in");
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync(OperatorApp.AdminKey)).StatusCode);

        foreach (var (path, fields) in Forms)
        {
            Assert.True((await client.Http.PostAsync(path, Form(fields))).StatusCode == HttpStatusCode.BadRequest, $"{path} without a token");
            Assert.True((await client.Http.PostAsync(path, Form(fields, anonymousToken))).StatusCode == HttpStatusCode.BadRequest,
                $"{path} with a token issued before sign-in");
        }

        Assert.Empty(app.Partner.LogEntries); // no connection test, no send
        Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync("/console")).StatusCode); // still signed in
        Assert.Contains("id=\"no-entries\"", await client.Http.GetStringAsync("/console/audit"));

        // The same forms with the page's token work (sign-out last).
        foreach (var (path, fields) in Forms)
        {
            var page = path.Split('?')[0];
            var response = await client.PostFormAsync(path, page == "/console/sign-out" ? "/console" : page, fields);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Redirect, $"{path} with its token: {(int)response.StatusCode}");
        }
        Assert.Contains(app.Partner.LogEntries, e => e.RequestMessage.Path == "/v1/contact" && (e.RequestMessage.Body ?? "").Contains("af-user"));
        Assert.Equal(HttpStatusCode.Redirect, (await client.Http.GetAsync("/console")).StatusCode); // signed out
    }

    [Fact]
    public async Task The_audit_log_names_the_session_each_action_came_from()
    {
        using var app = new OperatorApp();
        app.Partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        var first = ConsoleClient.For(app);
        var second = ConsoleClient.For(app);
        await first.SignInAsync(OperatorApp.AdminKey);
        await second.SignInAsync(OperatorApp.AdminKey);
        await first.PostFormAsync("/console/destinations/sm?handler=Resume", "/console/destinations/sm");
        await second.PostFormAsync("/console/tester?handler=Send", "/console/tester", ("source", "web"), ("body", Identify));

        var audit = await first.Http.GetStringAsync("/console/audit");
        var resume = Regex.Match(audit, @"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ</td><td>resume</td><td>sm</td><td class=""num"">0</td><td>was not held</td><td><code>([0-9a-f]{8})</code></td>");
        var send = Regex.Match(audit, @"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ</td><td>send</td><td>identify af-1 from web</td><td class=""num"">(\d+)</td><td>\d+ requests sent, 0 failed</td><td><code>([0-9a-f]{8})</code></td>");
        Assert.True(resume.Success, audit);
        Assert.True(send.Success, audit);
        Assert.True(int.Parse(send.Groups[1].Value) >= 1);
        Assert.NotEqual(resume.Groups[1].Value, send.Groups[2].Value);
        // Newest first.
        Assert.True(send.Index < resume.Index);
    }
}
