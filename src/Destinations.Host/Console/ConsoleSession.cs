using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Destinations.Host.Admin;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Destinations.Host.OperatorConsole;

/// <summary>
/// The console's session: an encrypted cookie (Data Protection, keys in the store) issued after the admin key was typed in.
/// It holds no key, only a keyed hash of it, checked on every request: when the admin key changes, every session ends.
/// </summary>
public static class ConsoleSession
{
    public const string Scheme = "Console";
    public const string Policy = "ConsoleOperator";
    public const string CookieName = "destinations-console";
    const string KeyClaim = "admin_key_mac";
    const string SignedInClaim = "signed_in_at";
    public const string SessionClaim = "session";

    public static ClaimsPrincipal Principal(string adminKey, DateTimeOffset now)
    {
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.Name, "operator"),
            new Claim(KeyClaim, KeyMac(adminKey)),
            new Claim(SignedInClaim, now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            new Claim(SessionClaim, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))),
        ], Scheme);
        return new ClaimsPrincipal(identity);
    }

    /// <summary>
    /// The session's clock: the cookie handler's (the host's <see cref="TimeProvider"/> unless its options name another), so the
    /// sign-in time, the cookie's sliding expiry and the absolute limit are all measured on the same clock.
    /// </summary>
    public static TimeProvider Clock(IServiceProvider services) =>
        services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(Scheme).TimeProvider
        ?? services.GetRequiredService<TimeProvider>();

    /// <summary>The short, non-secret session id the audit log names (not the cookie, which is a credential).</summary>
    public static string SessionId(ClaimsPrincipal user) => user.FindFirst(SessionClaim)?.Value ?? "-";

    /// <summary>An HMAC of the admin key (keyed by the key itself): equal only for the same key, and useless to recover it.</summary>
    static string KeyMac(string adminKey) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(adminKey), "Destinations console session"u8));

    /// <summary>Constant-time comparison of a typed key with the configured one (hashed first, so the length stays secret too).</summary>
    public static bool KeyMatches(string? typed, string key) =>
        typed is not null && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(typed)), SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static void Configure(CookieAuthenticationOptions o, ConsoleOptions console)
    {
        o.Cookie.Name = CookieName;
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Strict;
        o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // Secure over HTTPS (also behind a known proxy, X-Forwarded-Proto)
        o.Cookie.Path = "/console";
        o.ExpireTimeSpan = console.IdleTimeout;
        o.SlidingExpiration = true;
        o.LoginPath = "/console/sign-in";
        o.LogoutPath = "/console/sign-out";
        o.AccessDeniedPath = "/console/sign-in";
        o.ReturnUrlParameter = "returnUrl";
        o.Events.OnValidatePrincipal = ValidateAsync;
        o.Events.OnRedirectToLogin = context =>
        {
            // The live stream is fetched by script: a redirect to an HTML page would only confuse it.
            if (context.Request.Path.StartsWithSegments("/console/live/stream")) context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            else context.Response.Redirect(context.RedirectUri);
            return Task.CompletedTask;
        };
    }

    static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var key = services.GetRequiredService<IOptionsMonitor<AdminOptions>>().CurrentValue.ApiKey;
        var console = services.GetRequiredService<IOptions<ConsoleOptions>>().Value;
        var now = (context.Options.TimeProvider ?? services.GetRequiredService<TimeProvider>()).GetUtcNow();
        var principal = context.Principal;
        var valid = !string.IsNullOrEmpty(key) && principal is not null
            && CryptographicOperations.FixedTimeEquals(
                Encoding.ASCII.GetBytes(principal.FindFirst(KeyClaim)?.Value ?? ""), Encoding.ASCII.GetBytes(KeyMac(key)))
            && long.TryParse(principal.FindFirst(SignedInClaim)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var signedIn)
            && now - DateTimeOffset.FromUnixTimeSeconds(signedIn) < console.AbsoluteTimeout;
        if (valid) return;
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(Scheme);
    }
}
