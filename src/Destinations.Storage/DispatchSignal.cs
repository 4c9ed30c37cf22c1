namespace Destinations.Storage;

/// <summary>
/// Wakes every idle dispatcher worker when the store commits new deliveries, so delivery starts at once instead of on the
/// next poll. A waiter takes <see cref="WaitTask"/> *before* it looks for work, so a commit in between is never missed.
/// </summary>
public sealed class DispatchSignal
{
    TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Notify"/>.</summary>
    public Task WaitTask => Volatile.Read(ref _current).Task;

    public void Notify()
    {
        var fired = Interlocked.Exchange(ref _current, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        fired.TrySetResult();
    }
}
