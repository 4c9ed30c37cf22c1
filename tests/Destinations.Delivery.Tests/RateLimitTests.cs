using Destinations.Core.Delivery;
using Destinations.Delivery;
using Microsoft.Extensions.Configuration;

namespace Destinations.Delivery.Tests;

/// <summary>D25 rate limits per instance: a wait is not an attempt (D14), throttled instances do not hold others, 429 adapts.</summary>
/// <summary>Runs against both providers: <see cref="SqliteRateLimitTests"/> and <see cref="PostgresRateLimitTests"/>.</summary>
public abstract class RateLimitTests(StoreProvider provider)
{
    [Fact]
    public async Task Rows_over_the_limit_are_postponed_without_an_attempt_and_other_instances_keep_flowing_D14()
    {
        var a = new FakeDestination("a");
        var b = new FakeDestination("b");
        await using var h = new DispatchHarness(provider, configure: o => o.RateLimits["a"] = new RateLimit { Limit = 2, Period = TimeSpan.FromMinutes(1) }, destinations: [a, b]);
        for (var i = 1; i <= 5; i++) await h.Store.AcceptOneAsync(TestEvents.To($"m-{i}", "a", "b"));

        var outcomes = await h.RunPassAsync();
        Assert.Equal((7, 3), (outcomes.Count(o => o == DeliveryOutcome.Delivered), outcomes.Count(o => o == DeliveryOutcome.Postponed)));
        Assert.Equal((2, 5), (a.SentSteps.Count, b.SentSteps.Count));
        var stats = await h.Store.Queue.GetStatsAsync("a", CancellationToken.None);
        Assert.Equal((3L, 0L), (stats.PendingNew, stats.Retrying)); // no attempt counted
        // Postponed to the next token (one every 30 s at 2 per minute): log claims wait in memory, no row.
        Assert.Equal(0L, await h.Store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries"));

        // While A has no token its rows are not even claimed.
        await h.Store.AcceptOneAsync(TestEvents.To("m-6", "b"));
        Assert.Equal(["a"], h.Limiter.Throttled());
        Assert.Equal([DeliveryOutcome.Delivered], await h.RunPassAsync());

        h.Store.Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal([DeliveryOutcome.Delivered, DeliveryOutcome.Postponed, DeliveryOutcome.Postponed], (await h.RunPassAsync()).Order());
        Assert.Equal(3, a.SentSteps.Count);
    }

    [Fact]
    public void The_partners_declared_default_applies_by_type_and_configuration_overrides_or_turns_it_off()
    {
        var limited = new FakeDestinationFactory("Limited", new PartnerRateLimit(900, TimeSpan.FromSeconds(300)));
        var unlimited = new FakeDestinationFactory("Unlimited");
        var built = new (string Id, FakeDestinationFactory Factory)[] { ("lim-1", limited), ("unl-1", unlimited), ("lim-off", limited) };
        var options = new DeliveryOptions();
        options.RateLimits["lim-off"] = new RateLimit { Limit = 0 };
        var registry = new DestinationRegistry([],
            built.Select(b => ((IDestination)new FakeDestination(b.Id), (IReadOnlyList<string>?)null)).Append((new FakeDestination("no-factory"), null)).ToList(), [],
            built.ToDictionary(b => b.Id, b => (IDestinationFactory)b.Factory));
        var limiter = new DestinationRateLimiter(Microsoft.Extensions.Options.Options.Create(options), registry, TimeProvider.System);

        Assert.Equal((900, TimeSpan.FromSeconds(300)), limiter.LimitFor("lim-1"));
        Assert.Null(limiter.LimitFor("unl-1"));
        Assert.Null(limiter.LimitFor("lim-off"));
        Assert.Null(limiter.LimitFor("no-factory"));

        options.RateLimitDefaults["Limited"] = new RateLimit { Limit = 100, Period = TimeSpan.FromSeconds(10) };
        options.RateLimitDefaults["Unlimited"] = new RateLimit { Limit = 5, Period = TimeSpan.FromSeconds(1) };
        var configured = new DestinationRateLimiter(Microsoft.Extensions.Options.Options.Create(options), registry, TimeProvider.System);
        Assert.Equal((100, TimeSpan.FromSeconds(10)), configured.LimitFor("lim-1"));
        Assert.Equal((5, TimeSpan.FromSeconds(1)), configured.LimitFor("unl-1"));
    }

    [Fact]
    public void The_registry_keeps_the_factory_of_each_instance_it_builds()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Destinations:0:Id"] = "lim-1",
            ["Destinations:0:Type"] = "Limited",
        }).Build();
        var limited = new FakeDestinationFactory("Limited", new PartnerRateLimit(7, TimeSpan.FromSeconds(70)));
        var registry = DestinationRegistry.Build(configuration, [limited, new FakeDestinationFactory("Other")]);
        var limiter = new DestinationRateLimiter(Microsoft.Extensions.Options.Options.Create(new DeliveryOptions()), registry, TimeProvider.System);

        Assert.Same(limited, registry.FactoryOf("lim-1"));
        Assert.Equal((7, TimeSpan.FromSeconds(70)), limiter.LimitFor("lim-1"));
    }

    [Fact]
    public async Task A_429_lowers_the_rate_for_a_while_and_honours_Retry_After_D25()
    {
        var a = new FakeDestination("a").Answer(FakeDestination.Status(429, retryAfter: TimeSpan.FromSeconds(20)));
        await using var h = new DispatchHarness(provider, configure: o => o.RateLimits["a"] = new RateLimit { Limit = 60, Period = TimeSpan.FromMinutes(1) }, destinations: a);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "a"));
        await h.Store.AcceptOneAsync(TestEvents.To("m-2", "a"));
        Assert.Equal(1.0, h.Limiter.CurrentRate("a"));

        var outcomes = await h.RunPassAsync();
        Assert.Equal(DeliveryOutcome.RetryScheduled, outcomes[0]);
        Assert.Equal(0.5, h.Limiter.CurrentRate("a")); // halved for ThrottledFor (5 min)
        Assert.Equal(h.Now.AddSeconds(20), h.Limiter.NextTokenAt("a")); // nothing before Retry-After
        Assert.Equal(20_000, (await h.RowAsync()).next_attempt_at - h.Now.ToUnixTimeMilliseconds());

        h.Store.Clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        Assert.Equal(1.0, h.Limiter.CurrentRate("a"));
    }
}

public sealed class SqliteRateLimitTests() : RateLimitTests(StoreProvider.Sqlite);

public sealed class PostgresRateLimitTests() : RateLimitTests(StoreProvider.Postgres);
