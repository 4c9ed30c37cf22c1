using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// D17 on SQLite (<see cref="RetentionService"/>): purges finished deliveries, their events, expired dedupe records (D5) and
/// old counters, in small batches so the group-commit writer never waits long for the lock.
/// </summary>
public sealed class SqliteRetention(SqliteDatabase db, IOptions<RetentionOptions> options, TimeProvider time, ILogger<SqliteRetention> logger)
    : RetentionService(options.Value, time, logger)
{
    // One writer at a time (the write gate): nothing to skip.
    private protected override string BatchLockClause => "";

    private protected override string SeqsClause => "seq IN @Seqs";

    private protected override async Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        using var gate = await db.EnterWriteAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        using var tx = conn.BeginTransaction(deferred: false);
        var result = await work(conn, tx).ConfigureAwait(false);
        tx.Commit();
        return result;
    }

    private protected override async Task<int> OnConnectionAsync(Func<DbConnection, Task<int>> work, CancellationToken ct)
    {
        using var gate = await db.EnterWriteAsync(ct).ConfigureAwait(false);
        await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
        return await work(conn).ConfigureAwait(false);
    }
}
