using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Postgres;

/// <summary>
/// D17 on PostgreSQL (<see cref="RetentionService"/>): purges finished deliveries, their events, expired dedupe records (D5),
/// partner call records (with the delivered retention) and old counters, in small batches (short transactions, rows another
/// replica is purging are skipped), as SqliteRetention
/// does. Every replica may run it.
/// </summary>
public sealed class PostgresRetention(PostgresDatabase db, IOptions<RetentionOptions> options, TimeProvider time, ILogger<PostgresRetention> logger)
    : RetentionService(options.Value, time, logger)
{
    // Rows another replica is purging are skipped.
    private protected override string BatchLockClause => " FOR UPDATE SKIP LOCKED";

    private protected override string SeqsClause => "seq = ANY(@Seqs)";

    private protected override string[] MoreStatements =>
    [
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
