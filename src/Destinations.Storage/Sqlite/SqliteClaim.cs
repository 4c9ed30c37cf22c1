using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// The claim of <see cref="SqliteDeliveryQueue"/>, run by <see cref="SqliteDispatchWriter"/> inside its write transaction:
/// due rows are selected and leased together, so two workers never lease the same row. Held instances (D12 pause, open
/// breaker) give at most one canary per due probe; throttled instances (D25) are skipped; ordered instances (D16) only
/// yield a user's earliest pending delivery. Every statement is a fixed text (lists go as JSON arrays through
/// <c>json_each</c>), so it is prepared once on the writer's connection.
/// </summary>
static class SqliteClaim
{
    const string Columns = """
        SELECT d.id, d.event_seq, d.destination_id, d.subscription, e.message_id, e.body, d.plan, d.steps_done,
               d.attempts, d.created_at, d.first_attempt_at, d.held_ms, e.user_key, d.next_attempt_at
        FROM deliveries d
        """;

    const string JoinAndDue = """

        JOIN events e ON e.seq = d.event_seq
        WHERE d.status = 'pending' AND d.next_attempt_at <= @Now AND (d.lease_until IS NULL OR d.lease_until < @Now)
          AND (d.destination_id NOT IN (SELECT value FROM json_each(@Ordered)) OR e.user_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM deliveries p JOIN events pe ON pe.seq = p.event_seq
                WHERE p.destination_id = d.destination_id AND p.status = 'pending' AND p.event_seq < d.event_seq
                  AND pe.user_key = e.user_key))
        """;

    const string Select = Columns + JoinAndDue;
    const string Canary = Select + " AND d.destination_id = @Destination ORDER BY d.next_attempt_at, d.id LIMIT 1";
    const string OfInstance = Select + " AND d.destination_id = @Destination ORDER BY d.next_attempt_at, d.id LIMIT @Max";
    // Named index: without statistics SQLite would pick ix_deliveries_dead (status = ?) and sort, over the partial
    // ix_deliveries_due that already holds exactly the pending rows in due order (migration 5).
    const string AllDue = Columns + " INDEXED BY ix_deliveries_due" + JoinAndDue + """
         AND d.destination_id NOT IN (SELECT value FROM json_each(@Excluded)) ORDER BY d.next_attempt_at, d.id LIMIT @Max
        """;
    const string MoveProbe = "UPDATE destination_state SET next_probe_at = @Until, updated_at = @Now WHERE destination_id = @Destination";
    const string Lease = "UPDATE deliveries SET lease_owner = @Owner, lease_until = @Until WHERE id IN (SELECT value FROM json_each(@Ids))";

    static readonly string[] SelectParameters = ["@Now", "@Ordered", "@Destination", "@Max", "@Excluded"];
    static readonly string[] MoveProbeParameters = ["@Until", "@Now", "@Destination"];
    static readonly string[] LeaseParameters = ["@Owner", "@Until", "@Ids"];

    const string AllCursors = "SELECT destination_id FROM cursors ORDER BY destination_id";

