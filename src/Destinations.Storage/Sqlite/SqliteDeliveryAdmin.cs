namespace Destinations.Storage.Sqlite;

/// <summary><see cref="IDeliveryAdmin"/> on SQLite: dead letters, replay (D11), operator resume (D12), stats.</summary>
public sealed class SqliteDeliveryAdmin(SqliteDatabase db, SqliteDeliveryQueue queue, TimeProvider time, DispatchSignal? signal = null) : IDeliveryAdmin
{
    public async Task<DeadLetterPage> ListDeadLettersAsync(DeadLetterFilter filter, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await DeadLetterQueries.ListAsync(conn, filter, ct).ConfigureAwait(false);
    }

    public async Task<int> ReplayAsync(ReplaySelection selection, CancellationToken ct)
    {
        int count;
        using (await db.EnterWriteAsync(ct).ConfigureAwait(false))
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            count = await DeadLetterQueries.ReplayAsync(conn, selection, time.GetUtcNow(), "d.id IN @Ids", ct).ConfigureAwait(false);
        }
        if (count > 0) signal?.Notify();
        return count;
    }

    public Task<bool> ResumeAsync(string destinationId, CancellationToken ct) => DeadLetterQueries.ResumeAsync(queue, destinationId, ct);

    public Task<DestinationStats> GetStatsAsync(string destinationId, CancellationToken ct) => SqliteStats.ReadAsync(db, destinationId, ct);

    public async Task<IReadOnlyList<InstanceState>> ListInstancesAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await InstanceStateQueries.ReadAllAsync(conn, null, heldOnly: false, ct).ConfigureAwait(false);
    }
}
