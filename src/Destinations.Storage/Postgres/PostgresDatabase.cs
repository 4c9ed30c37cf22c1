using Npgsql;

namespace Destinations.Storage.Postgres;

/// <summary>
/// The pooled PostgreSQL data source, migrated once before first use (a failed migration is tried again by the next caller).
/// The connection string may hold a password: it is never logged; <see cref="Describe"/> gives host, port, database and schema.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    readonly SemaphoreSlim _migrateGate = new(1, 1);
    readonly NpgsqlDataSource _dataSource;
    readonly string? _schema;
    volatile bool _migrated;

    public PostgresDatabase(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        _schema = builder.SearchPath?.Split(',')[0].Trim() is { Length: > 0 } s ? s : null;
        Describe = $"{builder.Host}:{builder.Port}/{builder.Database}" + (_schema is null ? "" : $" (schema {_schema})");
        // JIT compilation costs tens of milliseconds per statement; the store's statements run in about a millisecond, but a
        // cost estimated without statistics (a new log, PostgresGroupWriter.DedupeLookUp) can pass jit_above_cost and pay it
        // on every group. Put first, so an explicit -c jit=on in the connection string's Options still wins.
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? "-c jit=off" : "-c jit=off " + builder.Options;
        // Every group commit, claim and settle runs the same few statements, which without prepared statements (Npgsql's
        // default) the server parses and plans again on every call. An explicit Max Auto Prepare in the connection string
        // (0 turns it off) still wins. Measured in docs/storage.md ("Measured through the service (PostgreSQL, counters and
        // auto-prepare)"): the throughput gain is within that machine's noise.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>();
        if (!given.Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
            builder.MaxAutoPrepare = AutoPrepared;
        _dataSource = NpgsqlDataSource.Create(builder);
    }

    /// <summary>Statements each pooled connection keeps prepared once used a few times (Npgsql's Max Auto Prepare): more
    /// than the store's distinct hot statements (ingest, claim, settle, horizon, leases).</summary>
    public const int AutoPrepared = 64;

    /// <summary>Where the store is, without credentials (for logs).</summary>
    public string Describe { get; }

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        await EnsureMigratedAsync(ct).ConfigureAwait(false);
        return await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
    }

    public async Task EnsureMigratedAsync(CancellationToken ct)
    {
        if (_migrated) return;
        await _migrateGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_migrated) return;
            await using var conn = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
            await PostgresMigrations.ApplyAsync(conn, _schema, ct).ConfigureAwait(false);
            _migrated = true;
        }
        finally
        {
            _migrateGate.Release();
        }
    }

    int _partitionsVersion;

    /// <summary>Changes whenever this process's ingest created an instance's log partitions, so the replica's next claim
    /// runs a lease round at once instead of on its schedule (PostgresLog).</summary>
    public int PartitionsVersion => Volatile.Read(ref _partitionsVersion);

    internal void PartitionsCreated() => Interlocked.Increment(ref _partitionsVersion);

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
