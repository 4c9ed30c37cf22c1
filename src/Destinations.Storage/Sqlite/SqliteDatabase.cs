using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// Opens connections to the SQLite file with the settings durability needs, and makes sure the schema is migrated first
/// (once, safely under concurrency; a failed migration is tried again by the next caller).
/// </summary>
public sealed class SqliteDatabase
{
    /// <summary>How long a connection waits for another writer before failing with SQLITE_BUSY.</summary>
    public const int BusyTimeoutMs = 5000;

    readonly SemaphoreSlim _migrateGate = new(1, 1);
    volatile bool _migrated;

    public SqliteDatabase(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        // One process writes this file: a shared cache would only add locking surprises.
        if (builder.Cache == SqliteCacheMode.Default) builder.Cache = SqliteCacheMode.Private;
        ConnectionString = builder.ToString();
        DataSource = builder.DataSource;
    }

    public string ConnectionString { get; }
    public string DataSource { get; }

    /// <summary>An open connection on a migrated database.</summary>
    /// <param name="relaxedSync">Only for the dispatcher's own writes (claims, outcomes): <c>synchronous=NORMAL</c>. In WAL
    /// mode a NORMAL commit is atomic and survives kill -9 (the WAL is in the OS cache); only a power loss can drop the last
    /// NORMAL commits — and the next FULL commit (every ingest group) fsyncs the WAL with everything before it. A lost
    /// outcome means the row is claimed again when its lease runs out: a re-delivery, at-least-once holds. Acknowledged
    /// events are never written on such a connection.</param>
    public async Task<SqliteConnection> OpenAsync(CancellationToken ct, bool relaxedSync = false)
    {
        await EnsureMigratedAsync(ct).ConfigureAwait(false);
        return await OpenUnmigratedAsync(ct, relaxedSync).ConfigureAwait(false);
    }

    /// <summary>
    /// The one write path of this process (SQLite is single-process by design, D25): every write transaction (group commit,
    /// claims, outcomes, state, retention, admin) enters this gate first, so writers queue here in order instead of meeting
    /// SQLITE_BUSY, whose busy handler SLEEPS (1, 2, 5 … 100 ms) between retries. <c>busy_timeout</c> stays as the fallback
    /// for another process (the CLI, a test) touching the same file.
    /// </summary>
    public WriteGate Gate { get; } = new();

    /// <summary>Enters <see cref="Gate"/> in arrival order (every writer but the group commit).</summary>
    public ValueTask<WriteGate.Lease> EnterWriteAsync(CancellationToken ct) => Gate.EnterAsync(ct);

    /// <summary>Enters <see cref="Gate"/> ahead of every other writer, blocking: for the group commit's dedicated thread,
    /// whose commits are what callers wait on for their acknowledgement.</summary>
    public WriteGate.Lease EnterWrite() => Gate.EnterPriority();

    /// <summary>True when the event store checkpoints the WAL on a thread of its own (<see cref="SqliteEventStore"/>): the
    /// long-lived writer connections then raise SQLite's automatic checkpoint to <see cref="BackstopCheckpointPages"/>.
    /// At SQLite's default (1,000 pages) it ran inside whichever commit crossed it, holding the write gate (and the
    /// acknowledgements waiting on that commit) for the copy and its fsync.</summary>
    public bool CheckpointsInBackground { get; set; }

    /// <summary>
    /// The automatic checkpoint of the long-lived writer connections when <see cref="CheckpointsInBackground"/>: a backstop,
    /// not the normal path. The WAL starts over only when a write begins after a checkpoint copied all of it; under writes
    /// without a pause the background checkpoint never catches up (new frames keep arriving while it copies), so the WAL
    /// would grow without end. Past this many pages (~40 MB) the committing connection checkpoints itself, then the next
    /// write starts the WAL over.
    /// </summary>
    public const int BackstopCheckpointPages = 10_000;

    /// <summary>The pragma that sets <see cref="BackstopCheckpointPages"/> on a connection.</summary>
    public static readonly string BackstopCheckpointPragma = $"PRAGMA wal_autocheckpoint = {BackstopCheckpointPages};";

    public async Task EnsureMigratedAsync(CancellationToken ct)
    {
        if (_migrated) return;
        await _migrateGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_migrated) return;
            await using var conn = await OpenUnmigratedAsync(ct).ConfigureAwait(false);
            SqliteMigrations.Apply(conn);
            _migrated = true;
        }
        finally
        {
            _migrateGate.Release();
        }
    }

    async Task<SqliteConnection> OpenUnmigratedAsync(CancellationToken ct, bool relaxedSync = false)
    {
        EnsureFolder();
        var conn = new SqliteConnection(ConnectionString);
        try
        {
            await conn.OpenAsync(ct).ConfigureAwait(false);
            using var cmd = conn.CreateCommand();
            // synchronous=FULL: with WAL, NORMAL could lose the last commits on power loss; an acknowledged event must
            // survive kill -9 *and* power loss, so every commit fsyncs the WAL. The price is one fsync per commit, which
            // group commit spreads over up to 256 events. Both settings are per connection, hence set on every open.
            cmd.CommandText = relaxedSync
                ? $"PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = {BusyTimeoutMs};"
                : $"PRAGMA synchronous = FULL; PRAGMA busy_timeout = {BusyTimeoutMs};";
            cmd.ExecuteNonQuery();
            return conn;
        }
        catch
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>D27: the service creates the folder of its SQLite file (<c>data/</c> by default) when missing.</summary>
    void EnsureFolder()
    {
        if (string.IsNullOrEmpty(DataSource) || DataSource == ":memory:" || DataSource.StartsWith("file:", StringComparison.Ordinal))
            return;
        var folder = Path.GetDirectoryName(Path.GetFullPath(DataSource));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
    }

    public static long ToUnixMs(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    public static DateTimeOffset FromUnixMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
