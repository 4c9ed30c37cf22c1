using System.Buffers;
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
    /// <summary>The sources' keys as UTF-8, made once (the sources are fixed at start), not on every request.</summary>
    readonly (SourceOptions Source, byte[] Key)[] _keys =
        [.. registry.Sources.Where(s => !string.IsNullOrEmpty(s.WriteKey)).Select(s => (s, Encoding.UTF8.GetBytes(s.WriteKey!)))];

    /// <summary>The Basic username, or null when there is no Basic Authorization header. Malformed Basic → empty string.</summary>
    public static string? WriteKeyFromHeader(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        // What SDKs send, "Basic <base64>", is decoded on the stack; any other shape (extra spaces, several headers, another
        // scheme) takes the general parser below, so both give the same answer.
        if (header.Length is > 6 and <= MaxFastHeader && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)
            && header.AsSpan(6).IndexOfAnyExcept(Base64Chars) < 0)
        {
            Span<byte> decoded = stackalloc byte[MaxFastHeader];
            if (!Convert.TryFromBase64Chars(header.AsSpan(6), decoded, out var written)) return "";
            return Username(decoded[..written]);
        }
        if (!AuthenticationHeaderValue.TryParse(header, out var auth)
            || !auth.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            return Username(Convert.FromBase64String(auth.Parameter ?? ""));
        }
        catch (FormatException) { return ""; }
    }

    /// <summary>
    /// The source whose key is the Basic username, or null; <paramref name="present"/> says whether there was a Basic header
    /// at all (without one, the key may be in the body). What <see cref="WriteKeyFromHeader"/> and <see cref="FindByWriteKey(string?)"/>
    /// answer together, without making the key a string and back for the usual header.
    /// </summary>
    public SourceOptions? FindByHeader(HttpRequest request, out bool present)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.Length is > 6 and <= MaxFastHeader && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)
            && header.AsSpan(6).IndexOfAnyExcept(Base64Chars) < 0)
        {
            present = true;
            Span<byte> decoded = stackalloc byte[MaxFastHeader];
            if (!Convert.TryFromBase64Chars(header.AsSpan(6), decoded, out var written)) return null;
            var colon = decoded[..written].IndexOf((byte)':');
            var username = colon < 0 ? decoded[..written] : decoded[..colon];
            // Invalid UTF-8 takes the string route, whose replacement characters are what a key is compared with there.
            return System.Text.Unicode.Utf8.IsValid(username) ? FindByWriteKey(username) : FindByWriteKey(Encoding.UTF8.GetString(username));
        }
        var key = WriteKeyFromHeader(request);
        present = key is not null;
        return FindByWriteKey(key);
    }

    const int MaxFastHeader = 1024;

    static readonly SearchValues<char> Base64Chars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");

    /// <summary>What comes before the first colon (user:password); a colon byte is never part of a multi-byte character.</summary>
    static string Username(ReadOnlySpan<byte> decoded)
    {
        var colon = decoded.IndexOf((byte)':');
        return Encoding.UTF8.GetString(colon < 0 ? decoded : decoded[..colon]);
    }

    public SourceOptions? FindByWriteKey(string? writeKey)
    {
        if (string.IsNullOrEmpty(writeKey)) return null;
        var most = Encoding.UTF8.GetMaxByteCount(writeKey.Length);
        Span<byte> buffer = most <= 512 ? stackalloc byte[512] : new byte[most];
        return FindByWriteKey(buffer[..Encoding.UTF8.GetBytes(writeKey, buffer)]);
    }

    SourceOptions? FindByWriteKey(ReadOnlySpan<byte> claimed)
    {
        if (claimed.IsEmpty) return null;
        SourceOptions? found = null;
        foreach (var (source, key) in _keys) // every source is compared: the time taken does not say which key came close
            if (CryptographicOperations.FixedTimeEquals(key, claimed))
                found = source;
        return found;
    }
}
