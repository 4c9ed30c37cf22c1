using System.Text.RegularExpressions;
using Npgsql;

namespace Destinations.Benchmarks;

/// <summary>
/// The PostgreSQL server the service runs against: one fresh database per scenario (CREATE DATABASE, then DROP … WITH (FORCE)
/// once the service is gone). The connection string may hold a password: only host and port are ever printed.
/// </summary>
public sealed partial class PostgresServer(string connectionString)
{
    readonly string _admin = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    public string Where
    {
        get
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            return $"{b.Host}:{b.Port}";
        }
    }

    public async Task<string> VersionAsync() => (string)(await ScalarAsync("SHOW server_version"))!;

    /// <summary>Creates <paramref name="database"/> and returns the service's connection string for it.</summary>
    public async Task<string> CreateAsync(string database)
    {
        await ExecuteAsync($"CREATE DATABASE \"{Checked(database)}\"");
        return new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;
    }

    public async Task<double> SizeMiBAsync(string database) =>
        (long)(await ScalarAsync($"SELECT pg_database_size('{Checked(database)}')"))! / 1048576.0;

    public Task DropAsync(string database) => ExecuteAsync($"DROP DATABASE IF EXISTS \"{Checked(database)}\" WITH (FORCE)");

    async Task ExecuteAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(_admin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    async Task<object?> ScalarAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(_admin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }

    static string Checked(string database) =>
        DatabaseName().IsMatch(database) ? database : throw new ArgumentException($"not a benchmark database name: {database}");

    [GeneratedRegex("^bench_[0-9a-z_]+$")]
    private static partial Regex DatabaseName();
}
