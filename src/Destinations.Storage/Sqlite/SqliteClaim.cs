using Dapper;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// The claim of <see cref="SqliteDeliveryQueue"/>: one IMMEDIATE transaction selects due rows and leases them, so two workers
/// never lease the same row. Held instances (D12 pause, open breaker) give at most one canary per due probe; throttled
/// instances (D25) are skipped; ordered instances (D16) only yield a user's earliest pending delivery.
/// </summary>
static class SqliteClaim
{
    const string Select = """
        SELECT d.id AS Id, d.event_seq AS EventSeq, d.destination_id AS DestinationId, d.subscription AS Subscription,
               e.message_id AS MessageId, e.body AS EventBody, d.plan AS Plan, d.steps_done AS StepsDone,
               d.attempts AS Attempts, d.created_at AS CreatedAt, d.first_attempt_at AS FirstAttemptAt,
               d.held_ms AS HeldMs, e.user_key AS UserKey, d.next_attempt_at AS NextAttemptAt
        FROM deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.status = 'pending' AND d.next_attempt_at <= @Now AND (d.lease_until IS NULL OR d.lease_until < @Now)
          AND (d.destination_id NOT IN @Ordered OR e.user_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM deliveries p JOIN events pe ON pe.seq = p.event_seq
                WHERE p.destination_id = d.destination_id AND p.status = 'pending' AND p.event_seq < d.event_seq
                  AND pe.user_key = e.user_key))
        """;

    public static async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(SqliteDatabase db, ClaimRequest request, DateTimeOffset now, CancellationToken ct)
    {
        var nowMs = SqliteDatabase.ToUnixMs(now);
        var untilMs = SqliteDatabase.ToUnixMs(now + request.Lease);
        var ordered = request.Ordered.ToArray();
        // The dispatcher's own write: behind the one write gate, synchronous=NORMAL (a lost lease only delays a row).
        using var gate = await db.EnterWriteAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct, relaxedSync: true).ConfigureAwait(false);
        using var tx = conn.BeginTransaction(deferred: false);

        var held = await SqliteInstanceStates.ReadAllAsync(conn, tx, heldOnly: true, ct).ConfigureAwait(false);
        var claimed = new List<ClaimedDelivery>();
        // D12: one canary per held instance whose probe is due; the probe time moves a lease ahead so no other worker sends
        // a second canary meanwhile (the canary's outcome sets the real next probe).
        foreach (var state in held.Where(s => s.NextProbeAt is { } p && p <= now && !request.Skip.Contains(s.DestinationId)))
        {
            if (claimed.Count >= request.Max) break;
            var canary = await conn.QuerySingleOrDefaultAsync<ClaimRow>(new CommandDefinition(
                Select + " AND d.destination_id = @Destination ORDER BY d.next_attempt_at, d.id LIMIT 1",
                new { Now = nowMs, Ordered = ordered, Destination = state.DestinationId }, tx, cancellationToken: ct)).ConfigureAwait(false);
            if (canary is null) continue;
            await conn.ExecuteAsync(new CommandDefinition(
                "UPDATE destination_state SET next_probe_at = @Until, updated_at = @Now WHERE destination_id = @Destination",
                new { Until = untilMs, Now = nowMs, Destination = state.DestinationId }, tx, cancellationToken: ct)).ConfigureAwait(false);
            var currentHold = now - (state.HeldSince ?? now);
            var sinceCreated = now - SqliteDatabase.FromUnixMs(canary.CreatedAt);
            claimed.Add(canary.ToClaimed(request.Owner, untilMs) with
            {
                IsProbe = true,
                HeldFor = TimeSpan.FromMilliseconds(canary.HeldMs) + (currentHold < sinceCreated ? currentHold : sinceCreated),
            });
        }

        var excluded = request.Skip.Concat(held.Select(s => s.DestinationId)).Distinct(StringComparer.Ordinal).ToArray();
        if (claimed.Count < request.Max)
        {
            var max = request.Max - claimed.Count;
            IEnumerable<ClaimRow> rows;
            if (request.Destinations is { } destinations)
            {
                // Instance by instance through ix_deliveries_claim: a held instance's backlog is never scanned. The earliest
                // due rows across instances win, as in the single query below.
                var perInstance = new List<ClaimRow>();
                foreach (var destination in destinations.Except(excluded, StringComparer.Ordinal))
                    perInstance.AddRange(await conn.QueryAsync<ClaimRow>(new CommandDefinition(
                        Select + " AND d.destination_id = @Destination ORDER BY d.next_attempt_at, d.id LIMIT @Max",
                        new { Now = nowMs, Ordered = ordered, Destination = destination, Max = max }, tx, cancellationToken: ct)).ConfigureAwait(false));
                rows = perInstance.OrderBy(r => r.NextAttemptAt).ThenBy(r => r.Id).Take(max);
            }
            else
                rows = await conn.QueryAsync<ClaimRow>(new CommandDefinition(
                    Select + " AND d.destination_id NOT IN @Excluded ORDER BY d.next_attempt_at, d.id LIMIT @Max",
                    new { Now = nowMs, Ordered = ordered, Excluded = excluded, Max = max }, tx, cancellationToken: ct)).ConfigureAwait(false);
            claimed.AddRange(rows.Select(r => r.ToClaimed(request.Owner, untilMs)));
        }

        if (claimed.Count > 0)
            await conn.ExecuteAsync(new CommandDefinition(
                "UPDATE deliveries SET lease_owner = @Owner, lease_until = @Until WHERE id IN @Ids",
                new { request.Owner, Until = untilMs, Ids = claimed.Select(r => r.Id).ToArray() }, tx, cancellationToken: ct)).ConfigureAwait(false);
        tx.Commit();
        return claimed;
    }
}
