namespace Destinations.Selligent;

/// <summary>
/// SSRF guard for <c>SmcAdminUrl</c> (docs/partners/selligent.md "Settings", D19): the service sends an API key to this URL, so it
/// may only point at Selligent. https only (unless <see cref="SelligentOptions.AllowHttp"/>), no credentials, no path tricks,
/// and the host must equal an allowed suffix or end with "." + one (so <c>evilslgnt.us</c> and <c>slgnt.us.evil.example</c>
/// do not pass). Messages never echo the whole URL: it might carry user-info (D22).
/// </summary>
public static class SmcAdminUrlGuard
{
    /// <returns>The URL, or null with <paramref name="error"/> set (without the key path).</returns>
    public static Uri? Check(string? raw, SelligentOptions options, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(raw)) { error = "is required, e.g. https://acme.slgnt.us"; return null; }
        if (!Uri.TryCreate(raw.Trim(), UriKind.Absolute, out var url)
            || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            error = "must be an absolute https URL such as https://acme.slgnt.us";
            return null;
        }
        if (url.UserInfo.Length > 0) { error = "must not contain credentials; set ApiKey and ApiSecret instead"; return null; }
        if (url.Scheme == Uri.UriSchemeHttp && !options.AllowHttp)
        {
            error = "must use https (http is allowed only with Selligent:AllowHttp=true, for tests)";
            return null;
        }
        if (url.Query.Length > 0 || url.Fragment.Length > 0)
        {
            error = "must not have a query or fragment; use the address you log in to, e.g. https://acme.slgnt.us";
            return null;
        }
        var allowed = options.AllowedHosts;
        // IdnHost: a Unicode host is compared in its punycode form, so look-alike characters cannot match a suffix.
        var host = url.IdnHost.TrimEnd('.').ToLowerInvariant();
        if (!allowed.Any(suffix => host == suffix || host.EndsWith("." + suffix, StringComparison.Ordinal)))
        {
            error = $"host '{host}' is not a Selligent host (allowed: {string.Join(", ", allowed)})";
            return null;
        }
        return url;
    }
}
