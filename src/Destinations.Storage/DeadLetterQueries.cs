using System.Data.Common;
using System.Text;
using System.Text.Json;
using Dapper;

namespace Destinations.Storage;

/// <summary>
/// The dead-letter list and replay statements, shared by the SQLite and PostgreSQL admins: both stores keep the same columns
/// with times as Unix milliseconds, so only how a list of ids is bound differs (<c>IN @Ids</c> / <c>= ANY(@Ids)</c>).
/// </summary>
static class DeadLetterQueries
{
    public static async Task<DeadLetterPage> ListAsync(DbConnection conn, DeadLetterFilter filter, CancellationToken ct)
    {
        var limit = Math.Clamp(filter.Limit, 1, DeadLetterFilter.MaxLimit);
        var (where, args) = Where(filter.DestinationId, filter.Since, filter.Until, filter.Status);
        if (filter.Cursor is { } cursor) { where.Append(" AND d.id > @Cursor"); args.Add("Cursor", cursor); }
        args.Add("Take", limit + 1);
        var rows = (await conn.QueryAsync<DeadRow>(new CommandDefinition($"""
            SELECT d.id AS Id, d.destination_id AS DestinationId, d.subscription AS Subscription, e.message_id AS MessageId,
                   d.event_seq AS EventSeq, d.reason AS Reason, d.attempts AS Attempts, d.created_at AS CreatedAt,
                   d.updated_at AS DeadAt, d.last_status AS LastStatus, d.last_error AS LastError, d.error_class AS ErrorClass,
                   d.last_response AS ResponseExcerpt, d.last_request AS LastRequest, d.replays AS Replays, e.body AS EventBody
            FROM deliveries d JOIN events e ON e.seq = d.event_seq
            WHERE {where} ORDER BY d.id LIMIT @Take
            """, args, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var items = rows.Take(limit).Select(r => r.ToDeadLetter()).ToList();
        return new DeadLetterPage(items, rows.Count > limit ? items[^1].Id : null);
    }

    /// <param name="idsClause">The provider's form of "d.id is one of @Ids".</param>
    public static Task<int> ReplayAsync(DbConnection conn, ReplaySelection selection, DateTimeOffset now, string idsClause, CancellationToken ct)
    {
        var (where, args) = Where(selection.DestinationId, selection.Since, selection.Until, selection.Status);
        if (selection.Ids is { } ids) { where.Append(" AND ").Append(idsClause); args.Add("Ids", ids.ToArray()); }
        args.Add("Now", now.ToUnixTimeMilliseconds());
        // D11: a replay maps afresh with the current settings (plan NULL, no step done); D13: a new age clock and no attempts.
        return conn.ExecuteAsync(new CommandDefinition($"""
            UPDATE deliveries AS d SET status = 'pending', plan = NULL, steps_done = 0, attempts = 0, created_at = @Now,
                first_attempt_at = NULL, held_ms = 0, next_attempt_at = @Now, reason = NULL, replays = d.replays + 1,
                lease_owner = NULL, lease_until = NULL, updated_at = @Now
            WHERE {where}
            """, args, cancellationToken: ct));
    }

    /// <summary>Operator resume (D12): ends a pause or an open breaker; false when the instance was not held.</summary>
    public static async Task<bool> ResumeAsync(IDeliveryQueue queue, string destinationId, CancellationToken ct)
    {
        var wasHeld = false;
        await queue.UpdateInstanceAsync(destinationId, s =>
        {
            wasHeld = s.IsHeld;
            return s.IsHeld ? s.Resumed() : s;
        }, ct).ConfigureAwait(false);
        return wasHeld;
    }

    /// <summary>The dead letters a list, a count and a replay select: one definition, so "Replay all matching" replays what the
    /// list showed.</summary>
    internal static (StringBuilder Where, DynamicParameters Args) Where(string? destinationId, DateTimeOffset? since, DateTimeOffset? until, int? status)
    {
        // "d.status <> 'pending'" is implied by "= 'dead'", but SQLite uses its partial index ix_deliveries_dead (finished rows
        // only, migration 6) only when the query spells out the index's condition.
        var where = new StringBuilder("d.status <> 'pending' AND d.status = 'dead'");
        var args = new DynamicParameters();
        if (destinationId is not null) { where.Append(" AND d.destination_id = @Destination"); args.Add("Destination", destinationId); }
        if (since is { } s) { where.Append(" AND d.updated_at >= @Since"); args.Add("Since", s.ToUnixTimeMilliseconds()); }
        if (until is { } u) { where.Append(" AND d.updated_at < @Until"); args.Add("Until", u.ToUnixTimeMilliseconds()); }
        if (status is { } st) { where.Append(" AND d.last_status = @Status"); args.Add("Status", st); }
        return (where, args);
    }

    sealed class DeadRow
    {
        public long Id { get; set; }
        public string DestinationId { get; set; } = "";
        public string Subscription { get; set; } = "";
        public string MessageId { get; set; } = "";
        public long EventSeq { get; set; }
        public string? Reason { get; set; }
        public long Attempts { get; set; }
        public long CreatedAt { get; set; }
        public long DeadAt { get; set; }
        public long? LastStatus { get; set; }
        public string? LastError { get; set; }
        public string? ErrorClass { get; set; }
        public string? ResponseExcerpt { get; set; }
        public string? LastRequest { get; set; }
        public long Replays { get; set; }
        public string EventBody { get; set; } = "";

        public DeadLetter ToDeadLetter() => new(Id, DestinationId, Subscription, MessageId, EventSeq, Reason, (int)Attempts,
            DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(DeadAt), (int?)LastStatus,
            LastError, ErrorClass, ResponseExcerpt,
            LastRequest is null ? null : JsonSerializer.Deserialize<RequestDescription>(LastRequest), (int)Replays, EventBody);
    }
}
