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
    ];

    /// <summary>Applies the versions not yet applied; idempotent and safe when several replicas start together.</summary>
    public static async Task<int> ApplyAsync(NpgsqlConnection conn, string? schema, CancellationToken ct)
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
        foreach (var (version, description, sql) in All.Where(m => m.Version > applied).OrderBy(m => m.Version))
        {
            await ExecuteAsync(conn, tx, sql, ct).ConfigureAwait(false);
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
