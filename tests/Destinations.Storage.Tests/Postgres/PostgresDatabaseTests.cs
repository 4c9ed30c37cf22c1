using Destinations.Storage.Postgres;
using Npgsql;

namespace Destinations.Storage.Tests;

/// <summary>The store's connection settings: its repeated statements are prepared on the server unless the connection string
/// says otherwise.</summary>
public sealed class PostgresDatabaseTests
{
    static async Task<long> PreparedAfterRepeatsAsync(string connectionString)
    {
        await using var db = new PostgresDatabase(connectionString);
        await using var conn = await db.OpenAsync(CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            await using var repeated = new NpgsqlCommand("SELECT count(*) FROM events WHERE seq > $1", conn);
            repeated.Parameters.AddWithValue(0L);
            await repeated.ExecuteScalarAsync();
        }
        await using var prepared = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM events WHERE seq > $1%'", conn);
        return (long)(await prepared.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_statement_run_repeatedly_is_prepared_by_default_and_not_when_the_connection_string_turns_it_off()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        await store.EnsureMigratedAsync();
        Assert.Equal(1L, await PreparedAfterRepeatsAsync(store.Options.ConnectionString));
        Assert.Equal(0L, await PreparedAfterRepeatsAsync(store.Options.ConnectionString + ";Max Auto Prepare=0"));
    }
}
