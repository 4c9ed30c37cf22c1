using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// The dispatcher's view of the event log on SQLite (docs/storage.md): per destination instance a persisted cursor
/// (<c>cursors.seq</c>: every event at or before it that is routed to the instance is settled — delivered, or it has a row)
/// and, in memory, the log claims in flight. SQLite has one process, so log claims need no lease rows: a claim reads the
/// events after the instance's read pointer whose routes include it and keeps them here; a settlement writes a row only when
/// the delivery needs state (retry, hold, progress, dead, filtered, invalid), and the cursor moves to the highest seq below
/// which everything is settled, in the same commit. After a crash, the events between the persisted cursor and what was
/// settled are read again and those that already have a row are skipped (at-least-once: only work that was in flight is
/// sent again). Used only by <see cref="SqliteDispatchWriter"/>'s loop, inside its transactions (one thread at a time);
/// whenever a transaction fails, <see cref="Reset"/> forgets the memory and the next claim starts again from the cursors.
/// </summary>
sealed class SqliteLog
{
    /// <summary>One instance's cursor and its log claims in flight.</summary>
    sealed class Instance : LogWindow
    {
        public Instance(string id, long cursor, long recoverUpTo)
        {
            Id = id;
            Persisted = Read = cursor;
            RecoverUpTo = recoverUpTo;
        }

        public string Id { get; }
    }

    /// <summary>A cursor of an instance the dispatcher has not named for this long (removed from the configuration) is
    /// dropped, so it no longer holds the log's retention back; if the instance comes back, it starts at the head.</summary>
    public static readonly TimeSpan RemovedInstanceGrace = TimeSpan.FromDays(7);

    static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    const string Touch = "UPDATE cursors SET updated_at = @Now WHERE destination_id IN (SELECT value FROM json_each(@Ids))";
    const string DropRemoved = """
        DELETE FROM cursors WHERE destination_id NOT IN (SELECT value FROM json_each(@Ids)) AND updated_at < @Before
        """;

    long? _touchedAt;

    /// <summary>At most once a minute: marks the configured instances' cursors as seen and drops those of instances not
    /// named for <see cref="RemovedInstanceGrace"/>.</summary>
    public void TouchConfigured(SqliteSession session, IReadOnlyList<string> configured, long nowMs)
    {
        if (_touchedAt is { } at && nowMs - at < TouchInterval.TotalMilliseconds) return;
        _touchedAt = nowMs;
        var ids = System.Text.Json.JsonSerializer.Serialize(configured);
        var touch = session.Command(Touch, ["@Now", "@Ids"]);
        Bind(touch, nowMs, ids);
        touch.ExecuteNonQuery();
        var drop = session.Command(DropRemoved, ["@Ids", "@Before"]);
        Bind(drop, ids, nowMs - (long)RemovedInstanceGrace.TotalMilliseconds);
        if (drop.ExecuteNonQuery() > 0)
            foreach (var id in _instances.Keys.Where(k => !configured.Contains(k)).ToList()) _instances.Remove(id);
    }

    readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    readonly Dictionary<(string Destination, long Minute, string Outcome), long> _counts = [];

    /// <summary>D12: events that waited while their instance was held for longer than this become dead letters when the
    /// cursor reaches them (null: not known yet; set by the dispatcher's maintenance).</summary>
    public TimeSpan? PausedMaxAge { get; set; }

    /// <summary>Forgets what is in memory (after a failed transaction): the next claim starts from the persisted cursors.</summary>
    public void Reset()
    {
        _touchedAt = null;
        _instances.Clear();
        _counts.Clear();
    }

    /// <summary>Counts an outcome for the instance's per-minute counters, written with <see cref="Flush"/>.</summary>
    public void Count(string destination, string outcome, long nowMs)
    {
        var key = (destination, nowMs / 60_000 * 60_000, outcome);
        _counts[key] = _counts.GetValueOrDefault(key) + 1;
    }

