using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Destinations.Storage.Postgres;

/// <summary>
/// Writes one group of accepted events in ONE transaction with set-based statements (unnest arrays), so a group of 256
/// events costs two round trips and one commit: (1) the dedupe upsert (D5) whose RETURNING names the new keys; (2) under the
/// log lock (<see cref="LogLockKey"/>), a block of sequence numbers, the events and deliveries (D7) in one statement, and the
/// counters (D8, D5). Keys are sorted so two replicas writing the same counters lock them in the same order (no deadlock).
/// </summary>
/// <remarks>
/// Sequence numbers commit in order: a group takes the transaction-scoped advisory lock before it draws its block and holds
/// it until its commit, and PostgreSQL releases a transaction's locks only after its commit is visible. So whenever a reader
/// sees seq s, every smaller seq is committed (and visible to it) or was rolled back for good, and a cursor that moves past
/// what it read never skips an event committed later (docs/storage.md, "PostgreSQL"). Replicas share the lock, so this
/// holds across processes. Only this writer draws from the events sequence; the block is contiguous because no one else
/// can draw while the lock is held.
/// </remarks>
static class PostgresGroupWriter
{
    /// <summary>Key of the transaction-scoped advisory lock under which ingest draws sequence numbers and commits.</summary>
    public const long LogLockKey = 0x44657374_4C6F6753; // "DestLogS"

    public static async Task<AcceptStatus[][]> WriteAsync(NpgsqlConnection conn, IReadOnlyList<IReadOnlyList<IncomingEvent>> requests,
        DateTimeOffset now, TimeSpan dedupeWindow, CancellationToken ct)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var day = StoredValues.Day(now);
        var all = requests.SelectMany((events, r) => events.Select((e, i) => (R: r, I: i, E: e))).ToList();
        var results = requests.Select(r => new AcceptStatus[r.Count]).ToArray();

