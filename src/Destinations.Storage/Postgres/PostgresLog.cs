using Npgsql;
using NpgsqlTypes;
using Destinations.Storage.Sqlite;

namespace Destinations.Storage.Postgres;

/// <summary>
/// One replica's view of the event log on PostgreSQL (docs/storage.md): the partitions of each destination instance it leases
/// (<see cref="PostgresPartitionLeases"/>), each with its persisted cursor (<c>cursor_leases.seq</c>) and, in memory, the
/// log claims in flight — the window of <see cref="SqliteLog"/>, per partition. A claim reads the events after a partition's
/// read pointer up to the log horizon (<see cref="PostgresLogHorizon"/>: a cursor never passes an uncommitted seq) whose
/// routes include the instance; a settlement writes a row only when the delivery needs state, and the cursor moves, only
/// while this replica holds the partition's lease, to the highest seq below which everything is settled, in the same commit.
/// Used only by <see cref="PostgresDispatchWriter"/>'s loop, inside its transactions (one at a time); whenever a transaction
/// fails, <see cref="Reset"/> forgets the memory and the next claim starts again from the persisted cursors.
/// </summary>
sealed class PostgresLog(PostgresDatabase db, PostgresPartitionLeases leases, string replica, int partitions)
{
    /// <summary>A leased partition of one instance's log.</summary>
    sealed class Part(string instance, int partition, long until) : LogWindow
    {
        public string Instance { get; } = instance;
        public int Partition { get; } = partition;
        /// <summary>This replica's lease on the partition ends then (Unix ms).</summary>
        public long Until = until;
        /// <summary>Above this replica's share at the last round: nothing new is read from it, and once what it has in flight
        /// is settled it is handed over (released), so another replica takes it without waiting for the lease to end.</summary>
        public bool Draining;
        /// <summary>False until its cursor has been read at a horizon at or above it (ingest may still lower a new one).</summary>
        public bool Loaded;
    }

    readonly Dictionary<(string Instance, int Partition), Part> _parts = [];
    readonly SortedDictionary<(string Destination, long Minute, string Outcome), long> _counts = [];
    readonly PostgresLogHorizon _horizon = new();
    long? _roundAt;
    int _roundVersion;
    long? _touchedAt;
    readonly HashSet<string> _ensured = new(StringComparer.Ordinal);

    public string Replica => replica;
    public int Partitions => partitions;
    public TimeSpan? PausedMaxAge { get; set; }

    public void Reset()
    {
        _parts.Clear();
        _counts.Clear();
        _roundAt = null;
    }

    /// <summary>An orderly stop: gives up the partitions at once (the other replicas take them without waiting for the lease).</summary>
    public Task ReleaseAsync(CancellationToken ct) => leases.ReleaseAsync(replica, ct);

    public void Count(string destination, string outcome, long nowMs)
    {
        var key = (destination, nowMs / 60_000 * 60_000, outcome);
        _counts[key] = _counts.GetValueOrDefault(key) + 1;
    }

    int PartitionOf(string? userKey) => UserPartition.Of(userKey, partitions);

    /// <summary>The partition lease lasts twice the delivery lease: an item's delivery lease never outlives the partition's,
    /// so a replica that takes a partition over finds every delivery the old holder had in flight ended (D16).</summary>
    static long PartitionLeaseMs(TimeSpan deliveryLease) => Math.Max(2 * (long)deliveryLease.TotalMilliseconds, 1000);

