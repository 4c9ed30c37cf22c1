using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// Writes one group of accepted events in ONE transaction on the writer's own connection: dedupe (D5), filter counters (D8),
/// the event and one delivery row per routed (destination, subscription) (D7). Commands are prepared once per connection
/// and reused for every event.
/// </summary>
sealed class GroupWriter : IDisposable
{
    readonly SqliteConnection _conn;
    readonly SqliteCommand _dedupeClaim, _insertEvent, _insertDelivery, _countFilter, _countDuplicate;
    readonly SqliteCommand[] _all;

    GroupWriter(SqliteConnection conn)
    {
        _conn = conn;
        // D5 in one statement: a new id (or one whose record expired) is recorded (one row changed); an id seen within the
        // window changes nothing and keeps its record unchanged (a duplicate does not extend the window).
        _dedupeClaim = Prepare("""
            INSERT INTO dedupe (source_id, message_id, expires_at) VALUES ($source, $message, $expires)
            ON CONFLICT (source_id, message_id) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe.expires_at <= $now
            """, ("$source", SqliteType.Text), ("$message", SqliteType.Text), ("$expires", SqliteType.Integer), ("$now", SqliteType.Integer));
        _insertEvent = Prepare("""
            INSERT INTO events (source_id, message_id, type, user_key, received_at, body)
            VALUES ($source, $message, $type, $user_key, $received_at, $body)
            """, ("$source", SqliteType.Text), ("$message", SqliteType.Text), ("$type", SqliteType.Text),
            ("$user_key", SqliteType.Text), ("$received_at", SqliteType.Integer), ("$body", SqliteType.Text));
        _insertDelivery = Prepare("""
            INSERT INTO deliveries (event_seq, destination_id, subscription, status, attempts, next_attempt_at, created_at, updated_at)
            VALUES ($seq, $destination, $subscription, 'pending', 0, $now, $now, $now)
            ON CONFLICT (event_seq, destination_id, subscription) DO NOTHING
            """, ("$seq", SqliteType.Integer), ("$destination", SqliteType.Text), ("$subscription", SqliteType.Text), ("$now", SqliteType.Integer));
        _countFilter = Prepare("""
            INSERT INTO filter_counts (destination_id, reason, day, count) VALUES ($destination, $reason, $day, 1)
            ON CONFLICT (destination_id, reason, day) DO UPDATE SET count = count + 1
            """, ("$destination", SqliteType.Text), ("$reason", SqliteType.Text), ("$day", SqliteType.Text));
        _countDuplicate = Prepare("""
            INSERT INTO duplicate_counts (destination_id, day, count) VALUES ($destination, $day, 1)
            ON CONFLICT (destination_id, day) DO UPDATE SET count = count + 1
            """, ("$destination", SqliteType.Text), ("$day", SqliteType.Text));
        _all = [_dedupeClaim, _insertEvent, _insertDelivery, _countFilter, _countDuplicate];
    }

    public static async Task<GroupWriter> OpenAsync(SqliteDatabase db, CancellationToken ct) =>
        new(await db.OpenAsync(ct).ConfigureAwait(false));

    /// <summary>Writes and commits the group; one status array per request, in order. Throws when the commit fails.</summary>
    public AcceptStatus[][] Write(IReadOnlyList<IReadOnlyList<IncomingEvent>> requests, DateTimeOffset now, TimeSpan dedupeWindow)
    {
        var nowMs = SqliteDatabase.ToUnixMs(now);
        var expiresMs = SqliteDatabase.ToUnixMs(now + dedupeWindow);
        var day = SqliteDatabase.Day(now);
        var seenInGroup = new HashSet<(string, string)>();
        var results = new AcceptStatus[requests.Count][];

        using var tx = _conn.BeginTransaction(deferred: false);
        foreach (var cmd in _all) cmd.Transaction = tx;

        for (var r = 0; r < requests.Count; r++)
        {
            var events = requests[r];
            var statuses = results[r] = new AcceptStatus[events.Count];
            for (var i = 0; i < events.Count; i++)
                statuses[i] = WriteOne(events[i], seenInGroup, nowMs, expiresMs, day);
        }
        tx.Commit();
        return results;
    }

    AcceptStatus WriteOne(IncomingEvent incoming, HashSet<(string, string)> seenInGroup, long nowMs, long expiresMs, string day)
    {
        var e = incoming.Event;
        // Ingress gives every event a messageId; one without cannot be deduplicated and is simply stored.
        if (e.MessageId.Length > 0)
        {
            var key = (incoming.SourceId, e.MessageId);
            if (!seenInGroup.Add(key) || !RecordNew(incoming.SourceId, e.MessageId, expiresMs, nowMs))
            {
                CountDuplicate(incoming.Routing.Deliveries, day);
                return AcceptStatus.Duplicate;
            }
        }

        foreach (var filter in incoming.Routing.Filtered)
            Run(_countFilter, filter.DestinationId, filter.Reason, day);

        // Routed nowhere: the dedupe record and the counters are all there is to keep.
        if (incoming.Routing.Deliveries.Count == 0) return AcceptStatus.Stored;

        Bind(_insertEvent, incoming.SourceId, e.MessageId, e.Type, (object?)e.UserKey, ReceivedAt(e, nowMs), e.ToJsonString());
        _insertEvent.ExecuteNonQuery();
        // The row's seq without a RETURNING result set (a data reader per event): this connection's last insert, inside
        // this transaction, on the one writer.
        var seq = SQLitePCL.raw.sqlite3_last_insert_rowid(_conn.Handle);
        foreach (var delivery in incoming.Routing.Deliveries)
            Run(_insertDelivery, seq, delivery.DestinationId, delivery.Subscription, nowMs);
        return AcceptStatus.Stored;
    }

    /// <summary>True when the id was not seen within the window (and is now recorded).</summary>
    bool RecordNew(string sourceId, string messageId, long expiresMs, long nowMs)
    {
        Bind(_dedupeClaim, sourceId, messageId, expiresMs, nowMs);
        return _dedupeClaim.ExecuteNonQuery() == 1;
    }

    void CountDuplicate(IReadOnlyList<Core.Routing.RoutedDelivery> deliveries, string day)
    {
        // Once per destination instance (a destination may have several subscriptions); no LINQ on the per-event path.
        for (var i = 0; i < deliveries.Count; i++)
        {
            var destination = deliveries[i].DestinationId;
            var seen = false;
            for (var j = 0; j < i && !seen; j++) seen = string.Equals(deliveries[j].DestinationId, destination, StringComparison.Ordinal);
            if (!seen) Run(_countDuplicate, destination, day);
        }
    }

    static long ReceivedAt(Core.Segment.SegmentEvent e, long fallbackMs) =>
        e.ReceivedAt is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? SqliteDatabase.ToUnixMs(t)
            : fallbackMs;

    static void Run(SqliteCommand cmd, params object?[] values)
    {
        Bind(cmd, values);
        cmd.ExecuteNonQuery();
    }

    static void Bind(SqliteCommand cmd, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++) cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
    }

    SqliteCommand Prepare(string sql, params (string Name, SqliteType Type)[] parameters)
    {
        var cmd = _conn.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, type) in parameters) cmd.Parameters.Add(name, type);
        cmd.Prepare();
        return cmd;
    }

    public void Dispose()
    {
        foreach (var cmd in _all) cmd.Dispose();
        _conn.Dispose();
    }
}
