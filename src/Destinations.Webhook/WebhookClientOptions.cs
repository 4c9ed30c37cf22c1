using Destinations.Core.Delivery;

namespace Destinations.Webhook;

/// <summary>In-process resilience for every Webhook instance, bound from the section <c>Webhook</c> (D13, D14).</summary>
public sealed class WebhookClientOptions : IPartnerClientOptions
{
    public const string SectionName = "Webhook";

    /// <summary>Per-attempt timeout (D13 default 10 s; Segment's request client also gives up after 10 s).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of a request that never left (connect refused, DNS, TLS) — safe because nothing was sent (D14).</summary>
    public int ConnectRetries { get; set; } = 2;

    /// <summary>First delay between those retries; doubles each time.</summary>
    public TimeSpan ConnectRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);
}
