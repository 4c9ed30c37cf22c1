namespace Destinations.Storage.Postgres;

/// <summary>Per-instance stats read from the store (so right across replicas, D8): PostgreSQL's statements for
/// <see cref="StatsQueries"/>.</summary>
static class PostgresStats
{
    static readonly StatsStatements Sql = new(
        ByStatus: """
            SELECT status, (attempts > 0)::int::bigint, COUNT(*) FROM deliveries WHERE destination_id = @Destination GROUP BY 1, 2
            """,
        // D8: router-time counters and mapper-time rows together, by reason.
        Filtered: """
            SELECT reason, SUM(n)::bigint FROM (
                SELECT reason, count AS n FROM filter_counts WHERE destination_id = @Destination
                UNION ALL
                SELECT COALESCE(reason, ''), 1 FROM deliveries WHERE destination_id = @Destination AND status = 'filtered') AS f
            GROUP BY reason ORDER BY reason
            """,
        Duplicates: "SELECT COALESCE(SUM(count), 0)::bigint FROM duplicate_counts WHERE destination_id = @Destination");

    public static async Task<DestinationStats> ReadAsync(PostgresDatabase db, string destinationId, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await StatsQueries.ReadAsync(conn, Sql, destinationId, ct).ConfigureAwait(false);
    }
}
