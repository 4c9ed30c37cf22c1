using Destinations.Core.Delivery;

namespace Destinations.Storage.Tests;

/// <summary>Runs against both providers: <see cref="SqliteEventStoreTests"/> and <see cref="PostgresEventStoreTests"/>.</summary>
public abstract class EventStoreTests(StoreProvider provider)
{
    [Fact]
    public async Task Accept_stores_the_event_one_row_per_routed_delivery_and_router_filter_counts_D7_D8()
    {
        await using var store = TestStore.Create(provider);
        var incoming = TestEvents.Incoming("m-1",
            [new RoutedDelivery("sm", "track"), new RoutedDelivery("um", "Track Calls"), new RoutedDelivery("um", "Identify Calls")],
            [new RouterFilter("smc", FilterReason.IntegrationsOff)]);

        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(incoming));

        var events = await store.QueryAsync<(string Source, string Message, string Type, string UserKey, long ReceivedAt)>(
            "SELECT source_id, message_id, type, user_key, received_at FROM events");
        Assert.Equal([("web", "m-1", "track", "user-1", new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds())], events);
        // D7: one delivery per (instance, subscription), each waiting (the log row carries the routing).
        var story = Assert.Single(await store.History.GetAsync("m-1", "web", CancellationToken.None));
        Assert.Equal([("sm", "track", DeliveryStoryStatus.Pending, 0), ("um", "Track Calls", DeliveryStoryStatus.Pending, 0), ("um", "Identify Calls", DeliveryStoryStatus.Pending, 0)],
            story.Deliveries.Select(d => (d.DestinationId, d.Subscription, d.Status, d.Attempts)));
        Assert.Equal(3, (await store.Queue.ClaimAsync("w", 10, TimeSpan.FromMinutes(1), CancellationToken.None)).Count);
        var filters = await store.QueryAsync<(string Destination, string Reason, string Day, long Count)>("SELECT destination_id, reason, day, count FROM filter_counts");
        Assert.Equal([("smc", "integrations_off", "2026-03-01", 1L)], filters);
        Assert.Equal(1, store.CommitCount);
    }

    [Fact]
    public async Task An_event_routed_nowhere_is_deduplicated_and_counted_with_nothing_to_deliver()
    {
        await using var store = TestStore.Create(provider);
        var nowhere = TestEvents.Incoming("m-1", [], [new RouterFilter("sm", FilterReason.SourceNotLinked)]);

        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(nowhere));
        Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(nowhere));

        // Its dedupe record is its log row (routed nowhere, no body, the router's reason kept for the story); no dedupe row.
        var story = Assert.Single(await store.History.GetAsync("m-1", null, CancellationToken.None));
        Assert.Empty(story.Deliveries);
        Assert.Null(story.Body);
        Assert.Equal([new RouterFilterStory("sm", "source_not_linked")], story.RouterFiltered);
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM dedupe"));
        Assert.Empty(await store.Queue.ClaimAsync("w", 10, TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Equal(1L, await store.ScalarAsync<long>("SELECT count FROM filter_counts WHERE destination_id = 'sm'"));
    }

    [Fact]
    public async Task Duplicates_within_the_window_are_counted_not_stored_and_accepted_again_after_it_D5()
    {
        await using var store = TestStore.Create(provider);
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-1", "sm")));

        store.Clock.Advance(TimeSpan.FromHours(23));
        Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To("m-1", "sm")));
        // Same messageId from another source is a different event.
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.Incoming("m-1", [new("sm", "track")], source: "app")));
        Assert.Equal(2L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM events"));
        Assert.Equal(1L, await store.ScalarAsync<long>("SELECT SUM(count) FROM duplicate_counts WHERE destination_id = 'sm'"));

        store.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMilliseconds(1));
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-1", "sm")));
        Assert.Equal(3L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public async Task The_dedupe_window_is_configurable()
    {
        await using var store = TestStore.Create(provider, o => o.DedupeWindow = TimeSpan.FromMinutes(10));
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        store.Clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-1", "sm")));
    }

    [Fact]
    public async Task A_large_group_keeps_every_status_sequence_delivery_and_counter_right()
    {
        // 300 events: more than one multi-row statement per table (SQLite writes 64 rows per statement), with duplicates
        // inside the group, duplicates of an earlier group, events routed nowhere and events with two deliveries.
        await using var store = TestStore.Create(provider);
        Assert.Equal([AcceptStatus.Stored, AcceptStatus.Stored], await store.Store.AcceptAsync([TestEvents.To("old-1", "sm"), TestEvents.To("old-2", "sm")], CancellationToken.None));
        var batch = new List<IncomingEvent>();
        var expected = new List<AcceptStatus>();
        for (var i = 0; i < 300; i++)
        {
            (IncomingEvent e, AcceptStatus s) = (i % 50) switch
            {
                7 => (TestEvents.To("old-1", "sm"), AcceptStatus.Duplicate),
                8 => (TestEvents.To($"m-{i - 2}", "sm"), AcceptStatus.Duplicate), // the same id as an event just before
                9 => (TestEvents.Incoming($"m-{i}", [], [new RouterFilter("um", FilterReason.SourceNotLinked)]), AcceptStatus.Stored),
                10 => (TestEvents.To($"m-{i}", "sm", "um"), AcceptStatus.Stored),
                _ => (TestEvents.To($"m-{i}", "sm"), AcceptStatus.Stored),
            };
            batch.Add(e);
            expected.Add(s);
        }

        Assert.Equal(expected, await store.Store.AcceptAsync(batch, CancellationToken.None));

        // Events routed nowhere are kept as their own dedupe record in the log.
        var stored = batch.Where((e, i) => expected[i] == AcceptStatus.Stored).Select(e => e.Event.MessageId).ToList();
        Assert.Equal(["old-1", "old-2", .. stored], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"));
        // Every delivery belongs to its own event.
        var deliveries = (await store.DeliveriesAsync()).Select(d => (d.MessageId, d.Destination)).ToList();
        var expectedDeliveries = batch.Where((e, i) => expected[i] == AcceptStatus.Stored)
            .SelectMany(e => e.Routing.Deliveries.Select(d => (e.Event.MessageId, d.DestinationId))).ToList();
        Assert.Equal([("old-1", "sm"), ("old-2", "sm"), .. expectedDeliveries], deliveries);
        Assert.Equal(12L, await store.ScalarAsync<long>("SELECT SUM(count) FROM duplicate_counts WHERE destination_id = 'sm'"));
        Assert.Equal(6L, await store.ScalarAsync<long>("SELECT SUM(count) FROM filter_counts WHERE destination_id = 'um'"));
        // Each stored id is rejected again (D5), in one more group.
        var again = batch.Where((e, i) => expected[i] == AcceptStatus.Stored).ToList();
        Assert.All(await store.Store.AcceptAsync(again, CancellationToken.None), s => Assert.Equal(AcceptStatus.Duplicate, s));
    }

    [Fact]
    public async Task A_duplicate_inside_one_group_is_detected()
    {
        await using var store = TestStore.Create(provider);
        var statuses = await store.Store.AcceptAsync(
            [TestEvents.To("m-1", "sm"), TestEvents.To("m-2", "sm"), TestEvents.To("m-1", "sm")], CancellationToken.None);

        Assert.Equal([AcceptStatus.Stored, AcceptStatus.Stored, AcceptStatus.Duplicate], statuses);
        Assert.Equal(["m-1", "m-2"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"));
    }

    [Fact]
    public async Task Concurrent_callers_share_transactions_group_commit()
    {
        await using var store = TestStore.Create(provider, o => o.GroupCommitMaxDelay = TimeSpan.FromMilliseconds(5));
        await store.EnsureMigratedAsync();
        using var go = new ManualResetEventSlim();
        var calls = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            go.Wait();
            return await store.AcceptOneAsync(TestEvents.To($"m-{i}", "sm"));
        })).ToList();
        go.Set();

        var statuses = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(statuses, s => Assert.Equal(AcceptStatus.Stored, s));
        Assert.Equal(200L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM events"));
        Assert.Equal(200, await store.CountAsync(DeliveryStoryStatus.Pending, "sm"));
        Assert.InRange(store.CommitCount, 1, 50);
    }

    [Fact]
    public async Task A_group_larger_than_the_limit_is_split_into_several_commits_without_splitting_a_request()
    {
        await using var store = TestStore.Create(provider, o => { o.GroupCommitMaxEvents = 3; o.GroupCommitMaxDelay = TimeSpan.FromMilliseconds(50); });
        var first = store.Store.AcceptAsync([TestEvents.To("a", "sm"), TestEvents.To("b", "sm")], CancellationToken.None);
        var second = store.Store.AcceptAsync([TestEvents.To("c", "sm"), TestEvents.To("d", "sm")], CancellationToken.None);

        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(2, store.CommitCount);
        Assert.Equal(4L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM events"));
    }

    [Fact]
    public async Task A_failing_commit_fails_the_callers_and_the_writer_keeps_running()
    {
        await using var store = TestStore.Create(provider);
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-1", "sm")));
        await store.ExecuteAsync("ALTER TABLE events RENAME TO events_away");

        var ex = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AcceptOneAsync(TestEvents.To("m-2", "sm")));
        Assert.DoesNotContain("m-2", ex.Message);

        await store.ExecuteAsync("ALTER TABLE events_away RENAME TO events");
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-2", "sm")));
        Assert.Equal(["m-1", "m-2"], await store.QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"));
        // The failed group was rolled back entirely: its dedupe record did not survive to block the retry (it was stored).
        Assert.Equal([("m-1", "sm"), ("m-2", "sm")], (await store.DeliveriesAsync()).Select(d => (d.MessageId, d.Destination)));
    }

    [Fact]
    public async Task Accepted_events_survive_closing_and_reopening_the_store()
    {
        var first = TestStore.Create(provider);
        first.KeepFiles = true;
        await first.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        await first.DisposeAsync();

        await using var reopened = first.Reopen();
        var claimed = await reopened.Queue.ClaimAsync("w", 10, TimeSpan.FromMinutes(1), CancellationToken.None);

        var row = Assert.Single(claimed);
        Assert.Equal(("sm", "track", "m-1"), (row.DestinationId, row.Subscription, row.MessageId));
        Assert.Equal("Signed Up", Core.Segment.SegmentEvent.FromStored(row.EventBody).Event);
        Assert.Equal(AcceptStatus.Duplicate, await reopened.AcceptOneAsync(TestEvents.To("m-1", "sm")));
    }

    [Fact]
    public async Task Each_commit_signals_the_dispatcher()
    {
        await using var store = TestStore.Create(provider);
        var wake = store.Signal.WaitTask;
        Assert.False(wake.IsCompleted);
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        await wake.WaitAsync(TimeSpan.FromSeconds(1));
    }
}

public sealed class SqliteEventStoreTests() : EventStoreTests(StoreProvider.Sqlite);

public sealed class PostgresEventStoreTests() : EventStoreTests(StoreProvider.Postgres);
