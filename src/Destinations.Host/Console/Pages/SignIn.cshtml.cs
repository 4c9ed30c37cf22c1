using Destinations.Host.Admin;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Destinations.Host.OperatorConsole.Pages;

/// <summary>Sign-in with the admin key: a session cookie (see <see cref="ConsoleSession"/>); attempts are rate-limited per client IP.</summary>
[EnableRateLimiting(ConsoleSetup.SignInRateLimit)]
public sealed class SignInModel(IOptionsMonitor<AdminOptions> admin, ILogger<SignInModel> logger) : PageModel
{
    public string? Error { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(string? key)
    {
        var configured = admin.CurrentValue.ApiKey;
        if (string.IsNullOrEmpty(configured) || !ConsoleSession.KeyMatches(key, configured))
        {
            // Never the typed text: it may be a near-miss of the real key.
            logger.LogWarning("Console sign-in refused from {ClientIp}", HttpContext.Connection.RemoteIpAddress);
            Error = "That is not the admin key.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        await HttpContext.SignInAsync(ConsoleSession.Scheme, ConsoleSession.Principal(configured, ConsoleSession.Clock(HttpContext.RequestServices).GetUtcNow()));
        logger.LogInformation("Console sign-in from {ClientIp}", HttpContext.Connection.RemoteIpAddress);
        return LocalRedirect(ReturnUrl is { } url && Url.IsLocalUrl(url) && url.StartsWith("/console", StringComparison.Ordinal) ? url : "/console");
    }
}
