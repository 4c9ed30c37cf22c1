using System.Xml.Linq;
using Destinations.Storage.Postgres;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Destinations.Storage.Operator;

/// <summary>The operator console's tables on PostgreSQL (the same statements as on SQLite), shared by every replica: one
/// audit log and one Data Protection key ring, so a cookie issued by one replica is read by the others.</summary>
public sealed class PostgresOperatorStore(PostgresDatabase db, TimeProvider time) : IAuditLog, IFailureQueries, IXmlRepository
{
    public async Task AppendAsync(AuditEntry entry, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        await OperatorQueries.AppendAuditAsync(conn, entry, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AuditEntry>> ListAsync(int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await OperatorQueries.ListAuditAsync(conn, limit, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<FailureGroup>> ListFailureGroupsAsync(string destinationId, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await OperatorQueries.ListFailureGroupsAsync(conn, destinationId, limit, "d.id = ANY(@Ids)", ct).ConfigureAwait(false);
    }

    public async Task<long> CountDeadLettersAsync(DeadLetterFilter filter, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await OperatorQueries.CountDeadLettersAsync(conn, filter, ct).ConfigureAwait(false);
    }

    // IXmlRepository is synchronous; Data Protection calls it rarely (reading the key ring, creating a key every 90 days).
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var conn = db.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
        return OperatorQueries.ReadKeys(conn);
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var conn = db.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
        OperatorQueries.StoreKey(conn, element, friendlyName, time.GetUtcNow());
    }
}
