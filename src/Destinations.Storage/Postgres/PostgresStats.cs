namespace Destinations.Storage.Postgres;

/// <summary>Per-instance stats read from the store (so right across replicas, D8): PostgreSQL's statements for
/// <see cref="StatsQueries"/>.</summary>
static class PostgresStats
{
    // Deliveries that succeeded on their first pass have no row: the dispatcher counts every outcome per minute.
    const string Delivered = "SELECT COALESCE(SUM(count), 0)::bigint FROM outcome_counts WHERE destination_id = @Destination AND outcome = 'delivered'";

    // The instance's part of the log after each partition's cursor, less the events that have a row (counted by status),
    // and the oldest of them: the cursor lag, summed over the instance's partitions.
    static readonly string Backlog = $"""
        WITH c AS (SELECT partition, seq FROM cursor_leases WHERE instance = @Destination),
             n AS (SELECT COUNT(*)::bigint AS p, MIN(seq) AS low FROM c)
        SELECT COUNT(*)::bigint, MIN(COALESCE(e.accepted_at, e.received_at)) FROM n JOIN events e ON e.seq > n.low
        WHERE n.p > 0 AND position(E'\n' || @Destination || E'\t' in E'\n' || e.routes) > 0
          AND e.seq > (SELECT c.seq FROM c WHERE c.partition = {UserPartition.Sql("e", "n.p")})
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.destination_id = @Destination)
        """;

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
        Duplicates: "SELECT COALESCE(SUM(count), 0)::bigint FROM duplicate_counts WHERE destination_id = @Destination",
        Delivered: Delivered,
        Backlog: Backlog);

    public static async Task<DestinationStats> ReadAsync(PostgresDatabase db, string destinationId, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await StatsQueries.ReadAsync(conn, Sql, destinationId, ct).ConfigureAwait(false);
    }
}
