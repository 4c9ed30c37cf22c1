using Destinations.Core.Delivery;

namespace Destinations.Storage;

/// <summary>
/// The dispatcher's side of the store: claim due deliveries under a lease, then record what happened. Every write takes the
/// claimed row and succeeds only while the caller still holds the lease (returns false when another worker took it over).
/// </summary>
public interface IDeliveryQueue
{
    /// <summary>Atomically leases up to <paramref name="max"/> due pending deliveries to <paramref name="owner"/> for
    /// <paramref name="lease"/>; a crashed worker's rows come back when the lease runs out.</summary>
    Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(string owner, int max, TimeSpan lease, CancellationToken ct);

    /// <summary>Stores the plan computed at the first attempt (D8, D11) and stamps the first attempt time.</summary>
    Task<bool> SavePlanAsync(ClaimedDelivery d, string planJson, CancellationToken ct);

    /// <summary>Records that the first <paramref name="stepsDone"/> steps of the plan succeeded (D11).</summary>
    Task<bool> RecordStepsDoneAsync(ClaimedDelivery d, int stepsDone, CancellationToken ct);

    Task<bool> MarkDeliveredAsync(ClaimedDelivery d, int stepsDone, CancellationToken ct);

    /// <summary>Mapper-time filter (D8): final, counted with its reason.</summary>
    Task<bool> MarkFilteredAsync(ClaimedDelivery d, string reason, CancellationToken ct);

    /// <summary>The event cannot be sent as it is: final, nothing sent.</summary>
    Task<bool> MarkInvalidAsync(ClaimedDelivery d, string reason, CancellationToken ct);

    /// <summary>A failed attempt to try again at <paramref name="nextAttemptAt"/>; counts the attempt.</summary>
    Task<bool> ScheduleRetryAsync(ClaimedDelivery d, DateTimeOffset nextAttemptAt, AttemptResult failure, CancellationToken ct);

    /// <summary>Dead letter. <paramref name="failure"/> is the attempt that decided it (counted), or null when nothing was sent.</summary>
    Task<bool> MarkDeadAsync(ClaimedDelivery d, string reason, AttemptResult? failure, CancellationToken ct);

    /// <summary>Gives the row back without counting an attempt (shutdown).</summary>
    Task<bool> ReleaseAsync(ClaimedDelivery d, CancellationToken ct);

    Task<DestinationStats> GetStatsAsync(string destinationId, CancellationToken ct);

    Task<bool> IsReadyAsync(CancellationToken ct);
}

/// <summary>A delivery leased to one worker, with what it needs to process it.</summary>
/// <param name="Plan">The JSON plan stored at the first attempt (D11); null before it.</param>
/// <param name="StepsDone">How many steps of the plan have succeeded (D11).</param>
/// <param name="Attempts">Sending attempts made so far.</param>
public sealed record ClaimedDelivery(
    long Id,
    long EventSeq,
    string DestinationId,
    string Subscription,
    string MessageId,
    string EventBody,
    string? Plan,
    int StepsDone,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FirstAttemptAt,
    string LeaseOwner,
    DateTimeOffset LeaseUntil);

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
}
