using Dapper;
using Npgsql;

namespace Destinations.Storage.Postgres;

/// <summary>
/// D25 shared by every replica: one token-bucket row per destination instance (<c>rate_limits</c>), read and taken inside the
/// claim transaction (the row locked FOR UPDATE, in destination order so two claims never deadlock). Rows without a token
/// are simply not leased: waiting is not an attempt (D14). The bucket arithmetic is the in-memory limiter's.
/// </summary>
static class PostgresRateLimits
{
    const string Columns = "destination_id AS DestinationId, tokens AS Tokens, refilled_at AS RefilledAt, throttled_until AS ThrottledUntil, blocked_until AS BlockedUntil";

    public const string SelectAll = $"SELECT {Columns} FROM rate_limits";

    /// <summary>Instances with no token now (their rows are not claimed), from a plain read of the small table
    /// (<see cref="SelectAll"/>, the next result of <paramref name="reads"/>).</summary>
    public static async Task<IEnumerable<string>> ThrottledAsync(SqlMapper.GridReader reads, long nowMs, Func<string, SharedRateLimit?> limitFor)
    {
        var rows = await reads.ReadAsync<Bucket>().ConfigureAwait(false);
        return rows.Where(b => nowMs < b.BlockedUntil || (limitFor(b.DestinationId) is { } l && b.Refilled(l, nowMs) < 1)).Select(b => b.DestinationId).ToList();
    }

    /// <summary>Takes one token per call (ItemsPerCall rows) for the picked rows; returns the rows that got one, in order.</summary>
    public static async Task<List<(long Id, string DestinationId)>> AdmitAsync(NpgsqlConnection conn, NpgsqlTransaction tx,
        List<(long Id, string DestinationId)> picked, long nowMs, Func<string, SharedRateLimit?> limitFor, CancellationToken ct)
    {
        var admitted = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var group in picked.GroupBy(p => p.DestinationId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            if (limitFor(group.Key) is not { } limit) continue; // unlimited (a 429 block was already skipped by ThrottledAsync)
            var cap = Math.Min(limit.Limit, 1_000_000);
            await conn.ExecuteAsync(new CommandDefinition(
                "INSERT INTO rate_limits (destination_id, tokens, refilled_at) VALUES (@Id, @Cap, @Now) ON CONFLICT (destination_id) DO NOTHING",
                new { Id = group.Key, Cap = (double)cap, Now = nowMs }, tx, cancellationToken: ct)).ConfigureAwait(false);
            var bucket = await conn.QuerySingleAsync<Bucket>(new CommandDefinition(
                $"SELECT {Columns} FROM rate_limits WHERE destination_id = @Id FOR UPDATE", new { Id = group.Key }, tx, cancellationToken: ct)).ConfigureAwait(false);
            var tokens = bucket.Refilled(limit, nowMs);
            var calls = (group.Count() + limit.ItemsPerCall - 1) / limit.ItemsPerCall;
            var granted = nowMs < bucket.BlockedUntil ? 0 : (int)Math.Min(calls, Math.Floor(tokens));
            await conn.ExecuteAsync(new CommandDefinition(
                "UPDATE rate_limits SET tokens = @Tokens, refilled_at = GREATEST(refilled_at, @Now) WHERE destination_id = @Id",
                new { Id = group.Key, Tokens = tokens - granted, Now = nowMs }, tx, cancellationToken: ct)).ConfigureAwait(false);
            admitted[group.Key] = granted * limit.ItemsPerCall;
        }
        var taken = new Dictionary<string, int>(StringComparer.Ordinal);
        return picked.Where(p => !admitted.TryGetValue(p.DestinationId, out var max) || (taken[p.DestinationId] = taken.GetValueOrDefault(p.DestinationId) + 1) <= max).ToList();
    }

    public static async Task ThrottleAsync(PostgresDatabase db, string destinationId, long nowMs, long throttledUntilMs, long blockedUntilMs, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        // Tokens drop to zero as in the in-memory limiter; a new row starts empty (refilled from now).
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO rate_limits (destination_id, tokens, refilled_at, throttled_until, blocked_until)
            VALUES (@Id, 0, @Now, @ThrottledUntil, @BlockedUntil)
            ON CONFLICT (destination_id) DO UPDATE SET tokens = LEAST(rate_limits.tokens, 0),
                throttled_until = GREATEST(rate_limits.throttled_until, excluded.throttled_until),
                blocked_until = GREATEST(rate_limits.blocked_until, excluded.blocked_until)
            """, new { Id = destinationId, Now = nowMs, ThrottledUntil = throttledUntilMs, BlockedUntil = blockedUntilMs }, cancellationToken: ct)).ConfigureAwait(false);
    }

    sealed class Bucket
    {
        public string DestinationId { get; set; } = "";
        public double Tokens { get; set; }
        public long RefilledAt { get; set; }
        public long ThrottledUntil { get; set; }
        public long BlockedUntil { get; set; }

        /// <summary>Tokens now: refilled at the limit's rate (lowered while throttled), up to the limit.</summary>
        public double Refilled(SharedRateLimit l, long nowMs)
        {
            var rate = l.Limit / l.Period.TotalSeconds * (nowMs < ThrottledUntil ? l.ThrottledRateFactor : 1);
            return nowMs > RefilledAt ? Math.Min(Math.Min(l.Limit, 1_000_000), Tokens + (nowMs - RefilledAt) / 1000.0 * rate) : Tokens;
        }
    }
}
