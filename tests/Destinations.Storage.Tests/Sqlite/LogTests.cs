using Destinations.Core.Delivery;

namespace Destinations.Storage.Tests;

/// <summary>The SQLite log (docs/storage.md): cursors, rows only for deliveries that need state, recovery after a crash,
/// D16 behind rows, PausedMaxAge for events waiting on the log, dedupe by hash (D5).</summary>
public sealed class LogTests
{
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    static Task<long> CursorAsync(TestStore store, string destination) =>
        store.ScalarAsync<long>("SELECT seq FROM cursors WHERE destination_id = @destination", new { destination });

    static Settlement Delivered(ClaimedDelivery d) => new(d, SettlementKind.Delivered) { StepsDone = 1 };

    [Fact]
    public async Task Accept_writes_one_row_per_event_and_first_pass_successes_only_move_the_cursor()
    {
        await using var store = TestStore.Create();
        await store.Store.AcceptAsync([.. Enumerable.Range(1, 5).Select(i => TestEvents.To($"m-{i}", "sm"))], CancellationToken.None);
        Assert.Equal((5L, 0L, 0L), (await store.ScalarAsync<long>("SELECT COUNT(*) FROM events"),
            await store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries"), await store.ScalarAsync<long>("SELECT COUNT(*) FROM dedupe")));
        Assert.Equal(0L, await CursorAsync(store, "sm")); // a new instance starts just before the first event routed to it

        var claimed = await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None);
        Assert.Equal(5, claimed.Count);
        Assert.All(claimed, c => Assert.True(c.Id < 0));
        Assert.All(await store.Queue.SettleAsync([.. claimed.Select(Delivered)], CancellationToken.None), Assert.True);

        Assert.Equal(5L, await CursorAsync(store, "sm"));
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries"));
        Assert.Equal(5L, await store.ScalarAsync<long>("SELECT SUM(count) FROM outcome_counts WHERE destination_id = 'sm' AND outcome = 'delivered'"));
        var stats = await store.Queue.GetStatsAsync("sm", CancellationToken.None);
        Assert.Equal((0L, 5L, 0L), (stats.PendingNew, stats.Delivered, stats.LogBacklog));
    }

    [Fact]
    public async Task The_cursor_stops_below_a_delivery_in_flight_and_a_restart_sends_again_only_what_was_not_settled()
    {
        var first = TestStore.Create();
        first.KeepFiles = true;
        await first.Store.AcceptAsync([.. Enumerable.Range(1, 6).Select(i => TestEvents.To($"m-{i}", "sm"))], CancellationToken.None);
        var claimed = (await first.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)).ToDictionary(c => c.MessageId);
        // m-2 stays in flight; m-1, m-4, m-6 succeed; m-3 fails (a retry row); m-5 is filtered by the mapper (a row).
        await first.Queue.SettleAsync([Delivered(claimed["m-1"]), Delivered(claimed["m-4"]), Delivered(claimed["m-6"]),
            new Settlement(claimed["m-3"], SettlementKind.RetryScheduled) { At = TestStore.Start.AddMinutes(5), Failure = FakeDestination.Status(503) },
            new Settlement(claimed["m-5"], SettlementKind.Filtered) { Reason = "no_user_id" }], CancellationToken.None);
        Assert.Equal(1L, await CursorAsync(first, "sm"));
        Assert.Equal(DeliveryStoryStatus.Pending, (await first.StoryAsync("m-4")).Status); // above the cursor: not yet recorded as delivered
        await first.DisposeAsync(); // the process dies with m-2 in flight

        await using var second = first.Reopen();
        var again = await second.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None);
        // Read again from the cursor: m-3 and m-5 have rows (skipped), m-2 was in flight and m-4, m-6 were not yet passed
        // by the cursor: sent again (at-least-once).
        Assert.Equal(["m-2", "m-4", "m-6"], again.Select(c => c.MessageId));
        await second.Queue.SettleAsync([.. again.Select(Delivered)], CancellationToken.None);
        Assert.Equal(6L, await CursorAsync(second, "sm"));
        Assert.Equal([DeliveryStoryStatus.Delivered, DeliveryStoryStatus.Delivered, DeliveryStoryStatus.Pending, DeliveryStoryStatus.Delivered,
            DeliveryStoryStatus.Filtered, DeliveryStoryStatus.Delivered], (await second.DeliveriesAsync()).Select(d => d.Status));
    }

    [Fact]
    public async Task Ordered_one_users_retry_holds_only_that_users_later_events_others_flow_D16()
    {
        await using var store = TestStore.Create();
        var ordered = new ClaimRequest("w", 10, Lease) { Ordered = new HashSet<string> { "sm" } };
        static IncomingEvent For(string id, string user) => new("web", TestEvents.Track(id, user), new RoutingDecision([new RoutedDelivery("sm", "track")], []));
        await store.AcceptOneAsync(For("u1-a", "u1"));
        var firstClaim = Assert.Single(await store.Queue.ClaimAsync(ordered, CancellationToken.None));
        await store.Queue.ScheduleRetryAsync(firstClaim, TestStore.Start.AddMinutes(1), FakeDestination.Status(503), null, CancellationToken.None);

        await store.Store.AcceptAsync([For("u1-b", "u1"), For("u2-a", "u2"), For("u1-c", "u1"), For("u3-a", "u3"), For("u2-b", "u2")], CancellationToken.None);
        var claimed = await store.Queue.ClaimAsync(ordered, CancellationToken.None);
        // u2's two events in one claim: only its earlier one; u1 waits behind its retry (small pending rows).
        Assert.Equal(["u2-a", "u3-a"], claimed.Select(c => c.MessageId));
        await store.Queue.SettleAsync([.. claimed.Select(Delivered)], CancellationToken.None);
        Assert.Equal(["u2-b"], (await store.Queue.ClaimAsync(ordered, CancellationToken.None)).Select(c => c.MessageId));
        Assert.Equal(2L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE e.user_key = 'u1' AND d.attempts = 0"));

        // u1's retry succeeds; then its later events go one at a time, in order.
        store.Clock.Advance(TimeSpan.FromMinutes(1));
        var order = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var batch = (await store.Queue.ClaimAsync(ordered, CancellationToken.None)).Where(c => c.UserKey == "u1").ToList();
            if (batch.Count == 0) break;
            Assert.Single(batch);
            order.Add(batch[0].MessageId);
            await store.Queue.MarkDeliveredAsync(batch[0], 1, CancellationToken.None);
        }
        Assert.Equal(["u1-a", "u1-b", "u1-c"], order);
    }

    [Fact]
    public async Task Events_that_waited_on_the_log_while_paused_longer_than_PausedMaxAge_are_dead_letters_D12()
    {
        await using var store = TestStore.Create();
        await store.AcceptOneAsync(TestEvents.To("m-0", "sm"));
        await store.Queue.SettleAsync([Delivered(Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)))], CancellationToken.None);
        await store.Queue.ExpireHeldAsync(TimeSpan.FromHours(72), CancellationToken.None); // the dispatcher's maintenance tells the store the age
        await store.Queue.UpdateInstanceAsync("sm", s => s with { Hold = InstanceHold.Paused, HeldSince = store.Clock.GetUtcNow(), HoldReason = "401" }, CancellationToken.None);
        await store.AcceptOneAsync(TestEvents.To("m-old", "sm"));
        store.Clock.Advance(TimeSpan.FromHours(48));
        await store.AcceptOneAsync(TestEvents.To("m-new", "sm"));
        Assert.Empty(await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)); // paused: the cursor does not move
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries"));
        Assert.Equal(2L, (await store.Queue.GetStatsAsync("sm", CancellationToken.None)).Held);

        store.Clock.Advance(TimeSpan.FromHours(25));
        await store.Queue.UpdateInstanceAsync("sm", s => s.Resumed(), CancellationToken.None);
        var claimed = Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None));
        Assert.Equal(("m-new", TimeSpan.FromHours(25)), (claimed.MessageId, claimed.HeldFor)); // paused time, not counted by D13
        var dead = Assert.Single((await store.Admin.ListDeadLettersAsync(new DeadLetterFilter(), CancellationToken.None)).Items);
        Assert.Equal("m-old", dead.MessageId);
        Assert.Contains("Delivery:PausedMaxAge", dead.Reason);
    }

    [Fact]
    public async Task The_events_story_tells_router_filters_retries_dead_letters_and_first_pass_deliveries()
    {
        await using var store = TestStore.Create();
        await store.AcceptOneAsync(TestEvents.Incoming("m-1", [new("sm", "track"), new("um", "Track Calls"), new("um", "Identify Calls")],
            [new RouterFilter("smc", FilterReason.IntegrationsOff)]));
        var claimed = (await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)).ToDictionary(c => c.DestinationId + "/" + c.Subscription);
        await store.Queue.SettleAsync([Delivered(claimed["sm/track"]),
            new Settlement(claimed["um/Track Calls"], SettlementKind.RetryScheduled) { At = TestStore.Start.AddMinutes(2), Failure = FakeDestination.Status(503, "busy") },
            new Settlement(claimed["um/Identify Calls"], SettlementKind.Dead) { Reason = "partner answered 400", Failure = FakeDestination.Status(400) }],
            CancellationToken.None);

        var story = Assert.Single(await store.History.GetAsync("m-1", "web", CancellationToken.None));
        Assert.Equal([new RouterFilterStory("smc", "integrations_off")], story.RouterFiltered);
        Assert.Equal([
            ("sm", "track", DeliveryStoryStatus.Delivered, 1, (DateTimeOffset?)null, (int?)null, (string?)null),
            ("um", "Track Calls", DeliveryStoryStatus.Pending, 1, TestStore.Start.AddMinutes(2), 503, null),
            ("um", "Identify Calls", DeliveryStoryStatus.Dead, 1, null, 400, "partner answered 400"),
        ], story.Deliveries.Select(d => (d.DestinationId, d.Subscription, d.Status, d.Attempts, d.NextAttemptAt, d.LastStatus, d.Reason)));
        Assert.Empty(await store.History.GetAsync("m-1", "app", CancellationToken.None));
        Assert.Empty(await store.History.GetAsync("m-unknown", null, CancellationToken.None));
    }

    [Fact]
    public async Task Dedupe_confirms_a_hash_hit_on_the_full_messageId_D5()
    {
        await using var store = TestStore.Create();
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        await store.AcceptOneAsync(TestEvents.Incoming("m-2", [new("sm", "track")], source: "app"));
        // Another id stored under m-2's hash (as a 64-bit collision would): m-2 is still new, and both are kept.
        await store.ExecuteAsync("UPDATE events SET id_hash = (SELECT id_hash FROM events WHERE message_id = 'm-2') WHERE message_id = 'm-1'");
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-2", "sm")));
        Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To("m-2", "sm")));
        Assert.Equal(3L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM events"));

        // The window survives a restart: it is the log itself.
        await using var again = store.Reopen();
        Assert.Equal(AcceptStatus.Duplicate, await again.AcceptOneAsync(TestEvents.To("m-2", "sm")));
    }

    [Fact]
    public async Task A_removed_instances_cursor_is_dropped_after_the_grace_period_and_no_longer_holds_the_log_back()
    {
        await using var store = TestStore.Create();
        var grace = TimeSpan.FromDays(7); // SqliteLog.RemovedInstanceGrace
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm", "gone"));
        var configured = new ClaimRequest("w", 10, Lease) { Destinations = ["sm"] }; // "gone" left the configuration
        await store.Queue.SettleAsync([Delivered(Assert.Single(await store.Queue.ClaimAsync(configured, CancellationToken.None)))], CancellationToken.None);
        await store.AcceptOneAsync(TestEvents.To("m-2", "sm"));
        await store.Queue.SettleAsync([Delivered(Assert.Single(await store.Queue.ClaimAsync(configured, CancellationToken.None)))], CancellationToken.None);

        store.Clock.Advance(grace - TimeSpan.FromMinutes(1));
        Assert.Empty(await store.Queue.ClaimAsync(configured, CancellationToken.None));
        Assert.Equal(["gone", "sm"], await store.QueryAsync<string>("SELECT destination_id FROM cursors ORDER BY destination_id"));
        store.Clock.Advance(TimeSpan.FromMinutes(2));
        await store.PurgeAsync(new RetentionOptions());
        Assert.Equal(["m-1", "m-2"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq")); // gone's cursor holds m-1

        Assert.Empty(await store.Queue.ClaimAsync(configured, CancellationToken.None));
        Assert.Equal(["sm"], await store.QueryAsync<string>("SELECT destination_id FROM cursors"));
        await store.PurgeAsync(new RetentionOptions());
        Assert.Equal(["m-2"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq")); // the newest always stays
    }

    [Fact]
    public async Task A_canary_from_the_log_that_is_held_again_counts_its_paused_time_once_D13()
    {
        await using var store = TestStore.Create();
        await store.AcceptOneAsync(TestEvents.To("m-0", "sm"));
        await store.Queue.SettleAsync([Delivered(Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)))], CancellationToken.None);
        var pausedAt = store.Clock.GetUtcNow();
        await store.Queue.UpdateInstanceAsync("sm", s => s with { Hold = InstanceHold.Paused, HeldSince = pausedAt, NextProbeAt = pausedAt.AddSeconds(30) }, CancellationToken.None);
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        store.Clock.Advance(TimeSpan.FromSeconds(30));
        var canary = Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None));
        Assert.Equal(("m-1", true, TimeSpan.FromSeconds(30)), (canary.MessageId, canary.IsProbe, canary.HeldFor));
        Assert.True(await store.Queue.HoldAsync(canary, FakeDestination.Status(401), null, CancellationToken.None));

        store.Clock.Advance(TimeSpan.FromMinutes(10));
        await store.Queue.UpdateInstanceAsync("sm", s => s.Resumed(), CancellationToken.None);
        var again = Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None));
        Assert.Equal(("m-1", TimeSpan.FromSeconds(630)), (again.MessageId, again.HeldFor)); // paused 10.5 min, counted once
    }
}
