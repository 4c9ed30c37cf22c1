using Microsoft.Data.Sqlite;

namespace Destinations.Torture.Tests;

/// <summary>Read-only look at the service's SQLite <c>deliveries</c> table (schema: SqliteMigrations v1).</summary>
static class DeliveryTable
{
    public sealed record Row(string UserKey, string Status, string? Reason, int? LastStatus, int Attempts);

    public static IReadOnlyList<Row> Read(string databasePath)
    {
        using var conn = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            SELECT e.user_key, d.status, d.reason, d.last_status, d.attempts
            FROM deliveries d JOIN events e ON e.seq = d.event_seq
            """;
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
        cmd.CommandText = "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'";
        return (long)cmd.ExecuteScalar()!;
    }
}
