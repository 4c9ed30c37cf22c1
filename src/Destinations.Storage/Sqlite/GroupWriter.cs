using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// Writes one group of accepted events in ONE transaction on the database's writer connection: dedupe (D5), filter and duplicate
/// counters (D8, D5), the events and one delivery row per routed (destination, subscription) (D7). Set-based, as on
/// PostgreSQL: multi-row statements of up to <see cref="RowsPerStatement"/> rows (a statement costs a bind-step-reset cycle,
/// so one per event per table was most of the writer's time), prepared once per connection and row count and bound by
/// parameter number (<see cref="RawStatement"/>), and counters summed per group.
/// </summary>
sealed class GroupWriter : IDisposable
{
    /// <summary>Rows per multi-row statement (the dedupe statement binds 2 values per row, events 6, deliveries 3).</summary>
    public const int RowsPerStatement = 64;

    readonly SqliteConnection _conn;
    readonly Dictionary<(Kind, int), RawStatement> _prepared = [];
    readonly SqliteCommand _countFilter, _countDuplicate, _renewExpired;

    enum Kind { Dedupe, Event, Delivery }

    /// <param name="conn">The database's shared writer connection (<see cref="SqliteDatabase.Writer"/>: foreign keys off, the
    /// backstop checkpoint); used only under the write gate, and not owned: the caller rebuilds this writer when the
    /// database opens a new one.</param>
    public GroupWriter(SqliteConnection conn)
    {
        _conn = conn;
        _countFilter = Prepare("""
            INSERT INTO filter_counts (destination_id, reason, day, count) VALUES ($destination, $reason, $day, $count)
            ON CONFLICT (destination_id, reason, day) DO UPDATE SET count = count + excluded.count
            """, "$destination", "$reason", "$day", "$count");
        _countDuplicate = Prepare("""
            INSERT INTO duplicate_counts (destination_id, day, count) VALUES ($destination, $day, $count)
            ON CONFLICT (destination_id, day) DO UPDATE SET count = count + excluded.count
            """, "$destination", "$day", "$count");
        _renewExpired = Prepare("""
            UPDATE dedupe SET expires_at = $expires WHERE source_id = $source AND message_id = $message AND expires_at <= $now
            """, "$expires", "$source", "$message", "$now");
    }

    /// <summary>Writes and commits the group; one status array per request, in order. Throws when the commit fails.</summary>
    public AcceptStatus[][] Write(IReadOnlyList<IReadOnlyList<IncomingEvent>> requests, DateTimeOffset now, TimeSpan dedupeWindow)
    {
        var nowMs = SqliteDatabase.ToUnixMs(now);
        var expiresMs = SqliteDatabase.ToUnixMs(now + dedupeWindow);
        var day = StoredValues.Day(now);
        var results = new AcceptStatus[requests.Count][];
        var all = new List<(int R, int I, IncomingEvent E)>();
        for (var r = 0; r < requests.Count; r++)
        {
            results[r] = new AcceptStatus[requests[r].Count];
            for (var i = 0; i < requests[r].Count; i++) all.Add((r, i, requests[r][i]));
        }

        using var tx = _conn.BeginTransaction(deferred: false);

        // D5: an id seen earlier in this group is a duplicate; the others go to the dedupe upsert, whose RETURNING names
        // the new ones (an id unseen, or whose record expired). Ingress gives every event a messageId; one without cannot
        // be deduplicated and is simply stored.
        var seenInGroup = new HashSet<(string, string)>();
        var duplicate = new bool[all.Count];
        var candidates = new List<(string Source, string Message)>(all.Count);
        for (var n = 0; n < all.Count; n++)
        {
            var e = all[n].E;
            if (e.Event.MessageId.Length == 0) continue;
            if (seenInGroup.Add((e.SourceId, e.Event.MessageId))) candidates.Add((e.SourceId, e.Event.MessageId));
            else duplicate[n] = true;
        }
        var fresh = RecordNew(tx, candidates, expiresMs, nowMs);

        var filters = new Dictionary<(string, string), long>();
        var duplicates = new Dictionary<string, long>(StringComparer.Ordinal);
        var stored = new List<IncomingEvent>(all.Count);
        for (var n = 0; n < all.Count; n++)
        {
            var (r, i, incoming) = all[n];
            if (duplicate[n] || (incoming.Event.MessageId.Length > 0 && !fresh.Contains((incoming.SourceId, incoming.Event.MessageId))))
            {
                CountDuplicate(duplicates, incoming.Routing.Deliveries);
                results[r][i] = AcceptStatus.Duplicate;
                continue;
            }
            results[r][i] = AcceptStatus.Stored;
            foreach (var filter in incoming.Routing.Filtered)
                filters[(filter.DestinationId, filter.Reason.Code)] = filters.GetValueOrDefault((filter.DestinationId, filter.Reason.Code)) + 1;
            // Routed nowhere: the dedupe record and the counters are all there is to keep.
            if (incoming.Routing.Deliveries.Count > 0) stored.Add(incoming);
        }

        foreach (var ((destination, reason), count) in filters) Run(_countFilter, tx, destination, reason, day, count);
        foreach (var (destination, count) in duplicates) Run(_countDuplicate, tx, destination, day, count);
        InsertEvents(stored, nowMs);
        tx.Commit();
        return results;
    }

