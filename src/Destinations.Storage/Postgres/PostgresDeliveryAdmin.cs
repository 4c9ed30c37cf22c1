namespace Destinations.Storage.Postgres;

/// <summary><see cref="IDeliveryAdmin"/> on PostgreSQL (the same statements as on SQLite): dead letters, replay (D11), operator resume (D12), stats.</summary>
public sealed class PostgresDeliveryAdmin(PostgresDatabase db, PostgresDeliveryQueue queue, TimeProvider time, DispatchSignal? signal = null) : IDeliveryAdmin
{
    public async Task<DeadLetterPage> ListDeadLettersAsync(DeadLetterFilter filter, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await DeadLetterQueries.ListAsync(conn, filter, ct).ConfigureAwait(false);
    }

    public async Task<int> ReplayAsync(ReplaySelection selection, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        var count = await DeadLetterQueries.ReplayAsync(conn, selection, time.GetUtcNow(), "d.id = ANY(@Ids)", ct).ConfigureAwait(false);
        if (count > 0) signal?.Notify();
        return count;
    }

    public Task<bool> ResumeAsync(string destinationId, CancellationToken ct) => DeadLetterQueries.ResumeAsync(queue, destinationId, ct);

    public Task<DestinationStats> GetStatsAsync(string destinationId, CancellationToken ct) => PostgresStats.ReadAsync(db, destinationId, ct);

    public async Task<IReadOnlyList<InstanceState>> ListInstancesAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await InstanceStateQueries.ReadAllAsync(conn, null, heldOnly: false, ct).ConfigureAwait(false);
    }
}
