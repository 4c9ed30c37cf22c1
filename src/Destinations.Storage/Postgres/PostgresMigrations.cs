using Npgsql;

namespace Destinations.Storage.Postgres;

/// <summary>
/// Versioned schema changes for PostgreSQL, applied at start in one transaction under an advisory lock, so replicas starting
/// together never apply a version twice. Same tables, columns and Unix-millisecond times as the SQLite schema, so
/// the claim, retry and stats logic is the same on both providers. Append new versions; never edit an applied one.
/// </summary>
public static class PostgresMigrations
{
    /// <summary>Key of the transaction-scoped advisory lock that serialises migrations across replicas.</summary>
    public const long LockKey = 0x44657374_4D696772; // "DestMigr"

    public static readonly IReadOnlyList<(int Version, string Description, string Sql)> All =
    [
        (1, "events, deliveries, dedupe, counters, instance state, rate limits", """
            CREATE TABLE events (
                seq          bigserial PRIMARY KEY,    -- ingest sequence (D16 orders by it)
                source_id    text   NOT NULL,
                message_id   text   NOT NULL,
                type         text   NOT NULL,
                user_key     text,                     -- userId, else anonymousId
                received_at  bigint NOT NULL,
                body         text   NOT NULL
            );
            CREATE INDEX ix_events_user_key ON events (user_key);

            CREATE TABLE deliveries (
                id               bigserial PRIMARY KEY,
                event_seq        bigint NOT NULL REFERENCES events (seq),
                destination_id   text   NOT NULL,
                subscription     text   NOT NULL,
                status           text   NOT NULL CHECK (status IN ('pending', 'delivered', 'filtered', 'invalid', 'dead')),
                attempts         bigint NOT NULL DEFAULT 0,
                next_attempt_at  bigint NOT NULL,
                lease_owner      text,
                lease_until      bigint,
                created_at       bigint NOT NULL,
                first_attempt_at bigint,
                updated_at       bigint NOT NULL,
                plan             text,                 -- JSON plan computed once at the first attempt
                steps_done       bigint NOT NULL DEFAULT 0,
                reason           text,
                last_status      bigint,
                last_error       text,
                last_response    text,
                held_ms          bigint NOT NULL DEFAULT 0, -- D12/D13: time held by a paused instance
                last_request     text,                 -- method + URL + body, never headers
                error_class      text,
                replays          bigint NOT NULL DEFAULT 0,
                UNIQUE (event_seq, destination_id, subscription) -- the delivery unit: one per (event, instance, subscription)
            );
            -- The claim reads only pending rows: a partial index stays small however many finished rows are kept (retention).
            CREATE INDEX ix_deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
            CREATE INDEX ix_deliveries_destination ON deliveries (destination_id, status);
            CREATE INDEX ix_deliveries_order ON deliveries (destination_id, event_seq) WHERE status = 'pending';
            CREATE INDEX ix_deliveries_finished ON deliveries (status, updated_at);

            CREATE TABLE dedupe (
                source_id   text   NOT NULL,
                message_id  text   NOT NULL,
                expires_at  bigint NOT NULL,
                PRIMARY KEY (source_id, message_id)
            );
            CREATE INDEX ix_dedupe_expires ON dedupe (expires_at);

            CREATE TABLE filter_counts (
                destination_id text   NOT NULL,
                reason         text   NOT NULL,
                day            text   NOT NULL,
                count          bigint NOT NULL,
                PRIMARY KEY (destination_id, reason, day)
            );

            CREATE TABLE duplicate_counts (
                destination_id text   NOT NULL,
                day            text   NOT NULL,
                count          bigint NOT NULL,
                PRIMARY KEY (destination_id, day)
            );

            CREATE TABLE destination_state (
                destination_id        text PRIMARY KEY,
                hold                  text,
                held_since            bigint,
                hold_reason           text,
                next_probe_at         bigint,
                probe_failures        bigint NOT NULL DEFAULT 0,
                consecutive_failures  bigint NOT NULL DEFAULT 0,
                first_failure_at      bigint,
                last_error            text,
                last_error_at         bigint,
                updated_at            bigint NOT NULL
            );

            -- D25: one token bucket per destination instance, shared by every replica; taken in the claim transaction.
            CREATE TABLE rate_limits (
                destination_id   text PRIMARY KEY,
                tokens           double precision NOT NULL,
                refilled_at      bigint NOT NULL,
                throttled_until  bigint NOT NULL DEFAULT 0,  -- 429: reduced rate until then
                blocked_until    bigint NOT NULL DEFAULT 0   -- 429 Retry-After: nothing before then
            );
            """),
        (2, FilterReasonMigration.Description, FilterReasonMigration.Sql),
        (3, "operator console: audit log, Data Protection keys", Operator.OperatorQueries.Tables("bigserial PRIMARY KEY")),
        (4, "partition leases: per-instance partition cursors leased by replicas", """
            -- One row per (instance, partition): the partition's cursor and the replica that reads it until its lease ends.
            CREATE TABLE cursor_leases (
                instance   text    NOT NULL,
                partition  integer NOT NULL,
                seq        bigint  NOT NULL,        -- every event of the partition at or before it is settled
                owner      text,                    -- the replica reading the partition; NULL when given up
                until      bigint  NOT NULL DEFAULT 0, -- lease end (Unix ms): after it any replica may take the partition
                seen_at    bigint  NOT NULL DEFAULT 0, -- last time the instance was configured (a removed one is dropped later)
                PRIMARY KEY (instance, partition)
            );
            -- Live replicas (heartbeat), so each takes an equal share of the partitions.
            CREATE TABLE cursor_replicas (
                owner  text   PRIMARY KEY,
                until  bigint NOT NULL
            );
            """),
        (5, "per-minute outcome counts per instance (the console's charts)", """
            -- Outcomes per instance and minute (Unix ms of the minute's start), written in the settle batch (as on SQLite).
            CREATE TABLE outcome_counts (
                destination_id text   NOT NULL,
                minute         bigint NOT NULL,
                outcome        text   NOT NULL CHECK (outcome IN ('delivered', 'retried', 'dead', 'filtered', 'invalid')),
                count          bigint NOT NULL,
                PRIMARY KEY (destination_id, minute, outcome)
            );
            -- The finished rows kept so far, in the minute they were last written (earlier retries were not recorded).
            INSERT INTO outcome_counts (destination_id, minute, outcome, count)
                SELECT destination_id, updated_at / 60000 * 60000, status, COUNT(*) FROM deliveries
                WHERE status IN ('delivered', 'dead', 'filtered', 'invalid')
                GROUP BY destination_id, updated_at / 60000 * 60000, status;
            """),
        (6, "one record per partner call (the console's event story)", """
            -- One record per partner call (not per delivery), as on SQLite: when, the HTTP status, the plan step and the event
            -- seqs it carried, so an event's story says in which call and with which answer it was delivered.
            CREATE TABLE partner_calls (
                id             bigserial PRIMARY KEY,
                destination_id text   NOT NULL,
                at             bigint NOT NULL,
                status         bigint,
                step           text   NOT NULL,
                first_seq      bigint NOT NULL,
                last_seq       bigint NOT NULL,
                seqs           text   NOT NULL  -- the seqs, comma-separated
            );
            CREATE INDEX ix_partner_calls_seq ON partner_calls (destination_id, first_seq);
            -- Retention purges by time.
            CREATE INDEX ix_partner_calls_at ON partner_calls (at);
            """),
        (7, "the log: events carry their routing, dedupe hash and user hash; hold intervals", """
            -- Each accepted event is written once (docs/storage.md): what routing decided travels with it, and each partition of a
            -- destination instance is read forward from its cursor (cursor_leases). Rows in deliveries exist only for deliveries
            -- that need state. Events written before this version have no routes: their deliveries are rows already.
            ALTER TABLE events ADD COLUMN routes text;        -- "instance<TAB>subscription" pairs, one per line (LogRoutes)
            ALTER TABLE events ADD COLUMN filtered text;      -- "instance<TAB>reason code" of the instances that did not get it
            ALTER TABLE events ADD COLUMN id_hash bigint;     -- 64-bit FNV-1a of message_id (D5: a hit is confirmed on message_id)
            ALTER TABLE events ADD COLUMN accepted_at bigint; -- commit time (the D5 window; receivedAt may come from the client)
            ALTER TABLE events ADD COLUMN user_hash bigint;   -- 64-bit FNV-1a of user_key: its partition is ((h % P) + P) % P
            CREATE INDEX ix_events_id_hash ON events (id_hash);
            -- Per-user order (D16) is decided on the few open rows through ix_deliveries_order and by partition, not by user key
            -- over the log; an index entry less per event.
            DROP INDEX IF EXISTS ix_events_user_key;

            -- D12/D13: when each instance was held, so the paused time of an event waiting in the log is computable.
            CREATE TABLE hold_intervals (
                destination_id text   NOT NULL,
                started_at     bigint NOT NULL,
                ended_at       bigint,
                hold           text   NOT NULL,  -- 'paused' (D12) or 'breaker'
                PRIMARY KEY (destination_id, started_at)
            );
            INSERT INTO hold_intervals (destination_id, started_at, hold)
                SELECT destination_id, held_since, hold FROM destination_state WHERE hold IS NOT NULL AND held_since IS NOT NULL;
            """),
        (8, "partner calls keep the request line, an answer excerpt and a failed call's body", PartnerCallColumns.Sql),
        (9, "filter and duplicate counters in shards, so concurrent ingest groups never wait for each other's counter row", """
            -- Each ingest group adds its counts to a shard whose advisory lock it holds (PostgresGroupWriter): concurrent groups and
            -- replicas write different rows instead of queueing on one row lock each until commit. Readers sum the shards; the
            -- counts kept so far become shard 0.
            ALTER TABLE filter_counts ADD COLUMN shard integer NOT NULL DEFAULT 0;
            ALTER TABLE filter_counts DROP CONSTRAINT filter_counts_pkey;
            ALTER TABLE filter_counts ADD PRIMARY KEY (destination_id, reason, day, shard);
            ALTER TABLE duplicate_counts ADD COLUMN shard integer NOT NULL DEFAULT 0;
            ALTER TABLE duplicate_counts DROP CONSTRAINT duplicate_counts_pkey;
            ALTER TABLE duplicate_counts ADD PRIMARY KEY (destination_id, day, shard);
            """),
        (10, "the events sequence draws a block of numbers per call", $"""
            -- An ingest group draws one value per block of {PostgresGroupWriter.SeqBlock} events (PostgresGroupWriter.SeqBlock): a value is the
            -- top of its block, so the next one must leave a whole block above every seq stored or drawn so far. CACHE stays 1
            -- (PostgresLogHorizon).
            DO $$
            DECLARE s text := pg_get_serial_sequence('events', 'seq'); top bigint;
            BEGIN
                SELECT GREATEST(COALESCE(MAX(seq), 0), COALESCE(pg_sequence_last_value(s::regclass), 0)) INTO top FROM events;
                EXECUTE format('ALTER SEQUENCE %s INCREMENT BY {PostgresGroupWriter.SeqBlock}', s);
                IF top = 0 THEN
                    EXECUTE format('ALTER SEQUENCE %s RESTART WITH {PostgresGroupWriter.SeqBlock}', s);
                ELSE
                    PERFORM setval(s, top, true);
                END IF;
            END $$;
            """),
    ];

