using System.Data.Common;
using Dapper;

namespace Destinations.Storage;

/// <summary>The statements whose SQL differs between the stores (casts, a derived table's alias), see
/// <see cref="StatsQueries"/>. Parameters: <c>@Destination</c>.</summary>
/// <param name="ByStatus">Rows <c>(status, attempted as 0/1, count)</c> of the instance's deliveries.</param>
/// <param name="Filtered">Rows <c>(reason, count)</c>: router-time counters and mapper-time rows together (D8).</param>
/// <param name="Duplicates">The instance's duplicate count, a bigint (0 when none).</param>
/// <param name="Delivered">The instance's delivered count from <c>outcome_counts</c> (first-pass successes have no row).</param>
/// <param name="Backlog">One row <c>(count, oldest accepted_at or null)</c>: the instance's events after its cursor(s) that
/// have no row yet, the cursor lag.</param>
sealed record StatsStatements(string ByStatus, string Filtered, string Duplicates, string Delivered, string Backlog);

/// <summary>Per-instance stats read from the store (so right across replicas, D8), for both stores: SqliteStats and
/// PostgresStats open the connection and supply their <see cref="StatsStatements"/>.</summary>
static class StatsQueries
{
    public const int RecentErrors = 5;

    public static async Task<DestinationStats> ReadAsync(DbConnection conn, StatsStatements sql, string destinationId, CancellationToken ct)
    {
        var args = new { Destination = destinationId, Recent = RecentErrors };
        var byStatus = (await conn.QueryAsync<(string Status, long Attempted, long Count)>(new CommandDefinition(
            sql.ByStatus, args, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        // D8: router-time counters and mapper-time rows together, by reason.
        var filtered = (await conn.QueryAsync<(string Reason, long Count)>(new CommandDefinition(
            sql.Filtered, args, cancellationToken: ct)).ConfigureAwait(false)).ToDictionary(r => r.Reason, r => r.Count, StringComparer.Ordinal);
        var duplicates = await conn.ExecuteScalarAsync<long>(new CommandDefinition(sql.Duplicates, args, cancellationToken: ct)).ConfigureAwait(false);
        var errors = (await conn.QueryAsync<(long Id, long At, long? Status, string? ErrorClass, string? Error)>(new CommandDefinition("""
            SELECT id, updated_at, last_status, error_class, last_error FROM deliveries
            WHERE destination_id = @Destination AND last_error IS NOT NULL ORDER BY updated_at DESC, id DESC LIMIT @Recent
            """, args, cancellationToken: ct)).ConfigureAwait(false))
            .Select(e => new RecentError(e.Id, DateTimeOffset.FromUnixTimeMilliseconds(e.At), (int?)e.Status, e.ErrorClass, e.Error)).ToList();
        var oldestDue = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE destination_id = @Destination AND status = 'pending'", args, cancellationToken: ct)).ConfigureAwait(false);
        var state = await InstanceStateQueries.ReadAsync(conn, null, destinationId, ct).ConfigureAwait(false);

        var delivered = await conn.ExecuteScalarAsync<long>(new CommandDefinition(sql.Delivered, args, cancellationToken: ct)).ConfigureAwait(false);
        var (backlog, oldest) = await conn.QuerySingleAsync<(long, long?)>(new CommandDefinition(sql.Backlog, args, cancellationToken: ct)).ConfigureAwait(false);
        var oldestAt = oldest is { } o ? DateTimeOffset.FromUnixTimeMilliseconds(o) : (DateTimeOffset?)null;
        var oldestRowDue = oldestDue is { } due ? DateTimeOffset.FromUnixTimeMilliseconds(due) : (DateTimeOffset?)null;

        long Count(string status, bool? attempted = null) =>
            byStatus.Where(s => s.Status == status && (attempted is null || (s.Attempted != 0) == attempted)).Sum(s => s.Count);
        // The log's part waits like a pending row that was never attempted (and is held with its instance).
        return new DestinationStats(destinationId, Count("pending", false) + backlog, Count("pending", true), delivered,
            Count("invalid"), Count("dead"), filtered, duplicates)
        {
            State = state,
            OldestDueAt = oldestAt is { } a && (oldestRowDue is null || a < oldestRowDue) ? a : oldestRowDue,
            Held = state.IsHeld ? Count("pending") + backlog : 0,
            LastErrors = errors,
            LogBacklog = backlog,
            LogOldestAt = oldestAt,
        };
    }
}
