namespace Destinations.Webhook;

/// <summary>The Webhook destination's names and limits (docs/partners/webhook.md; Segment's actions-webhook).</summary>
public static class WebhookApi
{
    /// <summary>The configuration value of <c>Destinations:n:Type</c>.</summary>
    public const string Type = "Webhook";

    /// <summary>The destination's name in the Integrations object (D9), as Segment names it.</summary>
    public const string IntegrationName = "Webhooks (Actions)";

    /// <summary>Segment's limit on mappings per instance, as for UserMotion.</summary>
    public const int MaxMappings = 50;

    /// <summary>Most events in one batched request (Segment's Webhooks (Actions) batch limit; also our ingress's webhook array limit, D1).</summary>
    public const int MaxBatchSize = 4000;

    /// <summary>What every request carries unless a mapping sets its own: Segment's actions request client sends it.</summary>
    public const string UserAgent = "Segment (Actions)";

    public const string SignatureHeader = "X-Signature";
}
