using Dapper;
using Npgsql;

namespace Destinations.Storage.Postgres;

/// <summary>Writes <c>destination_state</c> rows (D12 pause, circuit breaker) inside the caller's transaction; the
/// same statements as on SQLite (<see cref="InstanceStateQueries"/>, which also reads them), shared by every replica.</summary>
static class PostgresInstanceStates
{
    /// <summary>D13: when a hold ends, adds its length to every pending row's held time.</summary>
    const string AddHeldTime = """
        UPDATE deliveries SET held_ms = held_ms + GREATEST(0, @Now - GREATEST(@Since, created_at))
        WHERE destination_id = @Id AND status = 'pending'
        """;

    /// <summary>Writes <paramref name="next"/>; when a hold ends, adds its length to every pending row's held time (D13).
    /// Also keeps the instance's hold intervals (<c>hold_intervals</c>): an event waiting in the log has no row to add held
    /// time to, so its paused time (D12 PausedMaxAge, the D13 age clock) is computed from them when its cursor reaches it.</summary>
    public static async Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, InstanceState before, InstanceState next, DateTimeOffset now, CancellationToken ct)
    {
        await InstanceStateQueries.WriteAsync(conn, tx, before, next, now, AddHeldTime, ct).ConfigureAwait(false);
        if (before.IsHeld && !next.IsHeld)
            await conn.ExecuteAsync(new CommandDefinition(
                "UPDATE hold_intervals SET ended_at = @Now WHERE destination_id = @Id AND ended_at IS NULL",
                new { Now = now.ToUnixTimeMilliseconds(), Id = next.DestinationId }, tx, cancellationToken: ct)).ConfigureAwait(false);
        else if (!before.IsHeld && next.IsHeld)
            await conn.ExecuteAsync(new CommandDefinition("""
                INSERT INTO hold_intervals (destination_id, started_at, hold) VALUES (@Id, @Since, @Hold)
                ON CONFLICT (destination_id, started_at) DO UPDATE SET ended_at = NULL, hold = excluded.hold
                """, new
            {
                Id = next.DestinationId,
                Since = (next.HeldSince ?? now).ToUnixTimeMilliseconds(),
                Hold = next.Hold == InstanceHold.Paused ? "paused" : "breaker",
            }, tx, cancellationToken: ct)).ConfigureAwait(false);
    }
}
