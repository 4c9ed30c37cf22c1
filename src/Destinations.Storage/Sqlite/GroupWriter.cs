using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// Writes one group of accepted events in ONE transaction on the database's writer connection: ONE log row per accepted event
/// (docs/storage.md), carrying what routing decided for it (instances and subscriptions, router filter reasons) and the hash
/// of its messageId for dedupe (D5), plus the filter and duplicate counters (D8, D5) summed per group. No delivery row and no
/// dedupe row: destination instances read the log from their cursors, and the log row itself is the dedupe record (also for
/// an event routed nowhere). Set-based: multi-row statements of up to <see cref="RowsPerStatement"/> rows (a statement
/// costs a bind-step-reset cycle), prepared once per connection and row count and bound by parameter number
/// (<see cref="RawStatement"/>).
/// </summary>
sealed class GroupWriter : IDisposable
{
    /// <summary>Rows per multi-row statement (the event statement binds 9 values per row, the dedupe lookup 1).</summary>
    public const int RowsPerStatement = 64;

    /// <summary>How often the writer looks again whether the pre-log <c>dedupe</c> table still has rows.</summary>
    static readonly TimeSpan LegacyDedupeRecheck = TimeSpan.FromMinutes(1);

    readonly SqliteConnection _conn;
    readonly Dictionary<(Kind, int), RawStatement> _prepared = [];
    readonly LogRoutes.Cache<Core.Routing.RoutedDelivery> _routes = new(LogRoutes.Encode, static (a, b) =>
        string.Equals(a.DestinationId, b.DestinationId, StringComparison.Ordinal) && string.Equals(a.Subscription, b.Subscription, StringComparison.Ordinal));
    readonly LogRoutes.Cache<Core.Routing.RouterFilter> _filtered = new(LogRoutes.EncodeFiltered, static (a, b) =>
        string.Equals(a.DestinationId, b.DestinationId, StringComparison.Ordinal) && string.Equals(a.Reason.Code, b.Reason.Code, StringComparison.Ordinal));
    readonly SqliteCommand _countFilter, _countDuplicate, _legacySeen, _legacyAny, _newCursor, _newestSeq, _logSpan, _allHashes;
    readonly List<int> _lookups = [];
    bool _legacyDedupe;
    long? _legacyCheckedAt;
    SeenFilter? _filter;
    long _filterNewestSeq;
    long? _filterRetryAt;

    /// <summary>How long the writer looks every event up after the <see cref="SeenFilter"/> was found full, before it
    /// tries a rebuild (the retention may have made the log smaller).</summary>
    static readonly TimeSpan FilterRetry = TimeSpan.FromMinutes(10);

