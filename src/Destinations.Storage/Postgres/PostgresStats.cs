using Dapper;

namespace Destinations.Storage.Postgres;

/// <summary>Per-instance stats read from the store (so right across replicas, D8).</summary>
static class PostgresStats
{
    public const int RecentErrors = 5;

    public static async Task<DestinationStats> ReadAsync(PostgresDatabase db, string destinationId, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        var args = new { Destination = destinationId, Recent = RecentErrors };
        var byStatus = (await conn.QueryAsync<(string Status, long Attempted, long Count)>(new CommandDefinition("""
            SELECT status, (attempts > 0)::int::bigint, COUNT(*) FROM deliveries WHERE destination_id = @Destination GROUP BY 1, 2
            """, args, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        // D8: router-time counters and mapper-time rows together, by reason.
        var filtered = (await conn.QueryAsync<(string Reason, long Count)>(new CommandDefinition("""
            SELECT reason, SUM(n)::bigint FROM (
                SELECT reason, count AS n FROM filter_counts WHERE destination_id = @Destination
                UNION ALL
                SELECT COALESCE(reason, ''), 1 FROM deliveries WHERE destination_id = @Destination AND status = 'filtered') AS f
            GROUP BY reason ORDER BY reason
            """, args, cancellationToken: ct)).ConfigureAwait(false)).ToDictionary(r => r.Reason, r => r.Count, StringComparer.Ordinal);
        var duplicates = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COALESCE(SUM(count), 0)::bigint FROM duplicate_counts WHERE destination_id = @Destination", args, cancellationToken: ct)).ConfigureAwait(false);
        var errors = (await conn.QueryAsync<(long Id, long At, long? Status, string? ErrorClass, string? Error)>(new CommandDefinition("""
            SELECT id, updated_at, last_status, error_class, last_error FROM deliveries
            WHERE destination_id = @Destination AND last_error IS NOT NULL ORDER BY updated_at DESC, id DESC LIMIT @Recent
            """, args, cancellationToken: ct)).ConfigureAwait(false))
            .Select(e => new RecentError(e.Id, DateTimeOffset.FromUnixTimeMilliseconds(e.At), (int?)e.Status, e.ErrorClass, e.Error)).ToList();
        var oldestDue = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE destination_id = @Destination AND status = 'pending'", args, cancellationToken: ct)).ConfigureAwait(false);
        var state = await InstanceStateQueries.ReadAsync(conn, null, destinationId, ct).ConfigureAwait(false);

        long Count(string status, bool? attempted = null) =>
            byStatus.Where(s => s.Status == status && (attempted is null || (s.Attempted != 0) == attempted)).Sum(s => s.Count);
        return new DestinationStats(destinationId, Count("pending", false), Count("pending", true), Count("delivered"),
            Count("invalid"), Count("dead"), filtered, duplicates)
        {
            State = state,
            OldestDueAt = oldestDue is { } due ? DateTimeOffset.FromUnixTimeMilliseconds(due) : null,
            Held = state.IsHeld ? Count("pending") : 0,
            LastErrors = errors,
        };
    }
}
