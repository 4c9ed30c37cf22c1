using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Destinations.Storage.Postgres;

/// <summary>
/// Writes one group of accepted events in ONE transaction with set-based statements (unnest arrays), two round trips and one
/// commit: (1) the ingest marker, the dedupe locks and look-ups (D5) and the sequence numbers (a block per value drawn); (2) ONE log row per accepted
/// event (docs/storage.md) carrying what routing decided for it (instances and subscriptions, router filter reasons), the
/// hash of its messageId (D5) and of its user key (its partition), plus the filter and duplicate counters (D8, D5). No
/// delivery row and no dedupe row: each partition of a destination instance is read from its cursor, and the log row itself
/// is the dedupe record (also for an event routed nowhere). Keys are sorted so two replicas lock them in the same order.
/// </summary>
/// <remarks>
/// A sequence number becomes visible at its transaction's commit, not in the order it was drawn, so a cursor that moved past
/// the highest seq it saw could skip one committed later. Each group therefore first takes the shared ingest marker
/// (<see cref="MarkerKey1"/> and <see cref="MarkerKey2"/>, the hash of the schema's name: a transaction-scoped shared advisory
/// lock, so writers never wait for each other, and ingest into another schema of the database never delays this one's readers) and only then draws its numbers; <see cref="PostgresLogHorizon"/> reads the log only up to a seq below which no
/// marker holder can still commit (docs/storage.md, "PostgreSQL").
/// Dedupe (D5) needs the look-up and the insert of one messageId to be atomic across concurrent groups and replicas (there is
/// no unique index to serialise them): each group takes a transaction-scoped advisory lock per messageId hash, in hash
/// order, before it looks; a group with the same id waits for the first one's commit and then sees its row.
/// </remarks>
static class PostgresGroupWriter
{
    /// <summary>The ingest marker, <c>pg_advisory_xact_lock_shared(MarkerKey1, MarkerKey2)</c>: held by every ingest
    /// transaction from before it draws sequence numbers until it ends.</summary>
    public const int MarkerKey1 = 0x44657374; // "Dest"
    /// <summary>The marker's second key: the schema's (each store's tables live in one schema).</summary>
    public const string MarkerKey2 = "hashtext(current_schema())";

    /// <summary>How long a group writer trusts that an instance's partitions exist before it makes sure again (a removed
    /// instance's are dropped after a grace period; if it comes back, ingest creates them again at the head).</summary>
    const long KnownInstanceMs = 60_000;

    /// <summary>The D5 look-up of a group's messageId hashes in the log ($1 the hashes, $2 the window's start, Unix ms).</summary>
    /// <remarks>
    /// One index probe per hash, whatever the planner knows about the log. Written as <c>id_hash = ANY($1)</c>, a log that
    /// has not been analysed yet (a new database: autovacuum analyses it only after a minute or more) is estimated with the
    /// planner's defaults, 0.5% of the rows per hash, so a third or more of the table for a group of 100 to 256 hashes, and
    /// the planner chose a sequential scan of the whole log for every group: ingest slowed as the log grew until the first
    /// ANALYZE. The lateral subquery (kept apart by OFFSET 0, so it is not flattened into a join the planner could hash)
    /// looks up one hash at a time, and one value's default estimate is small enough that the index wins at any table size.
    /// </remarks>
    internal const string DedupeLookUp = """
        SELECT e.source_id, e.message_id FROM unnest($1::bigint[]) AS u(h)
        CROSS JOIN LATERAL (SELECT source_id, message_id FROM events WHERE id_hash = u.h AND accepted_at > $2 OFFSET 0) AS e
        """;

    /// <summary>Sequence numbers per <c>nextval</c>: the events sequence is incremented by this (schema version 10), so a
    /// group draws one value per block of events instead of one per event (about 5 µs of the server's CPU each, the largest
    /// ingest statement after the insert). A value v stands for v − SeqBlock + 1 … v; the numbers a group leaves unused are
    /// gaps, as a rolled-back group's are. The horizon stays sound: every number of a block is drawn, with its top, by a
    /// transaction holding the ingest marker (PostgresLogHorizon).</summary>
    internal const int SeqBlock = 256;

