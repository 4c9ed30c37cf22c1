using Destinations.Core.Delivery;

namespace Destinations.Storage.Tests;

/// <summary>Runs against both providers: <see cref="SqliteRetentionTests"/> and <see cref="PostgresRetentionTests"/>.</summary>
public abstract class RetentionTests(StoreProvider provider)
{
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    static Settlement Delivered(ClaimedDelivery d) => new(d, SettlementKind.Delivered) { StepsDone = 1 };

    /// <summary>The instances that have a cursor (SQLite: one per instance; PostgreSQL: one per partition).</summary>
    Task<List<string>> CursorInstancesAsync(TestStore store) => store.QueryAsync<string>(provider == StoreProvider.Sqlite
        ? "SELECT DISTINCT destination_id FROM cursors ORDER BY destination_id"
        : "SELECT DISTINCT instance FROM cursor_leases ORDER BY instance");

    [Fact]
    public async Task Purge_keeps_delivered_7_days_dead_letters_and_counters_30_days_D17()
    {
        await using var store = TestStore.Create(provider);
        var retention = new RetentionOptions { PurgeBatchSize = 1 };
        await store.AcceptOneAsync(TestEvents.Incoming("m-1", [new("sm", "track"), new("um", "track")], [new RouterFilter("smc", FilterReason.SourceNotLinked)]));
        await store.AcceptOneAsync(TestEvents.To("m-2", "sm"));
        await store.AcceptOneAsync(TestEvents.To("m-3", "sm"));
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm")); // a duplicate, counted
        var rows = await store.Queue.ClaimAsync("w", 10, TimeSpan.FromMinutes(1), CancellationToken.None);
        await store.Queue.MarkDeliveredAsync(rows.Single(r => r.MessageId == "m-1" && r.DestinationId == "sm"), 1, CancellationToken.None);
        await store.Queue.MarkDeliveredAsync(rows.Single(r => r.MessageId == "m-2"), 1, CancellationToken.None);
        await store.Queue.MarkDeadAsync(rows.Single(r => r.MessageId == "m-3"), "partner answered 400", null, null, CancellationToken.None);
        await store.Queue.ScheduleRetryAsync(rows.Single(r => r.DestinationId == "um"), TestStore.Start.AddDays(60), FakeDestination.Status(503), null, CancellationToken.None);

        store.Clock.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        await store.PurgeAsync(retention);

        // m-2 is gone with its only delivery (on SQLite's log: every cursor passed it); m-1 stays for its pending delivery to
        // um; m-3 is a dead letter.
        Assert.Equal(["m-1", "m-3"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"));
        Assert.Equal([("um", "pending"), ("sm", "dead")], await store.QueryAsync<(string, string)>("SELECT destination_id, status FROM deliveries ORDER BY event_seq"));
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM dedupe")); // expired after 24 h (D5)
        Assert.Equal(1L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM filter_counts"));

        store.Clock.Advance(TimeSpan.FromDays(24));
        await store.PurgeAsync(retention);

        // The newest event is never purged (on SQLite a seq would be handed out twice).
        Assert.Equal(["m-1", "m-3"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"));
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM filter_counts") + await store.ScalarAsync<long>("SELECT COUNT(*) FROM duplicate_counts"));
    }

    [Fact]
    public async Task An_event_another_instances_cursor_has_not_passed_outlives_the_purge_of_its_finished_row_D17()
    {
        await using var store = TestStore.Create(provider);
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm", "um"));
        // um is paused (D12): a held instance is not read from the log, so its cursor stays before m-1.
        await store.Queue.UpdateInstanceAsync("um", s => s with { Hold = InstanceHold.Paused, HeldSince = store.Clock.GetUtcNow(), HoldReason = "401" }, CancellationToken.None);
        var sm = Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None));
        Assert.Equal(("m-1", "sm"), (sm.MessageId, sm.DestinationId));
        await store.Queue.MarkDeadAsync(sm, "partner answered 400", null, null, CancellationToken.None);
        await store.AcceptOneAsync(TestEvents.To("m-2", "sm")); // m-1 is not the newest event (that one always stays)
        await store.Queue.SettleAsync([Delivered(Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)))], CancellationToken.None);

        // sm's dead letter expires; um has not read m-1 yet: the event stays.
        store.Clock.Advance(TimeSpan.FromDays(31));
        await store.PurgeAsync(new RetentionOptions());
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries"));
        Assert.Equal(["m-1", "m-2"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"));

        // um resumes and gets m-1; once its cursor has passed it, m-1 goes.
        await store.Queue.UpdateInstanceAsync("um", s => s.Resumed(), CancellationToken.None);
        var um = Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None));
        Assert.Equal(("m-1", "um"), (um.MessageId, um.DestinationId));
        Assert.All(await store.Queue.SettleAsync([Delivered(um)], CancellationToken.None), Assert.True);
        await store.PurgeAsync(new RetentionOptions());
        Assert.Equal(["m-2"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"));
    }

    [Fact]
    public async Task A_duplicate_inside_the_dedupe_window_is_refused_after_its_rows_were_purged_D5()
    {
        await using var store = TestStore.Create(provider);
        // Rows kept an hour, the dedupe window (D5) 24 h: the event row is the dedupe record.
        var retention = new RetentionOptions { Delivered = TimeSpan.FromHours(1), Dead = TimeSpan.FromHours(1) };
        await store.AcceptOneAsync(TestEvents.To("m-retried", "sm"));
        await store.AcceptOneAsync(TestEvents.To("m-dead", "sm"));
        var claimed = (await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)).ToDictionary(c => c.MessageId);
        await store.Queue.ScheduleRetryAsync(claimed["m-retried"], TestStore.Start.AddMinutes(1), FakeDestination.Status(503), null, CancellationToken.None);
        await store.Queue.MarkDeadAsync(claimed["m-dead"], "partner answered 400", null, null, CancellationToken.None);
        store.Clock.Advance(TimeSpan.FromMinutes(1));
        await store.Queue.MarkDeliveredAsync(Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)), 1, CancellationToken.None);
        await store.AcceptOneAsync(TestEvents.To("m-last", "sm")); // the newest event always stays; this keeps it from being one of the two
        await store.Queue.SettleAsync([Delivered(Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)))], CancellationToken.None);
        Assert.Equal(["delivered", "dead"], await store.QueryAsync<string>("SELECT status FROM deliveries ORDER BY event_seq"));

        store.Clock.Advance(TimeSpan.FromHours(2));
        await store.PurgeAsync(retention);
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries"));
        Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To("m-retried", "sm")));
        Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To("m-dead", "sm")));

        // Past the window both go, and a resend is a new event.
        store.Clock.Advance(TimeSpan.FromHours(22));
        await store.PurgeAsync(retention);
        Assert.Equal(["m-last"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"));
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-retried", "sm")));
    }

    [Fact]
    public async Task A_removed_instances_cursor_holds_the_log_back_only_for_the_grace_period()
    {
        await using var store = TestStore.Create(provider);
        var grace = TimeSpan.FromDays(7); // SqliteLog.RemovedInstanceGrace, also PostgreSQL's
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm", "gone"));
        var configured = new ClaimRequest("w", 10, Lease) { Destinations = ["sm"] }; // "gone" left the configuration
        await store.Queue.SettleAsync([Delivered(Assert.Single(await store.Queue.ClaimAsync(configured, CancellationToken.None)))], CancellationToken.None);
        await store.AcceptOneAsync(TestEvents.To("m-2", "sm"));
        await store.Queue.SettleAsync([Delivered(Assert.Single(await store.Queue.ClaimAsync(configured, CancellationToken.None)))], CancellationToken.None);

        store.Clock.Advance(grace - TimeSpan.FromMinutes(1));
        Assert.Empty(await store.Queue.ClaimAsync(configured, CancellationToken.None));
        Assert.Equal(["gone", "sm"], await CursorInstancesAsync(store));
        store.Clock.Advance(TimeSpan.FromMinutes(2));
        await store.PurgeAsync(new RetentionOptions());
        Assert.Equal(["m-1", "m-2"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq")); // gone's cursor holds m-1

        // The next claim drops gone's cursor; the purge then proceeds (the newest event always stays).
        Assert.Empty(await store.Queue.ClaimAsync(configured, CancellationToken.None));
        Assert.Equal(["sm"], await CursorInstancesAsync(store));
        await store.PurgeAsync(new RetentionOptions());
        Assert.Equal(["m-2"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"));
    }
}

public sealed class SqliteRetentionTests() : RetentionTests(StoreProvider.Sqlite);

public sealed class PostgresRetentionTests() : RetentionTests(StoreProvider.Postgres);
