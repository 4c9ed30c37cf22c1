using Dapper;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>Reads the held instances on the dispatch writer's session and writes <c>destination_state</c> rows (D12 pause,
/// circuit breaker) inside the caller's transaction; the shared statements are in <see cref="InstanceStateQueries"/>.</summary>
static class SqliteInstanceStates
{
    /// <summary>D13: when a hold ends, adds its length to every pending row's held time.</summary>
    const string AddHeldTime = """
        UPDATE deliveries SET held_ms = held_ms + MAX(0, @Now - MAX(@Since, created_at))
        WHERE destination_id = @Id AND status = 'pending'
        """;

    /// <summary>The held instances (D12 pause, breaker), on the dispatch writer's prepared statement.</summary>
    public static List<InstanceState> ReadHeld(SqliteSession session)
    {
        using var reader = session.Command(InstanceStateQueries.SelectHeld, []).ExecuteReader();
        return reader.Parse<InstanceStateQueries.StateRow>().Select(r => r.ToState()).ToList();
    }

    /// <summary>Writes <paramref name="next"/>; when a hold ends, adds its length to every pending row's held time (D13).
    /// Also keeps the instance's hold intervals (<c>hold_intervals</c>): an event waiting in the log has no row to add held
    /// time to, so its paused time (D12 PausedMaxAge, the D13 age clock) is computed from them when its cursor reaches it.</summary>
    public static async Task WriteAsync(SqliteConnection conn, SqliteTransaction tx, InstanceState before, InstanceState next, DateTimeOffset now, CancellationToken ct)
    {
        await InstanceStateQueries.WriteAsync(conn, tx, before, next, now, AddHeldTime, ct).ConfigureAwait(false);
        var nowMs = SqliteDatabase.ToUnixMs(now);
        if (before.IsHeld && !next.IsHeld)
            await conn.ExecuteAsync(new CommandDefinition(
                "UPDATE hold_intervals SET ended_at = @Now WHERE destination_id = @Id AND ended_at IS NULL",
                new { Now = nowMs, Id = next.DestinationId }, tx, cancellationToken: ct)).ConfigureAwait(false);
        else if (!before.IsHeld && next.IsHeld)
            await conn.ExecuteAsync(new CommandDefinition("""
                INSERT INTO hold_intervals (destination_id, started_at, hold) VALUES (@Id, @Since, @Hold)
                ON CONFLICT (destination_id, started_at) DO UPDATE SET ended_at = NULL, hold = excluded.hold
                """, new
            {
                Id = next.DestinationId,
                Since = SqliteDatabase.ToUnixMs(next.HeldSince ?? now),
                Hold = next.Hold == InstanceHold.Paused ? "paused" : "breaker",
            }, tx, cancellationToken: ct)).ConfigureAwait(false);
    }
}
