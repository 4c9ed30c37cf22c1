namespace Destinations.Core.Storage;

/// <summary>
/// The operator's side of the store, for the admin HTTP endpoints: dead letters (list, replay), resuming a paused instance
/// (D12) and per-instance stats. Every operation reads or writes the store, so it is right across replicas.
/// </summary>
public interface IDeliveryAdmin
{
    /// <summary>Dead letters matching <paramref name="filter"/>, oldest first by id, one page at a time.</summary>
    Task<DeadLetterPage> ListDeadLettersAsync(DeadLetterFilter filter, CancellationToken ct);

    /// <summary>Resets the selected dead letters to pending with a fresh plan (D11), zero attempts and a new age clock (D13);
    /// returns how many. The dispatcher picks them up at once.</summary>
    Task<int> ReplayAsync(ReplaySelection selection, CancellationToken ct);

    /// <summary>Operator resume (D12): ends a pause or an open breaker at once; the held deliveries go out again.
    /// Returns false when the instance was not held.</summary>
    Task<bool> ResumeAsync(string destinationId, CancellationToken ct);

    Task<DestinationStats> GetStatsAsync(string destinationId, CancellationToken ct);

    /// <summary>Every instance that has a stored state (held, or with recorded failures).</summary>
    Task<IReadOnlyList<InstanceState>> ListInstancesAsync(CancellationToken ct);
}
