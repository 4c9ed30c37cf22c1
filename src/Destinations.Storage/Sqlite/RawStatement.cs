using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// A statement prepared straight on a Microsoft.Data.Sqlite connection's handle and bound by parameter NUMBER (<c>?1</c>,
/// <c>?2</c> …), for the group commit's multi-row statements. Microsoft.Data.Sqlite binds every parameter by name, and SQLite
/// finds a name by scanning the statement's names one by one, so a statement of a few hundred parameters spent its time
/// comparing strings; by number a bind is an array store. Runs inside whatever transaction the connection has open.
/// </summary>
sealed class RawStatement : IDisposable
{
    readonly sqlite3 _db;
    readonly sqlite3_stmt _stmt;

    public RawStatement(SqliteConnection conn, string sql)
    {
        _db = conn.Handle ?? throw new InvalidOperationException("the connection is not open");
        Check(raw.sqlite3_prepare_v2(_db, sql, out _stmt));
    }

    /// <summary>Text given as a string, converted to UTF-8 in a buffer of this call (SQLitePCL's own string overload allocates
    /// an array per bind: four to six per event on the group-commit thread).</summary>
    public void Bind(int number, string value)
    {
        // Empty text cannot go through the span overload: a pointer to no bytes is null, which SQLite binds as NULL.
        if (value.Length == 0 || value.Length > MaxStackChars)
        {
            Check(raw.sqlite3_bind_text(_stmt, number, value));
            return;
        }
        Span<byte> utf8 = stackalloc byte[MaxStackChars * 3];
        var length = Encoding.UTF8.GetBytes(value, utf8);
        BindUtf8(number, utf8[..length]);
    }

    const int MaxStackChars = 256;

    /// <summary>Text given as UTF-8 bytes (no transcoding; SQLite copies them).</summary>
    public void BindUtf8(int number, ReadOnlySpan<byte> value) => Check(raw.sqlite3_bind_text(_stmt, number, value));

    public void Bind(int number, long value) => Check(raw.sqlite3_bind_int64(_stmt, number, value));

    public void BindTextOrNull(int number, string? value)
    {
        if (value is null) Check(raw.sqlite3_bind_null(_stmt, number));
        else Bind(number, value);
    }

    /// <summary>Steps once: true when a row is ready (read it with <see cref="Text"/>), false when the statement is done.</summary>
    public bool Step()
    {
        var rc = raw.sqlite3_step(_stmt);
        if (rc == raw.SQLITE_ROW) return true;
        if (rc == raw.SQLITE_DONE) return false;
        raw.sqlite3_reset(_stmt);
        SqliteException.ThrowExceptionForRC(rc, _db);
        return false;
    }

    public string Text(int column) => raw.sqlite3_column_text(_stmt, column).utf8_to_string();

    /// <summary>Rows changed by the last completed statement on this connection.</summary>
    public int Changes => raw.sqlite3_changes(_db);

    /// <summary>Makes the statement ready to run again (and releases what its last run held); bindings are kept.</summary>
    public void Reset() => raw.sqlite3_reset(_stmt);

    void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _db);
    }

    public void Dispose() => _stmt.Dispose();
}
