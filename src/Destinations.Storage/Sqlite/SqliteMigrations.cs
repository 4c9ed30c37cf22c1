using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// Versioned schema changes, applied at start in one transaction; <c>schema_version</c> lists those applied.
/// Append new versions; never edit an applied one. Times are Unix milliseconds (UTC) so comparisons are plain integers.
/// </summary>
public static class SqliteMigrations
{
    public static readonly IReadOnlyList<(int Version, string Description, string Sql)> All =
    [
        (1, "events, deliveries, dedupe, counters", """
            CREATE TABLE events (
                seq          INTEGER PRIMARY KEY,      -- ingest sequence (D16 orders by it)
                source_id    TEXT    NOT NULL,
                message_id   TEXT    NOT NULL,
                type         TEXT    NOT NULL,
                user_key     TEXT,                     -- userId, else anonymousId
                received_at  INTEGER NOT NULL,
                body         TEXT    NOT NULL          -- the normalised event as accepted
            );

            CREATE TABLE deliveries (
                id               INTEGER PRIMARY KEY,
                event_seq        INTEGER NOT NULL REFERENCES events (seq),
                destination_id   TEXT    NOT NULL,
                subscription     TEXT    NOT NULL,
                status           TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'filtered', 'invalid', 'dead')),
                attempts         INTEGER NOT NULL DEFAULT 0,
                next_attempt_at  INTEGER NOT NULL,
                lease_owner      TEXT,
                lease_until      INTEGER,
                created_at       INTEGER NOT NULL,
                first_attempt_at INTEGER,
                updated_at       INTEGER NOT NULL,
                plan             TEXT,                 -- JSON array of PartnerRequest, computed once at the first attempt
                steps_done       INTEGER NOT NULL DEFAULT 0, -- steps of the plan that succeeded
                reason           TEXT,                 -- filtered / invalid / dead reason
                last_status      INTEGER,
                last_error       TEXT,
                last_response    TEXT,                 -- excerpt of the partner's answer
                UNIQUE (event_seq, destination_id, subscription) -- the delivery unit: one per (event, instance, subscription)
            );
            CREATE INDEX ix_deliveries_due ON deliveries (status, next_attempt_at);
            CREATE INDEX ix_deliveries_destination ON deliveries (destination_id, status);

            -- D5: (sourceId, messageId) seen within the window; kept as long as the window, also for events routed nowhere.
            CREATE TABLE dedupe (
                source_id   TEXT    NOT NULL,
                message_id  TEXT    NOT NULL,
                expires_at  INTEGER NOT NULL,
                PRIMARY KEY (source_id, message_id)
            ) WITHOUT ROWID;
            CREATE INDEX ix_dedupe_expires ON dedupe (expires_at);

            -- D8: router-time filters create no delivery row, only a per-instance counter by reason (per UTC day, D17).
            CREATE TABLE filter_counts (
                destination_id TEXT    NOT NULL,
                reason         TEXT    NOT NULL,
                day            TEXT    NOT NULL,
                count          INTEGER NOT NULL,
                PRIMARY KEY (destination_id, reason, day)
            ) WITHOUT ROWID;

            -- D5: duplicates are counted, not stored; per instance the duplicate would have gone to.
            CREATE TABLE duplicate_counts (
                destination_id TEXT    NOT NULL,
                day            TEXT    NOT NULL,
                count          INTEGER NOT NULL,
                PRIMARY KEY (destination_id, day)
            ) WITHOUT ROWID;
            """),
        (2, "instance state (pause, breaker), dead-letter details, held time, replay", """
            -- D12/D13: time this row spent held by a paused instance; the give-up age clock does not count it.
            ALTER TABLE deliveries ADD COLUMN held_ms INTEGER NOT NULL DEFAULT 0;
            -- Dead letters keep the last request as method + absolute URL + body (never headers, so never a secret).
            ALTER TABLE deliveries ADD COLUMN last_request TEXT;
            ALTER TABLE deliveries ADD COLUMN error_class TEXT;
            ALTER TABLE deliveries ADD COLUMN replays INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX ix_deliveries_dead ON deliveries (status, updated_at);
            -- D16: earlier pending deliveries of one user key and instance.
            CREATE INDEX ix_deliveries_order ON deliveries (destination_id, status, event_seq);
            CREATE INDEX ix_events_user_key ON events (user_key);

            -- One row per destination instance that was ever held or failed (D12 pause, circuit breaker).
            CREATE TABLE destination_state (
                destination_id        TEXT PRIMARY KEY,
                hold                  TEXT,              -- NULL, 'paused' (401/403, D12) or 'breaker' (open circuit)
                held_since            INTEGER,
                hold_reason           TEXT,
                next_probe_at         INTEGER,           -- when one canary delivery may be claimed
                probe_failures        INTEGER NOT NULL DEFAULT 0,
                consecutive_failures  INTEGER NOT NULL DEFAULT 0,
                first_failure_at      INTEGER,
                last_error            TEXT,
                last_error_at         INTEGER,
                updated_at            INTEGER NOT NULL
            ) WITHOUT ROWID;
            """),
        (3, "claim index per instance", """
            -- Claims go instance by instance in due order (SqliteClaim): without this, every claim while one instance is held
            -- walked that instance's whole pending backlog in ix_deliveries_due, under the write gate, and ingest waited on it.
            CREATE INDEX ix_deliveries_claim ON deliveries (status, destination_id, next_attempt_at, id);
            """),
        (4, "drop a redundant delivery index", """
            -- (destination_id, status) is a prefix of ix_deliveries_order (destination_id, status, event_seq): every query it
            -- served uses that one, and each insert and status change no longer maintains a sixth index.
            DROP INDEX IF EXISTS ix_deliveries_destination;
            """),
        (5, "the due and claim indexes hold pending rows only", """
            -- Only pending rows are ever claimed or due. Partial indexes (as on PostgreSQL) drop a delivered row's entries
            -- instead of moving them to the 'delivered' part of the index, so an outcome writes two index entries fewer,
            -- and the two indexes stay the size of the backlog. Every query they serve says status = 'pending' literally.
            DROP INDEX IF EXISTS ix_deliveries_due;
            CREATE INDEX ix_deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
            DROP INDEX IF EXISTS ix_deliveries_claim;
            CREATE INDEX ix_deliveries_claim ON deliveries (destination_id, next_attempt_at, id) WHERE status = 'pending';
            """),
        (6, "the dead-letter and retention index holds finished rows only", """
            -- ix_deliveries_dead serves the dead-letter list and replay (status = 'dead') and the retention purge (finished rows
            -- by age); no query looks a pending row up by it. As a full index every new delivery wrote an entry into it — a
            -- page more in every small ingest commit (docs/benchmarks.md). SQLite uses a partial index only when the query's
            -- WHERE contains the index's condition as written, so those queries spell out status <> 'pending'
            -- (DeadLetterQueries, RetentionService).
            DROP INDEX IF EXISTS ix_deliveries_dead;
            CREATE INDEX ix_deliveries_dead ON deliveries (status, updated_at) WHERE status <> 'pending';
            """),
        (7, FilterReasonMigration.Description, FilterReasonMigration.Sql),
        (8, "the log: events carry their routing and dedupe hash; cursors, outcome counters, hold intervals", """
            -- Each accepted event is written once (docs/storage.md): what routing decided travels with it, and a destination
            -- instance reads the log forward from its cursor. Rows in deliveries exist only for deliveries that need state.
            -- Events written before this version have no routes: their deliveries are rows already.
            ALTER TABLE events ADD COLUMN routes TEXT;       -- "instance<TAB>subscription" pairs, one per line (LogRoutes)
            ALTER TABLE events ADD COLUMN filtered TEXT;     -- "instance<TAB>reason code" of the instances that did not get it
            ALTER TABLE events ADD COLUMN id_hash INTEGER;   -- 64-bit FNV-1a of messageId (D5: a hit is confirmed on message_id)
            ALTER TABLE events ADD COLUMN accepted_at INTEGER; -- commit time (the D5 window; receivedAt may come from the client)
            -- Events stored before the log get their hash too (log_hash is LogRoutes.Hash, registered by Apply), so the event's
            -- story finds them; their dedupe window stays in the old dedupe table (no accepted_at here).
            UPDATE events SET id_hash = log_hash(message_id);
            CREATE INDEX ix_events_id_hash ON events (id_hash);
            -- Per-user order (D16) is decided on the few open rows through ix_deliveries_order, not by user key over the log.
            DROP INDEX IF EXISTS ix_events_user_key;

            -- Every event after seq routed to the instance is still to be delivered (or in flight); before it, delivered unless
            -- it has a row. Created when the first event routed to the instance is written (so a new instance starts there).
            CREATE TABLE cursors (
                destination_id TEXT PRIMARY KEY,
                seq            INTEGER NOT NULL,
                created_at     INTEGER NOT NULL,
                updated_at     INTEGER NOT NULL
            ) WITHOUT ROWID;

            -- Outcomes per instance and minute (Unix ms of the minute's start), written in the dispatcher's own commits.
            CREATE TABLE outcome_counts (
                destination_id TEXT    NOT NULL,
                minute         INTEGER NOT NULL,
                outcome        TEXT    NOT NULL CHECK (outcome IN ('delivered', 'retried', 'dead', 'filtered', 'invalid')),
                count          INTEGER NOT NULL,
                PRIMARY KEY (destination_id, minute, outcome)
            ) WITHOUT ROWID;
            INSERT INTO outcome_counts (destination_id, minute, outcome, count)
                SELECT destination_id, updated_at / 60000 * 60000, 'delivered', COUNT(*) FROM deliveries WHERE status = 'delivered'
                GROUP BY destination_id, updated_at / 60000;

            -- One record per partner call (not per delivery): when, the HTTP status, the plan step and the event seqs it carried,
            -- so the story of a first-pass success (which has no row) says when and with which answer it was delivered.
            CREATE TABLE partner_calls (
                id             INTEGER PRIMARY KEY,
                destination_id TEXT    NOT NULL,
                at             INTEGER NOT NULL,
                status         INTEGER,
                step           TEXT    NOT NULL,
                first_seq      INTEGER NOT NULL,
                last_seq       INTEGER NOT NULL,
                seqs           TEXT    NOT NULL  -- the seqs, comma-separated
            );
            CREATE INDEX ix_partner_calls_seq ON partner_calls (destination_id, first_seq);

            -- D12/D13: when each instance was held, so the paused time of an event waiting in the log is computable.
            CREATE TABLE hold_intervals (
                destination_id TEXT    NOT NULL,
                started_at     INTEGER NOT NULL,
                ended_at       INTEGER,
                hold           TEXT    NOT NULL,  -- 'paused' (D12) or 'breaker'
                PRIMARY KEY (destination_id, started_at)
            ) WITHOUT ROWID;
            INSERT INTO hold_intervals (destination_id, started_at, hold)
                SELECT destination_id, held_since, hold FROM destination_state WHERE hold IS NOT NULL AND held_since IS NOT NULL;
            """),
        (9, "operator console: audit log, Data Protection keys", Operator.OperatorQueries.Tables("INTEGER PRIMARY KEY")),
        (10, "partner calls keep the request line, an answer excerpt and a failed call's body", PartnerCallColumns.Sql),
    ];

