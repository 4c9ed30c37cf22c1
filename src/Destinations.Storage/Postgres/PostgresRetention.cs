using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Postgres;

/// <summary>
/// D17 on PostgreSQL: purges finished deliveries, their events, expired dedupe records (D5) and old counters, in small
/// batches (short transactions, rows another replica is purging are skipped), as SqliteRetention does. Every replica may run it.
/// </summary>
public sealed class PostgresRetention(PostgresDatabase db, IOptions<RetentionOptions> options, TimeProvider time, ILogger<PostgresRetention> logger)
    : BackgroundService
{
    readonly RetentionOptions _options = options.Value;

    /// <summary>One full purge; returns the number of rows deleted.</summary>
    public async Task<int> PurgeAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var args = new
        {
            Now = now.ToUnixTimeMilliseconds(),
            DeliveredBefore = (now - _options.Delivered).ToUnixTimeMilliseconds(),
            DeadBefore = (now - _options.Dead).ToUnixTimeMilliseconds(),
            CountersBefore = StoredValues.Day(now - _options.Counters),
            Batch = _options.PurgeBatchSize,
        };
        var total = 0;
        int deleted;
        do
        {
            // A batch of finished deliveries, then those of their events no other delivery still needs, in one transaction.
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
            var seqs = (await conn.QueryAsync<long>(new CommandDefinition("""
                DELETE FROM deliveries WHERE id IN (
                    SELECT id FROM deliveries
                    WHERE (status = 'delivered' AND updated_at < @DeliveredBefore)
                       OR (status IN ('dead', 'filtered', 'invalid') AND updated_at < @DeadBefore)
                    LIMIT @Batch FOR UPDATE SKIP LOCKED)
                RETURNING event_seq
                """, args, tx, cancellationToken: ct)).ConfigureAwait(false)).Distinct().ToArray();
            deleted = seqs.Length;
            if (seqs.Length > 0)
                total += seqs.Length + await conn.ExecuteAsync(new CommandDefinition(
                    "DELETE FROM events WHERE seq = ANY(@Seqs) AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq)",
                    new { Seqs = seqs }, tx, cancellationToken: ct)).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        } while (deleted > 0 && !ct.IsCancellationRequested);

        foreach (var sql in CounterStatements)
        {
            do
            {
                await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
                deleted = await conn.ExecuteAsync(new CommandDefinition(sql, args, cancellationToken: ct)).ConfigureAwait(false);
                total += deleted;
            } while (deleted >= _options.PurgeBatchSize && !ct.IsCancellationRequested);
        }
        return total;
    }

    static readonly string[] CounterStatements =
    [
        """
        DELETE FROM dedupe WHERE (source_id, message_id) IN (
            SELECT source_id, message_id FROM dedupe WHERE expires_at <= @Now LIMIT @Batch)
        """,
        """
        DELETE FROM filter_counts WHERE (destination_id, reason, day) IN (
            SELECT destination_id, reason, day FROM filter_counts WHERE day < @CountersBefore LIMIT @Batch)
        """,
        """
        DELETE FROM duplicate_counts WHERE (destination_id, day) IN (
            SELECT destination_id, day FROM duplicate_counts WHERE day < @CountersBefore LIMIT @Batch)
        """,
    ];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var deleted = await PurgeAsync(stoppingToken).ConfigureAwait(false);
                if (deleted > 0) logger.LogInformation("Retention purge removed {Rows} rows (D17)", deleted);
                await Task.Delay(_options.PurgeInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError("Retention purge failed; trying again next interval: {Error}", ex.GetType().Name + ": " + ex.Message);
                try { await Task.Delay(_options.PurgeInterval, time, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }
}
