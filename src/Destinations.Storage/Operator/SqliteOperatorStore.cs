using System.Xml.Linq;
using Destinations.Storage.Sqlite;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Destinations.Storage.Operator;

/// <summary>The operator console's tables on SQLite: audit log, Data Protection keys, failure groups. Writes enter the
/// store's write gate like every other writer.</summary>
public sealed class SqliteOperatorStore(SqliteDatabase db, TimeProvider time) : IAuditLog, IFailureQueries, IXmlRepository
{
    public async Task AppendAsync(AuditEntry entry, CancellationToken ct)
    {
        using (await db.EnterWriteAsync(ct).ConfigureAwait(false))
        {
            await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
            await OperatorQueries.AppendAuditAsync(conn, entry, ct).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<AuditEntry>> ListAsync(int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await OperatorQueries.ListAuditAsync(conn, limit, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<FailureGroup>> ListFailureGroupsAsync(string destinationId, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await OperatorQueries.ListFailureGroupsAsync(conn, destinationId, limit, "d.id IN @Ids", ct).ConfigureAwait(false);
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
        using var gate = db.EnterWriteAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        using var conn = db.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
        OperatorQueries.StoreKey(conn, element, friendlyName, time.GetUtcNow());
    }
}