    /// <summary>Applies the versions not yet applied; idempotent. Returns how many were applied.</summary>
    public static int Apply(SqliteConnection conn)
    {
        using (var wal = conn.CreateCommand())
        {
            // WAL is a property of the file (persistent) and cannot change inside a transaction: readers (stats, claims)
            // do not block the group-commit writer.
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        conn.CreateFunction("log_hash", (string messageId) => LogRoutes.Hash(messageId), isDeterministic: true);

        // BEGIN IMMEDIATE: two processes starting together cannot both apply the same version.
        using var tx = conn.BeginTransaction(deferred: false);
        Execute(conn, tx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)");
        using var current = conn.CreateCommand();
        current.Transaction = tx;
        current.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
        var applied = Convert.ToInt32(current.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);

        var count = 0;
        foreach (var (version, description, sql) in All.Where(m => m.Version > applied).OrderBy(m => m.Version))
        {
            Execute(conn, tx, sql);
            using var record = conn.CreateCommand();
            record.Transaction = tx;
            record.CommandText = "INSERT INTO schema_version (version, description, applied_at) VALUES ($v, $d, $at)";
            record.Parameters.AddWithValue("$v", version);
            record.Parameters.AddWithValue("$d", description);
            record.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O"));
            record.ExecuteNonQuery();
            count++;
        }
        tx.Commit();
        return count;
    }

    static void Execute(SqliteConnection conn, SqliteTransaction tx, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