    HashSet<(string, string)> RecordNew(SqliteTransaction tx, List<(string Source, string Message)> keys, long expiresMs, long nowMs)
    {
        var fresh = new HashSet<(string, string)>();
        List<(string, string)>? conflicted = null;
        for (var start = 0; start < keys.Count; start += RowsPerStatement)
        {
            var rows = Math.Min(RowsPerStatement, keys.Count - start);
            var stmt = Statement(Kind.Dedupe, rows);
            stmt.Bind(1, expiresMs);
            for (var k = 0; k < rows; k++)
            {
                stmt.Bind(2 + 2 * k, keys[start + k].Source);
                stmt.Bind(3 + 2 * k, keys[start + k].Message);
            }
            var inserted = 0;
            try
            {
                while (stmt.Step())
                {
                    fresh.Add((stmt.Text(0), stmt.Text(1)));
                    inserted++;
                }
            }
            finally
            {
                stmt.Reset();
            }
            if (inserted == rows) continue;
            conflicted ??= [];
            for (var k = 0; k < rows; k++)
                if (!fresh.Contains(keys[start + k])) conflicted.Add(keys[start + k]);
        }

        // A key already recorded is a duplicate unless its record expired (the purge has not reached it yet): then the
        // event is new again and the record starts a new window. Rare (only keys seen before), so one row at a time.
        if (conflicted is not null)
            foreach (var (source, message) in conflicted)
                if (Run(_renewExpired, tx, expiresMs, source, message, nowMs) == 1) fresh.Add((source, message));
        return fresh;
    }

    void InsertEvents(List<IncomingEvent> events, long nowMs)
    {
        var deliveries = new List<(long Seq, string Destination, string Subscription)>();
        for (var start = 0; start < events.Count; start += RowsPerStatement)
        {
            var rows = Math.Min(RowsPerStatement, events.Count - start);
            var stmt = Statement(Kind.Event, rows);
            for (var k = 0; k < rows; k++)
            {
                var incoming = events[start + k];
                var e = incoming.Event;
                var n = 6 * k;
                stmt.Bind(n + 1, incoming.SourceId);
                stmt.Bind(n + 2, e.MessageId);
                stmt.Bind(n + 3, e.Type);
                stmt.BindTextOrNull(n + 4, e.UserKey);
                stmt.Bind(n + 5, StoredValues.ReceivedAtMs(e, nowMs));
                stmt.BindUtf8(n + 6, e.ToUtf8Json().Span);
            }
            try
            {
                stmt.Step();
            }
            finally
            {
                stmt.Reset();
            }
            if (stmt.Changes != rows) throw new InvalidOperationException($"inserted {stmt.Changes} of {rows} events");
            // seq is the rowid (INTEGER PRIMARY KEY, no AUTOINCREMENT): SQLite gives each new row the largest rowid plus one,
            // so one statement's rows get consecutive values ending at this connection's last insert — on the one writer,
            // inside this transaction.
            var first = SQLitePCL.raw.sqlite3_last_insert_rowid(_conn.Handle) - rows + 1;
            for (var k = 0; k < rows; k++)
                foreach (var d in events[start + k].Routing.Deliveries) deliveries.Add((first + k, d.DestinationId, d.Subscription));
        }

        for (var start = 0; start < deliveries.Count; start += RowsPerStatement)
        {
            var rows = Math.Min(RowsPerStatement, deliveries.Count - start);
            var stmt = Statement(Kind.Delivery, rows);
            stmt.Bind(1, nowMs);
            for (var k = 0; k < rows; k++)
            {
                var (seq, destination, subscription) = deliveries[start + k];
                stmt.Bind(2 + 3 * k, seq);
                stmt.Bind(3 + 3 * k, destination);
                stmt.Bind(4 + 3 * k, subscription);
            }
            try
            {
                stmt.Step();
            }
            finally
            {
                stmt.Reset();
            }
        }
    }

