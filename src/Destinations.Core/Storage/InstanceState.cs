namespace Destinations.Core.Storage;

/// <summary>Why a destination instance's deliveries are held (not claimed except for one canary at a time).</summary>
public enum InstanceHold
{
    None,
    /// <summary>D12: the partner answered 401/403 (a credentials problem).</summary>
    Paused,
    /// <summary>The circuit breaker opened: the partner failed wholesale (5xx, timeouts, connection errors).</summary>
    BreakerOpen,
}

/// <summary>
/// The stored per-instance state (table <c>destination_state</c>), shared by every worker (and, with PostgreSQL, every
/// replica). Transitions are computed by <c>InstanceHealth</c>; the store only reads and writes them atomically.
/// </summary>
/// <param name="HeldSince">When the current hold began (its length is added to each held row's <c>held_ms</c> on resume, D13).</param>
/// <param name="NextProbeAt">When one canary delivery may be claimed while held (D12).</param>
/// <param name="ProbeFailures">Canaries that failed during the current hold (drives the probe backoff).</param>
/// <param name="ConsecutiveFailures">Retryable failures in a row since <paramref name="FirstFailureAt"/> (breaker).</param>
public sealed record InstanceState(
    string DestinationId,
    InstanceHold Hold,
    DateTimeOffset? HeldSince,
    string? HoldReason,
    DateTimeOffset? NextProbeAt,
    int ProbeFailures,
    int ConsecutiveFailures,
    DateTimeOffset? FirstFailureAt,
    string? LastError,
    DateTimeOffset? LastErrorAt)
{
    public static InstanceState Initial(string destinationId) => new(destinationId, InstanceHold.None, null, null, null, 0, 0, null, null, null);

    public bool IsHeld => Hold != InstanceHold.None;

    /// <summary>Back to normal: a canary succeeded, or an operator resumed the instance (D12).</summary>
    public InstanceState Resumed() => this with
    {
        Hold = InstanceHold.None,
        HeldSince = null,
        HoldReason = null,
        NextProbeAt = null,
        ProbeFailures = 0,
        ConsecutiveFailures = 0,
        FirstFailureAt = null,
    };
}