    enum Kind { Seen, Event }

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
        // Written by the store before the log (schema 7 and earlier): read only, until its records expire and the purge
        // empties it.
        _legacySeen = Prepare("SELECT 1 FROM dedupe WHERE source_id = $source AND message_id = $message AND expires_at > $now",
            "$source", "$message", "$now");
        _legacyAny = Prepare("SELECT EXISTS (SELECT 1 FROM dedupe)");
        _newCursor = Prepare("""
            INSERT INTO cursors (destination_id, seq, created_at, updated_at) VALUES ($destination, $seq, $now, $now)
            ON CONFLICT (destination_id) DO NOTHING
            """, "$destination", "$seq", "$now");
        _newestSeq = Prepare("SELECT COALESCE(MAX(seq), 0) FROM events");
        _logSpan = Prepare("SELECT COALESCE(MAX(seq) - MIN(seq) + 1, 0) FROM events");
        _allHashes = Prepare("SELECT id_hash FROM events WHERE id_hash IS NOT NULL");
    }

    /// <summary>Writes and commits the group; one status array per request, in order. Throws when the commit fails.</summary>
    public AcceptStatus[][] Write(IReadOnlyList<IReadOnlyList<IncomingEvent>> requests, DateTimeOffset now, TimeSpan dedupeWindow)
    {
        var nowMs = SqliteDatabase.ToUnixMs(now);
        var sinceMs = SqliteDatabase.ToUnixMs(now - dedupeWindow);
        var day = StoredValues.Day(now);
        var results = new AcceptStatus[requests.Count][];
        var events = 0;
        for (var r = 0; r < requests.Count; r++) events += requests[r].Count;
        var all = new List<(int R, int I, IncomingEvent E)>(events);
        for (var r = 0; r < requests.Count; r++)
        {
            results[r] = new AcceptStatus[requests[r].Count];
            for (var i = 0; i < requests[r].Count; i++) all.Add((r, i, requests[r][i]));
        }

        using var tx = _conn.BeginTransaction(deferred: false);

        // D5: an id seen earlier in this group is a duplicate; the others are looked up by hash in the log (accepted within
        // the window), each hit confirmed on the full messageId. Ingress gives every event a messageId; one without cannot
        // be deduplicated and is simply stored.
        var seenInGroup = new HashSet<(string, string)>();
        var duplicate = new bool[all.Count];
        var hashes = new long[all.Count];
        var candidates = new List<int>(all.Count);
        for (var n = 0; n < all.Count; n++)
        {
            var e = all[n].E;
            if (e.Event.MessageId.Length == 0) continue;
            hashes[n] = LogRoutes.Hash(e.Event.MessageId);
            if (seenInGroup.Add((e.SourceId, e.Event.MessageId))) candidates.Add(n);
            else duplicate[n] = true;
        }
        var seen = Seen(tx, candidates, all, hashes, sinceMs, nowMs);

        var filters = new Dictionary<(string, string), long>();
        var duplicates = new Dictionary<string, long>(StringComparer.Ordinal);
        var stored = new List<(IncomingEvent E, long Hash)>(all.Count);
        for (var n = 0; n < all.Count; n++)
        {
            var (r, i, incoming) = all[n];
            if (duplicate[n] || (seen is not null && seen.Contains((incoming.SourceId, incoming.Event.MessageId))))
            {
                CountDuplicate(duplicates, incoming.Routing.Deliveries);
                results[r][i] = AcceptStatus.Duplicate;
                continue;
            }
            results[r][i] = AcceptStatus.Stored;
            if (incoming.Event.MessageId.Length > 0) _filter?.Add(hashes[n]);
            var filtered = incoming.Routing.Filtered; // by index: a foreach would box an enumerator per event
            for (var f = 0; f < filtered.Count; f++)
                CollectionsMarshal.GetValueRefOrAddDefault(filters, (filtered[f].DestinationId, filtered[f].Reason.Code), out _)++;
            // Routed nowhere too: its log row is its dedupe record.
            stored.Add((incoming, hashes[n]));
        }

        foreach (var ((destination, reason), count) in filters) Run(_countFilter, tx, destination, reason, day, count);
        foreach (var (destination, count) in duplicates) Run(_countDuplicate, tx, destination, day, count);
        InsertEvents(tx, stored, nowMs);
        tx.Commit();
        return results;
    }

    /// <summary>The (source, messageId) pairs among the candidates already accepted within the window: hash hits in the log
    /// confirmed on message_id (two ids with one hash are both kept), and, while it has rows, the pre-log dedupe table.</summary>
    HashSet<(string, string)>? Seen(SqliteTransaction tx, List<int> candidates, List<(int R, int I, IncomingEvent E)> all, long[] hashes,
        long sinceMs, long nowMs)
    {
        HashSet<(string, string)>? seen = null;
        // Only what the filter cannot rule out is looked up: for a group of new ids, nothing.
        var lookups = candidates;
        if (Filter(tx, nowMs) is { } filter)
        {
            lookups = _lookups;
            lookups.Clear();
            foreach (var n in candidates)
                if (filter.MayContain(hashes[n])) lookups.Add(n);
        }
        for (var start = 0; start < lookups.Count; start += RowsPerStatement)
        {
            var rows = Math.Min(RowsPerStatement, lookups.Count - start);
            var stmt = Statement(Kind.Seen, rows);
            stmt.Bind(1, sinceMs);
            for (var k = 0; k < rows; k++) stmt.Bind(2 + k, hashes[lookups[start + k]]);
            try
            {
                while (stmt.Step()) (seen ??= []).Add((stmt.Text(0), stmt.Text(1)));
            }
            finally
            {
                stmt.Reset();
            }
        }

        if (_legacyCheckedAt is not { } checkedAt || nowMs - checkedAt > LegacyDedupeRecheck.TotalMilliseconds)
        {
            _legacyAny.Transaction = tx;
            _legacyDedupe = Convert.ToInt64(_legacyAny.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) != 0;
            _legacyCheckedAt = nowMs;
        }
        if (_legacyDedupe)
            foreach (var n in candidates)
            {
                var e = all[n].E;
                _legacySeen.Transaction = tx;
                _legacySeen.Parameters[0].Value = e.SourceId;
                _legacySeen.Parameters[1].Value = e.Event.MessageId;
                _legacySeen.Parameters[2].Value = nowMs;
                if (_legacySeen.ExecuteScalar() is not null) (seen ??= []).Add((e.SourceId, e.Event.MessageId));
            }
        return seen;
    }

    /// <summary>The filter of the hashes in the log, or null while every event is to be looked up (full, or not yet
    /// retried). Built from the id_hash index when this writer starts, again when the log's newest row is not the one this
    /// writer inserted last (another writer added rows it did not see).</summary>
    SeenFilter? Filter(SqliteTransaction tx, long nowMs)
    {
        if (_filter is not null)
        {
            if (_filter.IsFull)
            {
                _filter = null;
                _filterRetryAt = nowMs + (long)FilterRetry.TotalMilliseconds;
                return null;
            }
            if (NewestSeq(tx) == _filterNewestSeq) return _filter;
            _filter = null;
        }
        else if (_filterRetryAt is { } retryAt && nowMs < retryAt) return null;

        // The seq span bounds the row count (two look-ups at the ends of the rowid tree): a log too large for the filter is
        // not scanned at all.
        _logSpan.Transaction = tx;
        if (Convert.ToInt64(_logSpan.ExecuteScalar(), CultureInfo.InvariantCulture) > SeenFilter.Capacity)
        {
            _filterRetryAt = nowMs + (long)FilterRetry.TotalMilliseconds;
            return null;
        }
        var filter = new SeenFilter();
        _allHashes.Transaction = tx;
        using (var reader = _allHashes.ExecuteReader())
            while (reader.Read()) filter.Add(reader.GetInt64(0));
        _filterRetryAt = null;
        _filterNewestSeq = NewestSeq(tx);
        return _filter = filter;
    }

    long NewestSeq(SqliteTransaction tx)
    {
        _newestSeq.Transaction = tx;
        return Convert.ToInt64(_newestSeq.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    void InsertEvents(SqliteTransaction tx, List<(IncomingEvent E, long Hash)> events, long nowMs)
    {
        var cursorsDone = new HashSet<string>(StringComparer.Ordinal);
        for (var start = 0; start < events.Count; start += RowsPerStatement)
        {
            var rows = Math.Min(RowsPerStatement, events.Count - start);
            var stmt = Statement(Kind.Event, rows);
            stmt.Bind(1, nowMs);
            for (var k = 0; k < rows; k++)
            {
                var (incoming, hash) = events[start + k];
                var e = incoming.Event;
                var n = 1 + 9 * k;
                stmt.Bind(n + 1, incoming.SourceId);
                stmt.Bind(n + 2, e.MessageId);
                stmt.Bind(n + 3, e.Type);
                stmt.BindTextOrNull(n + 4, e.UserKey);
                stmt.Bind(n + 5, StoredValues.ReceivedAtMs(e, nowMs));
                // Routed nowhere: the row is only its dedupe record and the router's reasons (nothing ever reads its body).
                if (incoming.Routing.Deliveries.Count > 0) stmt.BindUtf8(n + 6, e.ToUtf8Json().Span);
                else stmt.Bind(n + 6, "");
                BindOrNull(stmt, n + 7, _routes.Of(incoming.Routing.Deliveries));
                BindOrNull(stmt, n + 8, _filtered.Of(incoming.Routing.Filtered));
                if (e.MessageId.Length > 0) stmt.Bind(n + 9, hash);
                else stmt.BindTextOrNull(n + 9, null);
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
            // inside this transaction. The retention never deletes the newest event, so a seq is never handed out twice.
            var last = SQLitePCL.raw.sqlite3_last_insert_rowid(_conn.Handle);
            var first = last - rows + 1;
            _filterNewestSeq = last;
            // A new instance's cursor starts just before the first event routed to it (it gets what is accepted from then on).
            // Once per instance and group: the cursor may have been dropped by the retention since (a removed instance's).
            for (var k = 0; k < rows; k++)
            {
                var deliveries = events[start + k].E.Routing.Deliveries; // by index: a foreach would box an enumerator per event
                for (var i = 0; i < deliveries.Count; i++)
                    if (cursorsDone.Add(deliveries[i].DestinationId)) Run(_newCursor, tx, deliveries[i].DestinationId, first + k - 1, nowMs);
            }
        }
    }

    static void BindOrNull(RawStatement stmt, int number, byte[]? utf8)
    {
        if (utf8 is null) stmt.BindTextOrNull(number, null);
        else stmt.BindUtf8(number, utf8);
    }

    /// <summary>The prepared multi-row statement of a kind for a row count (built on first use, kept for the connection).
    /// Parameters are numbered: a value shared by every row first, then each row's values in turn.</summary>
    RawStatement Statement(Kind kind, int rows)
    {
        if (_prepared.TryGetValue((kind, rows), out var stmt)) return stmt;
        var sql = new StringBuilder();
        switch (kind)
        {
            case Kind.Seen:
                sql.Append("SELECT source_id, message_id FROM events WHERE id_hash IN (");
                for (var k = 0; k < rows; k++) sql.Append(k == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"?{2 + k}");
                sql.Append(") AND accepted_at > ?1");
                break;
            case Kind.Event:
                // OR FAIL rather than the default ABORT: an ABORT-able statement of several rows keeps a statement journal
                // (a temp file once past 64 KiB), and the group's transaction is all or nothing anyway (a failure fails every
                // caller of the group), so a statement needs no rollback of its own.
                sql.Append("INSERT OR FAIL INTO events (source_id, message_id, type, user_key, received_at, body, routes, filtered, id_hash, accepted_at) VALUES ");
                for (var k = 0; k < rows; k++)
                {
                    var n = 1 + 9 * k;
                    sql.Append(k == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                        $"(?{n + 1}, ?{n + 2}, ?{n + 3}, ?{n + 4}, ?{n + 5}, ?{n + 6}, ?{n + 7}, ?{n + 8}, ?{n + 9}, ?1)");
                }
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
        _legacySeen.Dispose();
        _legacyAny.Dispose();
        _newCursor.Dispose();
        _newestSeq.Dispose();
        _logSpan.Dispose();
        _allHashes.Dispose();
    }
}
