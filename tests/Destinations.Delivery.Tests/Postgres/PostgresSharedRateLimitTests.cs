using Destinations.Core.Routing;
using Destinations.Delivery;

namespace Destinations.Delivery.Tests;

/// <summary>D25 on PostgreSQL: one token bucket row per instance, taken in the claim transaction, shared by every replica.</summary>
public sealed class PostgresSharedRateLimitTests
{
    static DestinationRateLimiter Limiter(TestStore store, int limit)
    {
        var options = new DeliveryOptions();
        options.RateLimits["a"] = new RateLimit { Limit = limit, Period = TimeSpan.FromMinutes(1) };
        var registry = new DestinationRegistry([], [(new FakeDestination("a"), null), (new FakeDestination("b"), null)], []);
        return new DestinationRateLimiter(Microsoft.Extensions.Options.Options.Create(options), registry, store.Clock, store.Queue);
    }

    static Task<IReadOnlyList<ClaimedDelivery>> Claim(TestStore replica, DestinationRateLimiter limiter, string owner, int max) =>
        replica.Queue.ClaimAsync(new ClaimRequest(owner, max, TimeSpan.FromMinutes(5)) { RateLimits = limiter.SharedLimits }, CancellationToken.None);

    /// <summary>A lease round of the replica's log partitions (a claim of nothing), then a second's wait on the clock so the
    /// next claim runs another.</summary>
    static async Task RoundAsync(TestStore replica, string owner)
    {
        Assert.Empty(await replica.Queue.ClaimAsync(new ClaimRequest(owner, 0, TimeSpan.FromMinutes(5)), CancellationToken.None));
        replica.Clock.Advance(TimeSpan.FromSeconds(1));
    }

    /// <summary>An event of <paramref name="destination"/> whose user is in <paramref name="partition"/> of two.</summary>
    static IncomingEvent InPartition(string messageId, string destination, int partition)
    {
        var user = Enumerable.Range(0, 100).Select(i => $"user-{i}").First(u => Storage.Postgres.UserPartition.Of(u, 2) == partition);
        return new IncomingEvent("web", TestEvents.Track(messageId, user), new RoutingDecision([new RoutedDelivery(destination, "track")], []));
    }

    [Fact]
    public async Task Two_replicas_share_one_bucket_and_throttled_instances_do_not_hold_others()
    {
        await using var one = TestStore.Create(StoreProvider.Postgres, o => o.Partitions = 2);
        await using var two = one.Reopen();
        var (limiterOne, limiterTwo) = (Limiter(one, 3), Limiter(two, 3));
        Assert.NotNull(limiterOne.SharedLimits);
        Assert.Empty(limiterOne.Throttled()); // the claim skips throttled instances itself
        // a's two partitions: one event in each to create them, then the replicas share them (one each) before the rest.
        await one.AcceptOneAsync(InPartition("m-0", "a", 0));
        await one.AcceptOneAsync(InPartition("m-1", "a", 1));
        await RoundAsync(one, "one"); // alone: both partitions
        await RoundAsync(two, "two"); // its share is one, none free yet
        await RoundAsync(one, "one"); // above its share: partition 1 is handed over
        await RoundAsync(two, "two");
        for (var i = 2; i < 6; i++) await one.AcceptOneAsync(InPartition($"m-{i}", "a", i % 2));

        Assert.Equal(2, (await Claim(one, limiterOne, "one", 2)).Count);
        Assert.Single(await Claim(two, limiterTwo, "two", 10)); // 3 per minute across both replicas
        Assert.Empty(await Claim(one, limiterOne, "one", 10));

        await two.AcceptOneAsync(InPartition("m-b", "b", 0));
        await RoundAsync(two, "two"); // b's partitions are new: two takes its share of them
        Assert.Equal(["b"], (await Claim(two, limiterTwo, "two", 10)).Select(c => c.DestinationId));

        one.Clock.Advance(TimeSpan.FromSeconds(20)); // one token every 20 s
        Assert.Single(await Claim(two, limiterTwo, "two", 10));
        Assert.Equal(0L, await one.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries")); // waiting is no attempt (D14): no row
    }

    [Fact]
    public async Task A_429_on_one_replica_blocks_the_instance_on_every_replica_until_Retry_After()
    {
        await using var one = TestStore.Create(StoreProvider.Postgres);
        await using var two = one.Reopen();
        var limiterTwo = Limiter(two, 60);
        for (var i = 0; i < 3; i++) await one.AcceptOneAsync(TestEvents.To($"m-{i}", "a"));

        await ((ISharedRateLimits)one.Queue).ThrottleAsync("a", one.Clock.GetUtcNow().AddMinutes(5), one.Clock.GetUtcNow().AddSeconds(30), CancellationToken.None);

        Assert.Empty(await Claim(two, limiterTwo, "two", 10));
        one.Clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Empty(await Claim(two, limiterTwo, "two", 10));
        // After Retry-After: the bucket refilled at the halved rate meanwhile (as in memory), enough for the three rows.
        one.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(3, (await Claim(two, limiterTwo, "two", 10)).Count);
    }
}