    public static string? OutcomeOf(SettlementKind kind) => kind switch
    {
        SettlementKind.Delivered => "delivered",
        SettlementKind.RetryScheduled => "retried",
        SettlementKind.Dead => "dead",
        SettlementKind.Filtered => "filtered",
        SettlementKind.Invalid => "invalid",
        _ => null,
    };

    const string CursorOf = "SELECT seq FROM cursors WHERE destination_id = @Destination";
    const string Head = "SELECT COALESCE(MAX(seq), 0) FROM events";
    const string ReadLog = """
        SELECT seq, message_id, body, user_key, routes, COALESCE(accepted_at, received_at) FROM events
        WHERE seq > @After AND seq <= @Head AND instr(char(10) || routes, char(10) || @Destination || char(9)) > 0
        ORDER BY seq LIMIT @Max
        """;
    const string RowsBetween = """
        SELECT event_seq, subscription FROM deliveries WHERE event_seq BETWEEN @From AND @To AND destination_id = @Destination
        """;
    const string Intervals = """
        SELECT started_at, COALESCE(ended_at, @Now), ended_at IS NULL FROM hold_intervals
        WHERE destination_id = @Destination AND (ended_at IS NULL OR ended_at > @Since)
        """;
    const string BlockedUsers = """
        SELECT DISTINCT e.user_key FROM deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.destination_id = @Destination AND d.status = 'pending' AND e.user_key IS NOT NULL
        """;
    const string MoveCursor = "UPDATE cursors SET seq = @Seq, updated_at = @Now WHERE destination_id = @Destination";
    const string AddCount = """
        INSERT INTO outcome_counts (destination_id, minute, outcome, count) VALUES (@Destination, @Minute, @Outcome, @Count)
        ON CONFLICT (destination_id, minute, outcome) DO UPDATE SET count = count + excluded.count
        """;
    internal const string InsertRow = """
        INSERT INTO deliveries (event_seq, destination_id, subscription, status, attempts, next_attempt_at, lease_owner, lease_until,
            created_at, first_attempt_at, updated_at, plan, steps_done, reason, last_status, last_error, last_response,
            last_request, error_class, held_ms)
        VALUES (@Seq, @Destination, @Subscription, @Status, @Attempts, @Next, @Owner, @Until, @Created, @First, @Now, @Plan,
            @Steps, @Reason, @LastStatus, @LastError, @LastResponse, @LastRequest, @ErrorClass, @HeldMs)
        """;
    static readonly string[] InsertRowParameters = ["@Seq", "@Destination", "@Subscription", "@Status", "@Attempts", "@Next", "@Owner",
        "@Until", "@Created", "@First", "@Now", "@Plan", "@Steps", "@Reason", "@LastStatus", "@LastError", "@LastResponse",
        "@LastRequest", "@ErrorClass", "@HeldMs"];

    Instance? Load(SqliteSession session, string destination, ref long head)
    {
        if (_instances.TryGetValue(destination, out var st)) return st;
        var cmd = session.Command(CursorOf, ["@Destination"]);
        cmd.Parameters[0].Value = destination;
        // No cursor yet: no event routed to the instance was written since the log began (not remembered: the group commit
        // creates it with the first one).
        if (cmd.ExecuteScalar() is not long cursor) return null;
        if (head < 0) head = ReadHead(session);
        st = new Instance(destination, cursor, head);
        _instances.Add(destination, st);
        return st;
    }

    public static long ReadHead(SqliteSession session) => (long)session.Command(Head, []).ExecuteScalar()!;

