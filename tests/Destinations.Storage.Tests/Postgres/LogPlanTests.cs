using Destinations.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Destinations.Storage.Tests;

/// <summary>
/// The hot statements of the PostgreSQL log keep their index plans on a log that has never been analysed, as in a new
/// database before autovacuum's first ANALYZE: the planner then estimates with its defaults, and a plan chosen on those
/// (a sequential scan per ingest group, a sort of the whole backlog per claim) grows with the log. Checked through EXPLAIN
/// on a log of realistic rows.
/// </summary>
public sealed class LogPlanTests
{
    const int Rows = 20_000;
    const long AcceptedAt = 1_780_000_000_000;

    [Fact]
    public async Task The_dedupe_look_up_of_a_group_probes_the_hash_index_on_a_log_never_analysed()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        await using var conn = await UnanalysedLogAsync(store);
        // A group of 200 ids, as the batch benchmark's groups are.
        var hashes = Enumerable.Range(0, 200).Select(i => LogRoutes.Hash($"new-{i}")).Distinct().Order().ToArray();

        var plan = await ExplainAsync(conn, null, PostgresGroupWriter.DedupeLookUp,
            new NpgsqlParameter { Value = hashes }, new NpgsqlParameter { Value = AcceptedAt - 86_400_000 });

        Assert.Contains("ix_events_id_hash", plan);
        Assert.DoesNotContain("Seq Scan on events", plan);
    }

    [Fact]
    public async Task A_log_read_walks_the_primary_key_in_seq_order_on_a_log_never_analysed_and_leaves_the_planner_as_it_was()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        await using var conn = await UnanalysedLogAsync(store);
        await using var tx = await conn.BeginTransactionAsync();
        await ExecuteAsync(conn, tx, PostgresLog.ReadInSeqOrder);

        // The dispatcher trailing ingest: the range from its read pointer to the horizon is the whole log.
        var plan = await ExplainAsync(conn, tx, PostgresLog.ReadLog,
            new NpgsqlParameter { Value = 0L }, new NpgsqlParameter { Value = (long)Rows }, new NpgsqlParameter { Value = "\nsm\t" },
            new NpgsqlParameter { Value = new[] { 0, 1, 2, 3 } }, new NpgsqlParameter { Value = 4L },
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = 256 });

        Assert.Contains("Index Scan using events_pkey on events", plan);
        Assert.DoesNotContain("Sort", plan);
        Assert.DoesNotContain("Bitmap", plan);
        foreach (var reset in PostgresLog.ReadPlannerDefaults) await ExecuteAsync(conn, tx, reset);
        Assert.Equal("on", await ShowAsync(conn, tx, "enable_bitmapscan"));
        Assert.Equal("on", await ShowAsync(conn, tx, "enable_sort"));
    }

    [Fact]
    public async Task The_store_s_connections_do_not_JIT_compile_statements()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        Assert.Equal("off", await store.ScalarAsync<string>("SHOW jit"));
    }

    /// <summary>The store's schema with <see cref="Rows"/> events routed to "sm" (bodies of a tracked event's size) and no
    /// statistics on the log: autovacuum is off for it, so none appear while the test runs.</summary>
    static async Task<NpgsqlConnection> UnanalysedLogAsync(TestStore store)
    {
        await store.EnsureMigratedAsync();
        await store.ExecuteAsync("ALTER TABLE events SET (autovacuum_enabled = false)");
        await store.ExecuteAsync($"""
            INSERT INTO events (source_id, message_id, type, user_key, received_at, body, routes, id_hash, user_hash, accepted_at)
            SELECT 'web', 'm-' || g, 'track', 'user-' || (g % 1000), {AcceptedAt} + g, repeat('x', 600), E'sm\ttrack',
                (hashtextextended('m-' || g, 0)), hashtextextended('user-' || (g % 1000), 0), {AcceptedAt} + g
            FROM generate_series(1, {Rows}) AS g
            """);
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'events'"));
        var conn = new NpgsqlConnection(store.Options.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    static async Task<string> ExplainAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, params NpgsqlParameter[] parameters)
    {
        await using var cmd = new NpgsqlCommand("EXPLAIN " + sql, conn, tx);
        cmd.Parameters.AddRange(parameters);
        var lines = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return string.Join('\n', lines);
    }

    static async Task ExecuteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync();
    }

    static async Task<string> ShowAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string setting)
    {
        await using var cmd = new NpgsqlCommand("SHOW " + setting, conn, tx);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }
}