    /// <summary>Once per third of a delivery lease: the partitions of the configured instances exist (a count change is
    /// applied), the lease round runs, and what this replica no longer holds (or held only after its lease had ended) is
    /// forgotten.</summary>
    public async Task RoundAsync(ClaimRequest request, long nowMs, CancellationToken ct)
    {
        if (request.Destinations is { } configured)
        {
            foreach (var instance in configured)
                if (_ensured.Add(instance)) await leases.EnsureAsync(instance, partitions, ct).ConfigureAwait(false);
            if (_touchedAt is not { } at || nowMs - at >= 60_000)
            {
                _touchedAt = nowMs;
                await leases.TouchConfiguredAsync(configured.ToList(), ct).ConfigureAwait(false);
            }
        }
        var lease = PartitionLeaseMs(request.Lease);
        // Often enough that a replica that starts gets its share within about a second of the others draining theirs.
        var interval = Math.Min((long)request.Lease.TotalMilliseconds / 3, 1000);
        var version = db.PartitionsVersion;
        if (_roundAt is { } last && nowMs - last < interval && nowMs >= last && version == _roundVersion) return;
        _roundAt = nowMs;
        _roundVersion = version;
        var held = await leases.AcquireAsync(replica, TimeSpan.FromMilliseconds(lease), ct).ConfigureAwait(false);
        var until = nowMs + lease;
        var keep = new HashSet<(string, int)>();
        foreach (var l in held)
        {
            keep.Add((l.Instance, l.Partition));
            // Still held, or held again after the lease ran out with the cursor where this replica left it: what is in
            // memory stays (a replica that took the partition meanwhile would have moved the cursor or still hold it).
            if (_parts.TryGetValue((l.Instance, l.Partition), out var part) && (part.Until >= nowMs || (part.Loaded && part.Persisted == l.Seq)))
            {
                part.Until = until;
                part.Draining = false;
            }
            else _parts[(l.Instance, l.Partition)] = new Part(l.Instance, l.Partition, until);
        }
        // Not renewed: above the share (drained, then handed over) or lost.
        foreach (var (key, part) in _parts.Where(p => !keep.Contains(p.Key)).ToList())
        {
            if (part.Until >= nowMs) part.Draining = true;
            else _parts.Remove(key);
        }
    }

