using System.Security.Cryptography;
using System.Text;

namespace Destinations.Core.Segment;

/// <summary>
/// Segment Webhooks signature (docs/ingress.md "Webhook signature"): <c>X-Signature</c> = lower-case hex HMAC-SHA1(shared secret, raw body).
/// With Webhooks (Actions) batching the body is an array signed over its <b>first element only</b>, so a match on either the
/// whole body or the first element's raw bytes (as they appear in the body) is accepted. Compared in constant time.
/// </summary>
public static class WebhookSignature
{
    public static bool IsValid(ReadOnlySpan<byte> body, string secret, string? signatureHeader)
    {
        if (string.IsNullOrWhiteSpace(signatureHeader) || !TryDecodeHex(signatureHeader.Trim(), out var claimed)) return false;
        var key = Encoding.UTF8.GetBytes(secret);
        if (CryptographicOperations.FixedTimeEquals(HMACSHA1.HashData(key, body), claimed)) return true;

        var trimmed = body.TrimStart(" \t\r\n"u8);
        if (trimmed.IsEmpty || trimmed[0] != (byte)'[') return false;
        IReadOnlyList<Range> elements;
        try { elements = JsonBody.ElementRanges(body); }
        catch (System.Text.Json.JsonException) { return false; } // not JSON: only a whole-body match could have applied
        return elements.Count > 0 && CryptographicOperations.FixedTimeEquals(HMACSHA1.HashData(key, body[elements[0]]), claimed);
    }

    /// <summary>Lower-case hex HMAC-SHA1 of <paramref name="payload"/> (for tests and tooling that sign bodies).</summary>
    public static string Sign(ReadOnlySpan<byte> payload, string secret) =>
        Convert.ToHexStringLower(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), payload));

    static bool TryDecodeHex(string hex, out byte[] bytes)
    {
        bytes = [];
        if (hex.Length != HMACSHA1.HashSizeInBytes * 2) return false;
        try { bytes = Convert.FromHexString(hex); return true; }
        catch (FormatException) { return false; }
    }
}
