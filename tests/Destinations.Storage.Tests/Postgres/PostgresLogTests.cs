using Destinations.Core.Delivery;
using Destinations.Storage.Postgres;

namespace Destinations.Storage.Tests;

/// <summary>The PostgreSQL log (docs/storage.md), as <see cref="LogTests"/> for SQLite: partition cursors, rows only for
/// deliveries that need state, recovery by another replica after a crash, D16 behind rows, PausedMaxAge for events waiting on
/// the log, the cursor lag in the stats.</summary>
public sealed class PostgresLogTests
{
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    /// <summary>The cursor of the partition that holds <paramref name="user"/>'s events (4 partitions, the default).</summary>
    static Task<long> CursorAsync(TestStore store, string destination, string user = "user-1") =>
        store.ScalarAsync<long>("SELECT seq FROM cursor_leases WHERE instance = @destination AND partition = @partition",
            new { destination, partition = UserPartition.Of(user, store.Options.Partitions) });

    /// <summary>The last sequence value drawn: the top of the last block of numbers an ingest group took, the horizon once it
    /// has committed (a cursor that has settled everything below it moves there, past the block's unused numbers).</summary>
    static Task<long> LastDrawnAsync(TestStore store) =>
        store.ScalarAsync<long>("SELECT pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass)");

    static Settlement Delivered(ClaimedDelivery d) => new(d, SettlementKind.Delivered) { StepsDone = 1 };

    [Fact]
    public async Task Accept_writes_one_row_per_event_and_first_pass_successes_only_move_the_cursor()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        await store.Store.AcceptAsync([.. Enumerable.Range(1, 5).Select(i => TestEvents.To($"m-{i}", "sm"))], CancellationToken.None);
        Assert.Equal((5L, 0L, 0L), (await store.ScalarAsync<long>("SELECT COUNT(*) FROM events"),
            await store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries"), await store.ScalarAsync<long>("SELECT COUNT(*) FROM dedupe")));
        // A new instance's partitions start just before the first event routed to it.
        Assert.Equal([0L, 0L, 0L, 0L], await store.QueryAsync<long>("SELECT seq FROM cursor_leases WHERE instance = 'sm'"));
        var before = await store.Queue.GetStatsAsync("sm", CancellationToken.None);
        Assert.Equal((5L, 5L, TestStore.Start), (before.PendingNew, before.LogBacklog, before.LogOldestAt));

        var claimed = await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None);
        Assert.Equal(5, claimed.Count);
        Assert.All(claimed, c => Assert.True(c.Id < 0));
        Assert.All(await store.Queue.SettleAsync([.. claimed.Select(Delivered)], CancellationToken.None), Assert.True);

        Assert.Equal(await LastDrawnAsync(store), await CursorAsync(store, "sm"));
        Assert.True(await CursorAsync(store, "sm") >= 5);
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries"));
        Assert.Equal(5L, await store.ScalarAsync<long>("SELECT SUM(count) FROM outcome_counts WHERE destination_id = 'sm' AND outcome = 'delivered'"));
        var stats = await store.Queue.GetStatsAsync("sm", CancellationToken.None);
        Assert.Equal((0L, 5L, 0L, (DateTimeOffset?)null), (stats.PendingNew, stats.Delivered, stats.LogBacklog, stats.LogOldestAt));
        Assert.All(await store.History.GetAsync("m-3", null, CancellationToken.None), s => Assert.Equal(DeliveryStoryStatus.Delivered, Assert.Single(s.Deliveries).Status));
    }

    [Fact]
    public async Task The_cursor_stops_below_a_delivery_in_flight_and_after_a_crash_another_replica_sends_again_only_what_was_not_settled()
    {
        var first = TestStore.Create(StoreProvider.Postgres);
        first.KeepFiles = true;
        await first.Store.AcceptAsync([.. Enumerable.Range(1, 6).Select(i => TestEvents.To($"m-{i}", "sm"))], CancellationToken.None);
        var claimed = (await first.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)).ToDictionary(c => c.MessageId);
        // m-2 stays in flight; m-1, m-4, m-6 succeed; m-3 fails (a retry row); m-5 is filtered by the mapper (a row).
        await first.Queue.SettleAsync([Delivered(claimed["m-1"]), Delivered(claimed["m-4"]), Delivered(claimed["m-6"]),
            new Settlement(claimed["m-3"], SettlementKind.RetryScheduled) { At = TestStore.Start.AddMinutes(5), Failure = FakeDestination.Status(503) },
            new Settlement(claimed["m-5"], SettlementKind.Filtered) { Reason = "no_user_id" }], CancellationToken.None);
        Assert.Equal(1L, await CursorAsync(first, "sm"));
        Assert.Equal(DeliveryStoryStatus.Pending, (await first.StoryAsync("m-4")).Status); // above the cursor: not yet recorded as delivered
        await first.DisposeAsync(); // the replica dies with m-2 in flight, holding the partitions

