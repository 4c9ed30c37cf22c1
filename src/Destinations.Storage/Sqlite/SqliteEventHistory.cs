using Dapper;

namespace Destinations.Storage.Sqlite;

/// <summary><see cref="IEventHistory"/> on SQLite: the event found through its messageId hash (ix_events_id_hash), its rows,
/// and for deliveries without a row the instance's cursor (before it: delivered on the first pass).</summary>
public sealed class SqliteEventHistory(SqliteDatabase db) : IEventHistory
{
    public async Task<IReadOnlyList<EventStory>> GetAsync(string messageId, string? sourceId, CancellationToken ct)
    {
        await db.EnsureMigratedAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        // One read transaction: the cursors and rows are of the same moment.
        using var tx = conn.BeginTransaction(deferred: true);
        var events = (await conn.QueryAsync<EventHistoryQueries.EventRow>(new CommandDefinition("""
            SELECT seq AS Seq, source_id AS SourceId, message_id AS MessageId, type AS Type, routes AS Routes, filtered AS Filtered
            FROM events WHERE id_hash = @Hash AND message_id = @MessageId AND (@Source IS NULL OR source_id = @Source)
            """, new { Hash = LogRoutes.Hash(messageId), MessageId = messageId, Source = sourceId }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var cursors = (await conn.QueryAsync<(string, long)>(new CommandDefinition("SELECT destination_id, seq FROM cursors",
            transaction: tx, cancellationToken: ct)).ConfigureAwait(false)).ToDictionary(c => c.Item1, c => c.Item2, StringComparer.Ordinal);
        return await EventHistoryQueries.BuildAsync(conn, events, cursors, ct).ConfigureAwait(false);
    }
}
