using Dapper;

namespace Destinations.Storage.Postgres;

/// <summary><see cref="IEventHistory"/> on PostgreSQL, whose deliveries are all rows (one per routed delivery, D7), with the
/// partner calls that carried them (<c>partner_calls</c>, as on SQLite), and the per-minute outcome counters.</summary>
public sealed class PostgresEventHistory(PostgresDatabase db) : IEventHistory, IOutcomeTimeline
{
    const string EventColumns = """
        seq AS Seq, source_id AS SourceId, message_id AS MessageId, type AS Type, body AS Body, user_key AS UserKey,
        received_at AS AcceptedAt
        """;

    // No index on message_id here: an operator's question, not a hot path.
    public Task<IReadOnlyList<EventStory>> GetAsync(string messageId, string? sourceId, CancellationToken ct) =>
        ReadAsync($"""
            SELECT {EventColumns}
            FROM events WHERE message_id = @MessageId AND (@Source::text IS NULL OR source_id = @Source)
            """, new { MessageId = messageId, Source = sourceId }, newestFirst: false, ct);

    // ix_events_user_key finds the user's events; the newest few are read.
    public Task<IReadOnlyList<EventStory>> GetByUserAsync(string userKey, int limit, CancellationToken ct) =>
        ReadAsync($"""
            SELECT {EventColumns}
            FROM events WHERE user_key = @User ORDER BY seq DESC LIMIT @Limit
            """, new { User = userKey, Limit = Math.Max(1, limit) }, newestFirst: true, ct);

    async Task<IReadOnlyList<EventStory>> ReadAsync(string sql, object parameters, bool newestFirst, CancellationToken ct)
    {
        await db.EnsureMigratedAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        var events = (await conn.QueryAsync<EventHistoryQueries.EventRow>(new CommandDefinition(sql, parameters,
            cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var stories = await EventHistoryQueries.BuildAsync(conn, events, new Dictionary<string, long>(), ct)
            .ConfigureAwait(false);
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
