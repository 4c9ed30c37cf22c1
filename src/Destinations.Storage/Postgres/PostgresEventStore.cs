using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Postgres;

/// <summary>
/// <see cref="IEventStore"/> on PostgreSQL with group commit, the same shape as SqliteEventStore (README.md "How delivery works", step 2): callers enqueue their events; one
/// writer loop takes up to <see cref="StorageOptions.GroupCommitMaxEvents"/> events or waits at most
/// <see cref="StorageOptions.GroupCommitMaxDelay"/> for more, writes them all in one transaction, commits (one fsync), then
/// answers every caller. A failed commit fails every caller of that group; the writer keeps running.
/// <see cref="ConcurrentCommits"/> such loops share the queue, so a group forms while others are on their round trips and
/// commit (one loop alone waited for each commit before collecting the next group). Concurrent groups are safe for the same
/// reason replicas are: the dedupe upsert serialises on the key, and keys and counters are locked in sorted order.
/// </summary>
public sealed class PostgresEventStore : IEventStore, IAsyncDisposable, IDisposable
{
    readonly PostgresDatabase _db;
    readonly StorageOptions _options;
    readonly TimeProvider _time;
    readonly DispatchSignal _signal;
    readonly ILogger<PostgresEventStore> _logger;
    /// <summary>Group commits in flight at once (each on its own pooled connection).</summary>
    public const int ConcurrentCommits = 4;

    readonly Channel<PendingAccept> _queue = Channel.CreateUnbounded<PendingAccept>();
    readonly Task _writerLoops;
    long _commits;
    /// <summary>Instances whose partitions this writer made sure exist, and when (PostgresGroupWriter).</summary>
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _knownInstances = new(StringComparer.Ordinal);

    public PostgresEventStore(PostgresDatabase db, IOptions<StorageOptions> options, TimeProvider time, DispatchSignal signal, ILogger<PostgresEventStore> logger)
    {
        _db = db;
        _options = options.Value;
        _time = time;
        _signal = signal;
        _logger = logger;
        _writerLoops = Task.WhenAll(Enumerable.Range(0, ConcurrentCommits).Select(_ => Task.Run(WriteLoopAsync)));
    }

    /// <summary>Transactions committed so far (shows that concurrent callers share commits).</summary>
    public long CommitCount => Interlocked.Read(ref _commits);

    public Task<IReadOnlyList<AcceptStatus>> AcceptAsync(IReadOnlyList<IncomingEvent> events, CancellationToken ct) =>
        PendingAccept.EnqueueAsync(_queue.Writer, events, ct);

    public Task<bool> IsReadyAsync(CancellationToken ct) => StoreReadiness.ProbeAsync(
        async c => await _db.OpenAsync(c).ConfigureAwait(false), "SELECT 1", () => !_writerLoops.IsCompleted, _logger, ct);

    async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var group = new List<PendingAccept>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            group.Clear();
            await CollectGroupAsync(reader, group).ConfigureAwait(false);
            if (group.Count > 0) await CommitAsync(group).ConfigureAwait(false);
        }
    }

    /// <summary>Takes what is queued, then waits up to the batching window for more, up to the event limit.</summary>
    async Task CollectGroupAsync(ChannelReader<PendingAccept> reader, List<PendingAccept> group)
    {
        var max = _options.GroupCommitMaxEvents ?? StorageOptions.PostgresGroupCommitMaxEvents;
        var events = 0;
        // The batching window is wall-clock time on purpose (not TimeProvider): it is about fsync cost, not a schedule.
        var window = Stopwatch.StartNew();
        while (true)
        {
            // A request is never split; one larger than the limit makes a group of its own.
            while (reader.TryPeek(out var next) && (events == 0 || events + next.Events.Count <= max) && reader.TryRead(out next))
            {
                group.Add(next);
                events += next.Events.Count;
            }
            var remaining = _options.GroupCommitMaxDelay - window.Elapsed;
            if (events >= max || remaining <= TimeSpan.Zero || (reader.TryPeek(out var waiting) && events + waiting.Events.Count > max))
                return;
            using var cts = new CancellationTokenSource(remaining);
            try
            {
                if (!await reader.WaitToReadAsync(cts.Token).ConfigureAwait(false)) return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    async Task CommitAsync(List<PendingAccept> group)
    {
        try
        {
            // A pooled connection per group: a broken one is simply not reused (Npgsql discards it).
            await using var conn = await _db.OpenAsync(CancellationToken.None).ConfigureAwait(false);
            var results = await PostgresGroupWriter.WriteAsync(conn, group.Select(p => p.Events).ToList(), _time.GetUtcNow(),
                _options.DedupeWindow, CancellationToken.None, _options.Partitions, _knownInstances, _db.PartitionsCreated).ConfigureAwait(false);
            Interlocked.Increment(ref _commits);
            for (var i = 0; i < group.Count; i++) group[i].Completion.TrySetResult(results[i]);
            _signal.Notify();
        }
        catch (Exception ex)
        {
            // Never the events themselves in the log: only what failed.
            _logger.LogError("Event store commit failed for {Events} events: {Error}", group.Sum(p => p.Events.Count), ex.GetType().Name + ": " + ex.Message);
            var failure = new StoreUnavailableException("the event store could not commit the events; try again later", ex);
            foreach (var p in group) p.Completion.TrySetException(failure);
        }
    }

    /// <summary>Stops taking events, then lets the writer commit what was queued.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writerLoops.ConfigureAwait(false);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