    /// <summary>What a version needs beyond its SQL, in the same transaction: version 7 hashes the events stored before it
    /// (the hash is <see cref="Sqlite.LogRoutes.Hash"/>, computed here rather than in SQL, where 64-bit arithmetic overflows),
    /// so the event's story finds them by id_hash; their dedupe window stays in the old dedupe table (no accepted_at).</summary>
    static async Task AfterAsync(int version, NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        if (version != 7) return;
        const int Chunk = 10_000;
        var after = long.MinValue;
        while (true)
        {
            var seqs = new List<long>(Chunk);
            var ids = new List<long>(Chunk);
            var users = new List<long?>(Chunk);
            await using (var read = new NpgsqlCommand("SELECT seq, message_id, user_key FROM events WHERE seq > $1 ORDER BY seq LIMIT $2", conn, tx))
            {
                read.Parameters.AddWithValue(after);
                read.Parameters.AddWithValue(Chunk);
                await using var reader = await read.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    seqs.Add(reader.GetInt64(0));
                    ids.Add(Sqlite.LogRoutes.Hash(reader.GetString(1)));
                    users.Add(reader.IsDBNull(2) ? null : UserPartition.HashOrNull(reader.GetString(2)));
                }
            }
            if (seqs.Count == 0) return;
            await using (var write = new NpgsqlCommand("""
                UPDATE events e SET id_hash = u.h, user_hash = u.uh FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(s, h, uh)
                WHERE e.seq = u.s
                """, conn, tx))
            {
                write.Parameters.AddWithValue(seqs.ToArray());
                write.Parameters.AddWithValue(ids.ToArray());
                write.Parameters.AddWithValue(users.ToArray());
                await write.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            after = seqs[^1];
        }
    }

