using System.Data.Common;
using Dapper;
using Destinations.Core.Delivery;
using Destinations.Storage.Postgres;
using Destinations.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Destinations.Storage.Tests;

/// <summary>
/// The migration from filter-reason sentences to codes, on a store built at the schema before it with rows written in the
/// old texts: <see cref="SqliteFilterReasonMigrationTests"/> and <see cref="PostgresFilterReasonMigrationTests"/>.
/// </summary>
public abstract class FilterReasonMigrationTests(StoreProvider provider)
{
    /// <summary>Every sentence the service stored as a filter reason before codes, with the code it becomes.</summary>
    public static readonly (string Text, string Code)[] OldTexts =
    [
        ("source not linked to this destination (D26)", "source_not_linked"),
        ("disabled by the Integrations object", "integrations_off"),
        ("deletion is not supported by Salesmachine (D4)", "delete_not_supported"),
        ("deletion is not supported by UserMotion (Actions)", "delete_not_supported"),
        ("events without a type are not accepted by Selligent Marketing Cloud", "call_type_not_accepted"),
        ("screen calls are not accepted by Salesmachine", "call_type_not_accepted"),
        ("untyped calls are not accepted by Selligent Marketing Cloud", "call_type_not_accepted"),
        ("no mapping matches", "no_trigger_matched"),
        ("no subscription matches", "no_subscription_matched"),
        ("no userId: Salesmachine keys contacts on the customer's user id", "no_user_id"),
        ("no userId: SMC's business key", "no_user_id"),
        ("Salesmachine publishes no alias endpoint; set AliasPath to send alias calls (D15)", "no_alias_path"),
        ("track without an event name cannot match AllowedEvents", "event_not_allowed"),
        ("track event 'Order Completed' not in AllowedEvents", "event_not_allowed"),
        ("track event 'It's done' not in AllowedEvents (the list is empty)", "event_not_allowed"),
        ("page events are off (SendPageEvents is false)", "page_events_off"),
        ("screen events are off (SendScreenEvents is false)", "screen_events_off"),
        ("alias events are off (SendAliasEvents is false)", "alias_events_off"),
        ("group events are off (SendGroupEvents is false)", "group_events_off"),
        ("the mapping 'Identify User' is no longer configured for this instance", "mapping_not_configured"),
    ];

