using System.Data.Common;
using System.Text.Json;
using System.Xml.Linq;
using Dapper;

namespace Destinations.Storage.Operator;

/// <summary>
/// The operator console's statements (audit log, Data Protection keys, failure groups, dead-letter count), shared by SQLite and
/// PostgreSQL: the tables have the same columns with times as Unix milliseconds; only how a list of ids is bound differs.
/// </summary>
static class OperatorQueries
{
    /// <summary>The tables, as SQLite and PostgreSQL both accept them once the id column is spelled per provider.</summary>
    public static string Tables(string idColumn) => $"""
        -- The console's audit log: every replay, resume, connection test and send (who, from where, what, how many).
        CREATE TABLE audit_log (
            id         {idColumn},
            at         bigint NOT NULL,
            action     text   NOT NULL,
            target     text   NOT NULL,
            count      bigint NOT NULL,
            detail     text,
            session    text   NOT NULL,
            client_ip  text
        );
        -- ASP.NET Core Data Protection keys (console cookies, antiforgery tokens): kept with the data, so a restart or another
        -- replica can still read the cookies issued before.
        CREATE TABLE data_protection_keys (
            name       text   PRIMARY KEY,
            xml        text   NOT NULL,
            created_at bigint NOT NULL
        );
        """;

    public static Task AppendAuditAsync(DbConnection conn, AuditEntry e, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO audit_log (at, action, target, count, detail, session, client_ip)
            VALUES (@At, @Action, @Target, @Count, @Detail, @Session, @ClientIp)
            """, new
        {
            At = e.At.ToUnixTimeMilliseconds(),
            Action = Cut(e.Action)!,
            Target = Cut(e.Target)!,
            e.Count,
            Detail = Cut(e.Detail),
            Session = Cut(e.Session)!,
            ClientIp = Cut(e.ClientIp),
        }, cancellationToken: ct));

    public static async Task<IReadOnlyList<AuditEntry>> ListAuditAsync(DbConnection conn, int limit, CancellationToken ct) =>
        (await conn.QueryAsync<AuditRow>(new CommandDefinition("""
            SELECT id AS Id, at AS At, action AS Action, target AS Target, count AS Count, detail AS Detail, session AS Session,
                   client_ip AS ClientIp
            FROM audit_log ORDER BY id DESC LIMIT @Limit
            """, new { Limit = Math.Clamp(limit, 1, 1000) }, cancellationToken: ct)).ConfigureAwait(false))
        .Select(r => r.ToEntry()).ToList();

    public static IReadOnlyCollection<XElement> ReadKeys(DbConnection conn) =>
        conn.Query<string>("SELECT xml FROM data_protection_keys ORDER BY created_at, name").Select(x => XElement.Parse(x)).ToList();

    public static void StoreKey(DbConnection conn, XElement element, string? friendlyName, DateTimeOffset now) =>
        conn.Execute("""
            INSERT INTO data_protection_keys (name, xml, created_at) VALUES (@Name, @Xml, @At)
            ON CONFLICT (name) DO UPDATE SET xml = excluded.xml
            """, new
        {
            Name = string.IsNullOrEmpty(friendlyName) ? Guid.NewGuid().ToString("N") : friendlyName,
            Xml = element.ToString(SaveOptions.DisableFormatting),
            At = now.ToUnixTimeMilliseconds(),
        });

    public static async Task<long> CountDeadLettersAsync(DbConnection conn, DeadLetterFilter filter, CancellationToken ct)
    {
        var (where, args) = DeadLetterQueries.Where(filter.DestinationId, filter.Since, filter.Until, filter.Status);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM deliveries AS d WHERE {where}", args, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <param name="idsClause">The provider's form of "d.id is one of @Ids".</param>
    public static async Task<IReadOnlyList<FailureGroup>> ListFailureGroupsAsync(DbConnection conn, string destinationId, int limit,
        string idsClause, CancellationToken ct)
    {
        // Retrying rows: pending after a failed attempt (or held with the partner's answer kept, D12).
        var groups = (await conn.QueryAsync<GroupRow>(new CommandDefinition("""
            SELECT CASE WHEN d.status = 'dead' THEN 'dead' ELSE 'retrying' END AS State, d.last_status AS Status,
                   CASE WHEN d.status = 'dead' THEN COALESCE(d.reason, d.error_class) ELSE d.error_class END AS Reason,
                   COUNT(*) AS Count, MAX(d.id) AS LatestId
            FROM deliveries AS d
            WHERE d.destination_id = @Destination
              AND (d.status = 'dead' OR (d.status = 'pending' AND (d.attempts > 0 OR d.last_error IS NOT NULL)))
            GROUP BY 1, 2, 3 ORDER BY 4 DESC, 5 DESC LIMIT @Limit
            """, new { Destination = destinationId, Limit = Math.Clamp(limit, 1, 200) }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        if (groups.Count == 0) return [];
        var samples = (await conn.QueryAsync<SampleRow>(new CommandDefinition($"""
            SELECT d.id AS Id, d.updated_at AS At, e.message_id AS MessageId, d.last_request AS LastRequest,
                   d.last_response AS LastResponse, d.last_error AS LastError
            FROM deliveries AS d JOIN events AS e ON e.seq = d.event_seq
            WHERE {idsClause}
            """, new { Ids = groups.Select(g => g.LatestId).ToArray() }, cancellationToken: ct)).ConfigureAwait(false))
            .ToDictionary(s => s.Id);
        return groups.Select(g =>
        {
            var s = samples.GetValueOrDefault(g.LatestId);
            return new FailureGroup(g.State, (int?)g.Status, g.Reason, g.Count,
                DateTimeOffset.FromUnixTimeMilliseconds(s?.At ?? 0), g.LatestId, s?.MessageId ?? "",
                s?.LastRequest is { } r ? JsonSerializer.Deserialize<RequestDescription>(r) : null, s?.LastResponse, s?.LastError);
        }).ToList();
    }

    static string? Cut(string? text) => text is { Length: > AuditEntry.MaxTextLength } ? text[..AuditEntry.MaxTextLength] : text;

    sealed class AuditRow
    {
        public long Id { get; set; }
        public long At { get; set; }
        public string Action { get; set; } = "";
        public string Target { get; set; } = "";
        public long Count { get; set; }
        public string? Detail { get; set; }
        public string Session { get; set; } = "";
        public string? ClientIp { get; set; }

        public AuditEntry ToEntry() =>
            new(DateTimeOffset.FromUnixTimeMilliseconds(At), Action, Target, Count, Detail, Session, ClientIp) { Id = Id };
    }

    sealed class GroupRow
    {
        public string State { get; set; } = "";
        public long? Status { get; set; }
        public string? Reason { get; set; }
        public long Count { get; set; }
        public long LatestId { get; set; }
    }

    sealed class SampleRow
    {
        public long Id { get; set; }
        public long At { get; set; }
        public string MessageId { get; set; } = "";
        public string? LastRequest { get; set; }
        public string? LastResponse { get; set; }
        public string? LastError { get; set; }
    }
}