        // In-group duplicates are found here; the rest are candidates for the dedupe upsert.
        var seenInGroup = new HashSet<(string, string)>();
        var inGroupDuplicate = all.Select(x => x.E.Event.MessageId.Length > 0 && !seenInGroup.Add((x.E.SourceId, x.E.Event.MessageId))).ToArray();
        var keys = seenInGroup.OrderBy(k => k.Item1, StringComparer.Ordinal).ThenBy(k => k.Item2, StringComparer.Ordinal).ToList();

        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        var fresh = new HashSet<(string, string)>();
        await using (var first = new NpgsqlBatch(conn, tx))
        {
            first.BatchCommands.Add(Command("""
                INSERT INTO dedupe (source_id, message_id, expires_at)
                SELECT s, m, $3 FROM unnest($1::text[], $2::text[]) AS u(s, m)
                ON CONFLICT (source_id, message_id) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe.expires_at <= $4
                RETURNING source_id, message_id
                """, keys.Select(k => k.Item1).ToArray(), keys.Select(k => k.Item2).ToArray(), (nowMs + (long)dedupeWindow.TotalMilliseconds), nowMs));
            await using var reader = await first.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) fresh.Add((reader.GetString(0), reader.GetString(1)));
        }

        var ev = new EventColumns();
        var dl = new DeliveryColumns();
        var filters = new SortedDictionary<(string, string), long>();
        var duplicates = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var n = 0; n < all.Count; n++)
        {
            var (r, i, incoming) = all[n];
            var e = incoming.Event;
            if (inGroupDuplicate[n] || (e.MessageId.Length > 0 && !fresh.Contains((incoming.SourceId, e.MessageId))))
            {
                foreach (var destination in incoming.Routing.Deliveries.Select(d => d.DestinationId).Distinct(StringComparer.Ordinal))
                    duplicates[destination] = duplicates.GetValueOrDefault(destination) + 1;
                results[r][i] = AcceptStatus.Duplicate;
                continue;
            }
            results[r][i] = AcceptStatus.Stored;
            foreach (var filter in incoming.Routing.Filtered)
                filters[(filter.DestinationId, filter.Reason.Code)] = filters.GetValueOrDefault((filter.DestinationId, filter.Reason.Code)) + 1;
            if (incoming.Routing.Deliveries.Count == 0) continue;
            // Ingest order (D16 in docs/decisions.md): the n-th stored event of the group gets the n-th number of its block.
            var seq = ev.Source.Count;
            ev.Add(incoming, StoredValues.ReceivedAtMs(e, nowMs));
            foreach (var delivery in incoming.Routing.Deliveries) dl.Add(seq, delivery.DestinationId, delivery.Subscription);
        }

        await using (var second = new NpgsqlBatch(conn, tx))
        {
            second.BatchCommands.Add(Command("""
                INSERT INTO filter_counts (destination_id, reason, day, count)
                SELECT d, r, $3, c FROM unnest($1::text[], $2::text[], $4::bigint[]) AS u(d, r, c)
                ON CONFLICT (destination_id, reason, day) DO UPDATE SET count = filter_counts.count + excluded.count
                """, filters.Keys.Select(k => k.Item1).ToArray(), filters.Keys.Select(k => k.Item2).ToArray(), day, filters.Values.ToArray()));
            second.BatchCommands.Add(Command("""
                INSERT INTO duplicate_counts (destination_id, day, count)
                SELECT d, $2, c FROM unnest($1::text[], $3::bigint[]) AS u(d, c)
                ON CONFLICT (destination_id, day) DO UPDATE SET count = duplicate_counts.count + excluded.count
                """, duplicates.Keys.ToArray(), day, duplicates.Values.ToArray()));
            if (ev.Source.Count > 0)
            {
                // Last in the transaction, after the counters: the lock is held only for the events' insert and the commit.
                second.BatchCommands.Add(Command($"SELECT pg_advisory_xact_lock({LogLockKey})"));
                // One statement: the block (its first number is nextval, the sequence moved to its last), the events at
                // block + index, the deliveries at block + their event's index.
                second.BatchCommands.Add(Command("""
                    WITH block AS MATERIALIZED (
                        SELECT setval(pg_get_serial_sequence('events', 'seq'), nextval(pg_get_serial_sequence('events', 'seq')) + $11 - 1) - $11 + 1 AS first),
                    ev AS (
                        INSERT INTO events (seq, source_id, message_id, type, user_key, received_at, body)
                        SELECT block.first + u.i - 1, u.s, u.m, u.t, u.k, u.r, u.b
                        FROM block, unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY AS u(s, m, t, k, r, b, i))
                    INSERT INTO deliveries (event_seq, destination_id, subscription, status, attempts, next_attempt_at, created_at, updated_at)
                    SELECT block.first + u.i, u.d, u.sub, 'pending', 0, $10, $10, $10 FROM block, unnest($7::bigint[], $8::text[], $9::text[]) AS u(i, d, sub)
                    ON CONFLICT (event_seq, destination_id, subscription) DO NOTHING
                    """, ev.Source.ToArray(), ev.Message.ToArray(), ev.Type.ToArray(), ev.UserKey.ToArray(), ev.ReceivedAt.ToArray(), ev.Body.ToArray(),
                    dl.Seq.ToArray(), dl.Destination.ToArray(), dl.Subscription.ToArray(), nowMs, (long)ev.Source.Count));
            }
            await second.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
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
        public List<string> Source { get; } = [];
        public List<string> Message { get; } = [];
        public List<string> Type { get; } = [];
        public List<string?> UserKey { get; } = [];
        public List<long> ReceivedAt { get; } = [];
        public List<string> Body { get; } = [];

        public void Add(IncomingEvent incoming, long receivedAt)
        {
            Source.Add(incoming.SourceId);
            Message.Add(incoming.Event.MessageId);
            Type.Add(incoming.Event.Type);
            UserKey.Add(incoming.Event.UserKey);
            ReceivedAt.Add(receivedAt);
            Body.Add(incoming.Event.ToJsonString());
        }
    }

    sealed class DeliveryColumns
    {
        /// <summary>The event's index in the group's block (0-based).</summary>
        public List<long> Seq { get; } = [];
        public List<string> Destination { get; } = [];
        public List<string> Subscription { get; } = [];

        public void Add(long seq, string destination, string subscription)
        {
            Seq.Add(seq);
            Destination.Add(destination);
            Subscription.Add(subscription);
        }
    }
}
