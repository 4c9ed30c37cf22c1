using Dapper;

namespace Destinations.Storage.Postgres;

/// <summary><see cref="IEventHistory"/> on PostgreSQL: the event found through its messageId hash (ix_events_id_hash), its rows,
/// the partner calls that carried it (<c>partner_calls</c>, as on SQLite), and for deliveries without a row the cursor of the
/// event's partition (before it: delivered on the first pass). The per-minute outcome counters (<c>outcome_counts</c>) give
/// the timeline.</summary>
public sealed class PostgresEventHistory(PostgresDatabase db) : IEventHistory, IOutcomeTimeline
{
    const string EventColumns = """
        seq AS Seq, source_id AS SourceId, message_id AS MessageId, type AS Type, routes AS Routes, filtered AS Filtered,
        body AS Body, user_key AS UserKey, COALESCE(accepted_at, received_at) AS AcceptedAt
        """;

    // Found through its messageId hash (ix_events_id_hash, D5), confirmed on the full id.
    public Task<IReadOnlyList<EventStory>> GetAsync(string messageId, string? sourceId, CancellationToken ct) =>
        ReadAsync($"""
            SELECT {EventColumns}
            FROM events WHERE id_hash = @Hash AND message_id = @MessageId AND (@Source::text IS NULL OR source_id = @Source)
            """, new { Hash = Sqlite.LogRoutes.Hash(messageId), MessageId = messageId, Source = sourceId }, newestFirst: false, ct);

    // The log has no index on the user key (it would cost every ingest commit for an operator's question): the search is
    // bounded to the recent log, as on SQLite.
    public Task<IReadOnlyList<EventStory>> GetByUserAsync(string userKey, int limit, CancellationToken ct) =>
        ReadAsync($"""
            SELECT {EventColumns}
            FROM events WHERE seq > (SELECT COALESCE(MAX(seq), 0) FROM events) - @Window AND user_key = @User
            ORDER BY seq DESC LIMIT @Limit
            """, new { User = userKey, Limit = Math.Max(1, limit), Window = (long)Sqlite.SqliteEventHistory.UserSearchWindow }, newestFirst: true, ct);

    async Task<IReadOnlyList<EventStory>> ReadAsync(string sql, object parameters, bool newestFirst, CancellationToken ct)
    {
        await db.EnsureMigratedAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        var events = (await conn.QueryAsync<EventHistoryQueries.EventRow>(new CommandDefinition(sql, parameters,
            cancellationToken: ct)).ConfigureAwait(false)).ToList();
        // The partitions' cursors: a delivery without a row is delivered once its partition's cursor has passed the event.
        var cursors = (await conn.QueryAsync<(string Instance, int Partition, long Seq)>(new CommandDefinition(
            "SELECT instance, partition, seq FROM cursor_leases", cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var counts = cursors.GroupBy(c => c.Instance, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var bySeq = cursors.ToDictionary(c => (c.Instance, c.Partition), c => c.Seq);
        var stories = await EventHistoryQueries.BuildAsync(conn, events, new Dictionary<string, long>(), ct,
            cursorOf: (e, instance) => counts.TryGetValue(instance, out var n) && bySeq.TryGetValue((instance, UserPartition.Of(e.UserKey, n)), out var seq)
                ? seq : null).ConfigureAwait(false);
        return newestFirst ? stories.Reverse().ToList() : stories;
    }

    /// <summary>From <c>outcome_counts</c>, written in the settle batch (PostgresDeliveryQueue), as on SQLite.</summary>
    public async Task<IReadOnlyList<OutcomeMinute>> GetTimelineAsync(string destinationId, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct)
    {
        await db.EnsureMigratedAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await EventHistoryQueries.TimelineAsync(conn, destinationId, from, to, ct).ConfigureAwait(false);
    }
}
