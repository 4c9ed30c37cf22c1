using System.Text.RegularExpressions;

namespace Destinations.Webhook;

/// <summary>The rules every URL a mapping produces must pass before a request is made (docs/partners/webhook.md "Safety").</summary>
public static partial class WebhookUrls
{
    /// <summary>Null when <paramref name="url"/> may be sent to; else why not. The reason names the host, never the whole URL
    /// (its path or query may hold a secret).</summary>
    public static string? Check(string url, WebhookSettings settings)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            return "the url must be an absolute http(s) URL";
        if (uri.UserInfo.Length > 0) return "the url must not carry credentials (use a header with {{secrets.NAME}})";
        if (uri.Scheme == Uri.UriSchemeHttp && !settings.AllowHttp)
            return "http:// URLs are refused unless Settings.AllowHttp is true";
        if (!settings.AllowedHosts.Allows(uri))
            return $"the host '{uri.Authority}' is not in Settings.AllowedHosts ({string.Join(", ", settings.AllowedHosts.Entries)})";
        return null;
    }

    /// <summary>
    /// Segment validates the <c>url</c> field with ajv-formats' <c>uri</c> format before it sends anything, so a URL with a space
    /// or a non-ASCII character (from a template) is refused there, not percent-encoded; the same check here. A secret
    /// placeholder counts as plain text: its value is put in later.
    /// </summary>
    public static bool IsUri(string url)
    {
        var text = WebhookSecrets.WithoutPlaceholders(url);
        return (text.Contains('/') || text.Contains(':')) && Rfc3986().IsMatch(text);
    }

    // ajv-formats 2.x "uri" (dist/formats.js, const URI), with \d spelled [0-9] (.NET's \d also matches non-ASCII digits).
    [GeneratedRegex(@"^(?:[a-z][a-z0-9+\-.]*:)(?:\/?\/(?:(?:[a-z0-9\-._~!$&'()*+,;=:]|%[0-9a-f]{2})*@)?(?:\[(?:(?:(?:(?:[0-9a-f]{1,4}:){6}|::(?:[0-9a-f]{1,4}:){5}|(?:[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){4}|(?:(?:[0-9a-f]{1,4}:){0,1}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){3}|(?:(?:[0-9a-f]{1,4}:){0,2}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){2}|(?:(?:[0-9a-f]{1,4}:){0,3}[0-9a-f]{1,4})?::[0-9a-f]{1,4}:|(?:(?:[0-9a-f]{1,4}:){0,4}[0-9a-f]{1,4})?::)(?:[0-9a-f]{1,4}:[0-9a-f]{1,4}|(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?))|(?:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})?::[0-9a-f]{1,4}|(?:(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4})?::)|[Vv][0-9a-f]+\.[a-z0-9\-._~!$&'()*+,;=:]+)\]|(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)|(?:[a-z0-9\-._~!$&'()*+,;=]|%[0-9a-f]{2})*)(?::[0-9]*)?(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*|\/(?:(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)?|(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)(?:\?(?:[a-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?(?:#(?:[a-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3986();
}
