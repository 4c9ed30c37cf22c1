using Destinations.Core.Delivery;

namespace Destinations.Core.Storage;

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
