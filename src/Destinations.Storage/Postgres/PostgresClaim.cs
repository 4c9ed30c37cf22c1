using Dapper;
using Npgsql;

namespace Destinations.Storage.Postgres;

/// <summary>
/// The claim of <see cref="PostgresDeliveryQueue"/>, for N replicas on one queue: due rows are picked with
/// <c>FOR UPDATE SKIP LOCKED</c> (a row another replica is claiming is skipped, never waited for) and leased in the same
/// transaction. Held instances (D12) give one canary per due probe, the state row locked so only one replica sends it;
/// throttled instances (D25) are skipped; ordered instances (D16) only yield a user's earliest pending delivery.
/// </summary>
static class PostgresClaim
{
    const string Candidates = """
        SELECT d.id AS Id, d.destination_id AS DestinationId FROM deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.status = 'pending' AND d.next_attempt_at <= @Now AND (d.lease_until IS NULL OR d.lease_until < @Now)
          AND (NOT d.destination_id = ANY(@Ordered) OR e.user_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM deliveries p JOIN events pe ON pe.seq = p.event_seq
                WHERE p.destination_id = d.destination_id AND p.status = 'pending' AND p.event_seq < d.event_seq
                  AND pe.user_key = e.user_key))
        """;

    const string Lease = """
        UPDATE deliveries d SET lease_owner = @Owner, lease_until = @Until
        FROM events e WHERE e.seq = d.event_seq AND d.id = ANY(@Ids)
        RETURNING d.id AS Id, d.event_seq AS EventSeq, d.destination_id AS DestinationId, d.subscription AS Subscription,
                  e.message_id AS MessageId, e.body AS EventBody, d.plan AS Plan, d.steps_done AS StepsDone,
                  d.attempts AS Attempts, d.created_at AS CreatedAt, d.first_attempt_at AS FirstAttemptAt,
                  d.held_ms AS HeldMs, e.user_key AS UserKey, d.next_attempt_at AS NextAttemptAt
        """;

    public static async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(PostgresDatabase db, ClaimRequest request, DateTimeOffset now, CancellationToken ct)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var untilMs = (now + request.Lease).ToUnixTimeMilliseconds();
        var ordered = request.Ordered.ToArray();
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);

        var held = await InstanceStateQueries.ReadAllAsync(conn, tx, heldOnly: true, ct).ConfigureAwait(false);
        var skip = request.Skip.ToHashSet(StringComparer.Ordinal);
        // D25: instances whose shared bucket has no token now are skipped (as the in-memory limiter's Throttled() on SQLite).
        if (request.RateLimits is { } limits) skip.UnionWith(await PostgresRateLimits.ThrottledAsync(conn, tx, nowMs, limits, ct).ConfigureAwait(false));

        // D12: one canary per held instance whose probe is due. The state row is locked (SKIP LOCKED: another replica is
        // taking this canary) and its probe time moved a lease ahead, so no replica sends a second canary meanwhile.
        var probes = new List<(InstanceState State, long Id)>();
        var dueProbes = await conn.QueryAsync<string>(new CommandDefinition("""
            SELECT destination_id FROM destination_state
            WHERE hold IS NOT NULL AND next_probe_at <= @Now AND NOT destination_id = ANY(@Skip)
            ORDER BY destination_id FOR UPDATE SKIP LOCKED
            """, new { Now = nowMs, Skip = skip.ToArray() }, tx, cancellationToken: ct)).ConfigureAwait(false);
        foreach (var destination in dueProbes)
        {
            if (probes.Count >= request.Max) break;
            var canary = await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
                Candidates + " AND d.destination_id = @Destination ORDER BY d.next_attempt_at, d.id LIMIT 1 FOR UPDATE OF d SKIP LOCKED",
                new { Now = nowMs, Ordered = ordered, Destination = destination }, tx, cancellationToken: ct)).ConfigureAwait(false);
            if (canary is not { } id) continue;
            await conn.ExecuteAsync(new CommandDefinition(
                "UPDATE destination_state SET next_probe_at = @Until, updated_at = @Now WHERE destination_id = @Destination",
                new { Until = untilMs, Now = nowMs, Destination = destination }, tx, cancellationToken: ct)).ConfigureAwait(false);
            probes.Add((held.Single(s => s.DestinationId == destination), id));
        }

        var excluded = skip.Concat(held.Select(s => s.DestinationId)).Distinct(StringComparer.Ordinal).ToArray();
        var ids = probes.Select(p => p.Id).ToList();
        if (ids.Count < request.Max)
        {
            var picked = (await conn.QueryAsync<(long Id, string DestinationId)>(new CommandDefinition(
                Candidates + " AND NOT d.destination_id = ANY(@Excluded) ORDER BY d.next_attempt_at, d.id LIMIT @Max FOR UPDATE OF d SKIP LOCKED",
                new { Now = nowMs, Ordered = ordered, Excluded = excluded, Max = request.Max - ids.Count }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
            // D25: tokens are taken from the shared bucket rows in this transaction; rows without one are not leased.
            if (request.RateLimits is { } rateLimits) picked = await PostgresRateLimits.AdmitAsync(conn, tx, picked, nowMs, rateLimits, ct).ConfigureAwait(false);
            ids.AddRange(picked.Select(p => p.Id));
        }

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
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return claimed;
    }
}
