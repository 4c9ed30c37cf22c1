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

    /// <summary>Writes <paramref name="next"/>; when a hold ends, adds its length to every pending row's held time (D13).</summary>
    public static Task WriteAsync(SqliteConnection conn, SqliteTransaction tx, InstanceState before, InstanceState next, DateTimeOffset now, CancellationToken ct) =>
        InstanceStateQueries.WriteAsync(conn, tx, before, next, now, AddHeldTime, ct);
}
