using System.Threading.Channels;

namespace Destinations.Storage;

/// <summary>One caller's events waiting in a store's group-commit queue (SQLite and PostgreSQL alike), and its answer.</summary>
sealed class PendingAccept(IReadOnlyList<IncomingEvent> events)
{
    public IReadOnlyList<IncomingEvent> Events { get; } = events;
    public TaskCompletionSource<IReadOnlyList<AcceptStatus>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Queues the events for the next group commit and waits for its answer (IEventStore.AcceptAsync).</summary>
    public static async Task<IReadOnlyList<AcceptStatus>> EnqueueAsync(ChannelWriter<PendingAccept> queue, IReadOnlyList<IncomingEvent> events, CancellationToken ct)
    {
        if (events.Count == 0) return [];
        var pending = new PendingAccept(events);
        if (!queue.TryWrite(pending))
            throw new StoreUnavailableException("the event store is shutting down");
        // A caller that gives up still has its events written if the group is already on its way: only the answer is lost.
        return await pending.Completion.Task.WaitAsync(ct).ConfigureAwait(false);
    }
}
