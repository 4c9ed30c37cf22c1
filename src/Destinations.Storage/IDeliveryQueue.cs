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
    /// <remarks>Skips instances in <see cref="ClaimRequest.Skip"/> (throttled, D25) and held instances (D12, breaker), except
    /// one canary per held instance whose probe is due (<see cref="ClaimedDelivery.IsProbe"/>); for instances in
    /// <see cref="ClaimRequest.Ordered"/> a row is claimed only when no earlier one of its user key is pending (D16).
    /// PostgreSQL: the same selection with <c>FOR UPDATE SKIP LOCKED</c>, probe and token-bucket rows updated in the same transaction.</remarks>
    Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(ClaimRequest request, CancellationToken ct);

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
    /// <param name="request">The request that failed (kept for a later dead letter); null when unknown.</param>
    Task<bool> ScheduleRetryAsync(ClaimedDelivery d, DateTimeOffset nextAttemptAt, AttemptResult failure, RequestDescription? request, CancellationToken ct);

    /// <summary>Dead letter. <paramref name="failure"/> is the attempt that decided it (counted), or null when nothing was sent.</summary>
    Task<bool> MarkDeadAsync(ClaimedDelivery d, string reason, AttemptResult? failure, RequestDescription? request, CancellationToken ct);

    /// <summary>Gives the row back without counting an attempt (shutdown).</summary>
    Task<bool> ReleaseAsync(ClaimedDelivery d, CancellationToken ct);

    /// <summary>D12: the instance is held (paused or breaker open): gives the row back without counting the attempt, keeping
    /// what the partner answered. It waits, still due, for the instance to resume.</summary>
    Task<bool> HoldAsync(ClaimedDelivery d, AttemptResult failure, RequestDescription? request, CancellationToken ct);

    /// <summary>D14/D25: a rate-limiter wait is not an attempt: the row goes back, due at <paramref name="until"/>.</summary>
    Task<bool> PostponeAsync(ClaimedDelivery d, DateTimeOffset until, CancellationToken ct);

    /// <summary>Reads the instance's state (the initial state when it has none).</summary>
    Task<InstanceState> GetInstanceAsync(string destinationId, CancellationToken ct);

    /// <summary>Applies <paramref name="change"/> to the instance's state atomically and returns the new state. When a hold
    /// ends, the held time is added to each pending row's held time so the D13 age clock does not count it.</summary>
    Task<InstanceState> UpdateInstanceAsync(string destinationId, Func<InstanceState, InstanceState> change, CancellationToken ct);

    /// <summary>D12: deliveries held by a paused instance for longer than <paramref name="pausedMaxAge"/> become dead
    /// letters. Returns how many.</summary>
    Task<int> ExpireHeldAsync(TimeSpan pausedMaxAge, CancellationToken ct);

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
    DateTimeOffset LeaseUntil)
{
    /// <summary>The canary of a held instance (D12): its outcome decides whether the instance resumes.</summary>
    public bool IsProbe { get; init; }

    /// <summary>Time spent held by a paused instance; the D13 age clock does not count it.</summary>
    public TimeSpan HeldFor { get; init; }

    /// <summary>userId, else anonymousId (D16); null when the event has neither.</summary>
    public string? UserKey { get; init; }
}

/// <summary>What a worker asks the queue for.</summary>
/// <param name="Skip">Instances not to claim now (throttled by their rate limit, D25): one busy instance never occupies the
/// workers of the others.</param>
/// <param name="Ordered">Instances that keep per-user order (D16).</param>
public sealed record ClaimRequest(string Owner, int Max, TimeSpan Lease)
{
    public IReadOnlySet<string> Skip { get; init; } = new HashSet<string>();
    public IReadOnlySet<string> Ordered { get; init; } = new HashSet<string>();

    /// <summary>
    /// The configured instances, when known. A store may then claim instance by instance through an index, so a claim stays
    /// cheap while a held instance (paused, breaker open) sits on a large backlog that a plain "due rows" scan would wade through.
    /// </summary>
    public IReadOnlyList<string>? Destinations { get; init; }

    /// <summary>D25 with a shared store (<see cref="ISharedRateLimits"/>): each instance's limit (null: unlimited), whose
    /// tokens the claim takes in its own transaction so N replicas share one bucket. Ignored by a store without sharing.</summary>
    public Func<string, SharedRateLimit?>? RateLimits { get; init; }
}

/// <summary>A destination instance's limit as the claim applies it (D25).</summary>
/// <param name="ItemsPerCall">Rows one token covers (a batching partner sends up to this many per call, D15).</param>
/// <param name="ThrottledRateFactor">The rate is multiplied by this while a 429 lowered it.</param>
public sealed record SharedRateLimit(int Limit, TimeSpan Period, int ItemsPerCall, double ThrottledRateFactor);

/// <summary>A store whose claim takes rate-limit tokens from rows shared by every replica (PostgreSQL, D25).</summary>
public interface ISharedRateLimits
{
    /// <summary>The partner answered 429: the shared rate is lowered until <paramref name="throttledUntil"/>, and nothing goes
    /// before <paramref name="blockedUntil"/> (Retry-After).</summary>
    Task ThrottleAsync(string destinationId, DateTimeOffset throttledUntil, DateTimeOffset? blockedUntil, CancellationToken ct);
}

public static class DeliveryQueueExtensions
{
    /// <summary>Claims without skipping or ordering any instance.</summary>
    public static Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(this IDeliveryQueue queue, string owner, int max, TimeSpan lease, CancellationToken ct) =>
        queue.ClaimAsync(new ClaimRequest(owner, max, lease), ct);
}

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

    /// <summary>The most recent failures recorded on this instance's deliveries, newest first.</summary>
    public IReadOnlyList<RecentError> LastErrors { get; init; } = [];
}

/// <param name="ErrorClass">e.g. <c>Final: HTTP 400</c>, <c>Retry: timeout</c>.</param>
public sealed record RecentError(long DeliveryId, DateTimeOffset At, int? Status, string? ErrorClass, string? Error);
