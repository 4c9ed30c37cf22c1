using Dapper;
using Destinations.Core.Delivery;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Destinations.Storage.Postgres;

/// <summary>
/// <see cref="IDeliveryQueue"/> on PostgreSQL, shared by N replicas: each replica leases partitions of every instance's log
/// and reads them from their cursors (<see cref="PostgresLog"/>); rows exist only for deliveries that need state, and are
/// claimed with <c>FOR UPDATE SKIP LOCKED</c>. Claims and outcomes of this replica go through one writer
/// (<see cref="PostgresDispatchWriter"/>); every write checks the lease (of the row, or of the log claim and its partition),
/// so a worker whose lease ran out and was taken over cannot overwrite the new owner's outcome.
/// </summary>
public sealed class PostgresDeliveryQueue : IDeliveryQueue, ISharedRateLimits, IAsyncDisposable
{
    const string ClearLease = "lease_owner = NULL, lease_until = NULL";

    readonly PostgresDatabase db;
    readonly TimeProvider time;
    readonly DispatchSignal? signal;
    readonly PostgresDispatchWriter _writer;

    public PostgresDeliveryQueue(PostgresDatabase db, TimeProvider time, DispatchSignal? signal = null, IOptions<StorageOptions>? options = null)
    {
        this.db = db;
        this.time = time;
        this.signal = signal;
        var partitions = options?.Value.Partitions ?? new StorageOptions().Partitions;
        _writer = new PostgresDispatchWriter(db, new PostgresLog(db, new PostgresPartitionLeases(db, time), Guid.NewGuid().ToString("N"), partitions));
    }

    /// <summary>This replica's id in the partition leases (<c>cursor_leases.owner</c>).</summary>
    public string Replica => _writer.Log.Replica;

    public Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(ClaimRequest request, CancellationToken ct) =>
        _writer.ClaimAsync(request, time.GetUtcNow(), ct);

    public Task ThrottleAsync(string destinationId, DateTimeOffset throttledUntil, DateTimeOffset? blockedUntil, CancellationToken ct) =>
        PostgresRateLimits.ThrottleAsync(db, destinationId, time.GetUtcNow().ToUnixTimeMilliseconds(), throttledUntil.ToUnixTimeMilliseconds(),
            blockedUntil?.ToUnixTimeMilliseconds() ?? 0, ct);

    /// <summary>All outcomes in one transaction, shared with the other workers' claims and outcomes queued meanwhile.</summary>
    public Task<bool[]> SettleAsync(IReadOnlyList<Settlement> settlements, CancellationToken ct) =>
        settlements.Count == 0 ? Task.FromResult(Array.Empty<bool>())
            : _writer.SettleAsync(settlements, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);

    /// <summary>An orderly stop: this replica's partitions pass to the others at once.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _writer.Log.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or ObjectDisposedException or InvalidOperationException)
        {
            // The database is gone or going: the leases simply run out.
        }
    }

    public async Task<InstanceState> GetInstanceAsync(string destinationId, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await InstanceStateQueries.ReadAsync(conn, null, destinationId, ct).ConfigureAwait(false);
    }

    public async Task<InstanceState> UpdateInstanceAsync(string destinationId, Func<InstanceState, InstanceState> change, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        // Read-modify-write across replicas: a transaction-scoped advisory lock per instance (the row may not exist yet).
        await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtext('destination_state'), hashtext(@Id))",
            new { Id = destinationId }, tx, cancellationToken: ct)).ConfigureAwait(false);
        var before = await InstanceStateQueries.ReadAsync(conn, tx, destinationId, ct).ConfigureAwait(false);
        var next = change(before);
        if (next != before) await PostgresInstanceStates.WriteAsync(conn, tx, before, next, time.GetUtcNow(), ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        if (before.IsHeld && !next.IsHeld) signal?.Notify();
        return next;
    }

    public async Task<int> ExpireHeldAsync(TimeSpan pausedMaxAge, CancellationToken ct)
    {
        // Events still in the log are dead-lettered when their cursor reaches them (PostgresLog), with this age.
        _writer.Log.PausedMaxAge = pausedMaxAge;
        var now = time.GetUtcNow();
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        // Only rows not leased: a canary in flight decides for itself. The held time counts from the later of the hold's
        // start and the row's creation (D12 "held longer than PausedMaxAge").
        return await conn.ExecuteAsync(new CommandDefinition($"""
            UPDATE deliveries d SET status = 'dead', updated_at = @Now, {ClearLease},
                reason = 'held for more than ' || @MaxAgeText || ' while the instance was ' ||
                    CASE s.hold WHEN 'paused' THEN 'paused' ELSE 'held by its circuit breaker' END || ' (Delivery:PausedMaxAge)'
            FROM destination_state s
            WHERE s.destination_id = d.destination_id AND s.hold IS NOT NULL AND d.status = 'pending'
              AND (d.lease_until IS NULL OR d.lease_until < @Now) AND @Now - GREATEST(s.held_since, d.created_at) > @MaxAgeMs
            """, new { Now = now.ToUnixTimeMilliseconds(), MaxAgeMs = (long)pausedMaxAge.TotalMilliseconds, MaxAgeText = FormatSpan(pausedMaxAge) },
            cancellationToken: ct)).ConfigureAwait(false);
    }

    static string FormatSpan(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h" : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#} min" : $"{t.TotalSeconds:0.#} s";

    public Task<DestinationStats> GetStatsAsync(string destinationId, CancellationToken ct) => PostgresStats.ReadAsync(db, destinationId, ct);

    public async Task<bool> IsReadyAsync(CancellationToken ct)
    {
        try
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            await conn.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: ct)).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            return false;
        }
    }
}
