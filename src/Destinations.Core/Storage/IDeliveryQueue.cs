namespace Destinations.Core.Storage;

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
