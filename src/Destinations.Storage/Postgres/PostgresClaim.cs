using Dapper;
using Npgsql;

namespace Destinations.Storage.Postgres;

/// <summary>
/// The claim of <see cref="PostgresDeliveryQueue"/>, run by <see cref="PostgresDispatchWriter"/> inside its transaction, for
/// N replicas on one log: due rows (retries, holds, behind, replayed) are picked with <c>FOR UPDATE SKIP LOCKED</c> (a row
/// another replica is claiming is skipped, never waited for) and leased, then the claim fills up from the log partitions this
/// replica leases (<see cref="PostgresLog"/>). Held instances (D12) give one canary per due probe, the state row locked so
/// only one replica sends it; throttled instances (D25) are skipped and shared tokens are taken here; ordered instances
/// (D16) only yield a user's earliest pending delivery, and a row with a user key only to the holder of its partition.
/// </summary>
static class PostgresClaim
{
    // Ordered instances (D16): a row with a user key is claimed only by the replica holding its partition (the one that also
    // reads the user's events from the log), and only when no earlier row of its user is pending.
    static readonly string Candidates = $"""
        SELECT d.id, d.destination_id, d.event_seq, e.user_key FROM deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.status = 'pending' AND d.next_attempt_at <= @Now AND (d.lease_until IS NULL OR d.lease_until < @Now)
          AND (NOT d.destination_id = ANY(@Ordered) OR e.user_key IS NULL OR (
                (d.destination_id, {UserPartition.Sql("e", "@Count")}) IN (
                    SELECT * FROM unnest(@HeldInstances::text[], @HeldPartitions::int[]))
                AND NOT EXISTS (
                SELECT 1 FROM deliveries p JOIN events pe ON pe.seq = p.event_seq
                WHERE p.destination_id = d.destination_id AND p.status = 'pending' AND p.event_seq < d.event_seq
                  AND pe.user_key = e.user_key)))
        """;

    const string Lease = """
        UPDATE deliveries d SET lease_owner = @Owner, lease_until = @Until
        FROM events e WHERE e.seq = d.event_seq AND d.id = ANY(@Ids)
        RETURNING d.id AS Id, d.event_seq AS EventSeq, d.destination_id AS DestinationId, d.subscription AS Subscription,
                  e.message_id AS MessageId, e.body AS EventBody, d.plan AS Plan, d.steps_done AS StepsDone,
                  d.attempts AS Attempts, d.created_at AS CreatedAt, d.first_attempt_at AS FirstAttemptAt,
                  d.held_ms AS HeldMs, e.user_key AS UserKey, d.next_attempt_at AS NextAttemptAt
        """;

    // A row that is due and not leased (the candidates' first three conditions, on ix_deliveries_due): when there is none, the
    // candidate queries would find nothing. A row committed after this read is claimed by the next claim, as if it had
    // committed just after this one.
    const string RowsDue = """
        SELECT EXISTS (SELECT 1 FROM deliveries
                       WHERE status = 'pending' AND next_attempt_at <= @Now AND (lease_until IS NULL OR lease_until < @Now))
        """;

    // Per instance, the latest end of its hold intervals (an open one counts as never ended).
    const string HoldsEnded = "SELECT destination_id, MAX(COALESCE(ended_at, 9223372036854775807)) FROM hold_intervals GROUP BY destination_id";

    static readonly string FirstReads = string.Join(";\n",
        "SAVEPOINT claim", InstanceStateQueries.SelectHeld, RowsDue, HoldsEnded, PostgresLogHorizon.LastDrawn, PostgresLogHorizon.Writers);
    static readonly string FirstReadsWithRateLimits = string.Join(";\n",
        "SAVEPOINT claim", InstanceStateQueries.SelectHeld, PostgresRateLimits.SelectAll, RowsDue, HoldsEnded, PostgresLogHorizon.LastDrawn,
        PostgresLogHorizon.Writers);

    /// <summary>Claims, after setting the savepoint <c>claim</c> (the caller rolls back to it when the claim fails).</summary>
    public static async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(NpgsqlConnection conn, NpgsqlTransaction tx, PostgresLog log,
        ClaimRequest request, DateTimeOffset now, CancellationToken ct)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var untilMs = (now + request.Lease).ToUnixTimeMilliseconds();
        var ordered = request.Ordered.ToArray();
        var claimId = Interlocked.Increment(ref _claims);
        var (heldInstances, heldPartitions) = log.Held();

