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

    /// <summary>Writes what this pass made of claimed rows, each under its lease (a row whose lease another worker took over
    /// is not written: false at its index). Several rows (the items of one batch call, D15) go in one transaction — one
    /// round trip, one commit — where the store can.</summary>
    Task<bool[]> SettleAsync(IReadOnlyList<Settlement> settlements, CancellationToken ct);

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

/// <summary>What one pass made of a claimed row (D11–D14, D25); see <see cref="Settlement"/>.</summary>
public enum SettlementKind
{
    /// <summary>The first <see cref="Settlement.StepsDone"/> steps of the plan succeeded and the next ones follow now (D11:
    /// progress stored per step). The row stays leased.</summary>
    Progress,
    Delivered,
    /// <summary>Mapper-time filter (D8): final, counted with its <see cref="Settlement.Reason"/>.</summary>
    Filtered,
    /// <summary>The event cannot be sent as it is: final, nothing sent (<see cref="Settlement.Reason"/>).</summary>
    Invalid,
    /// <summary>A failed attempt, counted, to try again at <see cref="Settlement.At"/>.</summary>
    RetryScheduled,
    /// <summary>D12: the instance is held (paused or breaker open): the row goes back without counting the attempt, keeping
    /// what the partner answered. It waits, still due, for the instance to resume.</summary>
    Held,
    /// <summary>Dead letter (<see cref="Settlement.Reason"/>). <see cref="Settlement.Failure"/> is the attempt that decided it
    /// (counted), or null when nothing was sent.</summary>
    Dead,
    /// <summary>Gives the row back without counting an attempt (shutdown).</summary>
    Released,
    /// <summary>D14/D25: a rate-limiter wait is not an attempt: the row goes back, due at <see cref="Settlement.At"/> at the earliest.</summary>
    Postponed,
}

/// <summary>One claimed row's outcome for <see cref="IDeliveryQueue.SettleAsync"/>.</summary>
/// <remarks>D11: the plan is mapped at the first attempt and stored with the row. It is not written on its own before the
/// first send: <see cref="Plan"/> carries it with the first write after that send (progress, delivered, retry, hold, dead),
/// which saves a statement per delivery. A crash between the send and that write leaves the row as it was claimed (no plan,
/// no attempt counted); its lease runs out and it is claimed, mapped and sent again: a re-delivery, as a lost outcome
/// always was (at-least-once). Once written, the plan is what every later attempt sends, and progress is still stored per
/// step before the next step goes, so a retry resends only the steps that have not succeeded.</remarks>
/// <param name="Kind">What happened.</param>
public sealed record Settlement(ClaimedDelivery Delivery, SettlementKind Kind)
{
    /// <summary>The plan (PlanSerializer JSON) mapped at this, the first, attempt, to store with the outcome (D11); null when
    /// the row's plan is stored already (or nothing was mapped).</summary>
    public string? Plan { get; init; }

    /// <summary>Progress and Delivered: steps of the plan that have succeeded (D11).</summary>
    public int StepsDone { get; init; }

    /// <summary>RetryScheduled: the next attempt; Postponed: not before this.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Filtered, Invalid, Dead: why.</summary>
    public string? Reason { get; init; }

    /// <summary>RetryScheduled, Held, Dead: the failed attempt (kept with the row for stats and a later dead letter).</summary>
    public AttemptResult? Failure { get; init; }

    /// <summary>The request that failed (kept for a later dead letter); null when unknown.</summary>
    public RequestDescription? Request { get; init; }
}

public static class DeliveryQueueExtensions
{
    /// <summary>Writes one row's outcome (see <see cref="IDeliveryQueue.SettleAsync"/>); false when the lease was lost.</summary>
    public static async Task<bool> SettleAsync(this IDeliveryQueue queue, Settlement settlement, CancellationToken ct) =>
        (await queue.SettleAsync([settlement], ct).ConfigureAwait(false))[0];

    public static Task<bool> MarkDeliveredAsync(this IDeliveryQueue queue, ClaimedDelivery d, int stepsDone, CancellationToken ct) =>
        queue.SettleAsync(new Settlement(d, SettlementKind.Delivered) { StepsDone = stepsDone }, ct);

    /// <summary>Mapper-time filter (D8): final, counted with its reason.</summary>
    public static Task<bool> MarkFilteredAsync(this IDeliveryQueue queue, ClaimedDelivery d, string reason, CancellationToken ct) =>
        queue.SettleAsync(new Settlement(d, SettlementKind.Filtered) { Reason = reason }, ct);

    /// <summary>The event cannot be sent as it is: final, nothing sent.</summary>
    public static Task<bool> MarkInvalidAsync(this IDeliveryQueue queue, ClaimedDelivery d, string reason, CancellationToken ct) =>
        queue.SettleAsync(new Settlement(d, SettlementKind.Invalid) { Reason = reason }, ct);

    /// <summary>A failed attempt to try again at <paramref name="nextAttemptAt"/>; counts the attempt.</summary>
    /// <param name="request">The request that failed (kept for a later dead letter); null when unknown.</param>
    public static Task<bool> ScheduleRetryAsync(this IDeliveryQueue queue, ClaimedDelivery d, DateTimeOffset nextAttemptAt, AttemptResult failure, RequestDescription? request, CancellationToken ct) =>
        queue.SettleAsync(new Settlement(d, SettlementKind.RetryScheduled) { At = nextAttemptAt, Failure = failure, Request = request }, ct);

    /// <summary>Dead letter. <paramref name="failure"/> is the attempt that decided it (counted), or null when nothing was sent.</summary>
    public static Task<bool> MarkDeadAsync(this IDeliveryQueue queue, ClaimedDelivery d, string reason, AttemptResult? failure, RequestDescription? request, CancellationToken ct) =>
        queue.SettleAsync(new Settlement(d, SettlementKind.Dead) { Reason = reason, Failure = failure, Request = request }, ct);

    /// <summary>Gives the row back without counting an attempt (shutdown).</summary>
    public static Task<bool> ReleaseAsync(this IDeliveryQueue queue, ClaimedDelivery d, CancellationToken ct) =>
        queue.SettleAsync(new Settlement(d, SettlementKind.Released), ct);

    /// <summary>D12: the instance is held: gives the row back without counting the attempt, keeping what the partner answered.</summary>
    public static Task<bool> HoldAsync(this IDeliveryQueue queue, ClaimedDelivery d, AttemptResult failure, RequestDescription? request, CancellationToken ct) =>
        queue.SettleAsync(new Settlement(d, SettlementKind.Held) { Failure = failure, Request = request }, ct);

    /// <summary>D14/D25: a rate-limiter wait is not an attempt: the row goes back, due at <paramref name="until"/>.</summary>
    public static Task<bool> PostponeAsync(this IDeliveryQueue queue, ClaimedDelivery d, DateTimeOffset until, CancellationToken ct) =>
        queue.SettleAsync(new Settlement(d, SettlementKind.Postponed) { At = until }, ct);

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
