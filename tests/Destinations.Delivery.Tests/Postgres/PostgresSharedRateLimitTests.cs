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

    [Fact]
    public async Task Two_replicas_share_one_bucket_and_throttled_instances_do_not_hold_others()
    {
        await using var one = TestStore.Create(StoreProvider.Postgres);
        await using var two = one.Reopen();
        var (limiterOne, limiterTwo) = (Limiter(one, 3), Limiter(two, 3));
        Assert.NotNull(limiterOne.SharedLimits);
        Assert.Empty(limiterOne.Throttled()); // the claim skips throttled instances itself
        for (var i = 0; i < 6; i++) await one.AcceptOneAsync(TestEvents.To($"m-{i}", "a"));

        Assert.Equal(2, (await Claim(one, limiterOne, "one", 2)).Count);
        Assert.Single(await Claim(two, limiterTwo, "two", 10)); // 3 per minute across both replicas
        Assert.Empty(await Claim(one, limiterOne, "one", 10));

        await two.AcceptOneAsync(TestEvents.To("m-b", "b"));
        Assert.Equal(["b"], (await Claim(two, limiterTwo, "two", 10)).Select(c => c.DestinationId));

        one.Clock.Advance(TimeSpan.FromSeconds(20)); // one token every 20 s
        Assert.Single(await Claim(two, limiterTwo, "two", 10));
        Assert.Equal(0L, await one.ScalarAsync<long>("SELECT SUM(attempts) FROM deliveries")); // waiting is no attempt (D14)
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