    /// <summary>The prepared multi-row statement of a kind for a row count (built on first use, kept for the connection).
    /// Parameters are numbered: a value shared by every row first, then each row's values in turn.</summary>
    RawStatement Statement(Kind kind, int rows)
    {
        if (_prepared.TryGetValue((kind, rows), out var stmt)) return stmt;
        var sql = new StringBuilder();
        switch (kind)
        {
            case Kind.Dedupe:
                // OR IGNORE: a key already recorded is skipped, and RETURNING names only the rows inserted. Not an upsert:
                // SQLite compiles DO UPDATE with ABORT semantics, and an ABORT-able statement of several rows keeps a
                // statement journal (a temp file once past 64 KiB) with a copy of every page it touches.
                sql.Append("INSERT OR IGNORE INTO dedupe (source_id, message_id, expires_at) VALUES ");
                for (var k = 0; k < rows; k++)
                    sql.Append(k == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"(?{2 + 2 * k}, ?{3 + 2 * k}, ?1)");
                sql.Append(" RETURNING source_id, message_id");
                break;
            case Kind.Event:
                // OR FAIL rather than the default ABORT, for the same reason: the group's transaction is all or nothing
                // anyway (a failure fails every caller of the group), so a statement needs no rollback of its own.
                sql.Append("INSERT OR FAIL INTO events (source_id, message_id, type, user_key, received_at, body) VALUES ");
                for (var k = 0; k < rows; k++)
                {
                    var n = 6 * k;
                    sql.Append(k == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                        $"(?{n + 1}, ?{n + 2}, ?{n + 3}, ?{n + 4}, ?{n + 5}, ?{n + 6})");
                }
                break;
            case Kind.Delivery:
                sql.Append("INSERT OR FAIL INTO deliveries (event_seq, destination_id, subscription, status, attempts, next_attempt_at, created_at, updated_at) VALUES ");
                for (var k = 0; k < rows; k++)
                {
                    var n = 3 * k;
                    sql.Append(k == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"(?{n + 2}, ?{n + 3}, ?{n + 4}, 'pending', 0, ?1, ?1, ?1)");
                }
                sql.Append(" ON CONFLICT (event_seq, destination_id, subscription) DO NOTHING");
                break;
        }
        stmt = new RawStatement(_conn, sql.ToString());
        _prepared[(kind, rows)] = stmt;
        return stmt;
    }

    static void CountDuplicate(Dictionary<string, long> duplicates, IReadOnlyList<Core.Routing.RoutedDelivery> deliveries)
    {
        // Once per destination instance (a destination may have several subscriptions).
        for (var i = 0; i < deliveries.Count; i++)
        {
            var destination = deliveries[i].DestinationId;
            var seen = false;
            for (var j = 0; j < i && !seen; j++) seen = string.Equals(deliveries[j].DestinationId, destination, StringComparison.Ordinal);
            if (!seen) duplicates[destination] = duplicates.GetValueOrDefault(destination) + 1;
        }
    }

    static int Run(SqliteCommand cmd, SqliteTransaction tx, params object?[] values)
    {
        cmd.Transaction = tx;
        for (var i = 0; i < values.Length; i++) cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        return cmd.ExecuteNonQuery();
    }

    SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var cmd = _conn.CreateCommand();
        cmd.CommandText = sql;
        foreach (var name in parameters) cmd.Parameters.Add(new SqliteParameter { ParameterName = name });
        cmd.Prepare();
        return cmd;
    }

    public void Dispose()
    {
        foreach (var cmd in _prepared.Values) cmd.Dispose();
        _countFilter.Dispose();
        _countDuplicate.Dispose();
        _renewExpired.Dispose();
    }
}
