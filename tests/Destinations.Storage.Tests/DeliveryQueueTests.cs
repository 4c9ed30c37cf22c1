using Destinations.Core.Delivery;

namespace Destinations.Storage.Tests;

/// <summary>Runs against both providers: <see cref="SqliteDeliveryQueueTests"/> and <see cref="PostgresDeliveryQueueTests"/>.</summary>
public abstract class DeliveryQueueTests(StoreProvider provider)
{
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_leased_row_is_not_claimed_again_until_its_lease_expires()
    {
        await using var store = TestStore.Create(provider);
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        var first = Assert.Single(await store.Queue.ClaimAsync("worker-a", 10, Lease, CancellationToken.None));
        Assert.Equal(("worker-a", TestStore.Start + Lease), (first.LeaseOwner, first.LeaseUntil));
        Assert.Empty(await store.Queue.ClaimAsync("worker-b", 10, Lease, CancellationToken.None));

        store.Clock.Advance(Lease);
        Assert.Empty(await store.Queue.ClaimAsync("worker-b", 10, Lease, CancellationToken.None)); // lease_until < now, strictly

        store.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var second = Assert.Single(await store.Queue.ClaimAsync("worker-b", 10, Lease, CancellationToken.None));
        Assert.Equal((first.Id, first.EventSeq), (second.Id, second.EventSeq));

        // The crashed worker's late write is refused: the delivery belongs to worker-b now.
        Assert.False(await store.Queue.MarkDeliveredAsync(first, 1, CancellationToken.None));
        Assert.True(await store.Queue.MarkDeliveredAsync(second, 1, CancellationToken.None));
        Assert.Equal([new StoredDelivery("m-1", "sm", "track", DeliveryStoryStatus.Delivered, 1)], await store.DeliveriesAsync());
        Assert.Equal(1L, (await store.Queue.GetStatsAsync("sm", CancellationToken.None)).Delivered);
    }

    [Fact]
    public async Task Claim_takes_only_due_rows_up_to_the_batch_size_oldest_first()
    {
        await using var store = TestStore.Create(provider);
        await store.AcceptOneAsync(TestEvents.To("m-0", "sm"));
        var early = Assert.Single(await store.Queue.ClaimAsync("w", 3, Lease, CancellationToken.None));
        Assert.True(await store.Queue.ScheduleRetryAsync(early, TestStore.Start + TimeSpan.FromMinutes(1), FakeDestination.Status(503), null, CancellationToken.None));
        for (var i = 1; i < 5; i++) await store.AcceptOneAsync(TestEvents.To($"m-{i}", "sm"));

        var claimed = await store.Queue.ClaimAsync("w", 3, Lease, CancellationToken.None);

        Assert.Equal(["m-1", "m-2", "m-3"], claimed.Select(c => c.MessageId));
        Assert.Equal(["m-4"], (await store.Queue.ClaimAsync("w", 3, Lease, CancellationToken.None)).Select(c => c.MessageId));
        store.Clock.Advance(TimeSpan.FromMinutes(1));
        var retried = Assert.Single(await store.Queue.ClaimAsync("w", 3, Lease, CancellationToken.None));
        Assert.Equal(("m-0", 1), (retried.MessageId, retried.Attempts));
    }

    [Fact]
    public async Task Release_makes_a_row_claimable_at_once_without_counting_an_attempt()
    {
        await using var store = TestStore.Create(provider);
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        var claimed = Assert.Single(await store.Queue.ClaimAsync("w", 1, Lease, CancellationToken.None));

        Assert.True(await store.Queue.ReleaseAsync(claimed, CancellationToken.None));

        var again = Assert.Single(await store.Queue.ClaimAsync("w2", 1, Lease, CancellationToken.None));
        Assert.Equal(0, again.Attempts);
    }

    [Fact]
    public async Task Stats_count_by_status_split_pending_and_merge_filter_reasons_D8()
    {
        await using var store = TestStore.Create(provider);
        await store.AcceptOneAsync(TestEvents.Incoming("m-0", [new("sm", "track")], [new RouterFilter("sm", FilterReason.SourceNotLinked)]));
        for (var i = 1; i <= 5; i++) await store.AcceptOneAsync(TestEvents.To($"m-{i}", "sm", "other"));
        await store.AcceptOneAsync(TestEvents.To("m-1", "sm", "other")); // duplicate, counted for both
        var rows = (await store.Queue.ClaimAsync("w", 100, Lease, CancellationToken.None)).Where(r => r.DestinationId == "sm").ToList();
        Assert.Equal(6, rows.Count);

        var failure = FakeDestination.Status(503);
        await store.Queue.MarkDeliveredAsync(rows[0], 1, CancellationToken.None);
        await store.Queue.MarkFilteredAsync(rows[1], "no_user_id", CancellationToken.None);
        await store.Queue.MarkFilteredAsync(rows[2], "source_not_linked", CancellationToken.None);
        await store.Queue.MarkInvalidAsync(rows[3], "missing groupId", CancellationToken.None);
        await store.Queue.ScheduleRetryAsync(rows[4], TestStore.Start.AddMinutes(5), failure, null, CancellationToken.None);
        await store.Queue.MarkDeadAsync(rows[5], "partner answered 400", FakeDestination.Status(400, "bad"), null, CancellationToken.None);
        await store.AcceptOneAsync(TestEvents.To("m-new", "sm"));

        var stats = await store.Queue.GetStatsAsync("sm", CancellationToken.None);

        Assert.Equal(("sm", 1L, 1L, 1L, 1L, 1L, 1L), (stats.DestinationId, stats.PendingNew, stats.Retrying, stats.Delivered, stats.Invalid, stats.Dead, stats.Duplicates));
        Assert.Equal(new Dictionary<string, long> { ["no_user_id"] = 1, ["source_not_linked"] = 2 }, stats.Filtered);
        Assert.Equal(3L, stats.FilteredTotal);
        var other = await store.Queue.GetStatsAsync("other", CancellationToken.None);
        Assert.Equal((5L, 0L, 0L, 1L), (other.PendingNew, other.Delivered, other.FilteredTotal, other.Duplicates));
    }

    [Fact]
    public async Task The_queue_reports_ready_on_a_working_file()
    {
        await using var store = TestStore.Create(provider);
        Assert.True(await store.Queue.IsReadyAsync(CancellationToken.None));
        Assert.True(await store.Store.IsReadyAsync(CancellationToken.None));
    }
}

public sealed class SqliteDeliveryQueueTests() : DeliveryQueueTests(StoreProvider.Sqlite);

public sealed class PostgresDeliveryQueueTests() : DeliveryQueueTests(StoreProvider.Postgres);
