using Dapper;
using Destinations.Storage.Postgres;

namespace Destinations.Storage.Tests;

public sealed class PostgresMigrationTests
{
    [Fact]
    public async Task Replicas_starting_together_apply_each_version_once_under_the_advisory_lock()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        // Four "replicas" migrate the same (new) schema at once: the advisory lock serialises them.
        var replicas = Enumerable.Range(0, 4).Select(_ => new PostgresDatabase(store.Options.ConnectionString)).ToList();
        await Task.WhenAll(replicas.Select(r => r.EnsureMigratedAsync(CancellationToken.None)));

        await using (var conn = await replicas[0].OpenAsync(CancellationToken.None))
            Assert.Equal(0, await PostgresMigrations.ApplyAsync(conn, null, CancellationToken.None));
        foreach (var r in replicas) await r.DisposeAsync();

        Assert.Equal(PostgresMigrations.All.Select(m => m.Version).Order(), await store.QueryAsync<int>("SELECT version FROM schema_version ORDER BY version"));
        var tables = await store.QueryAsync<string>("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name");
        Assert.Equal(["audit_log", "cursor_leases", "cursor_replicas", "data_protection_keys", "dedupe", "deliveries", "destination_state", "duplicate_counts", "events", "filter_counts", "hold_intervals", "outcome_counts", "partner_calls", "rate_limits", "schema_version"], tables);
    }

    [Fact]
    public async Task Readiness_is_a_plain_query_and_fails_quietly_when_the_server_is_unreachable()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        Assert.True(await store.Queue.IsReadyAsync(CancellationToken.None));
        Assert.True(await store.Store.IsReadyAsync(CancellationToken.None));

        await using var nowhere = new PostgresDatabase("Host=127.0.0.1;Port=1;Username=x;Password=secret;Timeout=2");
        var queue = new PostgresDeliveryQueue(nowhere, TimeProvider.System);
        Assert.False(await queue.IsReadyAsync(CancellationToken.None));
        Assert.DoesNotContain("secret", nowhere.Describe);
    }
}