    [Fact]
    public async Task Stored_filter_reason_texts_become_codes_and_counters_of_one_code_are_added_up()
    {
        await using var store = TestStore.Create(provider);
        await using (var old = await OpenAtSchemaBeforeCodesAsync(store))
        {
            await old.ExecuteAsync("INSERT INTO events (seq, source_id, message_id, type, received_at, body) VALUES (1, 'web', 'm-1', 'track', 0, '{}')");
            for (var i = 0; i < OldTexts.Length; i++)
            {
                await old.ExecuteAsync("INSERT INTO filter_counts (destination_id, reason, day, count) VALUES ('d', @Reason, '2026-03-01', @Count)",
                    new { Reason = OldTexts[i].Text, Count = (long)(i + 1) });
                await Delivery(old, $"s{i}", "filtered", OldTexts[i].Text);
            }
            await old.ExecuteAsync("""
                INSERT INTO filter_counts (destination_id, reason, day, count) VALUES
                    ('d', 'screen calls are not accepted by Salesmachine', '2026-03-02', 100),
                    ('other', 'disabled by the Integrations object', '2026-03-01', 1000),
                    ('d', 'a reason this version does not know', '2026-03-01', 7)
                """);
            // Not filter reasons: kept as they are, even where the text looks like one.
            await Delivery(old, "dead", "dead", "partner answered 400: final (D12)");
            await Delivery(old, "invalid", "invalid", "no userId: but stored as invalid");
            await Delivery(old, "unknown", "filtered", "a reason this version does not know");
        }

        await store.EnsureMigratedAsync();

        var counters = (await store.QueryAsync<(string Destination, string Reason, string Day, long Count)>(
            "SELECT destination_id, reason, day, count FROM filter_counts ORDER BY destination_id, reason, day")).ToList();
        var expected = OldTexts.Select((t, i) => (Text: t.Text, t.Code, Count: (long)(i + 1)))
            .GroupBy(t => t.Code).Select(g => ("d", g.Key, "2026-03-01", g.Sum(t => t.Count)))
            .Append(("d", "a reason this version does not know", "2026-03-01", 7L))
            .Append(("d", "call_type_not_accepted", "2026-03-02", 100L))
            .Append(("other", "integrations_off", "2026-03-01", 1000L))
            .OrderBy(r => r.Item1, StringComparer.Ordinal).ThenBy(r => r.Item2, StringComparer.Ordinal).ThenBy(r => r.Item3, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expected, counters.OrderBy(r => r.Destination, StringComparer.Ordinal).ThenBy(r => r.Reason, StringComparer.Ordinal)
            .ThenBy(r => r.Day, StringComparer.Ordinal).ToList());

        var rows = (await store.QueryAsync<(string Subscription, string Reason)>("SELECT subscription, reason FROM deliveries"))
            .ToDictionary(r => r.Subscription, r => r.Reason);
        for (var i = 0; i < OldTexts.Length; i++) Assert.Equal((OldTexts[i].Text, OldTexts[i].Code), (OldTexts[i].Text, rows[$"s{i}"]));
        Assert.Equal("partner answered 400: final (D12)", rows["dead"]);
        Assert.Equal("no userId: but stored as invalid", rows["invalid"]);
        Assert.Equal("a reason this version does not know", rows["unknown"]);

        // Every code the migration writes is one the catalogue knows (and so the admin API can put its sentence next to it).
        Assert.All(OldTexts, t => Assert.NotNull(FilterReason.Find(t.Code)));
        // The stats add the router-time counters and the mapper-time rows of one code together.
        var stats = await store.Queue.GetStatsAsync("d", CancellationToken.None);
        Assert.Equal(3 + 4 + 2, stats.Filtered["delete_not_supported"]);
        Assert.Equal(5 + 6 + 7 + 100 + 3, stats.Filtered["call_type_not_accepted"]);
    }

    /// <summary>A store as the previous version left it: every migration before the codes, none after.</summary>
    async Task<DbConnection> OpenAtSchemaBeforeCodesAsync(TestStore store)
    {
        if (provider == StoreProvider.Sqlite)
        {
            var builder = new SqliteConnectionStringBuilder(store.Options.ConnectionString);
            Directory.CreateDirectory(Path.GetDirectoryName(builder.DataSource)!);
            var conn = new SqliteConnection(store.Options.ConnectionString);
            await conn.OpenAsync();
            await conn.ExecuteAsync("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)");
            foreach (var (version, description, sql) in SqliteMigrations.All.Where(m => m.Version < 7))
            {
                await conn.ExecuteAsync(sql);
                await conn.ExecuteAsync("INSERT INTO schema_version VALUES (@version, @description, 'then')", new { version, description });
            }
            return conn;
        }
        var pg = new NpgsqlConnection(store.Options.ConnectionString);
        await pg.OpenAsync();
        var schema = new NpgsqlConnectionStringBuilder(store.Options.ConnectionString).SearchPath!;
        await pg.ExecuteAsync($"CREATE SCHEMA \"{schema}\"");
        await pg.ExecuteAsync("CREATE TABLE schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL)");
        foreach (var (version, description, sql) in PostgresMigrations.All.Where(m => m.Version < 2))
        {
            await pg.ExecuteAsync(sql);
            await pg.ExecuteAsync("INSERT INTO schema_version VALUES (@version, @description, now())", new { version, description });
        }
        return pg;
    }

    static Task Delivery(DbConnection conn, string subscription, string status, string reason) => conn.ExecuteAsync("""
        INSERT INTO deliveries (event_seq, destination_id, subscription, status, next_attempt_at, created_at, updated_at, reason)
        VALUES (1, 'd', @subscription, @status, 0, 0, 0, @reason)
        """, new { subscription, status, reason });
}

public sealed class SqliteFilterReasonMigrationTests() : FilterReasonMigrationTests(StoreProvider.Sqlite);
public sealed class PostgresFilterReasonMigrationTests() : FilterReasonMigrationTests(StoreProvider.Postgres);
