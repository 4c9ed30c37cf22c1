using Microsoft.Data.Sqlite;

namespace Destinations.Torture.Tests;

/// <summary>Read-only look at the service's SQLite deliveries: the rows of <c>deliveries</c>, and for each event on the log
/// (SqliteMigrations v8) routed to an instance without a row, delivered when the instance's cursor has passed it, else
/// pending — the event story's rule (EventHistoryQueries).</summary>
static class DeliveryTable
{
    public sealed record Row(string UserKey, string Status, string? Reason, int? LastStatus, int Attempts);

    const string All = """
        SELECT e.user_key, d.status, d.reason, d.last_status, d.attempts
        FROM deliveries d JOIN events e ON e.seq = d.event_seq
        UNION ALL
        SELECT e.user_key, CASE WHEN e.seq <= c.seq THEN 'delivered' ELSE 'pending' END, NULL, NULL, CASE WHEN e.seq <= c.seq THEN 1 ELSE 0 END
        FROM events e JOIN cursors c ON instr(char(10) || e.routes, char(10) || c.destination_id || char(9)) > 0
        WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.destination_id = c.destination_id)
        """;

    public static IReadOnlyList<Row> Read(string databasePath)
    {
        using var conn = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = All;
        using var reader = cmd.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read())
            rows.Add(new Row(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.GetInt32(4)));
        return rows;
    }

    public static long CountPending(string databasePath)
    {
        using var conn = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM ({All}) WHERE status = 'pending'";
        return (long)cmd.ExecuteScalar()!;
    }
}
