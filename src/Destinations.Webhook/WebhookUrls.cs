namespace Destinations.Webhook;

/// <summary>The rules every URL a mapping produces must pass before a request is made (docs/partners/webhook.md "Safety").</summary>
public static class WebhookUrls
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
}
