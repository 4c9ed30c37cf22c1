namespace Destinations.Core.Configuration;

/// <summary>An entry of <c>Sources</c>: who may send events, and how they prove it.</summary>
public sealed class SourceOptions
{
    public string Id { get; set; } = "";

    /// <summary>Tracking-API write key (HTTP Basic username, or <c>writeKey</c> in the body).</summary>
    public string? WriteKey { get; set; }

    /// <summary>Segment Webhooks shared secret: <c>X-Signature</c> = hex HMAC-SHA1(secret, body) (docs/ingress.md "Webhook signature").</summary>
    public string? SharedSecret { get; set; }

    /// <summary>Accept unsigned webhooks for this source (local trials only; warned at start, D4).</summary>
    public bool AllowUnsigned { get; set; }
}
