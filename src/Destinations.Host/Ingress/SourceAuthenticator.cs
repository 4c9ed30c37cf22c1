using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Destinations.Core.Configuration;
using Destinations.Core.Routing;

namespace Destinations.Host.Ingress;

/// <summary>
/// Who sent a Tracking-API request: the write key as HTTP Basic username (empty password), or <c>writeKey</c> in the body
/// (docs/ingress.md "Authentication"). Keys are compared in constant time and never logged or echoed.
/// </summary>
public sealed class SourceAuthenticator(DestinationRegistry registry)
{
    /// <summary>The Basic username, or null when there is no Basic Authorization header. Malformed Basic → empty string.</summary>
    public static string? WriteKeyFromHeader(HttpRequest request)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var auth)
            || !auth.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth.Parameter ?? ""));
            var colon = decoded.IndexOf(':');
            return colon < 0 ? decoded : decoded[..colon];
        }
        catch (FormatException) { return ""; }
    }

    public SourceOptions? FindByWriteKey(string? writeKey)
    {
        if (string.IsNullOrEmpty(writeKey)) return null;
        var claimed = Encoding.UTF8.GetBytes(writeKey);
        SourceOptions? found = null;
        foreach (var source in registry.Sources) // every source is compared: the time taken does not say which key came close
            if (!string.IsNullOrEmpty(source.WriteKey)
                && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(source.WriteKey), claimed))
                found = source;
        return found;
    }
}
