using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// D17 on SQLite (<see cref="RetentionService"/>): purges finished deliveries, their events, expired dedupe records (D5) and
/// old counters, in small batches so the group-commit writer never waits long for the lock.
/// </summary>
public sealed class SqliteRetention(SqliteDatabase db, IOptions<RetentionOptions> options, TimeProvider time, ILogger<SqliteRetention> logger)
    : RetentionService(options.Value, time, logger)
{
    private protected override string DeleteFinishedSql => """
        DELETE FROM deliveries WHERE id IN (
            SELECT id FROM deliveries
            WHERE (status = 'delivered' AND updated_at < @DeliveredBefore)
               OR (status IN ('dead', 'filtered', 'invalid') AND updated_at < @DeadBefore)
            LIMIT @Batch)
        RETURNING event_seq
        """;

    private protected override string DeleteUnusedEventsSql =>
        "DELETE FROM events WHERE seq IN @Seqs AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq)";

    private protected override async Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        using var gate = await db.EnterWriteAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        using var tx = conn.BeginTransaction(deferred: false);
        var result = await work(conn, tx).ConfigureAwait(false);
        tx.Commit();
        return result;
    }

    private protected override async Task<int> OnConnectionAsync(Func<DbConnection, Task<int>> work, CancellationToken ct)
    {
        using var gate = await db.EnterWriteAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await work(conn).ConfigureAwait(false);
    }
}
