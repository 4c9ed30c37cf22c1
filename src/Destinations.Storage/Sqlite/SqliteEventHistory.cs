using Dapper;

namespace Destinations.Storage.Sqlite;

/// <summary><see cref="IEventHistory"/> on SQLite: the event found through its messageId hash (ix_events_id_hash), its rows,
/// and for deliveries without a row the instance's cursor (before it: delivered on the first pass). The per-minute outcome
/// counters (<c>outcome_counts</c>) give the timeline.</summary>
public sealed class SqliteEventHistory(SqliteDatabase db) : IEventHistory, IOutcomeTimeline
{
    /// <summary>How many of the newest events a look-up by user reads: the log has no index on the user key (it would slow
    /// every ingest commit for an operator's question), so the search is bounded to the recent log instead.</summary>
    public const int UserSearchWindow = 200_000;

    const string EventColumns = """
        seq AS Seq, source_id AS SourceId, message_id AS MessageId, type AS Type, routes AS Routes, filtered AS Filtered,
        body AS Body, user_key AS UserKey, COALESCE(accepted_at, received_at) AS AcceptedAt
        """;

    public Task<IReadOnlyList<EventStory>> GetAsync(string messageId, string? sourceId, CancellationToken ct) =>
        ReadAsync($"""
            SELECT {EventColumns}
            FROM events WHERE id_hash = @Hash AND message_id = @MessageId AND (@Source IS NULL OR source_id = @Source)
            """, new { Hash = LogRoutes.Hash(messageId), MessageId = messageId, Source = sourceId }, newestFirst: false, ct);

    public Task<IReadOnlyList<EventStory>> GetByUserAsync(string userKey, int limit, CancellationToken ct) =>
        ReadAsync($"""
            SELECT {EventColumns}
            FROM events WHERE seq > (SELECT COALESCE(MAX(seq), 0) FROM events) - @Window AND user_key = @User
            ORDER BY seq DESC LIMIT @Limit
            """, new { User = userKey, Limit = Math.Max(1, limit), Window = UserSearchWindow }, newestFirst: true, ct);

    async Task<IReadOnlyList<EventStory>> ReadAsync(string sql, object parameters, bool newestFirst, CancellationToken ct)
    {
        await db.EnsureMigratedAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        // One read transaction: the cursors and rows are of the same moment.
        using var tx = conn.BeginTransaction(deferred: true);
        var events = (await conn.QueryAsync<EventHistoryQueries.EventRow>(new CommandDefinition(sql, parameters, tx,
            cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var cursors = (await conn.QueryAsync<(string, long)>(new CommandDefinition("SELECT destination_id, seq FROM cursors",
            transaction: tx, cancellationToken: ct)).ConfigureAwait(false)).ToDictionary(c => c.Item1, c => c.Item2, StringComparer.Ordinal);
        var stories = await EventHistoryQueries.BuildAsync(conn, events, cursors, ct).ConfigureAwait(false);
        return newestFirst ? stories.Reverse().ToList() : stories;
    }

    public async Task<IReadOnlyList<OutcomeMinute>> GetTimelineAsync(string destinationId, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct)
    {
        await db.EnsureMigratedAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await EventHistoryQueries.TimelineAsync(conn, destinationId, from, to, ct).ConfigureAwait(false);
    }
}
