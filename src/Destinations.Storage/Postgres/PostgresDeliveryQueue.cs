using Dapper;
using Destinations.Core.Delivery;
using Destinations.Storage.Sqlite;
using Npgsql;

namespace Destinations.Storage.Postgres;

/// <summary>
/// <see cref="IDeliveryQueue"/> on PostgreSQL, shared by N replicas (issue #6): the claim picks rows with
/// <c>FOR UPDATE SKIP LOCKED</c> and leases them in one transaction; every later write checks the lease owner (as on
/// SQLite), so a worker whose lease ran out and was taken over cannot overwrite the new owner's outcome.
/// </summary>
public sealed class PostgresDeliveryQueue(PostgresDatabase db, TimeProvider time, DispatchSignal? signal = null) : IDeliveryQueue, ISharedRateLimits
{
    const string ClearLease = "lease_owner = NULL, lease_until = NULL";
    const string WhereLeased = "WHERE id = @Id AND lease_owner = @Owner AND status = 'pending'";

    public Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(ClaimRequest request, CancellationToken ct) =>
        PostgresClaim.ClaimAsync(db, request, time.GetUtcNow(), ct);

    public Task ThrottleAsync(string destinationId, DateTimeOffset throttledUntil, DateTimeOffset? blockedUntil, CancellationToken ct) =>
        PostgresRateLimits.ThrottleAsync(db, destinationId, time.GetUtcNow().ToUnixTimeMilliseconds(), throttledUntil.ToUnixTimeMilliseconds(),
            blockedUntil?.ToUnixTimeMilliseconds() ?? 0, ct);

    public Task<bool> SavePlanAsync(ClaimedDelivery d, string planJson, CancellationToken ct) => UpdateAsync(
        $"UPDATE deliveries SET plan = @Plan, first_attempt_at = COALESCE(first_attempt_at, @Now), updated_at = @Now {WhereLeased}",
        d, new { Plan = planJson }, ct);

    public Task<bool> RecordStepsDoneAsync(ClaimedDelivery d, int stepsDone, CancellationToken ct) => UpdateAsync(
        $"UPDATE deliveries SET steps_done = @Steps, updated_at = @Now {WhereLeased}", d, new { Steps = stepsDone }, ct);

    public Task<bool> MarkDeliveredAsync(ClaimedDelivery d, int stepsDone, CancellationToken ct) => UpdateAsync($"""
        UPDATE deliveries SET status = 'delivered', steps_done = @Steps, attempts = attempts + 1,
            first_attempt_at = COALESCE(first_attempt_at, @Now), updated_at = @Now, {ClearLease} {WhereLeased}
        """, d, new { Steps = stepsDone }, ct);

    public Task<bool> MarkFilteredAsync(ClaimedDelivery d, string reason, CancellationToken ct) => MarkFinalAsync(d, "filtered", reason, ct);

    public Task<bool> MarkInvalidAsync(ClaimedDelivery d, string reason, CancellationToken ct) => MarkFinalAsync(d, "invalid", reason, ct);

    Task<bool> MarkFinalAsync(ClaimedDelivery d, string status, string reason, CancellationToken ct) => UpdateAsync($"""
        UPDATE deliveries SET status = @Status, reason = @Reason,
            first_attempt_at = COALESCE(first_attempt_at, @Now), updated_at = @Now, {ClearLease} {WhereLeased}
        """, d, new { Status = status, Reason = reason }, ct);

    const string SetLastFailure = """
        last_status = COALESCE(@LastStatus, last_status), last_error = COALESCE(@LastError, last_error),
        last_response = COALESCE(@LastResponse, last_response), last_request = COALESCE(@LastRequest, last_request),
        error_class = COALESCE(@ErrorClass, error_class)
        """;

    public Task<bool> ScheduleRetryAsync(ClaimedDelivery d, DateTimeOffset nextAttemptAt, AttemptResult failure, RequestDescription? request, CancellationToken ct) => UpdateAsync($"""
        UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = @Next, {SetLastFailure},
            first_attempt_at = COALESCE(first_attempt_at, @Now), updated_at = @Now, {ClearLease} {WhereLeased}
        """, d, Failure(failure, request, new { Next = nextAttemptAt.ToUnixTimeMilliseconds() }), ct);