    /// <summary>Counter shards per key: more than the group commits that can run at once (four per replica), so a free one
    /// is found unless more than that many groups of every replica are between their counter update and their commit.</summary>
    internal const int CounterShards = 64;

    /// <summary>The first counter shard whose lock this transaction can take without waiting (or already holds): the lock
    /// <c>(CounterShardKey1, hashtext(current_schema()) # shard)</c>, taken for the transaction, is what entitles it to write
    /// that shard's counter rows. When every shard is taken (more concurrent groups than shards), shard 0: that group then
    /// waits for the row, as every group did before the shards.</summary>
    /// <remarks>
    /// One row per (instance, reason, day) made every ingest group that filtered events for an instance update the same row,
    /// and each held it locked until its commit (an fsync), so concurrent groups and replicas committed one after another
    /// (docs/benchmarks.md: up to 276 ms per call). With a shard each, they never touch the same row: the stats sum the
    /// shards. The lowest free shard is taken, so a key has about as many rows as groups ever ran at once.
    /// A Function Scan under LIMIT 1 stops at the first row that passes, so no further lock is tried after the one taken.
    /// </remarks>
    static readonly string Shard = $"""
        COALESCE((SELECT n FROM generate_series(0, {CounterShards - 1}) AS n
            WHERE pg_try_advisory_xact_lock({CounterShardKey1}, hashtext(current_schema()) # n) LIMIT 1), 0)
        """;

    /// <summary>The counter shards' lock space (first key of the two-key advisory lock).</summary>
    internal const int CounterShardKey1 = 0x436E7472; // "Cntr"

    /// <summary>Adds a group's router filter counts ($1 instances, $2 reason codes, $3 the day, $4 counts) to its shard.</summary>
    internal static readonly string FilterCountsUpsert = $"""
        INSERT INTO filter_counts (destination_id, reason, day, shard, count)
        SELECT d, r, $3, ({Shard}), c FROM unnest($1::text[], $2::text[], $4::bigint[]) AS u(d, r, c)
        ON CONFLICT (destination_id, reason, day, shard) DO UPDATE SET count = filter_counts.count + excluded.count
        """;

    /// <summary>Adds a group's duplicate counts ($1 instances, $2 the day, $3 counts) to its shard.</summary>
    internal static readonly string DuplicateCountsUpsert = $"""
        INSERT INTO duplicate_counts (destination_id, day, shard, count)
        SELECT d, $2, ({Shard}), c FROM unnest($1::text[], $3::bigint[]) AS u(d, c)
        ON CONFLICT (destination_id, day, shard) DO UPDATE SET count = duplicate_counts.count + excluded.count
        """;

    public static async Task<AcceptStatus[][]> WriteAsync(NpgsqlConnection conn, IReadOnlyList<IReadOnlyList<IncomingEvent>> requests,
        DateTimeOffset now, TimeSpan dedupeWindow, CancellationToken ct, int partitions = 4,
        System.Collections.Concurrent.ConcurrentDictionary<string, long>? knownInstances = null, Action? partitionsCreated = null)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var sinceMs = (now - dedupeWindow).ToUnixTimeMilliseconds();
        var day = StoredValues.Day(now);
        var all = requests.SelectMany((events, r) => events.Select((e, i) => (R: r, I: i, E: e))).ToList();
        var results = requests.Select(r => new AcceptStatus[r.Count]).ToArray();

