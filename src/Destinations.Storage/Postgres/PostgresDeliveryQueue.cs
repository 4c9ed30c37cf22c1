using Dapper;
using Destinations.Core.Delivery;
using Destinations.Storage.Sqlite;
using Npgsql;

namespace Destinations.Storage.Postgres;

/// <summary>
/// <see cref="IDeliveryQueue"/> on PostgreSQL, shared by N replicas: the claim picks rows with
/// <c>FOR UPDATE SKIP LOCKED</c> and leases them in one transaction; every later write checks the lease owner (as on
/// SQLite), so a worker whose lease ran out and was taken over cannot overwrite the new owner's outcome.
/// </summary>
public sealed class PostgresDeliveryQueue(PostgresDatabase db, TimeProvider time, DispatchSignal? signal = null) : IDeliveryQueue, ISharedRateLimits
{
    const string ClearLease = "lease_owner = NULL, lease_until = NULL";

    public Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(ClaimRequest request, CancellationToken ct) =>
        PostgresClaim.ClaimAsync(db, request, time.GetUtcNow(), ct);

    public Task ThrottleAsync(string destinationId, DateTimeOffset throttledUntil, DateTimeOffset? blockedUntil, CancellationToken ct) =>
        PostgresRateLimits.ThrottleAsync(db, destinationId, time.GetUtcNow().ToUnixTimeMilliseconds(), throttledUntil.ToUnixTimeMilliseconds(),
            blockedUntil?.ToUnixTimeMilliseconds() ?? 0, ct);

    /// <summary>All rows in one round trip: one <see cref="NpgsqlBatch"/> of fixed, positional statements, which PostgreSQL runs
    /// as one implicit transaction (one commit, however many rows).</summary>
    public async Task<bool[]> SettleAsync(IReadOnlyList<Settlement> settlements, CancellationToken ct)
    {
        var written = new bool[settlements.Count];
        if (settlements.Count == 0) return written;
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(conn);
        foreach (var settlement in settlements)
        {
            var statement = SettlementStatements.Postgres.For(settlement.Kind);
            var command = new NpgsqlBatchCommand(statement.Sql);
            foreach (var p in statement.Parameters)
                command.Parameters.Add(new NpgsqlParameter
                {
                    NpgsqlDbType = SettlementStatement.IsNumber(p) ? NpgsqlTypes.NpgsqlDbType.Bigint : NpgsqlTypes.NpgsqlDbType.Text,
                    Value = SettlementStatements.Value(p, settlement, nowMs) ?? DBNull.Value,
                });
            batch.BatchCommands.Add(command);
        }
        AddOutcomeCounts(batch, settlements, nowMs);
        AddPartnerCalls(batch, settlements, nowMs);
        await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        for (var i = 0; i < written.Length; i++) written[i] = batch.BatchCommands[i].RecordsAffected == 1;
        return written;
    }

    // Counts only the rows this batch wrote: a settled row has this batch's updated_at, its outcome's status and no lease (a
    // row whose lease was lost keeps the new owner's values). Per instance and outcome, in a fixed order, so concurrent batches
    // of several replicas take the counter rows' locks in the same order (no deadlock).
    const string AddOutcomeCount = """
        INSERT INTO outcome_counts (destination_id, minute, outcome, count)
        SELECT $1, $2, $3, COUNT(*) FROM deliveries WHERE id = ANY($4) AND status = $5 AND updated_at = $6 AND lease_owner IS NULL
        HAVING COUNT(*) > 0
        ON CONFLICT (destination_id, minute, outcome) DO UPDATE SET count = outcome_counts.count + excluded.count
        """;

    /// <summary>The per-minute outcome counters (the console's charts), written in the same implicit transaction as the rows.</summary>
    static void AddOutcomeCounts(NpgsqlBatch batch, IReadOnlyList<Settlement> settlements, long nowMs)
    {
        var groups = settlements
            .Select(s => (s.Delivery.DestinationId, Outcome: SqliteLog.OutcomeOf(s.Kind), s.Delivery.Id))
            .Where(g => g.Outcome is not null)
            .GroupBy(g => (g.DestinationId, Outcome: g.Outcome!))
            .OrderBy(g => g.Key.DestinationId, StringComparer.Ordinal).ThenBy(g => g.Key.Outcome, StringComparer.Ordinal);
        foreach (var g in groups)
        {
            var command = new NpgsqlBatchCommand(AddOutcomeCount);
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, Value = g.Key.DestinationId });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint, Value = nowMs / 60_000 * 60_000 });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, Value = g.Key.Outcome });
            command.Parameters.Add(new NpgsqlParameter
            {
                NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint, Value = g.Select(x => x.Id).ToArray(),
            });
            command.Parameters.Add(new NpgsqlParameter
            {
                NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, Value = g.Key.Outcome == "retried" ? "pending" : g.Key.Outcome,
            });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint, Value = nowMs });
            batch.BatchCommands.Add(command);
        }
    }

    // One record per call, carrying only the rows this batch wrote (as the counters above: this batch's updated_at, and no
    // lease, or still ours after a progress step); a call none of whose rows was written leaves no record.
    const string AddPartnerCall = """
        INSERT INTO partner_calls (destination_id, at, status, step, first_seq, last_seq, seqs)
        SELECT $1, $2, $3, $4, MIN(event_seq), MAX(event_seq), string_agg(event_seq::text, ',' ORDER BY event_seq)
        FROM deliveries WHERE id = ANY($5) AND updated_at = $6 AND (lease_owner IS NULL OR lease_owner = $7)
        HAVING COUNT(*) > 0
        """;

    /// <summary>The partner calls these outcomes came from, one record per call (the items of a shared call, D15, carry the
    /// same record and instance), in the same implicit transaction as the rows.</summary>
    static void AddPartnerCalls(NpgsqlBatch batch, IReadOnlyList<Settlement> settlements, long nowMs)
    {
        Dictionary<PartnerCallRecord, (ClaimedDelivery First, List<long> Ids)>? calls = null;
        foreach (var s in settlements)
        {
            if (s.Call is not { } call) continue;
            calls ??= new(ReferenceEqualityComparer.Instance);
            if (!calls.TryGetValue(call, out var entry)) calls[call] = entry = (s.Delivery, []);
            entry.Ids.Add(s.Delivery.Id);
        }
        if (calls is null) return;
        foreach (var (call, (first, ids)) in calls)
        {
            var command = new NpgsqlBatchCommand(AddPartnerCall);
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, Value = first.DestinationId });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint, Value = call.At.ToUnixTimeMilliseconds() });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint, Value = (object?)(long?)call.Status ?? DBNull.Value });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, Value = call.Step });
            command.Parameters.Add(new NpgsqlParameter
            {
                NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint, Value = ids.ToArray(),
            });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint, Value = nowMs });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, Value = first.LeaseOwner });
            batch.BatchCommands.Add(command);
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