        var skip = request.Skip.ToHashSet(StringComparer.Ordinal);
        List<InstanceState> held;
        bool rowsDue;
        // The claim's reads that depend on nothing else in one round trip, its savepoint first: the held instances, the shared
        // buckets, whether any row is due at all (so the row claim is skipped when none is: the usual case, first passes on
        // the log), when each instance's hold intervals last ended (so the log read skips reading them when none can overlap
        // what it reads) and the log horizon's sample (the log is read in a later statement, so after the sample).
        await using (var reads = await conn.QueryMultipleAsync(new CommandDefinition(
            request.RateLimits is null ? FirstReads : FirstReadsWithRateLimits, new { Now = nowMs }, tx, cancellationToken: ct)).ConfigureAwait(false))
        {
            held = (await reads.ReadAsync<InstanceStateQueries.StateRow>().ConfigureAwait(false)).Select(r => r.ToState()).ToList();
            // D25: instances whose shared bucket has no token now are skipped (as the in-memory limiter's Throttled() on SQLite).
            if (request.RateLimits is { } limits) skip.UnionWith(await PostgresRateLimits.ThrottledAsync(reads, nowMs, limits).ConfigureAwait(false));
            rowsDue = await reads.ReadSingleAsync<bool>().ConfigureAwait(false);
            var holdsEnded = (await reads.ReadAsync<(string DestinationId, long EndedAt)>().ConfigureAwait(false))
                .ToDictionary(h => h.DestinationId, h => h.EndedAt, StringComparer.Ordinal);
            var drawn = await reads.ReadSingleAsync<long>().ConfigureAwait(false);
            var writers = (await reads.ReadAsync<string>().ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
            log.Sampled(claimId, drawn, writers, holdsEnded);
        }
        var args = new { Now = nowMs, Ordered = ordered, HeldInstances = heldInstances, HeldPartitions = heldPartitions, Count = (long)log.Partitions };

        // D12: one canary per held instance whose probe is due. The state row is locked (SKIP LOCKED: another replica is
        // taking this canary) and its probe time moved a lease ahead, so no replica sends a second canary meanwhile.
        var probes = new List<(InstanceState State, long Id)>();
        var logProbes = new List<ClaimedDelivery>();
        // Only when the held states just read have a probe due: a hold or a probe time committed since then is seen by the
        // next claim, as if it had committed just after this one; the locking read below checks again what it takes.
        IEnumerable<string> dueProbes = [];
        if (held.Any(s => s.NextProbeAt is { } at && at.ToUnixTimeMilliseconds() <= nowMs && !skip.Contains(s.DestinationId)))
            dueProbes = await conn.QueryAsync<string>(new CommandDefinition("""
                SELECT destination_id FROM destination_state
                WHERE hold IS NOT NULL AND next_probe_at <= @Now AND NOT destination_id = ANY(@Skip) AND destination_id = ANY(@Held)
                ORDER BY destination_id FOR UPDATE SKIP LOCKED
                """, new { Now = nowMs, Skip = skip.ToArray(), Held = held.Select(s => s.DestinationId).ToArray() }, tx,
                cancellationToken: ct)).ConfigureAwait(false);
        foreach (var destination in dueProbes)
        {
            if (probes.Count + logProbes.Count >= request.Max) break;
            var canary = !rowsDue ? null : await conn.QuerySingleOrDefaultAsync<(long Id, string DestinationId, long Seq, string? UserKey)?>(new CommandDefinition(
                Candidates + " AND d.destination_id = @Destination ORDER BY d.next_attempt_at, d.id LIMIT 1 FOR UPDATE OF d SKIP LOCKED",
                new { args.Now, args.Ordered, args.HeldInstances, args.HeldPartitions, args.Count, Destination = destination }, tx,
                cancellationToken: ct)).ConfigureAwait(false);
            if (canary is { } c && request.Ordered.Contains(destination) && log.BlocksRow(destination, c.UserKey, c.Seq)) canary = null;
            if (canary is not { } found)
            {
                // No row waits: the canary comes from the head of the instance's log (the partitions this replica holds).
                var fromLog = await log.TakeAsync(conn, tx, claimId, destination, 1, request.Owner, nowMs, untilMs,
                    request.Ordered.Contains(destination), ct).ConfigureAwait(false);
                if (fromLog.Count == 0) continue;
                await MoveProbeAsync(conn, tx, destination, untilMs, nowMs, ct).ConfigureAwait(false);
                logProbes.Add(fromLog[0] with { IsProbe = true });
                continue;
            }
            await MoveProbeAsync(conn, tx, destination, untilMs, nowMs, ct).ConfigureAwait(false);
            probes.Add((held.Single(s => s.DestinationId == destination), found.Id));
        }

        var excluded = skip.Concat(held.Select(s => s.DestinationId)).Distinct(StringComparer.Ordinal).ToArray();
        var picked = new List<(long Id, string DestinationId)>();
        var room = request.Max - probes.Count - logProbes.Count;
        if (room > 0 && rowsDue)
            picked = (await conn.QueryAsync<(long Id, string DestinationId, long Seq, string? UserKey)>(new CommandDefinition(
                Candidates + " AND NOT d.destination_id = ANY(@Excluded) ORDER BY d.next_attempt_at, d.id LIMIT @Max FOR UPDATE OF d SKIP LOCKED",
                new { args.Now, args.Ordered, args.HeldInstances, args.HeldPartitions, args.Count, Excluded = excluded, Max = room }, tx,
                cancellationToken: ct)).ConfigureAwait(false))
                // D16: a row waits behind an earlier log claim of the same user (in flight or given back).
                .Where(r => !request.Ordered.Contains(r.DestinationId) || !log.BlocksRow(r.DestinationId, r.UserKey, r.Seq))
                .Select(r => (r.Id, r.DestinationId)).ToList();

        // Then fill up from the log: each instance not held nor throttled, an equal share each, the rest to whoever has more.
        var fromLogClaims = new List<ClaimedDelivery>();
        var instances = log.Instances.Where(d => !excluded.Contains(d) && (request.Destinations is null || request.Destinations.Contains(d))).ToList();
        int Taken() => probes.Count + picked.Count + logProbes.Count + fromLogClaims.Count;
        for (var pass = 0; pass < 2 && Taken() < request.Max && instances.Count > 0; pass++)
        {
            var left = request.Max - Taken();
            var share = pass == 0 ? Math.Max(1, (left + instances.Count - 1) / instances.Count) : left;
            foreach (var destination in instances)
            {
                var take = Math.Min(share, request.Max - Taken());
                if (take <= 0) break;
                fromLogClaims.AddRange(await log.TakeAsync(conn, tx, claimId, destination, take, request.Owner, nowMs, untilMs,
                    request.Ordered.Contains(destination), ct).ConfigureAwait(false));
            }
        }

        // D25: tokens are taken from the shared bucket rows in this transaction; what gets none is not leased (a log claim
        // is given back: it waits in memory).
        if (request.RateLimits is { } rateLimits)
        {
            // Log claims take part under a negative stand-in id (row ids are positive).
            var admitted = (await PostgresRateLimits.AdmitAsync(conn, tx,
                [.. picked, .. fromLogClaims.Select((c, i) => (-(long)(i + 1), c.DestinationId))], nowMs, rateLimits, ct).ConfigureAwait(false))
                .Select(p => p.Id).ToHashSet();
            picked = picked.Where(p => admitted.Contains(p.Id)).ToList();
            var kept = new List<ClaimedDelivery>();
            for (var i = 0; i < fromLogClaims.Count; i++)
                if (admitted.Contains(-(long)(i + 1))) kept.Add(fromLogClaims[i]);
                else log.GiveBack(fromLogClaims[i], nowMs);
            fromLogClaims = kept;
        }
        var ids = probes.Select(p => p.Id).Concat(picked.Select(p => p.Id)).ToList();

        var claimed = new List<ClaimedDelivery>();
        if (ids.Count > 0)
        {
            var rows = (await conn.QueryAsync<ClaimRow>(new CommandDefinition(Lease,
                new { request.Owner, Until = untilMs, Ids = ids.ToArray() }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToDictionary(r => r.Id);
            foreach (var (state, id) in probes)
            {
                var canary = rows[id];
                var currentHold = now - (state.HeldSince ?? now);
                var sinceCreated = now - DateTimeOffset.FromUnixTimeMilliseconds(canary.CreatedAt);
                claimed.Add(canary.ToClaimed(request.Owner, untilMs) with
                {
                    IsProbe = true,
                    HeldFor = TimeSpan.FromMilliseconds(canary.HeldMs) + (currentHold < sinceCreated ? currentHold : sinceCreated),
                });
            }
            claimed.AddRange(ids.Skip(probes.Count).Select(id => rows[id].ToClaimed(request.Owner, untilMs)));
        }
        claimed.AddRange(logProbes);
        claimed.AddRange(fromLogClaims);
        return claimed;
    }

    static long _claims;

    static Task MoveProbeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string destination, long untilMs, long nowMs, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(
            "UPDATE destination_state SET next_probe_at = @Until, updated_at = @Now WHERE destination_id = @Destination",
            new { Until = untilMs, Now = nowMs, Destination = destination }, tx, cancellationToken: ct));
}
