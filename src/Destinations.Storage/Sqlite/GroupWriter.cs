using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// Writes one group of accepted events in ONE transaction on the writer's own connection: dedupe (D5), filter and duplicate
/// counters (D8, D5), the events and one delivery row per routed (destination, subscription) (D7). Set-based, as on
/// PostgreSQL: multi-row statements of up to <see cref="RowsPerStatement"/> rows (a statement costs a bind-step-reset cycle,
/// so one per event per table was most of the writer's time), prepared once per connection and row count, and counters
/// summed per group.
/// </summary>
sealed class GroupWriter : IDisposable
{
    /// <summary>Rows per multi-row statement (the dedupe statement binds 2 values per row, events 6, deliveries 3). Not more:
    /// Microsoft.Data.Sqlite binds every parameter by name, and SQLite finds a name by a linear scan of the statement's
    /// names, so binding costs grow with the square of the parameters per statement (64 rows showed up as strncmp).</summary>
    public const int RowsPerStatement = 16;

    readonly SqliteConnection _conn;
    readonly Dictionary<(Kind, int), SqliteCommand> _prepared = [];
    readonly SqliteCommand _countFilter, _countDuplicate;

    enum Kind { Dedupe, Event, Delivery }

    GroupWriter(SqliteConnection conn)
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
    }

    public static async Task<GroupWriter> OpenAsync(SqliteDatabase db, CancellationToken ct) =>
        new(await db.OpenAsync(ct).ConfigureAwait(false));

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
                filters[(filter.DestinationId, filter.Reason)] = filters.GetValueOrDefault((filter.DestinationId, filter.Reason)) + 1;
            // Routed nowhere: the dedupe record and the counters are all there is to keep.
            if (incoming.Routing.Deliveries.Count > 0) stored.Add(incoming);
        }

        foreach (var ((destination, reason), count) in filters) Run(_countFilter, tx, destination, reason, day, count);
        foreach (var (destination, count) in duplicates) Run(_countDuplicate, tx, destination, day, count);
        InsertEvents(tx, stored, nowMs);
        tx.Commit();
        return results;
    }

    HashSet<(string, string)> RecordNew(SqliteTransaction tx, List<(string Source, string Message)> keys, long expiresMs, long nowMs)
    {
        var fresh = new HashSet<(string, string)>();
        for (var start = 0; start < keys.Count; start += RowsPerStatement)
        {
            var rows = Math.Min(RowsPerStatement, keys.Count - start);
            var cmd = Statement(Kind.Dedupe, rows, tx);
            var p = cmd.Parameters;
            p[0].Value = expiresMs;
            p[1].Value = nowMs;
            for (var k = 0; k < rows; k++)
            {
                p[2 + 2 * k].Value = keys[start + k].Source;
                p[3 + 2 * k].Value = keys[start + k].Message;
            }
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) fresh.Add((reader.GetString(0), reader.GetString(1)));
        }
        return fresh;
    }

    void InsertEvents(SqliteTransaction tx, List<IncomingEvent> events, long nowMs)
    {
        var deliveries = new List<(long Seq, string Destination, string Subscription)>();
        for (var start = 0; start < events.Count; start += RowsPerStatement)
        {
            var rows = Math.Min(RowsPerStatement, events.Count - start);
            var cmd = Statement(Kind.Event, rows, tx);
            var p = cmd.Parameters;
            for (var k = 0; k < rows; k++)
            {
                var incoming = events[start + k];
                var e = incoming.Event;
                p[6 * k].Value = incoming.SourceId;
                p[6 * k + 1].Value = e.MessageId;
                p[6 * k + 2].Value = e.Type;
                p[6 * k + 3].Value = (object?)e.UserKey ?? DBNull.Value;
                p[6 * k + 4].Value = StoredValues.ReceivedAtMs(e, nowMs);
                p[6 * k + 5].Value = e.ToJsonString();
            }
            var inserted = cmd.ExecuteNonQuery();
            if (inserted != rows) throw new InvalidOperationException($"inserted {inserted} of {rows} events");
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
            var cmd = Statement(Kind.Delivery, rows, tx);
            var p = cmd.Parameters;
            p[0].Value = nowMs;
            for (var k = 0; k < rows; k++)
            {
                var (seq, destination, subscription) = deliveries[start + k];
                p[1 + 3 * k].Value = seq;
                p[2 + 3 * k].Value = destination;
                p[3 + 3 * k].Value = subscription;
            }
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>The prepared multi-row statement of a kind for a row count (built on first use, kept for the connection).</summary>
    SqliteCommand Statement(Kind kind, int rows, SqliteTransaction tx)
    {
        if (!_prepared.TryGetValue((kind, rows), out var cmd))
        {
            var sql = new StringBuilder();
            var names = new List<string>();
            switch (kind)
            {
                case Kind.Dedupe:
                    names.AddRange(["$expires", "$now"]);
                    sql.Append("INSERT INTO dedupe (source_id, message_id, expires_at) VALUES ");
                    for (var k = 0; k < rows; k++)
                    {
                        sql.Append(k == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"($s{k}, $m{k}, $expires)");
                        names.AddRange([$"$s{k}", $"$m{k}"]);
                    }
                    // A duplicate within the window changes nothing and keeps its record (it does not extend the window).
                    sql.Append(" ON CONFLICT (source_id, message_id) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe.expires_at <= $now")
                        .Append(" RETURNING source_id, message_id");
                    break;
                case Kind.Event:
                    sql.Append("INSERT INTO events (source_id, message_id, type, user_key, received_at, body) VALUES ");
                    for (var k = 0; k < rows; k++)
                    {
                        sql.Append(k == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"($s{k}, $m{k}, $t{k}, $u{k}, $r{k}, $b{k})");
                        names.AddRange([$"$s{k}", $"$m{k}", $"$t{k}", $"$u{k}", $"$r{k}", $"$b{k}"]);
                    }
                    break;
                case Kind.Delivery:
                    names.Add("$now");
                    sql.Append("INSERT INTO deliveries (event_seq, destination_id, subscription, status, attempts, next_attempt_at, created_at, updated_at) VALUES ");
                    for (var k = 0; k < rows; k++)
                    {
                        sql.Append(k == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"($q{k}, $d{k}, $x{k}, 'pending', 0, $now, $now, $now)");
                        names.AddRange([$"$q{k}", $"$d{k}", $"$x{k}"]);
                    }
                    sql.Append(" ON CONFLICT (event_seq, destination_id, subscription) DO NOTHING");
                    break;
            }
            cmd = Prepare(sql.ToString(), [.. names]);
            _prepared[(kind, rows)] = cmd;
        }
        cmd.Transaction = tx;
        return cmd;
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

    static void Run(SqliteCommand cmd, SqliteTransaction tx, params object?[] values)
    {
        cmd.Transaction = tx;
        for (var i = 0; i < values.Length; i++) cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        cmd.ExecuteNonQuery();
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
        _conn.Dispose();
    }
}
