using Destinations.Core.Delivery;

namespace Destinations.UserMotion;

/// <summary>In-process resilience for every UserMotion instance, bound from the section <c>UserMotion</c> (D13, D14).</summary>
public sealed class UserMotionClientOptions : IPartnerClientOptions
{
    public const string SectionName = "UserMotion";

    /// <summary>Per-attempt timeout (D13 default 10 s); a timed-out attempt is classified Retry and the queue retries it.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of a request that never left (connect refused, DNS, TLS) — safe because nothing was sent (D14).</summary>
    public int ConnectRetries { get; set; } = 2;

    /// <summary>First delay between those retries; doubles each time.</summary>
    public TimeSpan ConnectRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);
}
