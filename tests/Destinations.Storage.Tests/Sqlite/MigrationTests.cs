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

        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L], await store.QueryAsync<long>("SELECT version FROM schema_version"));
        var tables = await store.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
        Assert.Equal(["audit_log", "cursors", "data_protection_keys", "dedupe", "deliveries", "destination_state", "duplicate_counts", "events",
            "filter_counts", "hold_intervals", "outcome_counts", "partner_calls", "schema_version"], tables);
    }

    [Fact]
    public async Task The_delivery_indexes_due_and_claim_hold_pending_rows_only_dead_finished_rows_only()
    {
        await using var store = TestStore.Create();
        await store.EnsureMigratedAsync();
        var indexes = await store.QueryAsync<(string Name, string Sql)>(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' AND sql IS NOT NULL ORDER BY name");
        Assert.Equal(
        [
            ("ix_deliveries_claim", "CREATE INDEX ix_deliveries_claim ON deliveries (destination_id, next_attempt_at, id) WHERE status = 'pending'"),
            ("ix_deliveries_dead", "CREATE INDEX ix_deliveries_dead ON deliveries (status, updated_at) WHERE status <> 'pending'"),
            ("ix_deliveries_due", "CREATE INDEX ix_deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending'"),
            ("ix_deliveries_order", "CREATE INDEX ix_deliveries_order ON deliveries (destination_id, status, event_seq)"),
        ], indexes);
    }

    [Theory]
    // The WHERE shapes of DeadLetterQueries (list, replay) and RetentionService (purge): each states the partial index's
    // condition, so the finished-rows index serves it instead of a scan of every delivery.
    [InlineData("SELECT d.id FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.status <> 'pending' AND d.status = 'dead' ORDER BY d.id LIMIT 51",
        "SEARCH d USING INDEX ix_deliveries_dead (status=?)")]
    [InlineData("SELECT d.id FROM deliveries d WHERE d.status <> 'pending' AND d.status = 'dead' AND d.updated_at >= 1 AND d.updated_at < 2",
        "SEARCH d USING COVERING INDEX ix_deliveries_dead (status=? AND updated_at>? AND updated_at<?)")]
    [InlineData("""
        SELECT id FROM deliveries WHERE (status <> 'pending' AND status = 'delivered' AND updated_at < 1)
           OR (status <> 'pending' AND status IN ('dead', 'filtered', 'invalid') AND updated_at < 2) LIMIT 10
        """, "SEARCH deliveries USING COVERING INDEX ix_deliveries_dead (status=? AND updated_at<?)")]
    public async Task Dead_letter_and_retention_queries_use_the_finished_rows_index(string sql, string expectedStep)
    {
        await using var store = TestStore.Create();
        await store.EnsureMigratedAsync();
        var plan = await store.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>("EXPLAIN QUERY PLAN " + sql);
        Assert.Contains(expectedStep, plan.Select(p => p.Detail));
        Assert.DoesNotContain(plan, p => p.Detail.StartsWith("SCAN d", StringComparison.Ordinal) || p.Detail == "SCAN deliveries");
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
