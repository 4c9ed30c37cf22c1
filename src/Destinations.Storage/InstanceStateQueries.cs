using System.Data.Common;
using Dapper;

namespace Destinations.Storage;

/// <summary>
/// Reads and writes <c>destination_state</c> rows (D12 pause, circuit breaker) inside the caller's transaction, for both
/// stores (same columns, times as Unix ms). Only the statement that adds a hold's length to the held rows differs
/// (<c>MAX</c> / <c>GREATEST</c>): SqliteInstanceStates and PostgresInstanceStates supply it.
/// </summary>
static class InstanceStateQueries
{
    public const string Columns = """
        destination_id AS DestinationId, hold AS Hold, held_since AS HeldSince, hold_reason AS HoldReason,
        next_probe_at AS NextProbeAt, probe_failures AS ProbeFailures, consecutive_failures AS ConsecutiveFailures,
        first_failure_at AS FirstFailureAt, last_error AS LastError, last_error_at AS LastErrorAt
        """;

    public static async Task<InstanceState> ReadAsync(DbConnection conn, DbTransaction? tx, string destinationId, CancellationToken ct)
    {
        var row = await conn.QuerySingleOrDefaultAsync<StateRow>(new CommandDefinition(
            $"SELECT {Columns} FROM destination_state WHERE destination_id = @Id", new { Id = destinationId }, tx, cancellationToken: ct)).ConfigureAwait(false);
        return row?.ToState() ?? InstanceState.Initial(destinationId);
    }

    const string SelectAll = $"SELECT {Columns} FROM destination_state ORDER BY destination_id";

    /// <summary>The held instances (D12 pause, breaker) in id order.</summary>
    public const string SelectHeld = $"SELECT {Columns} FROM destination_state WHERE hold IS NOT NULL ORDER BY destination_id";

    public static async Task<List<InstanceState>> ReadAllAsync(DbConnection conn, DbTransaction? tx, bool heldOnly, CancellationToken ct) =>
        (await conn.QueryAsync<StateRow>(new CommandDefinition(heldOnly ? SelectHeld : SelectAll,
            transaction: tx, cancellationToken: ct)).ConfigureAwait(false)).Select(r => r.ToState()).ToList();

    /// <summary>Writes <paramref name="next"/>; when a hold ends, adds its length to every pending row's held time (D13).</summary>
    /// <param name="addHeldTimeSql">The provider's statement for that (parameters <c>@Now</c>, <c>@Since</c>, <c>@Id</c>).</param>
    public static async Task WriteAsync(DbConnection conn, DbTransaction tx, InstanceState before, InstanceState next, DateTimeOffset now,
        string addHeldTimeSql, CancellationToken ct)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO destination_state (destination_id, hold, held_since, hold_reason, next_probe_at, probe_failures,
                consecutive_failures, first_failure_at, last_error, last_error_at, updated_at)
            VALUES (@DestinationId, @Hold, @HeldSince, @HoldReason, @NextProbeAt, @ProbeFailures, @ConsecutiveFailures,
                @FirstFailureAt, @LastError, @LastErrorAt, @Now)
            ON CONFLICT (destination_id) DO UPDATE SET hold = excluded.hold, held_since = excluded.held_since,
                hold_reason = excluded.hold_reason, next_probe_at = excluded.next_probe_at, probe_failures = excluded.probe_failures,
                consecutive_failures = excluded.consecutive_failures, first_failure_at = excluded.first_failure_at,
                last_error = excluded.last_error, last_error_at = excluded.last_error_at, updated_at = excluded.updated_at
            """, new
        {
            next.DestinationId,
            Hold = HoldName(next.Hold),
            HeldSince = Ms(next.HeldSince),
            next.HoldReason,
            NextProbeAt = Ms(next.NextProbeAt),
            next.ProbeFailures,
            next.ConsecutiveFailures,
            FirstFailureAt = Ms(next.FirstFailureAt),
            next.LastError,
            LastErrorAt = Ms(next.LastErrorAt),
            Now = nowMs,
        }, tx, cancellationToken: ct)).ConfigureAwait(false);

        if (before is { IsHeld: true, HeldSince: { } since } && !next.IsHeld)
            await conn.ExecuteAsync(new CommandDefinition(addHeldTimeSql,
                new { Now = nowMs, Since = since.ToUnixTimeMilliseconds(), Id = next.DestinationId }, tx, cancellationToken: ct)).ConfigureAwait(false);
    }

    static long? Ms(DateTimeOffset? t) => t is { } v ? v.ToUnixTimeMilliseconds() : null;

    static string? HoldName(InstanceHold hold) => hold switch
    {
        InstanceHold.Paused => "paused",
        InstanceHold.BreakerOpen => "breaker",
        _ => null,
    };

    /// <summary>A <c>destination_state</c> row as read with <see cref="Columns"/>.</summary>
    public sealed class StateRow
    {
        public string DestinationId { get; set; } = "";
        public string? Hold { get; set; }
        public long? HeldSince { get; set; }
        public string? HoldReason { get; set; }
        public long? NextProbeAt { get; set; }
        public long ProbeFailures { get; set; }
        public long ConsecutiveFailures { get; set; }
        public long? FirstFailureAt { get; set; }
        public string? LastError { get; set; }
        public long? LastErrorAt { get; set; }

        public InstanceState ToState() => new(DestinationId,
            Hold switch { "paused" => InstanceHold.Paused, "breaker" => InstanceHold.BreakerOpen, _ => InstanceHold.None },
            T(HeldSince), HoldReason, T(NextProbeAt), (int)ProbeFailures, (int)ConsecutiveFailures, T(FirstFailureAt), LastError, T(LastErrorAt));

        static DateTimeOffset? T(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;
    }
}
