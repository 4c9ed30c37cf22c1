using Dapper;
using Destinations.Core.Delivery;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// <see cref="IDeliveryQueue"/> on SQLite. A claim is one IMMEDIATE transaction (select due rows, lease them), so two
/// workers never lease the same row; every later write checks the lease owner, so a worker whose lease ran out and was
/// taken over cannot overwrite the new owner's outcome.
/// </summary>
public sealed class SqliteDeliveryQueue(SqliteDatabase db, TimeProvider time, DispatchSignal? signal = null) : IDeliveryQueue
{
    const string ClearLease = "lease_owner = NULL, lease_until = NULL";
    readonly SqliteDispatchWriter _writer = new(db);

    /// <summary>On the dispatch writer (<see cref="SqliteDispatchWriter"/>), in one transaction with the outcomes queued with it.</summary>
    public Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(ClaimRequest request, CancellationToken ct) =>
        _writer.ClaimAsync(request, time.GetUtcNow(), ct);

    /// <summary>Group-committed with the other workers' outcomes and claims (<see cref="SqliteDispatchWriter"/>): one
    /// transaction for all that is queued.</summary>
    public Task<bool[]> SettleAsync(IReadOnlyList<Settlement> settlements, CancellationToken ct) =>
        settlements.Count == 0 ? Task.FromResult(Array.Empty<bool>())
            : _writer.SettleAsync(settlements, SqliteDatabase.ToUnixMs(time.GetUtcNow()), ct);

    public async Task<InstanceState> GetInstanceAsync(string destinationId, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await InstanceStateQueries.ReadAsync(conn, null, destinationId, ct).ConfigureAwait(false);
    }

    public async Task<InstanceState> UpdateInstanceAsync(string destinationId, Func<InstanceState, InstanceState> change, CancellationToken ct)
    {
        using var gate = await db.EnterWriteAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        using var tx = conn.BeginTransaction(deferred: false);
        var before = await InstanceStateQueries.ReadAsync(conn, tx, destinationId, ct).ConfigureAwait(false);
        var next = change(before);
        if (next != before) await SqliteInstanceStates.WriteAsync(conn, tx, before, next, time.GetUtcNow(), ct).ConfigureAwait(false);
        tx.Commit();
        if (before.IsHeld && !next.IsHeld) signal?.Notify();
        return next;
    }

    public async Task<int> ExpireHeldAsync(TimeSpan pausedMaxAge, CancellationToken ct)
    {
        // Events still in the log are dead-lettered when their cursor reaches them (SqliteLog), with this age.
        _writer.Log.PausedMaxAge = pausedMaxAge;
        var now = time.GetUtcNow();
        using var gate = await db.EnterWriteAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        // Only rows not leased: a canary in flight decides for itself. The held time counts from the later of the hold's
        // start and the row's creation (D12 "held longer than PausedMaxAge").
        return await conn.ExecuteAsync(new CommandDefinition($"""
            UPDATE deliveries SET status = 'dead', updated_at = @Now, {ClearLease},
                reason = 'held for more than ' || @MaxAgeText || ' while the instance was ' ||
                    (SELECT CASE s.hold WHEN 'paused' THEN 'paused' ELSE 'held by its circuit breaker' END
                     FROM destination_state s WHERE s.destination_id = deliveries.destination_id) || ' (Delivery:PausedMaxAge)'
            WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < @Now) AND EXISTS (
                SELECT 1 FROM destination_state s WHERE s.destination_id = deliveries.destination_id AND s.hold IS NOT NULL
                  AND @Now - MAX(s.held_since, deliveries.created_at) > @MaxAgeMs)
            """, new { Now = SqliteDatabase.ToUnixMs(now), MaxAgeMs = (long)pausedMaxAge.TotalMilliseconds, MaxAgeText = FormatSpan(pausedMaxAge) },
            cancellationToken: ct)).ConfigureAwait(false);
    }

    static string FormatSpan(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h" : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#} min" : $"{t.TotalSeconds:0.#} s";

    public Task<DestinationStats> GetStatsAsync(string destinationId, CancellationToken ct) => SqliteStats.ReadAsync(db, destinationId, ct);

    public async Task<bool> IsReadyAsync(CancellationToken ct)
    {
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            await conn.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM schema_version", cancellationToken: ct)).ConfigureAwait(false);
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }
}
