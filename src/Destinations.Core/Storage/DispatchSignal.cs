namespace Destinations.Core.Storage;

/// <summary>
/// Tells idle dispatcher workers that the store committed new deliveries, so delivery starts at once instead of on the next
/// poll. Workers use <see cref="WaitOneAsync"/>: each <see cref="Notify"/> wakes ONE idle worker (an auto-reset event), and
/// notifies while nobody waits collapse into one pending wake-up — a commit per ingest group no longer sends every worker
/// to claim at once. A worker whose claim came back full notifies again, so more work wakes more workers one by one.
/// A notify between a worker's empty claim and its wait is kept as the pending wake-up, so it is never missed.
/// <see cref="WaitTask"/> (every waiter, next notify) stays for observers.
/// </summary>
public sealed class DispatchSignal
{
    TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly Queue<TaskCompletionSource> _idle = new();
    bool _pending;

    /// <summary>Completes at the next <see cref="Notify"/>.</summary>
    public Task WaitTask => Volatile.Read(ref _current).Task;

    public void Notify()
    {
        var fired = Interlocked.Exchange(ref _current, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        fired.TrySetResult();
        while (true)
        {
            TaskCompletionSource? wake = null;
            lock (_idle)
            {
                while (_idle.Count > 0 && wake is null)
                {
                    var next = _idle.Dequeue();
                    if (!next.Task.IsCompleted) wake = next; // skip waiters that gave up (poll timeout, stop)
                }
                if (wake is null) _pending = true;
            }
            // A waiter giving up at this very moment cannot take the wake-up: pass it on.
            if (wake is null || wake.TrySetResult()) return;
        }
    }

    /// <summary>Completes when a <see cref="Notify"/> picks this waiter, at once if one is pending, or when
    /// <paramref name="ct"/> is cancelled (then without throwing).</summary>
    public async Task WaitOneAsync(CancellationToken ct)
    {
        TaskCompletionSource me;
        lock (_idle)
        {
            if (_pending)
            {
                _pending = false;
                return;
            }
            me = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _idle.Enqueue(me);
        }
        using (ct.Register(() => me.TrySetCanceled()))
            await ((Task)me.Task).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
