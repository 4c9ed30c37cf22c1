namespace Destinations.Core.Storage;

/// <summary>What the store knows about one destination instance (read from the store, so right across replicas, D8).</summary>
/// <param name="PendingNew">Pending and never attempted.</param>
/// <param name="Retrying">Pending after at least one failed attempt.</param>
/// <param name="Filtered">Filtered counts by reason: router-time counters (no row) plus mapper-time rows (D8).</param>
/// <param name="Duplicates">Duplicate events (D5) that would have been delivered here.</param>
public sealed record DestinationStats(
    string DestinationId,
    long PendingNew,
    long Retrying,
    long Delivered,
    long Invalid,
    long Dead,
    IReadOnlyDictionary<string, long> Filtered,
    long Duplicates)
{
    public long FilteredTotal => Filtered.Values.Sum();

    /// <summary>Whether the instance is paused (D12) or its breaker is open, since when, why, and when the next canary goes.</summary>
    public InstanceState? State { get; init; }

    /// <summary>The due time of the oldest pending delivery (null when none is pending), for the "oldest due age" metric.</summary>
    public DateTimeOffset? OldestDueAt { get; init; }

    /// <summary>Pending deliveries held while the instance is held (0 when it is not).</summary>
    public long Held { get; init; }

    /// <summary>Events routed to this instance after its cursor in the event log (not yet delivered, no row of their own),
    /// counted in <see cref="PendingNew"/> too; 0 for a store without a log.</summary>
    public long LogBacklog { get; init; }

    /// <summary>When the oldest event of <see cref="LogBacklog"/> was accepted (null when none): the cursor's lag in time.</summary>
    public DateTimeOffset? LogOldestAt { get; init; }

    /// <summary>The most recent failures recorded on this instance's deliveries, newest first.</summary>
    public IReadOnlyList<RecentError> LastErrors { get; init; } = [];
}

/// <param name="ErrorClass">e.g. <c>Final: HTTP 400</c>, <c>Retry: timeout</c>.</param>
public sealed record RecentError(long DeliveryId, DateTimeOffset At, int? Status, string? ErrorClass, string? Error);
