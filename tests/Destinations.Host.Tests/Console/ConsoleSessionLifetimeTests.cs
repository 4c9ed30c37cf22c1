using System.Net;
using Destinations.Host.OperatorConsole;
using Destinations.Host.Tests.Support;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// The session's lifetime with the defaults (8 h sliding, 24 h absolute), on a fake clock given to the cookie handler, which
/// its expiry and renewal and the console's sign-in time and absolute limit all read (<see cref="ConsoleSession.Clock"/>).
/// </summary>
public sealed class ConsoleSessionLifetimeTests
{
    sealed class ClockedApp : IDisposable
    {
        readonly OperatorApp _app = new();
        readonly WebApplicationFactory<Program> _clocked;

        public ClockedApp(FakeTimeProvider clock) =>
            // Only the session's clock: on a fake host-wide clock, advancing by hours would run every 100 ms poll of the
            // dispatcher in between.
            _clocked = _app.WithWebHostBuilder(b => b.ConfigureTestServices(services =>
                services.PostConfigure<CookieAuthenticationOptions>(ConsoleSession.Scheme, o => o.TimeProvider = clock)));

        public ConsoleClient Client() => ConsoleClient.For(_clocked);

        public void Dispose()
        {
            _clocked.Dispose();
            _app.Dispose();
        }
    }

    static async Task<HttpStatusCode> OverviewAsync(ConsoleClient client)
    {
        var response = await client.Http.GetAsync("/console");
        if (response.StatusCode == HttpStatusCode.Redirect)
            Assert.StartsWith("/console/sign-in", response.Headers.Location!.PathAndQuery);
        return response.StatusCode;
    }

    [Fact]
    public async Task A_session_idle_for_longer_than_eight_hours_is_refused()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var app = new ClockedApp(clock);
        var client = app.Client();
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync(OperatorApp.AdminKey)).StatusCode);

        clock.Advance(TimeSpan.FromHours(7) + TimeSpan.FromMinutes(59));
        Assert.Equal(HttpStatusCode.OK, await OverviewAsync(client));

        // A fresh session, left alone just past the idle timeout.
        var idle = app.Client();
        Assert.Equal(HttpStatusCode.Redirect, (await idle.SignInAsync(OperatorApp.AdminKey)).StatusCode);
        clock.Advance(TimeSpan.FromHours(8) + TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Redirect, await OverviewAsync(idle));
    }

    [Fact]
    public async Task Activity_slides_the_session_but_not_past_twenty_four_hours()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var app = new ClockedApp(clock);
        var client = app.Client();
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync(OperatorApp.AdminKey)).StatusCode);

        // A request every 5 h: past half the idle timeout each time, so the cookie is renewed, and the session outlives 8 h.
        for (var hours = 5; hours <= 20; hours += 5)
        {
            clock.Advance(TimeSpan.FromHours(5));
            Assert.True(await OverviewAsync(client) == HttpStatusCode.OK, $"refused after {hours} h of activity");
        }

        // Idle only 4 h, but 24 h since sign-in: the absolute limit ends it.
        clock.Advance(TimeSpan.FromHours(4) + TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Redirect, await OverviewAsync(client));
        // Signing in again starts a new session.
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync(OperatorApp.AdminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await OverviewAsync(client));
    }

    [Fact]
    public async Task Changing_the_admin_key_while_running_ends_every_session_at_once()
    {
        using var app = new OperatorApp();
        var client = ConsoleClient.For(app);
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync(OperatorApp.AdminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await OverviewAsync(client));

        // The key rotated in configuration (as a reloaded settings file would), no restart.
        var configuration = (IConfigurationRoot)app.Services.GetRequiredService<IConfiguration>();
        configuration["Admin:ApiKey"] = "rotated-admin-key-2f8c61";
        configuration.Reload();

        Assert.Equal(HttpStatusCode.Redirect, await OverviewAsync(client));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SignInAsync(OperatorApp.AdminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync("rotated-admin-key-2f8c61")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await OverviewAsync(client));
    }
}
