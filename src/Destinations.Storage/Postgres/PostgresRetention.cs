using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Postgres;

/// <summary>
/// D17 on PostgreSQL (<see cref="RetentionService"/>): purges finished deliveries, their events, expired dedupe records (D5),
/// partner call records (with the delivered retention), the log below every partition's cursor (docs/storage.md) and old
/// counters, in small batches (short transactions, rows another replica is purging are skipped), as SqliteRetention
/// does. Every replica may run it.
/// </summary>
public sealed class PostgresRetention(PostgresDatabase db, IOptions<RetentionOptions> options, TimeProvider time, ILogger<PostgresRetention> logger,
    IOptions<StorageOptions>? storage = null)
    : RetentionService(options.Value, time, logger)
{
    // Rows another replica is purging are skipped.
    private protected override string BatchLockClause => " FOR UPDATE SKIP LOCKED";

    private protected override string SeqsClause => "seq = ANY(@Seqs)";

    // A log event (routes set) goes only once every partition's cursor has passed it; the newest event always stays.
    private protected override string KeepEventsClause => """
         AND seq < (SELECT MAX(seq) FROM events)
         AND (routes IS NULL OR seq <= (SELECT COALESCE(MIN(seq), 9223372036854775807) FROM cursor_leases))
        """;

    private protected override TimeSpan LogMinimum => storage?.Value.DedupeWindow ?? TimeSpan.FromHours(24);

    private protected override string[] MoreStatements =>
    [
        // The log: an event without rows, older than both the delivered retention and the dedupe window (it is the dedupe
        // record, D5), once every partition's cursor has passed it.
        """
        DELETE FROM events WHERE seq IN (
            SELECT e.seq FROM events e
            WHERE e.accepted_at < @LogBefore AND e.seq < (SELECT MAX(seq) FROM events)
              AND e.seq <= (SELECT COALESCE(MIN(seq), 9223372036854775807) FROM cursor_leases)
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)
            ORDER BY e.seq LIMIT @Batch FOR UPDATE SKIP LOCKED)
        """,
        """
        DELETE FROM hold_intervals WHERE (destination_id, started_at) IN (
            SELECT destination_id, started_at FROM hold_intervals WHERE ended_at < @CountersBeforeMs LIMIT @Batch)
        """,
        """
        DELETE FROM partner_calls WHERE id IN (SELECT id FROM partner_calls WHERE at < @DeliveredBefore LIMIT @Batch FOR UPDATE SKIP LOCKED)
        """,
        """
        DELETE FROM outcome_counts WHERE (destination_id, minute, outcome) IN (
            SELECT destination_id, minute, outcome FROM outcome_counts WHERE minute < @CountersBeforeMs LIMIT @Batch)
        """,
    ];

    private protected override async Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        var result = await work(conn, tx).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return result;
    }

    private protected override async Task<int> OnConnectionAsync(Func<DbConnection, Task<int>> work, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await work(conn).ConfigureAwait(false);
    }
}