    public Task<bool> MarkDeadAsync(ClaimedDelivery d, string reason, AttemptResult? failure, RequestDescription? request, CancellationToken ct) => UpdateAsync($"""
        UPDATE deliveries SET status = 'dead', reason = @Reason, attempts = attempts + @Counted, {SetLastFailure},
            updated_at = @Now, {ClearLease} {WhereLeased}
        """, d, Failure(failure, request, new { Reason = reason, Counted = failure is null ? 0 : 1 }), ct);

    public Task<bool> ReleaseAsync(ClaimedDelivery d, CancellationToken ct) =>
        UpdateAsync($"UPDATE deliveries SET updated_at = @Now, {ClearLease} {WhereLeased}", d, new { }, ct);

    public Task<bool> HoldAsync(ClaimedDelivery d, AttemptResult failure, RequestDescription? request, CancellationToken ct) => UpdateAsync($"""
        UPDATE deliveries SET {SetLastFailure}, updated_at = @Now, {ClearLease} {WhereLeased}
        """, d, Failure(failure, request, new { }), ct);

    public Task<bool> PostponeAsync(ClaimedDelivery d, DateTimeOffset until, CancellationToken ct) => UpdateAsync($"""
        UPDATE deliveries SET next_attempt_at = GREATEST(next_attempt_at, @Until), updated_at = @Now, {ClearLease} {WhereLeased}
        """, d, new { Until = until.ToUnixTimeMilliseconds() }, ct);

    public async Task<InstanceState> GetInstanceAsync(string destinationId, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await PostgresInstanceStates.ReadAsync(conn, null, destinationId, ct).ConfigureAwait(false);
    }

    public async Task<InstanceState> UpdateInstanceAsync(string destinationId, Func<InstanceState, InstanceState> change, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        // Read-modify-write across replicas: a transaction-scoped advisory lock per instance (the row may not exist yet).
        await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtext('destination_state'), hashtext(@Id))",
            new { Id = destinationId }, tx, cancellationToken: ct)).ConfigureAwait(false);
        var before = await PostgresInstanceStates.ReadAsync(conn, tx, destinationId, ct).ConfigureAwait(false);
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
                    CASE s.hold WHEN 'paused' THEN 'paused' ELSE 'held by its circuit breaker' END || ' (PausedMaxAge, D12)'
            FROM destination_state s
            WHERE s.destination_id = d.destination_id AND s.hold IS NOT NULL AND d.status = 'pending'
              AND (d.lease_until IS NULL OR d.lease_until < @Now) AND @Now - GREATEST(s.held_since, d.created_at) > @MaxAgeMs
            """, new { Now = now.ToUnixTimeMilliseconds(), MaxAgeMs = (long)pausedMaxAge.TotalMilliseconds, MaxAgeText = FormatSpan(pausedMaxAge) },
            cancellationToken: ct)).ConfigureAwait(false);
    }

    static string FormatSpan(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h" : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#} min" : $"{t.TotalSeconds:0.#} s";

    static DynamicParameters Failure(AttemptResult? failure, RequestDescription? request, object values)
    {
        var p = new DynamicParameters(values);
        // Typed, so a NULL is still a typed parameter for PostgreSQL.
        p.Add("LastStatus", (long?)failure?.StatusCode, System.Data.DbType.Int64);
        p.Add("LastError", failure?.Error, System.Data.DbType.String);
        p.Add("LastResponse", failure?.ResponseExcerpt, System.Data.DbType.String);
        p.Add("LastRequest", request is null ? null : System.Text.Json.JsonSerializer.Serialize(request), System.Data.DbType.String);
        p.Add("ErrorClass", failure is null ? null : SqliteDeliveryQueue.ErrorClass(failure), System.Data.DbType.String);
        return p;
    }

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

    async Task<bool> UpdateAsync(string sql, ClaimedDelivery d, object values, CancellationToken ct)
    {
        var parameters = values as DynamicParameters ?? new DynamicParameters(values);
        parameters.Add("Id", d.Id);
        parameters.Add("Owner", d.LeaseOwner);
        parameters.Add("Now", time.GetUtcNow().ToUnixTimeMilliseconds());
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await conn.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: ct)).ConfigureAwait(false) == 1;
    }
}
