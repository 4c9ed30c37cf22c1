using Dapper;
using Npgsql;

namespace Destinations.Storage.Postgres;

/// <summary>A partition of one instance's log held by this replica, with its persisted cursor.</summary>
public sealed record PartitionLease(string Instance, int Partition, long Seq);

/// <summary>
/// Scale-out on PostgreSQL without row locks: each destination instance's log is split into <see cref="StorageOptions.Partitions"/>
/// partitions by user key (<see cref="UserPartition"/>), and replicas lease whole partitions (<c>cursor_leases</c>), not rows.
/// A replica renews what it holds and takes free or expired partitions up to an equal share of the live replicas
/// (<c>cursor_replicas</c>, a heartbeat); a partition above its share is not renewed, so it passes to another replica when
/// its lease ends. A dead replica's partitions are taken over after their lease. The cursor lives on the lease row and only
/// the current holder can move it (<see cref="AdvanceAsync"/>), so a replica whose lease was taken over cannot move the new
/// holder's cursor. Per-user order (D16) holds because one user's events are in one partition, read by one replica at a time.
/// </summary>
public sealed class PostgresPartitionLeases(PostgresDatabase db, TimeProvider time)
{
    /// <summary>
    /// Makes sure <paramref name="instance"/> has exactly <paramref name="partitions"/> partitions. New partitions of a new
    /// instance start at the head (<see cref="PostgresLogHorizon.CurrentAsync"/>: every event committed later is above it).
    /// When the count changed, the user-to-partition mapping changed with it: the instance's partitions are replaced by the new
    /// count, all starting at the slowest old cursor, so no event is skipped (the events between the slowest and the other
    /// cursors are read again: at-least-once, as after a crash).
    /// </summary>
    public async Task EnsureAsync(string instance, int partitions, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        // Serialises replicas setting up the same instance, so a count change is applied once.
        await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtext('cursor_leases'), hashtext(@Instance))",
            new { Instance = instance }, tx, cancellationToken: ct)).ConfigureAwait(false);
        var existing = (await conn.QueryAsync<(int Partition, long Seq)>(new CommandDefinition(
            "SELECT partition, seq FROM cursor_leases WHERE instance = @Instance", new { Instance = instance }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        if (existing.Count == partitions && existing.All(e => e.Partition < partitions))
        {
            await tx.CommitAsync(ct).ConfigureAwait(false);
            return;
        }
        long start;
        if (existing.Count > 0)
        {
            // A changed count: the old partitions are replaced, all starting at the slowest old cursor.
            start = existing.Min(e => e.Seq);
            await conn.ExecuteAsync(new CommandDefinition("DELETE FROM cursor_leases WHERE instance = @Instance", new { Instance = instance }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }
        else
        {
            // A new instance starts at the horizon. Ingest may create its partitions meanwhile, just before the first event
            // routed to it, in a group the horizon waits for: those rows are committed by the time the insert below runs and
            // must not be deleted (their start is below the horizon: replacing it would skip that group's events for ever).
            // The lower of the two wins.
            start = await PostgresLogHorizon.CurrentAsync(conn, tx, ct).ConfigureAwait(false);
        }
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO cursor_leases (instance, partition, seq, seen_at) SELECT @Instance, p, @Start, @Now FROM generate_series(0, @Last) AS p
            ON CONFLICT (instance, partition) DO UPDATE SET seq = LEAST(cursor_leases.seq, excluded.seq)
            """, new { Instance = instance, Start = start, Last = partitions - 1, Now = time.GetUtcNow().ToUnixTimeMilliseconds() }, tx, cancellationToken: ct)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// One lease round for <paramref name="owner"/> (call it well within <paramref name="lease"/>): heartbeat, renew up to the
    /// equal share, take free or expired partitions up to it. Returns the partitions held until now + lease; the caller reads
    /// only those (a partition it held before and that is not returned is no longer its own).
    /// </summary>
    public async Task<IReadOnlyList<PartitionLease>> AcquireAsync(string owner, TimeSpan lease, CancellationToken ct)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var untilMs = nowMs + (long)lease.TotalMilliseconds;
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO cursor_replicas (owner, until) VALUES (@Owner, @Until) ON CONFLICT (owner) DO UPDATE SET until = excluded.until
            """, new { Owner = owner, Until = untilMs }, tx, cancellationToken: ct)).ConfigureAwait(false);
        // A replica gone for longer than a day is forgotten (it no longer counts anyway: its heartbeat ended).
        await conn.ExecuteAsync(new CommandDefinition("DELETE FROM cursor_replicas WHERE until < @Old",
            new { Old = nowMs - (long)TimeSpan.FromDays(1).TotalMilliseconds }, tx, cancellationToken: ct)).ConfigureAwait(false);
        var (live, total) = await conn.QuerySingleAsync<(long, long)>(new CommandDefinition("""
            SELECT (SELECT COUNT(*) FROM cursor_replicas WHERE until >= @Now), (SELECT COUNT(*) FROM cursor_leases)
            """, new { Now = nowMs }, tx, cancellationToken: ct)).ConfigureAwait(false);
        var share = (int)((total + live - 1) / Math.Max(live, 1));

        // Renew what is held, up to the share, always the same ones first: the rest are left to expire and pass on.
        var held = (await conn.QueryAsync<PartitionLease>(new CommandDefinition("""
            UPDATE cursor_leases SET until = @Until
            WHERE (instance, partition) IN (
                SELECT instance, partition FROM cursor_leases WHERE owner = @Owner AND until >= @Now
                ORDER BY instance, partition LIMIT @Share FOR UPDATE)
            RETURNING instance AS Instance, partition AS Partition, seq AS Seq
            """, new { Owner = owner, Until = untilMs, Now = nowMs, Share = share }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        if (held.Count < share)
        {
            // Free or expired partitions; one another replica is taking right now is skipped, never waited for.
            held.AddRange(await conn.QueryAsync<PartitionLease>(new CommandDefinition("""
                UPDATE cursor_leases SET owner = @Owner, until = @Until
                WHERE (instance, partition) IN (
                    SELECT instance, partition FROM cursor_leases WHERE owner IS NULL OR until < @Now
                    ORDER BY instance, partition LIMIT @Want FOR UPDATE SKIP LOCKED)
                RETURNING instance AS Instance, partition AS Partition, seq AS Seq
                """, new { Owner = owner, Until = untilMs, Now = nowMs, Want = share - held.Count }, tx, cancellationToken: ct)).ConfigureAwait(false));
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return held.OrderBy(l => l.Instance, StringComparer.Ordinal).ThenBy(l => l.Partition).ToList();
    }

    /// <summary>Moves the partition's cursor forward if <paramref name="owner"/> still holds its lease; false when it does not
    /// (the lease ended or was taken over: the caller drops what it read from the partition).</summary>
    public async Task<bool> AdvanceAsync(string owner, string instance, int partition, long seq, CancellationToken ct)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE cursor_leases SET seq = GREATEST(seq, @Seq)
            WHERE instance = @Instance AND partition = @Partition AND owner = @Owner AND until >= @Now
            """, new { Owner = owner, Instance = instance, Partition = partition, Seq = seq, Now = nowMs }, cancellationToken: ct)).ConfigureAwait(false) == 1;
    }

    /// <summary>
    /// Marks the <paramref name="configured"/> instances' partitions as seen and drops those of instances not configured for
    /// <see cref="Sqlite.SqliteLog.RemovedInstanceGrace"/> (7 days), so a removed instance's cursors no longer hold the log's
    /// retention back nor count in the replicas' shares; if it comes back later, it starts at the head. Returns the partitions
    /// dropped. Every replica may call it (its configuration is the same: no mixed versions).
    /// </summary>
    public async Task<int> TouchConfiguredAsync(IReadOnlyCollection<string> configured, CancellationToken ct)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        var ids = configured.ToArray();
        await conn.ExecuteAsync(new CommandDefinition("UPDATE cursor_leases SET seen_at = @Now WHERE instance = ANY(@Ids)",
            new { Now = nowMs, Ids = ids }, tx, cancellationToken: ct)).ConfigureAwait(false);
        var dropped = await conn.ExecuteAsync(new CommandDefinition("DELETE FROM cursor_leases WHERE NOT instance = ANY(@Ids) AND seen_at < @Before",
            new { Ids = ids, Before = nowMs - (long)Sqlite.SqliteLog.RemovedInstanceGrace.TotalMilliseconds }, tx, cancellationToken: ct)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return dropped;
    }

    /// <summary>Gives up every partition of <paramref name="owner"/> and its heartbeat (an orderly stop): the others take them
    /// at once instead of after the lease.</summary>
    public async Task ReleaseAsync(string owner, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE cursor_leases SET owner = NULL, until = 0 WHERE owner = @Owner;
            DELETE FROM cursor_replicas WHERE owner = @Owner;
            """, new { Owner = owner }, cancellationToken: ct)).ConfigureAwait(false);
    }
}

/// <summary>D16 across replicas: a user key maps to one partition of an instance's log, so one replica at a time reads its events.</summary>
public static class UserPartition
{
    /// <summary>The partition of <paramref name="userKey"/> among <paramref name="partitions"/>: the signed 64-bit FNV-1a of
    /// the key (stable across processes and versions, unlike string.GetHashCode) modulo the count, made non-negative — the
    /// same as SQL's <c>((h % p) + p) % p</c> on the stored hash. Events without a user key go to 0.</summary>
    public static int Of(string? userKey, int partitions)
    {
        if (partitions <= 1 || string.IsNullOrEmpty(userKey)) return 0;
        var h = Hash(userKey);
        return (int)(((h % partitions) + partitions) % partitions);
    }

    /// <summary>The user key's hash as stored for the partition (the messageId hash's function, D5).</summary>
    public static long Hash(string userKey) => Sqlite.LogRoutes.Hash(userKey);

    /// <summary>The stored <c>user_hash</c>: null for no (or an empty) user key, which <see cref="Of"/> puts in partition 0.</summary>
    public static long? HashOrNull(string? userKey) => string.IsNullOrEmpty(userKey) ? null : Hash(userKey);

    /// <summary>The SQL of <see cref="Of"/> on the stored hash (<c>user_hash</c>, of table alias <paramref name="alias"/>) for
    /// a partition count bound as <paramref name="count"/>.</summary>
    public static string Sql(string alias, string count) =>
        $"COALESCE(((({alias}.user_hash % {count}) + {count}) % {count})::int, 0)";
}
