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
            // group commit spreads over up to 256 events. Both settings are per connection, hence set on every open.
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

    /// <summary>The UTC day a counter row belongs to (filter and duplicate counters are kept per day, D17).</summary>
    public static string Day(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