    public static IReadOnlyList<ClaimedDelivery> Claim(SqliteSession session, SqliteLog log, ClaimRequest request, DateTimeOffset now)
    {
        var head = -1L; // read once per claim, when the log is first needed
        var nowMs = SqliteDatabase.ToUnixMs(now);
        var untilMs = SqliteDatabase.ToUnixMs(now + request.Lease);
        var ordered = JsonArray(request.Ordered);

        if (request.Destinations is { } configured) log.TouchConfigured(session, configured, nowMs);
        var held = SqliteInstanceStates.ReadHeld(session);
        var claimed = new List<ClaimedDelivery>();
        // D12: one canary per held instance whose probe is due; the probe time moves a lease ahead so no other worker sends
        // a second canary meanwhile (the canary's outcome sets the real next probe).
        foreach (var state in held)
        {
            if (state.NextProbeAt is not { } probe || probe > now || request.Skip.Contains(state.DestinationId)) continue;
            if (claimed.Count >= request.Max) break;
            var canary = Query(session, Canary, nowMs, ordered, state.DestinationId, 1, null)
                .FirstOrDefault(r => !request.Ordered.Contains(r.DestinationId) || !log.BlocksRow(r.DestinationId, r.UserKey, r.EventSeq));
            if (canary is null)
            {
                // No row waits: the canary comes from the head of the instance's log, if anything is there.
                var fromLog = log.Take(session, state.DestinationId, 1, request.Owner, nowMs, untilMs,
                    request.Ordered.Contains(state.DestinationId), ref head);
                if (fromLog.Count == 0) continue;
                MoveProbeOf(session, state.DestinationId, untilMs, nowMs);
                claimed.Add(fromLog[0] with { IsProbe = true });
                continue;
            }
            MoveProbeOf(session, state.DestinationId, untilMs, nowMs);
            var currentHold = now - (state.HeldSince ?? now);
            var sinceCreated = now - SqliteDatabase.FromUnixMs(canary.CreatedAt);
            claimed.Add(canary.ToClaimed(request.Owner, untilMs) with
            {
                IsProbe = true,
                HeldFor = TimeSpan.FromMilliseconds(canary.HeldMs) + (currentHold < sinceCreated ? currentHold : sinceCreated),
            });
        }

        var leased = new List<ClaimedDelivery>();
        if (claimed.Count < request.Max)
        {
            var max = request.Max - claimed.Count;
            var excluded = new HashSet<string>(request.Skip, StringComparer.Ordinal);
            foreach (var state in held) excluded.Add(state.DestinationId);
            List<ClaimRow> rows;
            if (request.Destinations is { } destinations)
            {
                // Instance by instance through ix_deliveries_claim: a held instance's backlog is never scanned. The earliest
                // due rows across instances win, as in the single query below.
                rows = [];
                foreach (var destination in destinations)
                    if (!excluded.Contains(destination)) rows.AddRange(Query(session, OfInstance, nowMs, ordered, destination, max, null));
                if (rows.Count > max || destinations.Count > 1)
                    rows = [.. rows.OrderBy(r => r.NextAttemptAt).ThenBy(r => r.Id).Take(max)];
            }
            else
                rows = Query(session, AllDue, nowMs, ordered, null, max, JsonArray(excluded));
            // D16: a row waits behind an earlier log claim of the same user (in flight or given back).
            foreach (var row in rows)
                if (!request.Ordered.Contains(row.DestinationId) || !log.BlocksRow(row.DestinationId, row.UserKey, row.EventSeq))
                    leased.Add(row.ToClaimed(request.Owner, untilMs));
            claimed.AddRange(leased);

            // Then fill up from the log: each instance not held nor throttled, an equal share each, the rest to whoever has more.
            var instances = (request.Destinations ?? AllInstances(session)).Where(d => !excluded.Contains(d)).ToList();
            for (var pass = 0; pass < 2 && claimed.Count < request.Max && instances.Count > 0; pass++)
            {
                var share = pass == 0 ? Math.Max(1, (request.Max - claimed.Count + instances.Count - 1) / instances.Count) : request.Max - claimed.Count;
                foreach (var destination in instances)
                {
                    var room = Math.Min(share, request.Max - claimed.Count);
                    if (room <= 0) break;
                    claimed.AddRange(log.Take(session, destination, room, request.Owner, nowMs, untilMs, request.Ordered.Contains(destination), ref head));
                }
            }
        }

        if (claimed.Any(d => d.Id > 0))
        {
            var ids = new StringBuilder("[");
            foreach (var d in claimed)
                if (d.Id > 0) ids.Append(d.Id.ToString(CultureInfo.InvariantCulture)).Append(',');
            ids[^1] = ']';
            var lease = session.Command(Lease, LeaseParameters);
            Bind(lease, request.Owner, untilMs, ids.ToString());
            lease.ExecuteNonQuery();
        }
        return claimed;
    }

    static void MoveProbeOf(SqliteSession session, string destination, long untilMs, long nowMs)
    {
        var move = session.Command(MoveProbe, MoveProbeParameters);
        Bind(move, untilMs, nowMs, destination);
        move.ExecuteNonQuery();
    }

    static List<string> AllInstances(SqliteSession session)
    {
        var list = new List<string>();
        using var reader = session.Command(AllCursors, []).ExecuteReader();
        while (reader.Read()) list.Add(reader.GetString(0));
        return list;
    }

    static List<ClaimRow> Query(SqliteSession session, string sql, long nowMs, string ordered, string? destination, int max, string? excluded)
    {
        var command = session.Command(sql, SelectParameters);
        Bind(command, nowMs, ordered, destination, max, excluded);
        var rows = new List<ClaimRow>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            rows.Add(new ClaimRow
            {
                Id = reader.GetInt64(0),
                EventSeq = reader.GetInt64(1),
                DestinationId = reader.GetString(2),
                Subscription = reader.GetString(3),
                MessageId = reader.GetString(4),
                EventBody = reader.GetString(5),
                Plan = reader.IsDBNull(6) ? null : reader.GetString(6),
                StepsDone = reader.GetInt64(7),
                Attempts = reader.GetInt64(8),
                CreatedAt = reader.GetInt64(9),
                FirstAttemptAt = reader.IsDBNull(10) ? null : reader.GetInt64(10),
                HeldMs = reader.GetInt64(11),
                UserKey = reader.IsDBNull(12) ? null : reader.GetString(12),
                NextAttemptAt = reader.GetInt64(13),
            });
        return rows;
    }

    /// <summary>Sets the command's parameters in order (parameters a statement does not use are ignored by SQLite).</summary>
    static void Bind(SqliteCommand command, params ReadOnlySpan<object?> values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i] ?? DBNull.Value;
    }

    static string JsonArray(IEnumerable<string> values) => System.Text.Json.JsonSerializer.Serialize(values);
}
