using Destinations.Core.Delivery;

namespace Destinations.Salesmachine;

/// <summary>
/// In-process resilience for every Salesmachine instance, bound from the configuration section <c>Salesmachine</c>
/// (D13, D14). Configurable so tests and CI can compress the defaults.
/// </summary>
public sealed class SalesmachineClientOptions : IPartnerClientOptions
{
    public const string SectionName = "Salesmachine";

    /// <summary>Per-attempt timeout (D13 default 10 s). A timed-out attempt is classified Retry; the queue retries it.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of a request that never left (connect refused, DNS, TLS) — safe because nothing was sent (D14).</summary>
    public int ConnectRetries { get; set; } = 2;

    /// <summary>First delay between those retries; doubles each time.</summary>
    public TimeSpan ConnectRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);
}
