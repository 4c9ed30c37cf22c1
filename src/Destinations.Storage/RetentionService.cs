using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Destinations.Storage;

/// <summary>
/// D17, for both stores: purges finished deliveries, their events, expired dedupe records (D5), old counters, and the
/// console's old audit entries and long-expired Data Protection keys, in small batches (short transactions). SqliteRetention and PostgresRetention supply the two clauses that differ and how a purge
/// connection and transaction are opened (SQLite: behind the write gate).
/// </summary>
public abstract class RetentionService : BackgroundService
{
    readonly RetentionOptions _options;
    readonly TimeProvider _time;
    readonly ILogger _logger;

    private protected RetentionService(RetentionOptions options, TimeProvider time, ILogger logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>What follows <c>LIMIT @Batch</c> when the finished deliveries are chosen: how rows another purger holds are
    /// treated (empty for none).</summary>
    private protected abstract string BatchLockClause { get; }

    /// <summary>Appended to the condition of the event delete that follows a batch of finished deliveries (empty for none):
    /// events the provider must keep, such as a log event a cursor has not passed yet (another instance may still need it).</summary>
    private protected virtual string KeepEventsClause => "";

    /// <summary>Provider statements run after the counters' (same parameters, plus <c>@LogBefore</c> and
    /// <c>@CountersBeforeMs</c>), each repeated while it deletes a full batch.</summary>
    private protected virtual string[] MoreStatements => [];

    /// <summary>The least age of a purged log event (SQLite's log is also its dedupe record, D5).</summary>
    private protected virtual TimeSpan LogMinimum => TimeSpan.Zero;

    /// <summary>The provider's form of "<c>seq</c> is one of <c>@Seqs</c>".</summary>
    private protected abstract string SeqsClause { get; }

    /// <summary>Runs <paramref name="work"/> in one write transaction on a fresh connection and commits it.</summary>
    private protected abstract Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct);

    /// <summary>Runs <paramref name="work"/> (one statement) on a fresh connection.</summary>
    private protected abstract Task<int> OnConnectionAsync(Func<DbConnection, Task<int>> work, CancellationToken ct);

    /// <summary>One full purge; returns the number of rows deleted.</summary>
    public async Task<int> PurgeAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var args = new
        {
            Now = now.ToUnixTimeMilliseconds(),
            DeliveredBefore = (now - _options.Delivered).ToUnixTimeMilliseconds(),
            DeadBefore = (now - _options.Dead).ToUnixTimeMilliseconds(),
            CountersBefore = StoredValues.Day(now - _options.Counters),
            CountersBeforeMs = (now - _options.Counters).ToUnixTimeMilliseconds(),
            LogBefore = (now - (_options.Delivered > LogMinimum ? _options.Delivered : LogMinimum)).ToUnixTimeMilliseconds(),
            AuditBefore = (now - _options.Audit).ToUnixTimeMilliseconds(),
            Batch = _options.PurgeBatchSize,
        };
        var total = 0;
        int deleted;
        do
        {
            // A batch of finished deliveries, then those of their events no other delivery still needs, in one transaction.
            // Each branch spells out "status <> 'pending'": SQLite's ix_deliveries_dead holds finished rows only (migration 6)
            // and is used only where the query states its condition; per branch it stays two range searches (MULTI-INDEX OR).
            (deleted, var removed) = await InTransactionAsync(async (conn, tx) =>
            {
                var seqs = (await conn.QueryAsync<long>(new CommandDefinition($"""
                    DELETE FROM deliveries WHERE id IN (
                        SELECT id FROM deliveries
                        WHERE (status <> 'pending' AND status = 'delivered' AND updated_at < @DeliveredBefore)
                           OR (status <> 'pending' AND status IN ('dead', 'filtered', 'invalid') AND updated_at < @DeadBefore)
                        LIMIT @Batch{BatchLockClause})
                    RETURNING event_seq
                    """, args, tx, cancellationToken: ct)).ConfigureAwait(false)).Distinct().ToArray();
                if (seqs.Length == 0) return (0, 0);
                // The event row is its own dedupe record (D5): one accepted inside the window stays, however short its rows'
                // retention, and the log's age statement (MoreStatements) takes it later. An event written before the log
                // has no accepted_at: its window is in the old dedupe table.
                return (seqs.Length, seqs.Length + await conn.ExecuteAsync(new CommandDefinition(
                    $"""
                    DELETE FROM events WHERE {SeqsClause} AND (accepted_at IS NULL OR accepted_at < @LogBefore)
                      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq){KeepEventsClause}
                    """,
                    new { Seqs = seqs, args.LogBefore }, tx, cancellationToken: ct)).ConfigureAwait(false));
            }, ct).ConfigureAwait(false);
            total += removed;
        } while (deleted > 0 && !ct.IsCancellationRequested);

        foreach (var sql in CounterStatements.Concat(MoreStatements))
        {
            do
            {
                deleted = await OnConnectionAsync(conn => conn.ExecuteAsync(new CommandDefinition(sql, args, cancellationToken: ct)), ct)
                    .ConfigureAwait(false);
                total += deleted;
            } while (deleted >= _options.PurgeBatchSize && !ct.IsCancellationRequested);
        }
        total += await OnConnectionAsync(conn => PurgeExpiredKeysAsync(conn, now - _options.ExpiredKeys, ct), ct).ConfigureAwait(false);
        return total;
    }

    /// <summary>Deletes the Data Protection keys that expired before <paramref name="expiredBefore"/>. The expiration date is
    /// inside each key's XML, so the few rows (one key per 90 days by default) are read and parsed here; anything that is not
    /// a key with a readable expiration date (a revocation, a malformed row) is kept.</summary>
    static async Task<int> PurgeExpiredKeysAsync(DbConnection conn, DateTimeOffset expiredBefore, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<(string Name, string Xml)>(new CommandDefinition(
            "SELECT name, xml FROM data_protection_keys", cancellationToken: ct)).ConfigureAwait(false);
        var expired = rows.Where(r => KeyExpiration(r.Xml) is { } at && at < expiredBefore).Select(r => new { r.Name }).ToList();
        if (expired.Count == 0) return 0;
        return await conn.ExecuteAsync(new CommandDefinition("DELETE FROM data_protection_keys WHERE name = @Name", expired,
            cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>A Data Protection key element's expiration date (<c>&lt;key&gt;&lt;expirationDate&gt;</c>); null for anything else.</summary>
    static DateTimeOffset? KeyExpiration(string xml)
    {
        try
        {
            var element = System.Xml.Linq.XElement.Parse(xml);
            return element.Name.LocalName == "key" && element.Element("expirationDate")?.Value is { } text
                && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at : null;
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
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
        """
        DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < @AuditBefore ORDER BY id LIMIT @Batch)
        """,
    ];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var deleted = await PurgeAsync(stoppingToken).ConfigureAwait(false);
                if (deleted > 0) _logger.LogInformation("Retention purge removed {Rows} finished rows past their retention", deleted);
                await Task.Delay(_options.PurgeInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogError("Retention purge failed; trying again next interval: {Error}", ex.GetType().Name + ": " + ex.Message);
                try { await Task.Delay(_options.PurgeInterval, _time, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }
}
