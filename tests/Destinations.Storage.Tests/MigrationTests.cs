namespace Destinations.Storage.Tests;

public sealed class MigrationTests
{
    [Fact]
    public async Task Migrations_create_the_folder_D27_and_are_idempotent()
    {
        await using var store = TestStore.Create();
        Assert.False(Directory.Exists(Path.Combine(store.Folder, "nested")));

        await store.EnsureMigratedAsync();
        Assert.True(File.Exists(Path.Combine(store.Folder, "nested", "test.db")));

        // A second process start on the same file: nothing applied twice.
        var again = new SqliteDatabase(store.Options.ConnectionString);
        await again.EnsureMigratedAsync(CancellationToken.None);
        await using (var conn = await again.OpenAsync(CancellationToken.None))
            Assert.Equal(0, SqliteMigrations.Apply(conn));

        Assert.Equal([1L, 2L, 3L, 4L], await store.QueryAsync<long>("SELECT version FROM schema_version"));
        var tables = await store.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
        Assert.Equal(["dedupe", "deliveries", "destination_state", "duplicate_counts", "events", "filter_counts", "schema_version"], tables);
    }

    [Fact]
    public async Task The_file_is_in_WAL_mode_and_connections_sync_fully()
    {
        await using var store = TestStore.Create();
        Assert.Equal("wal", await store.ScalarAsync<string>("PRAGMA journal_mode"));
        Assert.Equal(2L, await store.ScalarAsync<long>("PRAGMA synchronous")); // 2 = FULL
        Assert.Equal((long)SqliteDatabase.BusyTimeoutMs, await store.ScalarAsync<long>("PRAGMA busy_timeout"));
    }
}
