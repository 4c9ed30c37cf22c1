using Destinations.Core.Routing;
using Destinations.Delivery;

namespace Destinations.Delivery.Tests;

/// <summary>D16 per-user ordering (optional per instance) and crash-while-leased recovery.</summary>
/// <summary>Runs against both providers: <see cref="SqliteOrderingAndRecoveryTests"/> and <see cref="PostgresOrderingAndRecoveryTests"/>.</summary>
public abstract class OrderingAndRecoveryTests(StoreProvider provider)
{
    static IncomingEvent For(string messageId, string userId, string destination) =>
        new("web", TestEvents.Track(messageId, userId), new RoutingDecision([new RoutedDelivery(destination, "track")], []));

    [Fact]
    public async Task An_ordered_instance_sends_a_users_next_event_only_after_the_earlier_one_left_pending_D16()
    {
        var a = new FakeDestination("a").Answer(FakeDestination.Status(503), FakeDestination.Ok, FakeDestination.Status(400));
        var b = new FakeDestination("b").Answer(FakeDestination.Status(503));
        await using var h = new DispatchHarness(provider, jitter: 0.5, configure: o => o.OrderedDestinations = ["a"], destinations: [a, b]);
        await h.Store.AcceptOneAsync(For("a-1", "u1", "a"));
        await h.Store.AcceptOneAsync(For("a-2", "u1", "a")); // waits for a-1
        await h.Store.AcceptOneAsync(For("a-3", "u2", "a")); // another user, free
        await h.Store.AcceptOneAsync(For("b-1", "u1", "b")); // b is not ordered
        await h.Store.AcceptOneAsync(For("b-2", "u1", "b"));

        async Task<(DeliveryStoryStatus, int)> Of(string messageId) { var s = await h.StoryAsync(messageId); return (s.Status, s.Attempts); }
        await h.RunPassAsync();
        Assert.Equal((DeliveryStoryStatus.Pending, 1), await Of("a-1"));
        Assert.Equal((DeliveryStoryStatus.Pending, 0), await Of("a-2"));
        Assert.Equal(DeliveryStoryStatus.Delivered, (await h.StoryAsync("a-3")).Status);
        Assert.Equal(DeliveryStoryStatus.Delivered, (await h.StoryAsync("b-2")).Status); // unordered: b-2 went while b-1 retries

        // The earlier one dies (400): it no longer blocks (D16); the later one goes.
        h.Store.Clock.Advance(TimeSpan.FromSeconds(2.5));
        await h.RunPassAsync();
        Assert.Equal((DeliveryStoryStatus.Dead, DeliveryStoryStatus.Pending), ((await h.StoryAsync("a-1")).Status, (await h.StoryAsync("a-2")).Status));
        await h.RunPassAsync();
        Assert.Equal(DeliveryStoryStatus.Delivered, (await h.StoryAsync("a-2")).Status);
        Assert.Equal(["event", "event", "event", "event"], a.SentSteps);
    }

    [Fact]
    public async Task A_crash_while_leased_returns_the_row_when_the_lease_expires_and_it_is_delivered_once_more()
    {
        var partner = new FakeDestination("sm");
        await using var h = new DispatchHarness(provider, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        // A worker claims the row and "crashes" (never writes an outcome).
        var crashed = Assert.Single(await h.Store.Queue.ClaimAsync("crashed-worker", 10, h.Options.Lease, CancellationToken.None));
        Assert.Empty(await h.RunPassAsync());
        h.Store.Clock.Advance(h.Options.Lease + TimeSpan.FromMilliseconds(1));

        Assert.Equal([DeliveryOutcome.Delivered], await h.RunPassAsync());
        Assert.Equal(["event"], partner.SentSteps);
        // The crashed worker's late write cannot overwrite the new owner's outcome.
        Assert.False(await h.Store.Queue.MarkDeadAsync(crashed, "late", null, null, CancellationToken.None));
        Assert.Equal((DeliveryStoryStatus.Delivered, 1), ((await h.StoryAsync("m-1")).Status, (await h.StoryAsync("m-1")).Attempts));
    }

    [Fact]
    public async Task A_crash_between_send_and_outcome_leaves_the_row_as_claimed_and_it_is_mapped_and_delivered_again_D11()
    {
        var answered = new TaskCompletionSource();
        var sends = 0;
        var partner = new FakeDestination("sm") { BeforeAnswer = _ => Interlocked.Increment(ref sends) == 1 ? answered.Task : Task.CompletedTask };
        await using var h = new DispatchHarness(provider, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        // The first worker sends, and "crashes" before its outcome is written: the plan goes with that outcome, so the row
        // is still exactly as claimed (no plan, no attempt).
        var first = Assert.Single(await h.Store.Queue.ClaimAsync("crashed-worker", 10, h.Options.Lease, CancellationToken.None));
        var stuck = h.SendOneAsync(first);
        Assert.Equal(1, Volatile.Read(ref sends));
        Assert.Equal(0L, await h.Store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries")); // a log claim: no row yet
        Assert.Equal((DeliveryStoryStatus.Pending, 0), ((await h.StoryAsync("m-1")).Status, (await h.StoryAsync("m-1")).Attempts));

        // Its lease runs out: the row is claimed, mapped and sent again (at-least-once), and its plan stored with the outcome.
        h.Store.Clock.Advance(h.Options.Lease + TimeSpan.FromMilliseconds(1));
        Assert.Equal([DeliveryOutcome.Delivered], await h.RunPassAsync());
        Assert.Equal((2, 2), (partner.MapCalls, partner.SentSteps.Count));
        answered.SetResult();
        Assert.Equal(DeliveryOutcome.LeaseLost, await stuck); // the late outcome cannot overwrite the new owner's
        Assert.Equal((DeliveryStoryStatus.Delivered, 1), ((await h.StoryAsync("m-1")).Status, (await h.StoryAsync("m-1")).Attempts));
        Assert.Equal(0L, await h.Store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries")); // a first-pass success: no row
    }
}

public sealed class SqliteOrderingAndRecoveryTests() : OrderingAndRecoveryTests(StoreProvider.Sqlite);

public sealed class PostgresOrderingAndRecoveryTests() : OrderingAndRecoveryTests(StoreProvider.Postgres);
