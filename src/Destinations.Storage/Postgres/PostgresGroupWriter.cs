using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Destinations.Storage.Postgres;

/// <summary>
/// Writes one group of accepted events in ONE transaction with set-based statements (unnest arrays), so a group of 256
/// events costs two round trips and one commit: (1) the dedupe upsert (D5) whose RETURNING names the new keys, plus the event
/// sequence numbers; (2) events, deliveries (D7) and counters (D8, D5). Keys are sorted so two replicas writing the same
/// counters lock them in the same order (no deadlock).
/// </summary>
/// <remarks>
/// A sequence number becomes visible at its transaction's commit, not in the order it was drawn, so a cursor that moved past
/// the highest seq it saw could skip one committed later. Each group therefore first takes the shared ingest marker
/// (<see cref="MarkerKey1"/>, <see cref="MarkerKey2"/>: a transaction-scoped shared advisory lock, so writers never wait for
/// each other) and only then draws its numbers; <see cref="PostgresLogHorizon"/> reads the log only up to a seq below which no
/// marker holder can still commit (docs/storage.md, "PostgreSQL").
/// </remarks>
static class PostgresGroupWriter
{
    /// <summary>The ingest marker, <c>pg_advisory_xact_lock_shared(MarkerKey1, MarkerKey2)</c>: held by every ingest
    /// transaction from before it draws sequence numbers until it ends.</summary>
    public const int MarkerKey1 = 0x44657374; // "Dest"
    public const int MarkerKey2 = 0x4C6F6753; // "LogS"

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
        var needSeq = all.Where((x, n) => !inGroupDuplicate[n] && x.E.Routing.Deliveries.Count > 0).Count();

        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        var fresh = new HashSet<(string, string)>();
        var seqs = new List<long>();
        await using (var first = new NpgsqlBatch(conn, tx))
        {
            // Before any number is drawn (a batch runs its statements in order).
            first.BatchCommands.Add(Command($"SELECT pg_advisory_xact_lock_shared({MarkerKey1}, {MarkerKey2})"));
            first.BatchCommands.Add(Command("""
                INSERT INTO dedupe (source_id, message_id, expires_at)
                SELECT s, m, $3 FROM unnest($1::text[], $2::text[]) AS u(s, m)
                ON CONFLICT (source_id, message_id) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe.expires_at <= $4
                RETURNING source_id, message_id
                """, keys.Select(k => k.Item1).ToArray(), keys.Select(k => k.Item2).ToArray(), (nowMs + (long)dedupeWindow.TotalMilliseconds), nowMs));
            first.BatchCommands.Add(Command("SELECT nextval(pg_get_serial_sequence('events', 'seq')) FROM generate_series(1, $1)", needSeq));
            await using var reader = await first.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.NextResultAsync(ct).ConfigureAwait(false); // the marker
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) fresh.Add((reader.GetString(0), reader.GetString(1)));
            await reader.NextResultAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) seqs.Add(reader.GetInt64(0));
        }
        seqs.Sort(); // ingest order (D16 in docs/decisions.md): earlier events get smaller sequence numbers

        var ev = new EventColumns();
        var dl = new DeliveryColumns();
        var filters = new SortedDictionary<(string, string), long>();
        var duplicates = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var nextSeq = 0;
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
            var seq = seqs[nextSeq++];
            ev.Add(seq, incoming, StoredValues.ReceivedAtMs(e, nowMs));
            foreach (var delivery in incoming.Routing.Deliveries) dl.Add(seq, delivery.DestinationId, delivery.Subscription);
        }

        await using (var second = new NpgsqlBatch(conn, tx))
        {
            second.BatchCommands.Add(Command("""
                INSERT INTO events (seq, source_id, message_id, type, user_key, received_at, body, routes, filtered, id_hash, user_hash, accepted_at)
                SELECT s, src, m, t, u, r, b, rt, f, h, uh, $12 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                    $6::bigint[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[]) AS x(s, src, m, t, u, r, b, rt, f, h, uh)
                """, ev.Seq.ToArray(), ev.Source.ToArray(), ev.Message.ToArray(), ev.Type.ToArray(), ev.UserKey.ToArray(), ev.ReceivedAt.ToArray(),
                ev.Body.ToArray(), ev.Routes.ToArray(), ev.Filtered.ToArray(), ev.IdHash.ToArray(), ev.UserHash.ToArray(), nowMs));
            second.BatchCommands.Add(Command("""
                INSERT INTO deliveries (event_seq, destination_id, subscription, status, attempts, next_attempt_at, created_at, updated_at)
                SELECT s, d, sub, 'pending', 0, $4, $4, $4 FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(s, d, sub)
                ON CONFLICT (event_seq, destination_id, subscription) DO NOTHING
                """, dl.Seq.ToArray(), dl.Destination.ToArray(), dl.Subscription.ToArray(), nowMs));
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
            Body.Add(incoming.Event.ToJsonString());
            Routes.Add(Sqlite.LogRoutes.Encode(incoming.Routing.Deliveries));
            Filtered.Add(Sqlite.LogRoutes.EncodeFiltered(incoming.Routing.Filtered));
            IdHash.Add(incoming.Event.MessageId.Length > 0 ? Sqlite.LogRoutes.Hash(incoming.Event.MessageId) : null);
            UserHash.Add(UserPartition.HashOrNull(incoming.Event.UserKey));
        }
    }

    sealed class DeliveryColumns
    {
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
