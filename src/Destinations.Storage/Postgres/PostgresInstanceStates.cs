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

    /// <summary>Writes <paramref name="next"/>; when a hold ends, adds its length to every pending row's held time (D13).</summary>
    public static Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, InstanceState before, InstanceState next, DateTimeOffset now, CancellationToken ct) =>
        InstanceStateQueries.WriteAsync(conn, tx, before, next, now, AddHeldTime, ct);
}
