using Dapper;

namespace Destinations.Storage.Postgres;

/// <summary><see cref="IEventHistory"/> on PostgreSQL, whose deliveries are all rows (one per routed delivery, D7).</summary>
public sealed class PostgresEventHistory(PostgresDatabase db) : IEventHistory
{
    public async Task<IReadOnlyList<EventStory>> GetAsync(string messageId, string? sourceId, CancellationToken ct)
    {
        await db.EnsureMigratedAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        // No index on message_id here: an operator's question, not a hot path.
        var events = (await conn.QueryAsync<EventHistoryQueries.EventRow>(new CommandDefinition("""
            SELECT seq AS Seq, source_id AS SourceId, message_id AS MessageId, type AS Type
            FROM events WHERE message_id = @MessageId AND (@Source::text IS NULL OR source_id = @Source)
            """, new { MessageId = messageId, Source = sourceId }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        return await EventHistoryQueries.BuildAsync(conn, events, new Dictionary<string, long>(), ct).ConfigureAwait(false);
    }
}
