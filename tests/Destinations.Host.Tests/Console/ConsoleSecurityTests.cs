using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>The console's sign-in, session, antiforgery and headers, over HTTP against the whole host (real SQLite store).</summary>
public sealed class ConsoleSecurityTests
{
    [Fact]
    public async Task Without_an_admin_key_the_console_answers_404()
    {
        using var app = new OperatorApp(new Dictionary<string, string?> { ["Admin:ApiKey"] = null });
        var client = ConsoleClient.For(app);
        foreach (var path in new[] { "/console", "/console/sign-in", "/console/assets/console.css", "/console/live/stream" })
            Assert.Equal(HttpStatusCode.NotFound, (await client.Http.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task The_right_key_signs_in_with_a_strict_http_only_cookie_and_a_wrong_key_is_refused()
    {
        using var app = new OperatorApp();
        var client = ConsoleClient.For(app);
        var anonymous = await client.Http.GetAsync("/console");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/console/sign-in", anonymous.Headers.Location!.PathAndQuery);
        Assert.Equal("DENY", anonymous.Headers.GetValues("X-Frame-Options").Single());

        var wrong = await client.SignInAsync("not-the-admin-key-at-all");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("not the admin key", await wrong.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, (await client.Http.GetAsync("/console")).StatusCode);

        var right = await client.SignInAsync(OperatorApp.AdminKey);
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        var cookie = Assert.Single(right.Headers.GetValues("Set-Cookie"), c => c.StartsWith("destinations-console=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/console", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(OperatorApp.AdminKey, cookie);

        var overview = await client.Http.GetAsync("/console");
        Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
        var html = await overview.Content.ReadAsStringAsync();
        Assert.Contains("data-instance=\"sm\"", html);
        Assert.Contains("data-instance=\"test-1\"", html);

        var signOut = await client.PostFormAsync("/console/sign-out", "/console", ("x", "y"));
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await client.Http.GetAsync("/console")).StatusCode);
    }

    [Fact]
    public async Task No_scheme_is_the_default_so_requests_outside_the_console_never_run_the_cookie_handler()
    {
        using var app = new OperatorApp();
        var schemes = app.Services.GetRequiredService<Microsoft.AspNetCore.Authentication.IAuthenticationSchemeProvider>();
        Assert.Null(await schemes.GetDefaultAuthenticateSchemeAsync());
        Assert.NotNull(await schemes.GetSchemeAsync(Destinations.Host.OperatorConsole.ConsoleSession.Scheme));
    }

    [Fact]
    public async Task Over_https_the_session_cookie_is_secure()
    {
        using var app = new OperatorApp();
        var client = new ConsoleClient(app.CreateClient(new() { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost") }));
        var signIn = await client.SignInAsync(OperatorApp.AdminKey);
        var cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("destinations-console=", StringComparison.Ordinal));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_console_cookie_does_not_authorize_the_admin_api_or_the_dry_run()
    {
        using var app = new OperatorApp();
        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);
        Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync("/console")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.Http.GetAsync("/admin/destinations")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.Http.PostAsync("/admin/destinations/sm/resume", null)).StatusCode);
        var dryRun = await client.Http.PostAsync("/v1/dry-run?source=web", OperatorApp.JsonBody("""{"type":"identify","userId":"u1"}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, dryRun.StatusCode);
    }

    [Fact]
    public async Task A_post_without_the_antiforgery_token_is_refused_and_changes_nothing()
    {
        using var app = new OperatorApp();
        var client = ConsoleClient.For(app);
        await client.SignInAsync(OperatorApp.AdminKey);

        var forged = await client.Http.PostAsync("/console/destinations/sm?handler=Resume", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        var replay = await client.Http.PostAsync("/console/dead-letters?handler=ReplayAll", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.DoesNotContain("<td>resume</td>", await client.Http.GetStringAsync("/console/audit"));

        // With the token the same form works and is audited.
        var resume = await client.PostFormAsync("/console/destinations/sm?handler=Resume", "/console/destinations/sm");
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Contains("not paused", await resume.Content.ReadAsStringAsync());
        var audit = await client.Http.GetStringAsync("/console/audit");
        Assert.Contains("<td>resume</td><td>sm</td>", audit);
    }

    [Fact]
    public async Task Sign_in_attempts_are_rate_limited_per_client()
    {
        using var app = new OperatorApp(new Dictionary<string, string?> { ["Console:SignInAttemptsPerMinute"] = "3" });
        var client = ConsoleClient.For(app);
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SignInAsync("wrong-key-attempt-" + i)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.SignInAsync(OperatorApp.AdminKey)).StatusCode);
        // Showing the form is not an attempt.
        Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync("/console/sign-in")).StatusCode);
    }

    [Fact]
    public async Task A_session_survives_a_restart_and_ends_when_the_admin_key_changes()
    {
        var database = TempDatabase.NewPath();
        string cookie;
        using (var first = new OperatorApp(new Dictionary<string, string?> { ["Storage:ConnectionString"] = $"Data Source={database}" }))
        {
            var client = ConsoleClient.For(first);
            var signIn = await client.SignInAsync(OperatorApp.AdminKey);
            cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("destinations-console=", StringComparison.Ordinal)).Split(';')[0];
        }

        // Same store, same key (a restart, or another replica): the Data Protection keys are in the store, so the cookie reads.
        using (var restarted = new OperatorApp(new Dictionary<string, string?> { ["Storage:ConnectionString"] = $"Data Source={database}" }))
            Assert.Equal(HttpStatusCode.OK, (await Get(restarted, cookie)).StatusCode);

        using var rotated = new OperatorApp(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = $"Data Source={database}",
            ["Admin:ApiKey"] = "a-new-admin-key-after-rotation",
        });
        var refused = await Get(rotated, cookie);
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/console/sign-in", refused.Headers.Location!.PathAndQuery);
    }

    static Task<HttpResponseMessage> Get(OperatorApp app, string cookie)
    {
        var http = app.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        var request = new HttpRequestMessage(HttpMethod.Get, "/console");
        request.Headers.Add("Cookie", cookie);
        return http.SendAsync(request);
    }

    [Fact]
    public async Task Each_path_gets_its_content_security_policy_and_every_answer_nosniff_and_frame_denial()
    {
        using var app = new OperatorApp();
        var client = ConsoleClient.For(app);
        var console = await client.Http.GetAsync("/console/sign-in");
        var policy = string.Join(";", console.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", policy);
        Assert.DoesNotContain("unsafe-inline", policy);
        Assert.Contains("frame-ancestors 'none'", policy);

        var swagger = string.Join(";", (await client.Http.GetAsync("/swagger/index.html")).Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("style-src 'self' 'unsafe-inline'", swagger);
        Assert.Contains("img-src 'self' data:", swagger);
        Assert.DoesNotContain("script-src 'self' 'unsafe-inline'", swagger);

        foreach (var path in new[] { "/health/live", "/admin/destinations", "/v1/track", "/console/sign-in" })
        {
            var response = path == "/v1/track" ? await client.Http.PostAsync(path, OperatorApp.JsonBody("{}")) : await client.Http.GetAsync(path);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            if (!path.StartsWith("/console", StringComparison.Ordinal))
                Assert.Equal("default-src 'none'; frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        }
    }
}
