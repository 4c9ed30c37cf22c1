using Npgsql;

namespace Destinations.Storage.Postgres;

/// <summary>
/// How far a reader of the PostgreSQL event log may move a cursor without ever skipping an event: the highest seq at or below
/// which every number drawn is committed (and visible to a later read) or rolled back for good.
/// </summary>
/// <remarks>
/// Ingest takes a shared marker lock before it draws its sequence numbers and holds it to its end (PostgresGroupWriter). A
/// sample reads the sequence's last drawn value H, then the transactions holding the marker (<c>pg_locks</c>, which is not
/// MVCC: a granted lock shows at once). Every number up to H was drawn by a transaction that held the marker then: it is
/// either in that set or already ended, and a lock is released only after its commit is visible. So H is safe once every
/// transaction of the set has ended: at once when the set is empty, else at a later sample that no longer sees any of them.
/// Writers never wait for each other or for readers; a reader trails the head by about one ingest transaction. Markers are
/// per schema (the second key is the schema's name hashed), so ingest into another schema of the same database does not
/// delay the horizon (a hash collision only could, never make it unsafe).
/// The events sequence must not cache numbers (CACHE 1, bigserial's default): a session's cached numbers are counted in H
/// before they are drawn, and one drawn later under a new marker would fall below a horizon already passed.
/// The log must be read on the primary, in a statement whose snapshot is taken after the sample (READ COMMITTED, or a
/// transaction begun after it): an older snapshot would not yet see commits the sample counts as ended.
/// Not thread-safe: one per reader.
/// </remarks>
public sealed class PostgresLogHorizon
{
    internal const string LastDrawn = "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass), 0)";
    internal static readonly string Writers = $"""
        SELECT virtualtransaction FROM pg_locks
        WHERE locktype = 'advisory' AND classid = {(uint)PostgresGroupWriter.MarkerKey1} AND objid = ({PostgresGroupWriter.MarkerKey2})::oid
          AND objsubid = 2 AND granted
        """;

    long _safe;
    long _candidate;
    HashSet<string>? _waitingFor;

    /// <summary>The last horizon computed.</summary>
    public long Safe => _safe;

    /// <summary>Samples the writers on <paramref name="conn"/> (two statements, one round trip) and returns the horizon.</summary>
    public async Task<long> AdvanceAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct)
    {
        long drawn;
        var writers = new HashSet<string>(StringComparer.Ordinal);
        await using (var batch = new NpgsqlBatch(conn, tx))
        {
            // In this order: the value first, then the marker holders (a batch runs its statements in order).
            batch.BatchCommands.Add(new NpgsqlBatchCommand(LastDrawn));
            batch.BatchCommands.Add(new NpgsqlBatchCommand(Writers));
            await using var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            drawn = reader.GetInt64(0);
            await reader.NextResultAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) writers.Add(reader.GetString(0));
        }
        return Apply(drawn, writers);
    }

    /// <summary>Takes a sample read elsewhere: <see cref="LastDrawn"/>'s value, then the rows of <see cref="Writers"/>, run in
    /// that order in one round trip (a claim adds them to its first batch).</summary>
    internal long Apply(long drawn, IReadOnlySet<string> writers)
    {
        if (_waitingFor is not null && !_waitingFor.Overlaps(writers))
        {
            _safe = Math.Max(_safe, _candidate);
            _waitingFor = null;
        }
        if (writers.Count == 0)
        {
            _safe = Math.Max(_safe, drawn);
            _waitingFor = null;
        }
        else if (_waitingFor is null && drawn > _safe)
        {
            _candidate = drawn;
            _waitingFor = writers.ToHashSet(StringComparer.Ordinal);
        }
        return _safe;
    }

    /// <summary>Samples until every number drawn before the call is safe (ingest transactions are short: milliseconds), and
    /// returns the horizon: a seq no event committed later can be at or below.</summary>
    public static async Task<long> CurrentAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct)
    {
        var horizon = new PostgresLogHorizon();
        await horizon.AdvanceAsync(conn, tx, ct).ConfigureAwait(false);
        while (horizon._waitingFor is not null)
        {
            await Task.Delay(5, ct).ConfigureAwait(false);
            await horizon.AdvanceAsync(conn, tx, ct).ConfigureAwait(false);
        }
        return horizon._safe;
    }
}
