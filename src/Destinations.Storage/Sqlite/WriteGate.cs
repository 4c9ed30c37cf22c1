namespace Destinations.Storage.Sqlite;

/// <summary>
/// The one write path of a SQLite file in this process (<see cref="SqliteDatabase.EnterWriteAsync"/>), with a priority lane
/// for the group commit: acknowledgements wait on it, deliveries do not. A priority caller goes before every queued normal
/// one, and long normal writers (the dispatch writer's claims and outcomes) ask <see cref="PriorityWaiting"/> between pieces
/// of work and commit early to let it in. Normal callers are served in arrival order.
/// </summary>
public sealed class WriteGate
{
    readonly object _lock = new();
    readonly Queue<TaskCompletionSource> _queue = new();
    bool _held;
    int _priorityWaiting;

    /// <summary>True while a priority caller waits for the gate.</summary>
    public bool PriorityWaiting => Volatile.Read(ref _priorityWaiting) > 0;

    /// <summary>Blocks the calling (dedicated) thread until the gate is its own, ahead of every normal caller.</summary>
    public Lease EnterPriority()
    {
        lock (_lock)
        {
            _priorityWaiting++;
            try
            {
                while (_held) Monitor.Wait(_lock);
            }
            finally
            {
                _priorityWaiting--;
            }
            _held = true;
        }
        return new Lease(this);
    }

    /// <summary>Waits, in arrival order behind any priority caller, until the gate is the caller's.</summary>
    public async ValueTask<Lease> EnterAsync(CancellationToken ct)
    {
        TaskCompletionSource turn;
        lock (_lock)
        {
            if (!_held && _priorityWaiting == 0 && _queue.Count == 0)
            {
                _held = true;
                return new Lease(this);
            }
            turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _queue.Enqueue(turn);
        }
        // Whichever comes first wins: the hand-over (Exit completes the turn) or the cancellation (the turn is then skipped).
        using (ct.Register(() => turn.TrySetCanceled(ct)))
            await turn.Task.ConfigureAwait(false);
        return new Lease(this);
    }

    void Exit()
    {
        lock (_lock)
        {
            if (_priorityWaiting > 0)
            {
                _held = false;
                Monitor.PulseAll(_lock);
                return;
            }
            // Hand the gate straight to the next normal caller still waiting (it stays held), else free it.
            while (_queue.TryDequeue(out var next))
                if (next.TrySetResult()) return;
            _held = false;
        }
    }

    /// <summary>Held while writing; disposing lets the next writer in.</summary>
    public readonly struct Lease(WriteGate gate) : IDisposable
    {
        public void Dispose() => gate?.Exit();
    }
}
