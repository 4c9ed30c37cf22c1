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
    const string WhereLeased = "WHERE id = @Id AND lease_owner = @Owner AND status = 'pending'";
    readonly SqliteOutcomeWriter _outcomes = new(db);

    public Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(ClaimRequest request, CancellationToken ct) =>
        SqliteClaim.ClaimAsync(db, request, time.GetUtcNow(), ct);

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
        """, d, Failure(failure, request, new { Next = SqliteDatabase.ToUnixMs(nextAttemptAt) }), ct);

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
        UPDATE deliveries SET next_attempt_at = MAX(next_attempt_at, @Until), updated_at = @Now, {ClearLease} {WhereLeased}
        """, d, new { Until = SqliteDatabase.ToUnixMs(until) }, ct);

    public async Task<InstanceState> GetInstanceAsync(string destinationId, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await SqliteInstanceStates.ReadAsync(conn, null, destinationId, ct).ConfigureAwait(false);
    }

    public async Task<InstanceState> UpdateInstanceAsync(string destinationId, Func<InstanceState, InstanceState> change, CancellationToken ct)
    {
        using var gate = await db.EnterWriteAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        using var tx = conn.BeginTransaction(deferred: false);
        var before = await SqliteInstanceStates.ReadAsync(conn, tx, destinationId, ct).ConfigureAwait(false);
        var next = change(before);
        if (next != before) await SqliteInstanceStates.WriteAsync(conn, tx, before, next, time.GetUtcNow(), ct).ConfigureAwait(false);
        tx.Commit();
        if (before.IsHeld && !next.IsHeld) signal?.Notify();
        return next;
    }

    public async Task<int> ExpireHeldAsync(TimeSpan pausedMaxAge, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        using var gate = await db.EnterWriteAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        // Only rows not leased: a canary in flight decides for itself. The held time counts from the later of the hold's
        // start and the row's creation (D12 "held longer than PausedMaxAge").
        return await conn.ExecuteAsync(new CommandDefinition($"""
            UPDATE deliveries SET status = 'dead', updated_at = @Now, {ClearLease},
                reason = 'held for more than ' || @MaxAgeText || ' while the instance was ' ||
                    (SELECT CASE s.hold WHEN 'paused' THEN 'paused' ELSE 'held by its circuit breaker' END
                     FROM destination_state s WHERE s.destination_id = deliveries.destination_id) || ' (PausedMaxAge, D12)'
            WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < @Now) AND EXISTS (
                SELECT 1 FROM destination_state s WHERE s.destination_id = deliveries.destination_id AND s.hold IS NOT NULL
                  AND @Now - MAX(s.held_since, deliveries.created_at) > @MaxAgeMs)
            """, new { Now = SqliteDatabase.ToUnixMs(now), MaxAgeMs = (long)pausedMaxAge.TotalMilliseconds, MaxAgeText = FormatSpan(pausedMaxAge) },
            cancellationToken: ct)).ConfigureAwait(false);
    }

    static string FormatSpan(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h" : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#} min" : $"{t.TotalSeconds:0.#} s";

    static DynamicParameters Failure(AttemptResult? failure, RequestDescription? request, object values)
    {
        var p = new DynamicParameters(values);
        p.Add("LastStatus", failure?.StatusCode);
        p.Add("LastError", failure?.Error);
        p.Add("LastResponse", failure?.ResponseExcerpt);
        p.Add("LastRequest", request is null ? null : System.Text.Json.JsonSerializer.Serialize(request));
        p.Add("ErrorClass", failure is null ? null : ErrorClass(failure));
        return p;
    }

    /// <summary>A short, stable class for a failure: the outcome and the HTTP status, or the kind of network error.</summary>
    public static string ErrorClass(AttemptResult r) =>
        $"{r.Outcome}: " + (r.StatusCode is { } s ? $"HTTP {s.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
                                                 : r.Error?.Split(':')[0] ?? "no answer");

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

    async Task<bool> UpdateAsync(string sql, ClaimedDelivery d, object values, CancellationToken ct)
    {
        var parameters = values as DynamicParameters ?? new DynamicParameters(values);
        parameters.Add("Id", d.Id);
        parameters.Add("Owner", d.LeaseOwner);
        parameters.Add("Now", SqliteDatabase.ToUnixMs(time.GetUtcNow()));
        // Group commit with the other workers' outcomes: one transaction for all that is queued.
        return await _outcomes.ExecuteAsync(sql, parameters, ct).ConfigureAwait(false) == 1;
    }
}