        await using var second = first.Reopen();
        Assert.Empty(await second.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)); // the dead replica's lease holds
        second.Clock.Advance(2 * Lease + TimeSpan.FromSeconds(1)); // the partition lease: twice the delivery lease
        var again = await second.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None);
        // Read again from the cursor: m-3 and m-5 have rows (skipped; m-3's retry is not due yet), m-2 was in flight and m-4,
        // m-6 were not yet passed by the cursor: sent again (at-least-once).
        Assert.Equal(["m-2", "m-4", "m-6"], again.Select(c => c.MessageId));
        await second.Queue.SettleAsync([.. again.Select(Delivered)], CancellationToken.None);
        Assert.Equal(await LastDrawnAsync(second), await CursorAsync(second, "sm"));
        Assert.True(await CursorAsync(second, "sm") >= 6);
        Assert.Equal([DeliveryStoryStatus.Delivered, DeliveryStoryStatus.Delivered, DeliveryStoryStatus.Pending, DeliveryStoryStatus.Delivered,
            DeliveryStoryStatus.Filtered, DeliveryStoryStatus.Delivered], (await second.DeliveriesAsync()).Select(d => d.Status));
    }

    [Fact]
    public async Task A_replica_whose_partitions_were_taken_over_moves_none_of_their_cursors_when_it_settles_late()
    {
        var first = TestStore.Create(StoreProvider.Postgres);
        var second = first.Reopen();
        second.KeepFiles = true;
        try
        {
            var users = Enumerable.Range(1, 8).Select(i => $"user-{i}").ToList();
            Assert.True(users.Select(u => UserPartition.Of(u, first.Options.Partitions)).Distinct().Count() >= 2);
            await first.Store.AcceptAsync([.. users.Select(u => new IncomingEvent("web", TestEvents.Track($"m-{u}", u),
                new RoutingDecision([new RoutedDelivery("sm", "track")], [])))], CancellationToken.None);
            var late = await first.Queue.ClaimAsync("w1", 10, Lease, CancellationToken.None);
            Assert.Equal(8, late.Count);

            // The first replica stalls past the partition lease (twice the delivery lease): the second takes every partition.
            first.Clock.Advance(2 * Lease + TimeSpan.FromSeconds(1));
            var again = await second.Queue.ClaimAsync("w2", 10, Lease, CancellationToken.None);
            Assert.Equal(8, again.Count);
            const string Cursors = "SELECT seq FROM cursor_leases WHERE instance = 'sm' ORDER BY partition";
            var before = await first.QueryAsync<long>(Cursors);
            Assert.All(before, seq => Assert.True(seq < late.Max(d => d.EventSeq)));

            // Its late outcomes move no cursor of the partitions it lost (they are the second's now), in one flush over them all.
            await first.Queue.SettleAsync([.. late.Select(Delivered)], CancellationToken.None);
            Assert.Equal(before, await first.QueryAsync<long>(Cursors));

            await second.Queue.SettleAsync([.. again.Select(Delivered)], CancellationToken.None);
            Assert.All(await first.QueryAsync<long>(Cursors), seq => Assert.True(seq >= late.Max(d => d.EventSeq)));
        }
        finally
        {
            await second.DisposeAsync();
            await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task Ordered_one_users_retry_holds_only_that_users_later_events_others_flow_D16()
    {
        await using var store = TestStore.Create(StoreProvider.Postgres);
        var ordered = new ClaimRequest("w", 10, Lease) { Ordered = new HashSet<string> { "sm" } };
        static IncomingEvent For(string id, string user) => new("web", TestEvents.Track(id, user), new RoutingDecision([new RoutedDelivery("sm", "track")], []));
        await store.AcceptOneAsync(For("u1-a", "u1"));
        var firstClaim = Assert.Single(await store.Queue.ClaimAsync(ordered, CancellationToken.None));
        await store.Queue.ScheduleRetryAsync(firstClaim, TestStore.Start.AddMinutes(1), FakeDestination.Status(503), null, CancellationToken.None);

        await store.Store.AcceptAsync([For("u1-b", "u1"), For("u2-a", "u2"), For("u1-c", "u1"), For("u3-a", "u3"), For("u2-b", "u2")], CancellationToken.None);
        var claimed = await store.Queue.ClaimAsync(ordered, CancellationToken.None);
        // u2's two events in one claim: only its earlier one; u1 waits behind its retry (small pending rows).
        Assert.Equal(["u2-a", "u3-a"], claimed.Select(c => c.MessageId).Order());
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
        await using var store = TestStore.Create(StoreProvider.Postgres);
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
}
