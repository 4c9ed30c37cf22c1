using Destinations.Storage.Sqlite;

namespace Destinations.Storage.Tests;

/// <summary>The SQLite write gate: one writer at a time, the group commit ahead of every other writer, the others in order.</summary>
public class WriteGateTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Normal_callers_get_the_gate_one_at_a_time_in_arrival_order()
    {
        var gate = new WriteGate();
        var first = await gate.EnterAsync(CancellationToken.None);
        var order = new List<int>();
        var waiting = Enumerable.Range(1, 3).Select(async n =>
        {
            using (await gate.EnterAsync(CancellationToken.None))
                lock (order) order.Add(n);
        }).ToList();
        Assert.All(waiting, w => Assert.False(w.IsCompleted));

        first.Dispose();
        await Task.WhenAll(waiting).WaitAsync(Timeout);
        Assert.Equal([1, 2, 3], order);
    }

    [Fact]
    public async Task The_priority_caller_goes_before_normal_callers_that_queued_earlier_and_is_announced_while_it_waits()
    {
        var gate = new WriteGate();
        var held = await gate.EnterAsync(CancellationToken.None);
        var order = new List<string>();
        var normal = Task.Run(async () =>
        {
            using (await gate.EnterAsync(CancellationToken.None))
                lock (order) order.Add("normal");
        });
        await WaitUntil(() => !normal.IsCompleted); // queued behind the holder
        await Task.Delay(50);

        var priority = Task.Factory.StartNew(() =>
        {
            using (gate.EnterPriority())
                lock (order) order.Add("priority");
        }, TaskCreationOptions.LongRunning);
        await WaitUntil(() => gate.PriorityWaiting);

        held.Dispose();
        await Task.WhenAll(normal, priority).WaitAsync(Timeout);
        Assert.Equal(["priority", "normal"], order);
        Assert.False(gate.PriorityWaiting);
    }

    [Fact]
    public async Task A_cancelled_waiter_is_skipped_and_the_gate_goes_to_the_next()
    {
        var gate = new WriteGate();
        var held = await gate.EnterAsync(CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var cancelled = gate.EnterAsync(cts.Token).AsTask();
        var next = gate.EnterAsync(CancellationToken.None).AsTask();

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        held.Dispose();
        (await next.WaitAsync(Timeout)).Dispose();

        // Free again: the next caller gets it at once.
        var again = gate.EnterAsync(CancellationToken.None);
        Assert.True(again.IsCompleted);
        (await again).Dispose();
    }

    static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            await Task.Delay(5);
        }
    }
}