        // In-group duplicates are found here; the others are looked up in the log by hash (confirmed on the full id).
        var seenInGroup = new HashSet<(string, string)>();
        var inGroupDuplicate = all.Select(x => x.E.Event.MessageId.Length > 0 && !seenInGroup.Add((x.E.SourceId, x.E.Event.MessageId))).ToArray();
        var keys = seenInGroup.ToList();
        var hashes = keys.Select(k => Sqlite.LogRoutes.Hash(k.Item2)).Distinct().Order().ToArray();
        var needSeq = inGroupDuplicate.Count(d => !d);

        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        var seen = new HashSet<(string, string)>();
        var seqs = new List<long>();
        await using (var first = new NpgsqlBatch(conn, tx))
        {
            // Before any number is drawn (a batch runs its statements in order).
            first.BatchCommands.Add(Command($"SELECT pg_advisory_xact_lock_shared({MarkerKey1}, {MarkerKey2})"));
            first.BatchCommands.Add(Command("SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT h FROM unnest($1::bigint[]) AS u(h) ORDER BY h) AS l", hashes));
            first.BatchCommands.Add(Command(DedupeLookUp, hashes, sinceMs));
            // Written by the store before the log: read only, until its records expire and the retention empties it.
            first.BatchCommands.Add(Command("""
                SELECT d.source_id, d.message_id FROM dedupe d JOIN unnest($1::text[], $2::text[]) AS u(s, m)
                    ON d.source_id = u.s AND d.message_id = u.m
                WHERE d.expires_at > $3
                """, keys.Select(k => k.Item1).ToArray(), keys.Select(k => k.Item2).ToArray(), nowMs));
            first.BatchCommands.Add(Command("SELECT nextval(pg_get_serial_sequence('events', 'seq')) FROM generate_series(1, $1)",
                (needSeq + SeqBlock - 1) / SeqBlock));
            await using var reader = await first.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.NextResultAsync(ct).ConfigureAwait(false); // the marker
            await reader.NextResultAsync(ct).ConfigureAwait(false); // the locks
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) seen.Add((reader.GetString(0), reader.GetString(1)));
            await reader.NextResultAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) seen.Add((reader.GetString(0), reader.GetString(1)));
            await reader.NextResultAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) seqs.Add(reader.GetInt64(0));
        }
        // Each value drawn is the top of a block of SeqBlock numbers, all of them drawn by this transaction; in ingest order
        // (D16 in docs/decisions.md): earlier events get smaller sequence numbers.
        seqs = seqs.Order().SelectMany(top => Enumerable.Range(0, SeqBlock).Select(k => top - SeqBlock + 1 + k)).ToList();

        var ev = new EventColumns();
        var filters = new SortedDictionary<(string, string), long>();
        var duplicates = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var firstOf = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var nextSeq = 0;
        for (var n = 0; n < all.Count; n++)
        {
            var (r, i, incoming) = all[n];
            var e = incoming.Event;
            if (inGroupDuplicate[n]) goto duplicate;
            var seq = seqs[nextSeq++];
            if (e.MessageId.Length > 0 && seen.Contains((incoming.SourceId, e.MessageId))) goto duplicate;
            results[r][i] = AcceptStatus.Stored;
            foreach (var filter in incoming.Routing.Filtered)
                filters[(filter.DestinationId, filter.Reason.Code)] = filters.GetValueOrDefault((filter.DestinationId, filter.Reason.Code)) + 1;
            // Routed nowhere too: its log row is its dedupe record.
            ev.Add(seq, incoming, StoredValues.ReceivedAtMs(e, nowMs));
            foreach (var delivery in incoming.Routing.Deliveries)
                if (!firstOf.ContainsKey(delivery.DestinationId)) firstOf[delivery.DestinationId] = seq;
            continue;
        duplicate:
            foreach (var destination in incoming.Routing.Deliveries.Select(d => d.DestinationId).Distinct(StringComparer.Ordinal))
                duplicates[destination] = duplicates.GetValueOrDefault(destination) + 1;
            results[r][i] = AcceptStatus.Duplicate;
        }
        // A new instance's partitions start just before the first event routed to it (it gets what is accepted from then on).
        // A group that drew a smaller seq for the same new instance may commit later: it lowers them (never below a cursor the
        // holder moved: a holder reads only up to the horizon, below every seq of a group still running). An instance with a
        // partition below this group's start is not new: nothing is added, so a changed partition count is applied by
        // PostgresPartitionLeases.EnsureAsync from the slowest old cursor (new partitions created here, at this group's
        // start, would make the count look right and skip the backlog of the users they now hold).
        var fresh = firstOf.Where(f => knownInstances is null || !knownInstances.TryGetValue(f.Key, out var at) || nowMs - at > KnownInstanceMs || nowMs < at).ToList();

        await using (var second = new NpgsqlBatch(conn, tx))
        {
            second.BatchCommands.Add(Command("""
                INSERT INTO events (seq, source_id, message_id, type, user_key, received_at, body, routes, filtered, id_hash, user_hash, accepted_at)
                SELECT s, src, m, t, u, r, b, rt, f, h, uh, $12 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                    $6::bigint[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[]) AS x(s, src, m, t, u, r, b, rt, f, h, uh)
                """, ev.Seq.ToArray(), ev.Source.ToArray(), ev.Message.ToArray(), ev.Type.ToArray(), ev.UserKey.ToArray(), ev.ReceivedAt.ToArray(),
                ev.Body.ToArray(), ev.Routes.ToArray(), ev.Filtered.ToArray(), ev.IdHash.ToArray(), ev.UserHash.ToArray(), nowMs));
            if (fresh.Count > 0)
                second.BatchCommands.Add(Command("""
                    INSERT INTO cursor_leases (instance, partition, seq, seen_at)
                    SELECT i, p, s, $3 FROM unnest($1::text[], $2::bigint[]) AS u(i, s) CROSS JOIN generate_series(0, $4 - 1) AS p
                    WHERE NOT EXISTS (SELECT 1 FROM cursor_leases c WHERE c.instance = u.i AND c.seq < u.s)
                    ORDER BY i, p
                    ON CONFLICT (instance, partition) DO UPDATE SET seq = excluded.seq WHERE excluded.seq < cursor_leases.seq
                    """, fresh.Select(f => f.Key).ToArray(), fresh.Select(f => f.Value - 1).ToArray(), nowMs, partitions));
            if (filters.Count > 0)
                second.BatchCommands.Add(Command(FilterCountsUpsert, filters.Keys.Select(k => k.Item1).ToArray(),
                    filters.Keys.Select(k => k.Item2).ToArray(), day, filters.Values.ToArray()));
            if (duplicates.Count > 0)
                second.BatchCommands.Add(Command(DuplicateCountsUpsert, duplicates.Keys.ToArray(), day, duplicates.Values.ToArray()));
            await second.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
        if (knownInstances is not null)
            foreach (var f in fresh) knownInstances[f.Key] = nowMs;
        if (fresh.Count > 0) partitionsCreated?.Invoke();
        return results;
    }

    static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        foreach (var v in values)
            cmd.Parameters.Add(v is string?[] texts ? new NpgsqlParameter { Value = texts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text } : new NpgsqlParameter { Value = v });
        return cmd;
    }


    sealed class EventColumns
    {
        public List<long> Seq { get; } = [];
        public List<string> Source { get; } = [];
        public List<string> Message { get; } = [];
        public List<string> Type { get; } = [];
        public List<string?> UserKey { get; } = [];
        public List<long> ReceivedAt { get; } = [];
        public List<string> Body { get; } = [];
        public List<string?> Routes { get; } = [];
        public List<string?> Filtered { get; } = [];
        public List<long?> IdHash { get; } = [];
        public List<long?> UserHash { get; } = [];

        public void Add(long seq, IncomingEvent incoming, long receivedAt)
        {
            Seq.Add(seq);
            Source.Add(incoming.SourceId);
            Message.Add(incoming.Event.MessageId);
            Type.Add(incoming.Event.Type);
            UserKey.Add(incoming.Event.UserKey);
            ReceivedAt.Add(receivedAt);
            // Routed nowhere: the row is only its dedupe record and the router's reasons (nothing ever reads its body).
            Body.Add(incoming.Routing.Deliveries.Count > 0 ? incoming.Event.ToJsonString() : "");
            Routes.Add(Sqlite.LogRoutes.Encode(incoming.Routing.Deliveries));
            Filtered.Add(Sqlite.LogRoutes.EncodeFiltered(incoming.Routing.Filtered));
            IdHash.Add(incoming.Event.MessageId.Length > 0 ? Sqlite.LogRoutes.Hash(incoming.Event.MessageId) : null);
            UserHash.Add(UserPartition.HashOrNull(incoming.Event.UserKey));
        }
    }

}
