using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// <see cref="IEventStore"/> on SQLite with group commit (README.md "How delivery works", step 2): callers enqueue their events; one
/// writer loop takes what is queued (up to <see cref="StorageOptions.GroupCommitMaxEvents"/> events, never waiting for more:
/// <see cref="StorageOptions.GroupCommitMaxDelay"/> is only an upper bound, the wait is zero), writes them all in one
/// transaction behind the database's write gate, commits (one fsync), then answers every caller; the next group forms
/// during the fsync. A failed commit fails every caller of that group; the writer keeps running.
/// The writer is a thread of its own, not a thread-pool task: SQLite's calls block (the fsync most of all, ~1 ms here), and
/// a pool thread blocked in them most of the time under load would make the pool inject threads and switch among them.
/// It enters the write gate ahead of every other writer (<see cref="WriteGate"/>). WAL checkpoints run on a second thread
/// of this store (<see cref="CheckpointLoop"/>), outside the gate, instead of inside whichever commit crossed SQLite's
/// automatic threshold.
/// </summary>
public sealed class SqliteEventStore : IEventStore, IAsyncDisposable, IDisposable
{
    readonly SqliteDatabase _db;
    readonly StorageOptions _options;
    readonly TimeProvider _time;
    readonly DispatchSignal _signal;
    readonly ILogger<SqliteEventStore> _logger;
    readonly Channel<PendingAccept> _queue = Channel.CreateUnbounded<PendingAccept>(new UnboundedChannelOptions { SingleReader = true });
    readonly Thread _writerThread, _checkpointThread;
    readonly ManualResetEventSlim _stopCheckpoints = new();
    readonly TaskCompletionSource _writerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly WriterStatements<GroupWriter> _writer;
    long _commits;

    public SqliteEventStore(SqliteDatabase db, IOptions<StorageOptions> options, TimeProvider time, DispatchSignal signal, ILogger<SqliteEventStore> logger)
    {
        _db = db;
        _options = options.Value;
        _time = time;
        _signal = signal;
        _logger = logger;
        _db.CheckpointsInBackground = true;
        _writer = new WriterStatements<GroupWriter>(db, fullSync: true, conn => new GroupWriter(conn));
        _writerThread = new Thread(WriteLoop) { IsBackground = true, Name = "SQLite group commit" };
        _writerThread.Start();
        _checkpointThread = new Thread(CheckpointLoop) { IsBackground = true, Name = "SQLite checkpoint" };
        _checkpointThread.Start();
    }

    /// <summary>How often the WAL is checkpointed (PASSIVE: what no reader still needs is copied into the database file,
    /// then fsynced; nothing waits for it, and the WAL starts over once all of it is copied).</summary>
    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromMilliseconds(100);

    void CheckpointLoop()
    {
        SqliteConnection? conn = null;
        try
        {
            while (!_stopCheckpoints.Wait(CheckpointInterval))
            {
                // Nothing to checkpoint before the first reader or writer has migrated (and opening the file here would
                // migrate it on a timer, racing whoever prepares the file before the store first uses it).
                if (!_db.IsMigrated) continue;
                try
                {
                    conn ??= _db.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
                    using var cmd = conn.CreateCommand();
                    cmd.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                    cmd.ExecuteNonQuery();
                }
                catch (Exception ex)
                {
                    _logger.LogWarning("WAL checkpoint failed (tried again in {Interval} ms): {Error}",
                        CheckpointInterval.TotalMilliseconds, ex.GetType().Name + ": " + ex.Message);
                    conn?.Dispose();
                    conn = null;
                }
            }
        }
        finally
        {
            conn?.Dispose();
        }
    }

    /// <summary>Transactions committed so far (shows that concurrent callers share commits).</summary>
    public long CommitCount => Interlocked.Read(ref _commits);

    public Task<IReadOnlyList<AcceptStatus>> AcceptAsync(IReadOnlyList<IncomingEvent> events, CancellationToken ct) =>
        PendingAccept.EnqueueAsync(_queue.Writer, events, ct);

    public Task<bool> IsReadyAsync(CancellationToken ct) => StoreReadiness.ProbeAsync(
        async c => await _db.OpenAsync(c).ConfigureAwait(false), "SELECT COUNT(*) FROM schema_version", () => !_writerDone.Task.IsCompleted, _logger, ct);

    void WriteLoop()
    {
        try
        {
            var reader = _queue.Reader;
            var group = new List<PendingAccept>();
            while (WaitToRead(reader))
            {
                group.Clear();
                var events = Collect(reader, group, 0);
                if (group.Count > 0) Commit(group, events);
            }
            // The shared writer connection closes with the store (the dispatcher, stopped first, reopens it if it writes again).
            using (_db.EnterWrite()) _writer.Reset();
        }
        finally
        {
            _writerDone.TrySetResult();
        }
    }

    /// <summary>Blocks this (dedicated) thread until something is queued; false once the queue is completed and empty.</summary>
    static bool WaitToRead(ChannelReader<PendingAccept> reader)
    {
        var wait = reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Takes what is queued, up to the event limit, WITHOUT waiting for more: callers that arrive while a group is being
    /// written and fsynced form the next group, so the group size follows the load and an idle service answers at once.
    /// </summary>
    int Collect(ChannelReader<PendingAccept> reader, List<PendingAccept> group, int events)
    {
        var max = _options.GroupCommitMaxEvents ?? StorageOptions.SqliteGroupCommitMaxEvents;
        // A request is never split; one larger than the limit makes a group of its own.
        while (reader.TryPeek(out var next) && (events == 0 || events + next.Events.Count <= max) && reader.TryRead(out next))
        {
            group.Add(next);
            events += next.Events.Count;
        }
        return events;
    }

    void Commit(List<PendingAccept> group, int events)
    {
        try
        {
            _db.EnsureMigratedAsync(CancellationToken.None).GetAwaiter().GetResult();
            AcceptStatus[][] results;
            using (_db.EnterWrite())
            {
                // Whoever held the write gate (the dispatcher) gave more callers time to queue: take them along.
                Collect(_queue.Reader, group, events);
                var requests = new IReadOnlyList<IncomingEvent>[group.Count];
                for (var i = 0; i < group.Count; i++) requests[i] = group[i].Events;
                try
                {
                    results = _writer.Get().Write(requests, _time.GetUtcNow(), _options.DedupeWindow);
                }
                catch
                {
                    // The connection may be unusable (file replaced, I/O error): start afresh with the next group. Still
                    // inside the gate, so the dispatcher is not using the connection meanwhile.
                    _writer.Reset();
                    throw;
                }
            }
            Interlocked.Increment(ref _commits);
            for (var i = 0; i < group.Count; i++) group[i].Completion.TrySetResult(results[i]);
            _signal.Notify();
        }
        catch (Exception ex)
        {
            var count = 0;
            foreach (var p in group) count += p.Events.Count;
            // Never the events themselves in the log: only what failed.
            _logger.LogError("Event store commit failed for {Events} events: {Error}", count, ex.GetType().Name + ": " + ex.Message);
            var failure = new StoreUnavailableException("the event store could not commit the events; try again later", ex);
            foreach (var p in group) p.Completion.TrySetException(failure);
        }
    }

    /// <summary>Stops taking events, then lets the writer commit what was queued.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writerDone.Task.ConfigureAwait(false);
        _stopCheckpoints.Set();
        _checkpointThread.Join();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
