namespace Destinations.Core.Segment;

/// <summary>
/// Segment's size limits (docs/ingress.md "Limits", D1), measured on the decompressed JSON as received, before any merge.
/// Over any of them → 400 naming the limit. The server's hard body cap (413) lives in the host.
/// </summary>
public static class IngressLimits
{
    /// <summary>One event on a Tracking-API endpoint, and each element of a Tracking-API batch.</summary>
    public const int TrackingApiEventBytes = 32 * 1024;

    /// <summary>Segment enforced 32 KB at its own ingestion, then enriched the event: a webhook event may reach 64 KB.</summary>
    public const int WebhookEventBytes = 64 * 1024;

    /// <summary>A whole <c>/v1/batch</c> or <c>/v1/import</c> body.</summary>
    public const int BatchBytes = 500 * 1024;

    /// <summary>Events per Tracking-API batch (our limit, D1).</summary>
    public const int BatchEvents = 2_500;

    /// <summary>Webhooks (Actions) batching sends up to 4,000 events per array.</summary>
    public const int WebhookArrayEvents = 4_000;

    /// <summary>JSON nesting accepted; deeper bodies are a 400, never a stack problem.</summary>
    public const int MaxJsonDepth = 64;

    /// <summary>Segment's messageId limit.</summary>
    public const int MessageIdMaxLength = 100;

    public static string Kb(int bytes) => $"{bytes / 1024} KB";
}
