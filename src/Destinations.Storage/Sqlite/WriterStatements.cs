using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// What one writer prepares on the database's shared writer connection (<see cref="SqliteDatabase.Writer"/>): the group
/// commit's <see cref="GroupWriter"/>, the dispatch writer's <see cref="SqliteSession"/>. Prepared on first use and again
/// whenever the database has opened a new connection since (the other writer may have reset it). Only under the write gate.
/// </summary>
sealed class WriterStatements<T>(SqliteDatabase db, bool fullSync, Func<SqliteConnection, T> prepare) where T : class, IDisposable
{
    T? _current;
    int _generation;

    public bool IsPrepared => _current is not null;

    /// <summary>The statements for a transaction now, with the connection switched to this writer's sync mode.</summary>
    public T Get()
    {
        var conn = db.Writer(fullSync);
        if (_current is null || _generation != db.WriterGeneration)
        {
            Drop();
            _current = prepare(conn);
            _generation = db.WriterGeneration;
        }
        return _current;
    }

    /// <summary>Disposes the statements (idle, or the connection is going); the connection stays.</summary>
    public void Drop()
    {
        _current?.Dispose();
        _current = null;
    }

    /// <summary>After a failed transaction, and at shutdown: the statements and the connection go; the next transaction, of
    /// either writer, opens a fresh one.</summary>
    public void Reset()
    {
        Drop();
        db.ResetWriter();
    }
}