    /// <summary>The instances this replica holds partitions of.</summary>
    public IEnumerable<string> Instances => _parts.Keys.Select(k => k.Instance).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);

    /// <summary>Held partitions (instance, partition) for the row claim's D16 filter.</summary>
    public (string[] Instances, int[] Partitions) Held()
    {
        var keys = _parts.Where(p => !p.Value.Draining).Select(p => p.Key).ToList();
        return (keys.Select(k => k.Instance).ToArray(), keys.Select(k => k.Partition).ToArray());
    }

    /// <summary>D16: true when <paramref name="userKey"/> has a log claim of this instance open on an earlier event.</summary>
    public bool BlocksRow(string destination, string? userKey, long seq)
    {
        if (userKey is null || !_parts.TryGetValue((destination, PartitionOf(userKey)), out var part)) return false;
        foreach (var item in part.Items.Values)
            if (item.RowId is null && item.Seq < seq && string.Equals(item.UserKey, userKey, StringComparison.Ordinal)) return true;
        return false;
    }

    long _horizonAt = -1;
    long _horizonValue;
    long _holdsEndedAt = -1;
    IReadOnlyDictionary<string, long> _holdsEnded = new Dictionary<string, long>();

    /// <summary>The claim's first reads (<see cref="PostgresClaim"/>): the horizon's sample and, per instance, the latest end
    /// of its hold intervals (<see cref="long.MaxValue"/> while one is open), both for the claim <paramref name="claimId"/>.</summary>
    public void Sampled(long claimId, long drawn, IReadOnlySet<string> writers, IReadOnlyDictionary<string, long> holdsEnded)
    {
        _horizonValue = _horizon.Apply(drawn, writers);
        _horizonAt = claimId;
        _holdsEnded = holdsEnded;
        _holdsEndedAt = claimId;
    }

    async Task<long> HorizonAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long claimId, CancellationToken ct)
    {
        if (_horizonAt != claimId)
        {
            _horizonValue = await _horizon.AdvanceAsync(conn, tx, ct).ConfigureAwait(false);
            _horizonAt = claimId;
        }
        return _horizonValue;
    }

    /// <summary>Set for <see cref="ReadLog"/> only, in the same round trip (<see cref="ReadPlannerDefaults"/> after it).</summary>
    /// <remarks>
    /// The read must walk the primary key in seq order and stop at its limit: the range from the read pointer to the horizon
    /// holds the whole backlog when the dispatcher trails ingest. A log that has not been analysed yet (a new database)
    /// is estimated with the planner's defaults, a few hundred rows for any seq range, so the planner fetched the whole range
    /// through a bitmap scan and sorted it, every claim reading every event of the backlog (100 ms and more per claim, growing
    /// with the backlog, on the cores ingest needs). Without bitmap scans and sorts, the ordered index scan is the only plan
    /// left; it is also the plan the planner chooses once it has statistics.
    /// </remarks>
    internal const string ReadInSeqOrder = "SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)";
    internal static readonly string[] ReadPlannerDefaults = ["SET LOCAL enable_bitmapscan TO DEFAULT", "SET LOCAL enable_sort TO DEFAULT"];

    internal static readonly string ReadLog = $"""
        SELECT seq, message_id, body, user_key, routes, COALESCE(accepted_at, received_at), user_hash FROM events
        WHERE seq > $1 AND seq <= $2 AND position($3 in E'\n' || routes) > 0
          AND {UserPartition.Sql("events", "$5")} = ANY($4)
        ORDER BY seq LIMIT $6
        """;
    const string RowsBetween = "SELECT event_seq, subscription FROM deliveries WHERE event_seq BETWEEN $1 AND $2 AND destination_id = $3";
    const string Intervals = """
        SELECT started_at, COALESCE(ended_at, $1), ended_at IS NULL FROM hold_intervals
        WHERE destination_id = $2 AND (ended_at IS NULL OR ended_at > $3)
        """;
    const string BlockedUsers = """
        SELECT DISTINCT e.user_key FROM deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.destination_id = $1 AND d.status = 'pending' AND e.user_key IS NOT NULL
        """;
    internal const string InsertRow = """
        INSERT INTO deliveries (event_seq, destination_id, subscription, status, attempts, next_attempt_at, lease_owner, lease_until,
            created_at, first_attempt_at, updated_at, plan, steps_done, reason, last_status, last_error, last_response,
            last_request, error_class, held_ms)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
        ON CONFLICT (event_seq, destination_id, subscription) DO NOTHING
        RETURNING id
        """;

    /// <summary>Claims up to <paramref name="max"/> deliveries of <paramref name="destination"/> from the partitions this
    /// replica holds, as <see cref="SqliteLog.Take"/> does from the whole log.</summary>
    public async Task<List<ClaimedDelivery>> TakeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long claimId, string destination, int max,
        string owner, long nowMs, long untilMs, bool ordered, CancellationToken ct)
    {
        var claimed = new List<ClaimedDelivery>();
        var parts = _parts.Values.Where(p => p.Instance == destination && p.Until >= nowMs).OrderBy(p => p.Partition).ToList();
        if (parts.Count == 0 || max <= 0) return claimed;

        foreach (var (part, item) in parts.SelectMany(p => p.Items.Values.Where(i => i.RowId is null &&
                     (i.Owner is null ? i.DueAt <= nowMs : i.LeaseUntil < nowMs)).Select(i => (p, i))).OrderBy(x => x.i.Seq).Take(max).ToList())
            claimed.Add(Lease(part, item, owner, Math.Min(untilMs, part.Until)));
        if (claimed.Count >= max) return claimed;

        var head = await HorizonAsync(conn, tx, claimId, ct).ConfigureAwait(false);
        // A partition's cursor is used once the horizon has reached it: until then an ingest transaction that drew a smaller
        // seq may still lower a cursor it created (PostgresGroupWriter), and every later move is by the holder, below the horizon.
        var unloaded = parts.Where(p => !p.Loaded).ToList();
        if (unloaded.Count > 0)
        {
            long last = 0;
            var cursors = new Dictionary<int, long>();
            await using (var batch = new NpgsqlBatch(conn, tx))
            {
                batch.BatchCommands.Add(Batch("SELECT partition, seq FROM cursor_leases WHERE instance = $1 AND partition = ANY($2)",
                    destination, unloaded.Select(p => p.Partition).ToArray()));
                batch.BatchCommands.Add(Batch("SELECT COALESCE(MAX(seq), 0) FROM events"));
                await using var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false)) cursors[reader.GetInt32(0)] = reader.GetInt64(1);
                await reader.NextResultAsync(ct).ConfigureAwait(false);
                if (await reader.ReadAsync(ct).ConfigureAwait(false)) last = reader.GetInt64(0);
            }
            foreach (var p in unloaded)
                if (cursors.TryGetValue(p.Partition, out var seq) && seq <= head)
                {
                    p.Loaded = true;
                    p.Persisted = p.Read = seq;
                    // Another holder may have written rows for events up to whatever it read (at most the last seq drawn).
                    p.RecoverUpTo = last;
                }
        }
        parts = parts.Where(p => p.Loaded && !p.Draining && p.Read < head).ToList();
        if (parts.Count == 0) return claimed;

        var limit = max - claimed.Count;
        var from = parts.Min(p => p.Read);
        var events = new List<(long Seq, string MessageId, string Body, string? UserKey, string? Routes, long AcceptedAt)>();
        await using (var read = new NpgsqlBatch(conn, tx))
        {
            read.BatchCommands.Add(Batch(ReadInSeqOrder));
            read.BatchCommands.Add(Batch(ReadLog, from, head, "\n" + destination + "\t", parts.Select(p => p.Partition).ToArray(),
                (long)partitions, limit));
            foreach (var reset in ReadPlannerDefaults) read.BatchCommands.Add(Batch(reset));
            await using var reader = await read.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.NextResultAsync(ct).ConfigureAwait(false); // the settings
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
                events.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetInt64(5)));
        }
        var readTo = events.Count < limit ? head : events[^1].Seq;
        var byPartition = parts.ToDictionary(p => p.Partition);
        events = events.Where(e => e.Seq > byPartition[PartitionOf(e.UserKey)].Read).ToList();
        foreach (var p in parts)
        {
            p.Read = Math.Max(p.Read, readTo);
            p.Dirty = true;
        }
        if (events.Count == 0) return claimed;

        HashSet<(long, string)>? existing = null;
        var recoverUpTo = parts.Max(p => p.RecoverUpTo);
        if (events[0].Seq <= recoverUpTo)
        {
            existing = [];
            await using var rows = Command(conn, tx, RowsBetween, events[0].Seq, Math.Min(events[^1].Seq, recoverUpTo), destination);
            await using var reader = await rows.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) existing.Add((reader.GetInt64(0), reader.GetString(1)));
        }

        var intervals = new List<(long Start, long End, bool Open)>();
        var oldest = events.Min(e => e.AcceptedAt);
        // Read only when an interval can overlap these events' wait: the query below returns none when every interval of the
        // instance ended before the oldest of them was accepted (the usual case: no hold for a long time, or never).
        if (_holdsEndedAt != claimId || (_holdsEnded.TryGetValue(destination, out var ended) && ended > oldest))
        {
            await using var holds = Command(conn, tx, Intervals, nowMs, destination, oldest);
            await using var reader = await holds.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) intervals.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetBoolean(2)));
        }

        HashSet<string>? blocked = null;
        Dictionary<string, long>? openUsers = null;
        if (ordered)
        {
            blocked = new HashSet<string>(StringComparer.Ordinal);
            await using (var users = Command(conn, tx, BlockedUsers, destination))
            await using (var reader = await users.ExecuteReaderAsync(ct).ConfigureAwait(false))
                while (await reader.ReadAsync(ct).ConfigureAwait(false)) blocked.Add(reader.GetString(0));
            openUsers = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var p in parts)
                foreach (var item in p.Items.Values)
                    if (item.RowId is null && item.UserKey is { } u && (!openUsers.TryGetValue(u, out var s) || item.Seq < s)) openUsers[u] = item.Seq;
        }

        foreach (var e in events)
        {
            var part = byPartition[PartitionOf(e.UserKey)];
            foreach (var subscription in LogRoutes.SubscriptionsOf(e.Routes, destination))
            {
                if (existing is not null && existing.Contains((e.Seq, subscription))) continue;
                if (part.Items.ContainsKey((e.Seq, subscription))) continue;
                long heldMs = 0, closedMs = 0;
                foreach (var (start, end, open) in intervals)
                {
                    var overlap = Math.Max(0, Math.Min(end, nowMs) - Math.Max(start, e.AcceptedAt));
                    heldMs += overlap;
                    if (!open) closedMs += overlap;
                }
                if (PausedMaxAge is { } maxAge && heldMs > (long)maxAge.TotalMilliseconds)
                {
                    await InsertAsync(conn, tx, destination, new LogItem { Seq = e.Seq, Subscription = subscription, AcceptedAt = e.AcceptedAt, ClosedHeldMs = heldMs },
                        nowMs, "dead", 0, nowMs, null, null, null, null, 0,
                        $"held for more than {SqliteLog.FormatSpan(maxAge)} while the instance was paused or held by its circuit breaker (Delivery:PausedMaxAge)",
                        null, null, null, null, null, ct).ConfigureAwait(false);
                    Count(destination, "dead", nowMs);
                    continue;
                }
                if (ordered && e.UserKey is { } user &&
                    (blocked!.Contains(user) || (openUsers!.TryGetValue(user, out var openSeq) && openSeq < e.Seq)))
                {
                    // D16: behind an earlier delivery of the same user; the rows' order applies from here.
                    await InsertAsync(conn, tx, destination, new LogItem { Seq = e.Seq, Subscription = subscription, AcceptedAt = e.AcceptedAt, ClosedHeldMs = closedMs },
                        nowMs, "pending", 0, nowMs, null, null, null, null, 0, null, null, null, null, null, null, ct).ConfigureAwait(false);
                    blocked.Add(user);
                    continue;
                }
                var fresh = new LogItem
                {
                    Seq = e.Seq, Subscription = subscription, MessageId = e.MessageId, Body = e.Body, UserKey = e.UserKey,
                    AcceptedAt = e.AcceptedAt, HeldMs = heldMs, ClosedHeldMs = closedMs,
                };
                part.Items.Add((e.Seq, subscription), fresh);
                part.Open[e.Seq] = part.Open.GetValueOrDefault(e.Seq) + 1;
                if (ordered && e.UserKey is { } u && !openUsers!.ContainsKey(u)) openUsers[u] = e.Seq;
                claimed.Add(Lease(part, fresh, owner, Math.Min(untilMs, part.Until)));
            }
        }
        return claimed;
    }

    static ClaimedDelivery Lease(Part part, LogItem item, string owner, long untilMs)
    {
        item.Owner = owner;
        item.LeaseUntil = untilMs;
        return new ClaimedDelivery(-item.Seq, item.Seq, part.Instance, item.Subscription, item.MessageId, item.Body, null, 0, 0,
            DateTimeOffset.FromUnixTimeMilliseconds(item.AcceptedAt), null, owner, DateTimeOffset.FromUnixTimeMilliseconds(untilMs))
        {
            HeldFor = TimeSpan.FromMilliseconds(item.HeldMs),
            UserKey = item.UserKey,
        };
    }

    /// <summary>Gives back log claims the rate limit did not admit (D25): they wait in memory, due now.</summary>
    public void GiveBack(ClaimedDelivery d, long nowMs)
    {
        if (!_parts.TryGetValue((d.DestinationId, PartitionOf(d.UserKey)), out var part) ||
            !part.Items.TryGetValue((d.EventSeq, d.Subscription), out var item)) return;
        item.Owner = null;
        item.DueAt = nowMs;
    }

    /// <summary>True when <see cref="SettleAsync"/> of <paramref name="s"/> executes no statement: a log claim without a row
    /// whose outcome is Delivered (the cursor and the counters, in the flush), Released or Postponed (memory only), or one that
    /// is not, or no longer, the caller's (refused).</summary>
    public bool InMemory(Settlement s)
    {
        if (s.Delivery.Id >= 0) return false;
        if (!_parts.TryGetValue((s.Delivery.DestinationId, PartitionOf(s.Delivery.UserKey)), out var part)
            || !part.Items.TryGetValue((s.Delivery.EventSeq, s.Delivery.Subscription), out var item)) return true;
        return item.RowId is null && s.Kind is SettlementKind.Delivered or SettlementKind.Released or SettlementKind.Postponed;
    }

    /// <summary>What a log claim's settlement becomes: null when it is not (or no longer) this caller's (its lease or the
    /// partition's lease ended), else the row id to update through the row statements (a progress row exists), or 0 when
    /// handled here.</summary>
    public async Task<long?> SettleAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Settlement s, long nowMs, CancellationToken ct)
    {
        var d = s.Delivery;
        // As a row's: the lease's owner decides, not its end (a late outcome counts unless the claim was taken over; a
        // partition taken over by another replica is gone from memory at the next round or cursor move).
        if (!_parts.TryGetValue((d.DestinationId, PartitionOf(d.UserKey)), out var part)
            || !part.Items.TryGetValue((d.EventSeq, d.Subscription), out var item)
            || item.Owner != d.LeaseOwner || item.LeaseUntil != d.LeaseUntil.ToUnixTimeMilliseconds())
            return null;
        if (item.RowId is { } rowId)
        {
            if (s.Kind != SettlementKind.Progress) part.Items.Remove((item.Seq, item.Subscription));
            return rowId;
        }

        string? Text(SettlementParameter p) => (string?)SettlementStatements.Value(p, s, nowMs);
        long? Number(SettlementParameter p) => (long?)SettlementStatements.Value(p, s, nowMs);
        long? written = 0;
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
                item.RowId = await InsertAsync(conn, tx, d.DestinationId, item, nowMs, "pending", 0, nowMs, item.Owner, item.LeaseUntil, nowMs,
                    s.Plan, s.StepsDone, null, null, null, null, null, null, ct).ConfigureAwait(false);
                if (item.RowId is null) return null;
                part.Close(item.Seq);
                return 0;
            case SettlementKind.RetryScheduled:
            case SettlementKind.Held:
                written = await InsertAsync(conn, tx, d.DestinationId, item, nowMs, "pending", s.Kind == SettlementKind.Held ? 0 : 1,
                    s.Kind == SettlementKind.Held ? nowMs : s.At.ToUnixTimeMilliseconds(), null, null, nowMs, s.Plan, 0, null,
                    Number(SettlementParameter.LastStatus), Text(SettlementParameter.LastError), Text(SettlementParameter.LastResponse),
                    Text(SettlementParameter.LastRequest), Text(SettlementParameter.ErrorClass), ct).ConfigureAwait(false);
                break;
            case SettlementKind.Dead:
                var counted = (long)Number(SettlementParameter.Counted)!;
                written = await InsertAsync(conn, tx, d.DestinationId, item, nowMs, "dead", counted, nowMs, null, null, counted == 1 ? nowMs : null, s.Plan, 0,
                    Text(SettlementParameter.Reason), Number(SettlementParameter.LastStatus), Text(SettlementParameter.LastError),
                    Text(SettlementParameter.LastResponse), Text(SettlementParameter.LastRequest), Text(SettlementParameter.ErrorClass), ct).ConfigureAwait(false);
                break;
            case SettlementKind.Filtered:
            case SettlementKind.Invalid:
                written = await InsertAsync(conn, tx, d.DestinationId, item, nowMs, Text(SettlementParameter.Status)!, 0, nowMs, null, null, nowMs, null, 0,
                    Text(SettlementParameter.Reason), null, null, null, null, null, ct).ConfigureAwait(false);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(s), s.Kind, null);
        }
        part.Items.Remove((item.Seq, item.Subscription));
        part.Close(item.Seq);
        // A row for the delivery existed already (written by an earlier holder of the partition): it decides, not this outcome.
        if (written is null) return null;
        if (SqliteLog.OutcomeOf(s.Kind) is { } outcome) Count(d.DestinationId, outcome, nowMs);
        return 0;
    }

    static async Task<long?> InsertAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string destination, LogItem item, long nowMs, string status,
        long attempts, long next, string? owner, long? until, long? first, string? plan, long steps, string? reason, long? lastStatus,
        string? lastError, string? lastResponse, string? lastRequest, string? errorClass, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(InsertRow, conn, tx);
        object?[] values = [item.Seq, destination, item.Subscription, status, attempts, next, owner, until, item.AcceptedAt, first, nowMs,
            plan, steps, reason, lastStatus, lastError, lastResponse, lastRequest, errorClass, item.ClosedHeldMs];
        NpgsqlDbType[] types = [NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint,
            NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint,
            NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Text,
            NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint];
        for (var i = 0; i < values.Length; i++) cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = types[i], Value = values[i] ?? DBNull.Value });
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is long id ? id : null;
    }

    const string MoveCursor = """
        UPDATE cursor_leases SET seq = GREATEST(seq, $1) WHERE instance = $2 AND partition = $3 AND owner = $4
        """;
    // The rows are locked in (instance, partition) order by the subquery (its FOR UPDATE locks them as sorted), as the lease
    // round and ingest's upsert lock them; a row another replica owns now is left alone and not returned.
    const string MoveCursors = """
        UPDATE cursor_leases c SET seq = GREATEST(c.seq, u.seq)
        FROM unnest($1::text[], $2::int[], $3::bigint[]) AS u(instance, partition, seq)
        WHERE c.instance = u.instance AND c.partition = u.partition AND (c.instance, c.partition) IN (
            SELECT instance, partition FROM cursor_leases
            WHERE owner = $4 AND (instance, partition) IN (SELECT * FROM unnest($1::text[], $2::int[]))
            ORDER BY instance, partition FOR UPDATE)
        RETURNING c.instance, c.partition
        """;
    const string Release = "UPDATE cursor_leases SET owner = NULL, until = 0 WHERE instance = $1 AND partition = $2 AND owner = $3";
    const string AddCount = """
        INSERT INTO outcome_counts (destination_id, minute, outcome, count) VALUES ($1, $2, $3, $4)
        ON CONFLICT (destination_id, minute, outcome) DO UPDATE SET count = outcome_counts.count + excluded.count
        """;

    /// <summary>Moves the persisted cursors that changed (only where this replica is still the lease's owner) and writes the
    /// counted outcomes (in key order, so replicas lock the counter rows in the same order), inside the transaction about to
    /// commit (without one, the batch is its own implicit transaction: all or nothing), after <paramref name="deferred"/> (the
    /// group's writes that nothing reads back). One round trip.</summary>
    public async Task FlushAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long nowMs, IReadOnlyList<NpgsqlBatchCommand> deferred,
        CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(conn, tx);
        foreach (var command in deferred) batch.BatchCommands.Add(command);
        // Every cursor_leases row in (instance, partition) order, as ingest's upsert of a new instance's partitions and the
        // lease round lock them: two transactions never wait for each other's rows in opposite orders (a deadlock would fail
        // the whole group and drop the log's memory: its work in flight would be sent again).
        var moves = new List<(Part Part, long Target)>();
        var releases = new List<Part>();
        foreach (var part in _parts.Values)
        {
            if (part.Dirty && part.Loaded)
            {
                part.Dirty = false;
                if (part.Target > part.Persisted) moves.Add((part, part.Target));
            }
            // A drained partition above the share, nothing in flight: handed over now.
            if (part.Draining && part.Items.Count == 0) releases.Add(part);
        }
        var moved = new List<(Part Part, long Target, int Command)>();
        var released = new List<(Part Part, int Command)>();
        var together = -1;
        if (moves.Count > 1 && releases.Count == 0)
        {
            // The usual flush: several partitions' cursors moved in one statement, locked in the lease round's order.
            together = batch.BatchCommands.Count;
            batch.BatchCommands.Add(Batch(MoveCursors, moves.Select(m => m.Part.Instance).ToArray(), moves.Select(m => m.Part.Partition).ToArray(),
                moves.Select(m => m.Target).ToArray(), replica));
        }
        else
        {
            // With hand-overs (rare: a replica joined), one statement per row, moves and hand-overs interleaved in that order.
            foreach (var part in _parts.Values.OrderBy(p => p.Instance, StringComparer.Ordinal).ThenBy(p => p.Partition))
            {
                if (moves.FindIndex(m => ReferenceEquals(m.Part, part)) is var i and >= 0)
                {
                    moved.Add((part, moves[i].Target, batch.BatchCommands.Count));
                    batch.BatchCommands.Add(Batch(MoveCursor, moves[i].Target, part.Instance, part.Partition, replica));
                }
                if (releases.Contains(part))
                {
                    released.Add((part, batch.BatchCommands.Count));
                    batch.BatchCommands.Add(Batch(Release, part.Instance, part.Partition, replica));
                }
            }
        }
        foreach (var ((destination, minute, outcome), count) in _counts)
            batch.BatchCommands.Add(Batch(AddCount, destination, minute, outcome, count));
        _counts.Clear();
        if (batch.BatchCommands.Count == 0) return;
        if (together < 0)
        {
            await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            foreach (var (part, target, command) in moved)
                if (batch.BatchCommands[command].RecordsAffected == 1) part.Persisted = target;
                else _parts.Remove((part.Instance, part.Partition)); // the lease is gone: drop what was read
            foreach (var (part, _) in released) _parts.Remove((part.Instance, part.Partition));
            return;
        }
        var kept = new HashSet<(string, int)>();
        await using (var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            // The only statement of the batch that returns rows (the reader skips those that return none).
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) kept.Add((reader.GetString(0), reader.GetInt32(1)));
            while (await reader.NextResultAsync(ct).ConfigureAwait(false)) { }
        }
        foreach (var (part, target) in moves)
            if (kept.Contains((part.Instance, part.Partition))) part.Persisted = target;
            else _parts.Remove((part.Instance, part.Partition)); // the lease is gone: drop what was read
    }

    static NpgsqlCommand Command(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, params object?[] values)
    {
        var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var v in values) cmd.Parameters.Add(Parameter(v));
        return cmd;
    }

    static NpgsqlBatchCommand Batch(string sql, params object?[] values)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        foreach (var v in values) cmd.Parameters.Add(Parameter(v));
        return cmd;
    }

    static NpgsqlParameter Parameter(object? v) => v switch
    {
        null => new NpgsqlParameter { Value = DBNull.Value },
        int i => new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = i },
        _ => new NpgsqlParameter { Value = v },
    };
}
