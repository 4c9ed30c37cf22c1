namespace Destinations.Benchmarks;

/// <summary>The service under test as a child process, with its store: the SQLite folder or the PostgreSQL database, both
/// removed when it is disposed (after the process is killed).</summary>
public sealed class Service(Child child, StoreKind store, string directory, string? database, PostgresServer? postgres) : IAsyncDisposable
{
    public Child Child => child;
    public StoreKind Store => store;
    public string Url => child.Url;

    /// <summary>Kills the process (idempotent). Before <see cref="DatabaseMiBAsync"/> on PostgreSQL: the service's pool may hold
    /// every connection the server allows (Npgsql's default Max Pool Size is 100, like PostgreSQL's max_connections).</summary>
    public void Stop() => child.Dispose();

    /// <summary>The store's size on disk: the SQLite files (with -wal/-shm), or pg_database_size.</summary>
    public async Task<double> DatabaseMiBAsync() => database is null
        ? Directory.GetFiles(directory, "destinations.db*").Sum(f => new FileInfo(f).Length) / 1048576.0
        : await postgres!.SizeMiBAsync(database);

    public async ValueTask DisposeAsync()
    {
        child.Dispose();
        if (database is not null) await postgres!.DropAsync(database);
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { } // a 1M-event backlog is ~1 GB
    }
}
