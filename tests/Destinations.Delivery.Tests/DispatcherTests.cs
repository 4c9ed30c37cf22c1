using Destinations.Delivery;
using Microsoft.Extensions.Logging.Abstractions;

namespace Destinations.Delivery.Tests;

/// <summary>Runs against both providers: <see cref="SqliteDispatcherTests"/> and <see cref="PostgresDispatcherTests"/>.</summary>
public abstract class DispatcherTests(StoreProvider provider)
{
    [Fact]
    public async Task Idle_workers_wake_on_a_commit_instead_of_waiting_for_the_poll()
    {
        var partner = new FakeDestination("sm");
        // PollInterval of an hour on a clock that never moves: only the DispatchSignal can wake the workers.
        await using var h = new DispatchHarness(provider, configure: o => { o.Workers = 2; o.PollInterval = TimeSpan.FromHours(1); }, destinations: partner);
        await h.Store.EnsureMigratedAsync();
        using var dispatcher = new Dispatcher(h.Store.Queue, h.Sender, h.Store.Signal,
            Microsoft.Extensions.Options.Options.Create(h.Options), h.Store.Clock, NullLogger<Dispatcher>.Instance);
        await dispatcher.StartAsync(CancellationToken.None);
        await Task.Delay(200); // both workers found nothing and are idle

        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        await h.Store.AcceptOneAsync(TestEvents.To("m-2", "sm"));

        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (await h.Store.CountAsync(DeliveryStoryStatus.Delivered) < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.Equal(2, await h.Store.CountAsync(DeliveryStoryStatus.Delivered));
        Assert.Equal(["event", "event"], partner.SentSteps);
    }

    [Fact]
    public async Task Stopping_mid_send_gives_the_row_back_without_counting_an_attempt()
    {
        var sending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var partner = new FakeDestination("sm")
        {
            BeforeAnswer = async ct => { sending.TrySetResult(); await Task.Delay(Timeout.Infinite, ct); },
        };
        await using var h = new DispatchHarness(provider, configure: o => { o.Workers = 1; o.PollInterval = TimeSpan.FromHours(1); }, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        using var dispatcher = new Dispatcher(h.Store.Queue, h.Sender, h.Store.Signal,
            Microsoft.Extensions.Options.Options.Create(h.Options), h.Store.Clock, NullLogger<Dispatcher>.Instance);

        await dispatcher.StartAsync(CancellationToken.None);
        await sending.Task.WaitAsync(TimeSpan.FromSeconds(2));
        await dispatcher.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));

        Assert.Equal((DeliveryStoryStatus.Pending, 0), ((await h.StoryAsync("m-1")).Status, (await h.StoryAsync("m-1")).Attempts));
        Assert.Equal(0L, await h.Store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries")); // given back: it waits in the log
        Assert.Equal(["event"], partner.SentSteps);
    }
}

public sealed class SqliteDispatcherTests() : DispatcherTests(StoreProvider.Sqlite);

public sealed class PostgresDispatcherTests() : DispatcherTests(StoreProvider.Postgres);