    /// <summary>Applies the versions not yet applied; idempotent and safe when several replicas start together.</summary>
    /// <param name="upTo">Applies versions up to this one only (an upgrade test builds an older schema with it).</param>
    public static async Task<int> ApplyAsync(NpgsqlConnection conn, string? schema, CancellationToken ct, int upTo = int.MaxValue)
    {
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        await ExecuteAsync(conn, tx, $"SELECT pg_advisory_xact_lock({LockKey})", ct).ConfigureAwait(false);
        // A schema named by SearchPath (one per service or per test) is created on first start.
        if (!string.IsNullOrEmpty(schema))
            await ExecuteAsync(conn, tx, $"CREATE SCHEMA IF NOT EXISTS \"{schema.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", ct).ConfigureAwait(false);
        await ExecuteAsync(conn, tx, "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL)", ct).ConfigureAwait(false);
        await using var current = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_version", conn, tx);
        var applied = Convert.ToInt32(await current.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);

        var count = 0;
        foreach (var (version, description, sql) in All.Where(m => m.Version > applied && m.Version <= upTo).OrderBy(m => m.Version))
        {
            await ExecuteAsync(conn, tx, sql, ct).ConfigureAwait(false);
            await AfterAsync(version, conn, tx, ct).ConfigureAwait(false);
            await using var record = new NpgsqlCommand("INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, now())", conn, tx);
            record.Parameters.AddWithValue(version);
            record.Parameters.AddWithValue(description);
            await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            count++;
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return count;
    }

    static async Task ExecuteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
