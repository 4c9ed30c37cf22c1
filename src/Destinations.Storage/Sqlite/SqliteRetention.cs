using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// D17 on SQLite (<see cref="RetentionService"/>): purges finished deliveries, their events, expired dedupe records (D5) and
/// old counters, in small batches so the group-commit writer never waits long for the lock.
/// The log (docs/storage.md): an event without rows goes once it is older than the delivered retention and the dedupe window
/// (it is its own dedupe record, D5) and every instance's cursor has passed it; the newest event always stays, since SQLite
/// would hand its seq out again and a seq given out twice could fall at or before a cursor. Per-minute outcome counters and
/// ended hold intervals go with the counters.
/// </summary>
public sealed class SqliteRetention(SqliteDatabase db, IOptions<RetentionOptions> options, TimeProvider time, ILogger<SqliteRetention> logger,
    IOptions<StorageOptions>? storage = null)
    : RetentionService(options.Value, time, logger)
{
    // An event whose last row was purged may still be ahead of another instance's cursor (paused, or lagging): it stays
    // until every cursor has passed it, as on the log's age path. Events written before the log (no routes) are read
    // from no cursor.
    private protected override string KeepEventsClause => """
         AND seq < (SELECT MAX(seq) FROM events)
         AND (routes IS NULL OR seq <= (SELECT COALESCE(MIN(seq), 9223372036854775807) FROM cursors))
        """;

    private protected override TimeSpan LogMinimum => storage?.Value.DedupeWindow ?? TimeSpan.FromHours(24);

    private protected override string[] MoreStatements =>
    [
        """
        DELETE FROM events WHERE seq IN (
            SELECT e.seq FROM events e
            WHERE e.accepted_at < @LogBefore AND e.seq < (SELECT MAX(seq) FROM events)
              AND e.seq <= (SELECT COALESCE(MIN(seq), 9223372036854775807) FROM cursors)
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)
            ORDER BY e.seq LIMIT @Batch)
        """,
        """
        DELETE FROM partner_calls WHERE id IN (SELECT id FROM partner_calls WHERE at < @DeliveredBefore ORDER BY id LIMIT @Batch)
        """,
        """
        DELETE FROM outcome_counts WHERE (destination_id, minute, outcome) IN (
            SELECT destination_id, minute, outcome FROM outcome_counts WHERE minute < @CountersBeforeMs LIMIT @Batch)
        """,
        """
        DELETE FROM hold_intervals WHERE (destination_id, started_at) IN (
            SELECT destination_id, started_at FROM hold_intervals WHERE ended_at < @CountersBeforeMs LIMIT @Batch)
        """,
    ];

    // One writer at a time (the write gate): nothing to skip.
    private protected override string BatchLockClause => "";

    private protected override string SeqsClause => "seq IN @Seqs";

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
