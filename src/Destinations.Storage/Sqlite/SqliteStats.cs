namespace Destinations.Storage.Sqlite;

/// <summary>Per-instance stats read from the store (so right across replicas, D8): SQLite's statements for
/// <see cref="StatsQueries"/>.</summary>
static class SqliteStats
{
    // Deliveries that succeeded on their first pass have no row: the dispatcher counts every outcome per minute.
    const string Delivered = "SELECT COALESCE(SUM(count), 0) FROM outcome_counts WHERE destination_id = @Destination AND outcome = 'delivered'";

    // The instance's part of the log after its cursor, less the events that already have a row (counted by status): one
    // pass over the log after the cursor, the rows counted apart (few), and the oldest found from the cursor on.
    const string Backlog = """
        SELECT
            (SELECT COUNT(*) FROM events e WHERE e.seq > c.seq AND instr(char(10) || e.routes, char(10) || @Destination || char(9)) > 0)
          - (SELECT COUNT(DISTINCT d.event_seq) FROM deliveries d WHERE d.destination_id = @Destination AND d.event_seq > c.seq),
            (SELECT COALESCE(e.accepted_at, e.received_at) FROM events e
             WHERE e.seq > c.seq AND instr(char(10) || e.routes, char(10) || @Destination || char(9)) > 0
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.destination_id = @Destination)
             ORDER BY e.seq LIMIT 1)
        FROM (SELECT seq FROM cursors WHERE destination_id = @Destination UNION ALL SELECT NULL LIMIT 1) c
        """;

    static readonly StatsStatements Sql = new(
        ByStatus: """
            SELECT status, attempts > 0, COUNT(*) FROM deliveries WHERE destination_id = @Destination GROUP BY status, attempts > 0
            """,
        // D8: router-time counters and mapper-time rows together, by reason.
        Filtered: """
            SELECT reason, SUM(n) FROM (
                SELECT reason, count AS n FROM filter_counts WHERE destination_id = @Destination
                UNION ALL
                SELECT COALESCE(reason, ''), 1 FROM deliveries WHERE destination_id = @Destination AND status = 'filtered')
            GROUP BY reason ORDER BY reason
            """,
        Duplicates: "SELECT COALESCE(SUM(count), 0) FROM duplicate_counts WHERE destination_id = @Destination",
        Delivered: Delivered,
        Backlog: Backlog);

    public static async Task<DestinationStats> ReadAsync(SqliteDatabase db, string destinationId, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await StatsQueries.ReadAsync(conn, Sql, destinationId, ct).ConfigureAwait(false);
    }
}
