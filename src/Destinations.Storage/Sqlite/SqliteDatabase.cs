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
    public async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        await EnsureMigratedAsync(ct).ConfigureAwait(false);
        return await OpenUnmigratedAsync(ct).ConfigureAwait(false);
    }

    SqliteConnection? _writer;
    bool _writerFullSync, _writerBackstop;

    /// <summary>Bumped whenever <see cref="Writer"/> opens a new connection: statements prepared on an older one are rebuilt.</summary>
    public int WriterGeneration { get; private set; }

    /// <summary>
    /// The one long-lived connection the group commit (<see cref="SqliteEventStore"/>) and the dispatch writer
    /// (<see cref="SqliteDispatchWriter"/>) both write on, strictly one after the other: only while holding <see cref="Gate"/>,
    /// and only after <see cref="EnsureMigratedAsync"/>. One connection, not one each: in WAL mode a connection empties its
    /// page cache whenever another connection has committed since its own last transaction, so two writers taking turns
    /// re-read every page they touch from the OS on every transaction — measured at ~27 page reads per ingest commit, a
    /// quarter of the group-commit thread's time with deliveries running (measured in docs/benchmarks.md).
    /// <para><paramref name="fullSync"/>: <c>synchronous=FULL</c> for the group commit — an acknowledged event survives kill -9
    /// and power loss, so every commit fsyncs the WAL. <c>NORMAL</c> for the dispatcher's claims and outcomes: in WAL mode a
    /// NORMAL commit is atomic and survives kill -9 (the WAL is in the OS cache); only a power loss can drop the last NORMAL
    /// commits, and the next FULL commit (every ingest group) fsyncs the WAL with everything before it. A lost outcome means
    /// the row is claimed again when its lease runs out: a re-delivery, at-least-once holds. The setting is switched between
    /// transactions (a pragma, no I/O).</para>
    /// <para>Foreign keys are off on this connection: the one reference the group commit writes (deliveries.event_seq) names an
    /// event row inserted a moment earlier in the same transaction, and the dispatcher's statements never write that column;
    /// but SQLite counts foreign-key violations per statement, so every multi-row delivery insert with the check on kept a
    /// statement journal (a temp file once past 64 KiB) with a copy of every page it touched — more bytes than the WAL itself.
    /// Every other connection keeps the check (Microsoft.Data.Sqlite turns it on), e.g. retention cannot delete a referenced
    /// event. With <see cref="CheckpointsInBackground"/> the automatic checkpoint is only the backstop
    /// (<see cref="BackstopCheckpointPages"/>).</para>
    /// </summary>
    public SqliteConnection Writer(bool fullSync)
    {
        if (_writer is null)
        {
            var conn = OpenUnmigratedAsync(CancellationToken.None).GetAwaiter().GetResult(); // synchronous = FULL
            try
            {
                Execute(conn, "PRAGMA foreign_keys = OFF;");
            }
            catch
            {
                conn.Dispose();
                throw;
            }
            _writer = conn;
            _writerFullSync = true;
            _writerBackstop = false;
            WriterGeneration++;
        }
        // The event store may be created after the dispatcher first wrote: the backstop follows it whenever it appears.
        if (CheckpointsInBackground && !_writerBackstop)
        {
            Execute(_writer, BackstopCheckpointPragma);
            _writerBackstop = true;
        }
        if (_writerFullSync != fullSync)
        {
            Execute(_writer, fullSync ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
            _writerFullSync = fullSync;
        }
        return _writer;
    }

    /// <summary>Closes <see cref="Writer"/>'s connection (after a failed transaction, or at shutdown); the next caller opens a
    /// fresh one. Only while holding <see cref="Gate"/>.</summary>
    public void ResetWriter()
    {
        _writer?.Dispose();
        _writer = null;
    }

    static void Execute(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
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
    /// long-lived writer connection (<see cref="Writer"/>) then raises SQLite's automatic checkpoint to <see cref="BackstopCheckpointPages"/>.
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

    /// <summary>True once this instance has applied (or found) the migrations.</summary>
    public bool IsMigrated => _migrated;

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

    async Task<SqliteConnection> OpenUnmigratedAsync(CancellationToken ct)
    {
        EnsureFolder();
        var conn = new SqliteConnection(ConnectionString);
        try
        {
            await conn.OpenAsync(ct).ConfigureAwait(false);
            using var cmd = conn.CreateCommand();
            // synchronous=FULL: with WAL, NORMAL could lose the last commits on power loss; an acknowledged event must
            // survive kill -9 *and* power loss, so every commit fsyncs the WAL. The price is one fsync per commit, which
            // group commit spreads over up to 256 events. Both settings are per connection, hence set on every open
            // (Writer switches its own connection to NORMAL for the dispatcher's transactions).
            cmd.CommandText = $"PRAGMA synchronous = FULL; PRAGMA busy_timeout = {BusyTimeoutMs};";
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