    /// <summary>D16: true when <paramref name="userKey"/> has a log claim of this instance open (in flight or given back) on
    /// an earlier event: a row of the same user must wait for it.</summary>
    public bool BlocksRow(string destination, string? userKey, long seq)
    {
        if (userKey is null || !_instances.TryGetValue(destination, out var st)) return false;
        foreach (var item in st.Items.Values)
            if (item.RowId is null && item.Seq < seq && string.Equals(item.UserKey, userKey, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>Claims up to <paramref name="max"/> deliveries of <paramref name="destination"/> from the log: first those given
    /// back or whose lease ran out, then new events after the read pointer. For an ordered instance (D16), an event whose user
    /// has an open row or an earlier open log claim becomes a pending "behind" row instead (the rows' own order then applies).
    /// Events that waited while the instance was held for longer than <see cref="PausedMaxAge"/> become dead letters (D12).</summary>
    public List<ClaimedDelivery> Take(SqliteSession session, string destination, int max, string owner, long nowMs, long untilMs,
        bool ordered, ref long head)
    {
        var claimed = new List<ClaimedDelivery>();
        var st = Load(session, destination, ref head);
        if (st is null || max <= 0) return claimed;

        foreach (var item in st.Items.Values.Where(i => i.RowId is null &&
                     (i.Owner is null ? i.DueAt <= nowMs : i.LeaseUntil < nowMs)).OrderBy(i => i.Seq).Take(max).ToList())
            claimed.Add(Lease(st, item, owner, untilMs));
        if (claimed.Count >= max) return claimed;

        if (head < 0) head = ReadHead(session);
        if (head <= st.Read) return claimed;
        var limit = max - claimed.Count;
        var events = new List<(long Seq, string MessageId, string Body, string? UserKey, string? Routes, long AcceptedAt)>();
        var read = session.Command(ReadLog, ["@After", "@Head", "@Destination", "@Max"]);
        Bind(read, st.Read, head, destination, limit);
        using (var reader = read.ExecuteReader())
            while (reader.Read())
                events.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetInt64(5)));
        st.Read = events.Count < limit ? head : events[^1].Seq;
        st.Dirty = true;
        if (events.Count == 0) return claimed;

        HashSet<(long, string)>? existing = null;
        if (events[0].Seq <= st.RecoverUpTo)
        {
            existing = [];
            var rows = session.Command(RowsBetween, ["@From", "@To", "@Destination"]);
            Bind(rows, events[0].Seq, Math.Min(events[^1].Seq, st.RecoverUpTo), destination);
            using var reader = rows.ExecuteReader();
            while (reader.Read()) existing.Add((reader.GetInt64(0), reader.GetString(1)));
        }

        var intervals = new List<(long Start, long End, bool Open)>();
        var since = events.Min(e => e.AcceptedAt);
        var holds = session.Command(Intervals, ["@Now", "@Destination", "@Since"]);
        Bind(holds, nowMs, destination, since);
        using (var reader = holds.ExecuteReader())
            while (reader.Read()) intervals.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2) != 0));

        HashSet<string>? blocked = null;
        Dictionary<string, long>? openUsers = null;
        if (ordered)
        {
            blocked = new HashSet<string>(StringComparer.Ordinal);
            var users = session.Command(BlockedUsers, ["@Destination"]);
            Bind(users, destination);
            using (var reader = users.ExecuteReader())
                while (reader.Read()) blocked.Add(reader.GetString(0));
            openUsers = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var item in st.Items.Values)
                if (item.RowId is null && item.UserKey is { } u && (!openUsers.TryGetValue(u, out var s) || item.Seq < s)) openUsers[u] = item.Seq;
        }

        foreach (var e in events)
            foreach (var subscription in LogRoutes.SubscriptionsOf(e.Routes, destination))
            {
                if (existing is not null && existing.Contains((e.Seq, subscription))) continue;
                if (st.Items.ContainsKey((e.Seq, subscription))) continue;
                long heldMs = 0, closedMs = 0;
                foreach (var (start, end, open) in intervals)
                {
                    var overlap = Math.Max(0, Math.Min(end, nowMs) - Math.Max(start, e.AcceptedAt));
                    heldMs += overlap;
                    if (!open) closedMs += overlap;
                }
                if (PausedMaxAge is { } maxAge && heldMs > (long)maxAge.TotalMilliseconds)
                {
                    InsertFor(session, destination, e.Seq, subscription, e.AcceptedAt, heldMs, nowMs, "dead", attempts: 0, next: nowMs,
                        reason: $"held for more than {FormatSpan(maxAge)} while the instance was paused or held by its circuit breaker (Delivery:PausedMaxAge)");
                    Count(destination, "dead", nowMs);
                    continue;
                }
                if (ordered && e.UserKey is { } user &&
                    (blocked!.Contains(user) || (openUsers!.TryGetValue(user, out var openSeq) && openSeq < e.Seq)))
                {
                    // D16: behind an earlier delivery of the same user; the rows' order applies from here.
                    InsertFor(session, destination, e.Seq, subscription, e.AcceptedAt, closedMs, nowMs, "pending", attempts: 0, next: nowMs, reason: null);
                    blocked.Add(user);
                    continue;
                }
                var fresh = new LogItem
                {
                    Seq = e.Seq, Subscription = subscription, MessageId = e.MessageId, Body = e.Body, UserKey = e.UserKey,
                    AcceptedAt = e.AcceptedAt, HeldMs = heldMs, ClosedHeldMs = closedMs,
                };
                st.Items.Add((e.Seq, subscription), fresh);
                st.Open[e.Seq] = st.Open.GetValueOrDefault(e.Seq) + 1;
                if (ordered && e.UserKey is { } u && !openUsers!.ContainsKey(u)) openUsers[u] = e.Seq;
                claimed.Add(Lease(st, fresh, owner, untilMs));
            }
        return claimed;
    }

    static ClaimedDelivery Lease(Instance st, LogItem item, string owner, long untilMs)
    {
        item.Owner = owner;
        item.LeaseUntil = untilMs;
        // A log claim has no row: its id is the event's seq, negated (the store finds it by instance, seq and subscription).
        return new ClaimedDelivery(-item.Seq, item.Seq, st.Id, item.Subscription, item.MessageId, item.Body, null, 0, 0,
            DateTimeOffset.FromUnixTimeMilliseconds(item.AcceptedAt), null, owner, DateTimeOffset.FromUnixTimeMilliseconds(untilMs))
        {
            HeldFor = TimeSpan.FromMilliseconds(item.HeldMs),
            UserKey = item.UserKey,
        };
    }

    /// <summary>What a log claim's settlement becomes: null when it is not (or no longer) this caller's (lease lost), else
    /// the row id to update through the row statements (a progress row exists), or 0 when handled here.</summary>
    public long? Settle(SqliteSession session, Settlement s, long nowMs)
    {
        var d = s.Delivery;
        if (!_instances.TryGetValue(d.DestinationId, out var st) || !st.Items.TryGetValue((d.EventSeq, d.Subscription), out var item)
            || item.Owner != d.LeaseOwner || item.LeaseUntil != d.LeaseUntil.ToUnixTimeMilliseconds())
            return null;
        if (item.RowId is { } rowId)
        {
            if (s.Kind != SettlementKind.Progress) st.Items.Remove((item.Seq, item.Subscription));
            return rowId;
        }

        string? Text(SettlementParameter p) => (string?)SettlementStatements.Value(p, s, nowMs);
        long? Number(SettlementParameter p) => (long?)SettlementStatements.Value(p, s, nowMs);
        switch (s.Kind)
        {
            case SettlementKind.Delivered:
                break;
            case SettlementKind.Released:
                item.Owner = null;
                item.DueAt = nowMs;
                return 0;
            case SettlementKind.Postponed:
                item.Owner = null;
                item.DueAt = s.At.ToUnixTimeMilliseconds();
                return 0;
            case SettlementKind.Progress:
                item.RowId = Insert(session, d.DestinationId, item, nowMs, "pending", 0, nowMs, item.Owner, item.LeaseUntil, nowMs,
                    s.Plan, s.StepsDone, null, null, null, null, null, null);
                st.Close(item.Seq);
                return 0;
            case SettlementKind.RetryScheduled:
            case SettlementKind.Held:
                Insert(session, d.DestinationId, item, nowMs, "pending", s.Kind == SettlementKind.Held ? 0 : 1,
                    s.Kind == SettlementKind.Held ? nowMs : s.At.ToUnixTimeMilliseconds(), null, null, nowMs, s.Plan, 0, null,
                    Number(SettlementParameter.LastStatus), Text(SettlementParameter.LastError), Text(SettlementParameter.LastResponse),
                    Text(SettlementParameter.LastRequest), Text(SettlementParameter.ErrorClass));
                break;
            case SettlementKind.Dead:
                var counted = (long)Number(SettlementParameter.Counted)!;
                Insert(session, d.DestinationId, item, nowMs, "dead", counted, nowMs, null, null, counted == 1 ? nowMs : null, s.Plan, 0,
                    Text(SettlementParameter.Reason), Number(SettlementParameter.LastStatus), Text(SettlementParameter.LastError),
                    Text(SettlementParameter.LastResponse), Text(SettlementParameter.LastRequest), Text(SettlementParameter.ErrorClass));
                break;
            case SettlementKind.Filtered:
            case SettlementKind.Invalid:
                Insert(session, d.DestinationId, item, nowMs, Text(SettlementParameter.Status)!, 0, nowMs, null, null, nowMs, null, 0,
                    Text(SettlementParameter.Reason), null, null, null, null, null);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(s), s.Kind, null);
        }
        st.Items.Remove((item.Seq, item.Subscription));
        st.Close(item.Seq);
        if (OutcomeOf(s.Kind) is { } outcome) Count(d.DestinationId, outcome, nowMs);
        return 0;
    }

    long Insert(SqliteSession session, string destination, LogItem item, long nowMs, string status, long attempts, long next, string? owner,
        long? until, long? first, string? plan, long steps, string? reason, long? lastStatus, string? lastError, string? lastResponse,
        string? lastRequest, string? errorClass)
    {
        var cmd = session.Command(InsertRow, InsertRowParameters);
        Bind(cmd, item.Seq, destination, item.Subscription, status, attempts, next, owner, until, item.AcceptedAt, first, nowMs, plan,
            steps, reason, lastStatus, lastError, lastResponse, lastRequest, errorClass, item.ClosedHeldMs);
        cmd.ExecuteNonQuery();
        return SQLitePCL.raw.sqlite3_last_insert_rowid(session.Connection.Handle);
    }

    void InsertFor(SqliteSession session, string destination, long seq, string subscription, long acceptedAt, long heldMs, long nowMs,
        string status, long attempts, long next, string? reason) =>
        Insert(session, destination, new LogItem { Seq = seq, Subscription = subscription, AcceptedAt = acceptedAt, ClosedHeldMs = heldMs },
            nowMs, status, attempts, next, null, null, null, null, 0, reason, null, null, null, null, null);

    /// <summary>Moves the persisted cursors that changed and writes the counted outcomes, inside the transaction about to commit.</summary>
    public void Flush(SqliteSession session, long nowMs)
    {
        foreach (var st in _instances.Values)
        {
            if (!st.Dirty) continue;
            st.Dirty = false;
            var target = st.Target;
            if (target == st.Persisted) continue;
            var move = session.Command(MoveCursor, ["@Seq", "@Now", "@Destination"]);
            Bind(move, target, nowMs, st.Id);
            move.ExecuteNonQuery();
            st.Persisted = target;
        }
        if (_counts.Count == 0) return;
        var add = session.Command(AddCount, ["@Destination", "@Minute", "@Outcome", "@Count"]);
        foreach (var ((destination, minute, outcome), count) in _counts)
        {
            Bind(add, destination, minute, outcome, count);
            add.ExecuteNonQuery();
        }
        _counts.Clear();
    }

    static void Bind(SqliteCommand command, params ReadOnlySpan<object?> values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i] ?? DBNull.Value;
    }

    internal static string FormatSpan(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{t.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} h"
        : t.TotalMinutes >= 1 ? $"{t.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)} min"
        : $"{t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";
}
