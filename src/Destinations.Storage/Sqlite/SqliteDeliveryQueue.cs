using Dapper;
using Destinations.Core.Delivery;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// <see cref="IDeliveryQueue"/> on SQLite. A claim is one IMMEDIATE transaction (select due rows, lease them), so two
/// workers never lease the same row; every later write checks the lease owner, so a worker whose lease ran out and was
/// taken over cannot overwrite the new owner's outcome.
/// </summary>
public sealed class SqliteDeliveryQueue(SqliteDatabase db, TimeProvider time) : IDeliveryQueue
{
    const string ClearLease = "lease_owner = NULL, lease_until = NULL";
    const string WhereLeased = "WHERE id = @Id AND lease_owner = @Owner AND status = 'pending'";

    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(string owner, int max, TimeSpan lease, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var nowMs = SqliteDatabase.ToUnixMs(now);
        var untilMs = SqliteDatabase.ToUnixMs(now + lease);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        using var tx = conn.BeginTransaction(deferred: false);
        var rows = (await conn.QueryAsync<ClaimRow>(new CommandDefinition("""
            SELECT d.id AS Id, d.event_seq AS EventSeq, d.destination_id AS DestinationId, d.subscription AS Subscription,
                   e.message_id AS MessageId, e.body AS EventBody, d.plan AS Plan, d.steps_done AS StepsDone,
                   d.attempts AS Attempts, d.created_at AS CreatedAt, d.first_attempt_at AS FirstAttemptAt
            FROM deliveries d JOIN events e ON e.seq = d.event_seq
            WHERE d.status = 'pending' AND d.next_attempt_at <= @Now AND (d.lease_until IS NULL OR d.lease_until < @Now)
            ORDER BY d.next_attempt_at, d.id
            LIMIT @Max
            """, new { Now = nowMs, Max = max }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        if (rows.Count > 0)
            await conn.ExecuteAsync(new CommandDefinition(
                "UPDATE deliveries SET lease_owner = @Owner, lease_until = @Until WHERE id IN @Ids",
                new { Owner = owner, Until = untilMs, Ids = rows.Select(r => r.Id).ToArray() }, tx, cancellationToken: ct)).ConfigureAwait(false);
        tx.Commit();
        return rows.Select(r => new ClaimedDelivery(r.Id, r.EventSeq, r.DestinationId, r.Subscription, r.MessageId, r.EventBody,
            r.Plan, (int)r.StepsDone, (int)r.Attempts, SqliteDatabase.FromUnixMs(r.CreatedAt),
            r.FirstAttemptAt is { } f ? SqliteDatabase.FromUnixMs(f) : null, owner, SqliteDatabase.FromUnixMs(untilMs))).ToList();
    }

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

    public Task<bool> ScheduleRetryAsync(ClaimedDelivery d, DateTimeOffset nextAttemptAt, AttemptResult failure, CancellationToken ct) => UpdateAsync($"""
        UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = @Next,
            last_status = @LastStatus, last_error = @LastError, last_response = @LastResponse,
            first_attempt_at = COALESCE(first_attempt_at, @Now), updated_at = @Now, {ClearLease} {WhereLeased}
        """, d, new { Next = SqliteDatabase.ToUnixMs(nextAttemptAt), LastStatus = failure.StatusCode, LastError = failure.Error, LastResponse = failure.ResponseExcerpt }, ct);

    public Task<bool> MarkDeadAsync(ClaimedDelivery d, string reason, AttemptResult? failure, CancellationToken ct) => UpdateAsync($"""
        UPDATE deliveries SET status = 'dead', reason = @Reason, attempts = attempts + @Counted,
            last_status = COALESCE(@LastStatus, last_status), last_error = COALESCE(@LastError, last_error),
            last_response = COALESCE(@LastResponse, last_response), updated_at = @Now, {ClearLease} {WhereLeased}
        """, d, new { Reason = reason, Counted = failure is null ? 0 : 1, LastStatus = failure?.StatusCode, LastError = failure?.Error, LastResponse = failure?.ResponseExcerpt }, ct);

    public Task<bool> ReleaseAsync(ClaimedDelivery d, CancellationToken ct) =>
        UpdateAsync($"UPDATE deliveries SET updated_at = @Now, {ClearLease} {WhereLeased}", d, new { }, ct);

    public async Task<DestinationStats> GetStatsAsync(string destinationId, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        var args = new { Destination = destinationId };
        var byStatus = (await conn.QueryAsync<(string Status, long Attempted, long Count)>(new CommandDefinition("""
            SELECT status, attempts > 0, COUNT(*) FROM deliveries WHERE destination_id = @Destination GROUP BY status, attempts > 0
            """, args, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        // D8: router-time counters and mapper-time rows together, by reason.
        var filtered = (await conn.QueryAsync<(string Reason, long Count)>(new CommandDefinition("""
            SELECT reason, SUM(n) FROM (
                SELECT reason, count AS n FROM filter_counts WHERE destination_id = @Destination
                UNION ALL
                SELECT COALESCE(reason, ''), 1 FROM deliveries WHERE destination_id = @Destination AND status = 'filtered')
            GROUP BY reason ORDER BY reason
            """, args, cancellationToken: ct)).ConfigureAwait(false)).ToDictionary(r => r.Reason, r => r.Count, StringComparer.Ordinal);
        var duplicates = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COALESCE(SUM(count), 0) FROM duplicate_counts WHERE destination_id = @Destination", args, cancellationToken: ct)).ConfigureAwait(false);

        long Count(string status, bool? attempted = null) =>
            byStatus.Where(s => s.Status == status && (attempted is null || (s.Attempted != 0) == attempted)).Sum(s => s.Count);
        return new DestinationStats(destinationId, Count("pending", false), Count("pending", true), Count("delivered"),
            Count("invalid"), Count("dead"), filtered, duplicates);
    }

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
        var parameters = new DynamicParameters(values);
        parameters.Add("Id", d.Id);
        parameters.Add("Owner", d.LeaseOwner);
        parameters.Add("Now", SqliteDatabase.ToUnixMs(time.GetUtcNow()));
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await conn.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: ct)).ConfigureAwait(false) == 1;
    }

    sealed class ClaimRow
    {
        public long Id { get; set; }
        public long EventSeq { get; set; }
        public string DestinationId { get; set; } = "";
        public string Subscription { get; set; } = "";
        public string MessageId { get; set; } = "";
        public string EventBody { get; set; } = "";
        public string? Plan { get; set; }
        public long StepsDone { get; set; }
        public long Attempts { get; set; }
        public long CreatedAt { get; set; }
        public long? FirstAttemptAt { get; set; }
    }
}
