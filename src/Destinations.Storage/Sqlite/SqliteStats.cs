namespace Destinations.Storage.Sqlite;

/// <summary>Per-instance stats read from the store (so right across replicas, D8): SQLite's statements for
/// <see cref="StatsQueries"/>.</summary>
static class SqliteStats
{
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
        Duplicates: "SELECT COALESCE(SUM(count), 0) FROM duplicate_counts WHERE destination_id = @Destination");

    public static async Task<DestinationStats> ReadAsync(SqliteDatabase db, string destinationId, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await StatsQueries.ReadAsync(conn, Sql, destinationId, ct).ConfigureAwait(false);
    }
}
