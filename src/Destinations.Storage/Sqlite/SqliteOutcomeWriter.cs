using System.Threading.Channels;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// Group commit for the dispatcher's row updates (plan saved, delivered, retry, dead …): every concurrent caller's statement
/// is queued, and one loop runs all that is queued in ONE transaction behind the database's write gate, then answers each
/// caller with its own row count. A claimed set of 64 deliveries settled together thus costs one commit, not 64. The
/// connection uses <c>synchronous=NORMAL</c> (see <see cref="SqliteDatabase.OpenAsync"/>: a lost outcome is a re-delivery).
/// A statement that fails fails only its caller; a failed commit fails every caller of the group.
/// </summary>
sealed class SqliteOutcomeWriter
{
    /// <summary>At most this many statements per transaction, so the write gate is never held for long.</summary>
    const int MaxPerCommit = 512;

    readonly SqliteDatabase _db;
    readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    public SqliteOutcomeWriter(SqliteDatabase db)
    {
        _db = db;
        _ = Task.Run(LoopAsync);
    }

    public async Task<int> ExecuteAsync(string sql, DynamicParameters parameters, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var pending = new Pending(sql, parameters);
        _queue.Writer.TryWrite(pending);
        return await pending.Completion.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    async Task LoopAsync()
    {
        var reader = _queue.Reader;
        var group = new List<Pending>(MaxPerCommit);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            group.Clear();
            while (group.Count < MaxPerCommit && reader.TryRead(out var next)) group.Add(next);
            if (group.Count > 0) await CommitAsync(group).ConfigureAwait(false);
        }
    }

    async Task CommitAsync(List<Pending> group)
    {
        var counts = new int[group.Count];
        var errors = new Exception?[group.Count];
        try
        {
            await _db.EnsureMigratedAsync(CancellationToken.None).ConfigureAwait(false);
            using (await _db.EnterWriteAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await using var conn = await _db.OpenAsync(CancellationToken.None, relaxedSync: true).ConfigureAwait(false);
                using var tx = conn.BeginTransaction(deferred: false);
                for (var i = 0; i < group.Count; i++)
                {
                    try
                    {
                        counts[i] = conn.Execute(group[i].Sql, group[i].Parameters, tx);
                    }
                    catch (SqliteException ex) when (ex.SqliteErrorCode is 1 or 19 or 20 or 25)
                    {
                        // SQLITE_ERROR / CONSTRAINT / MISMATCH / RANGE: this statement only; the transaction goes on.
                        errors[i] = ex;
                    }
                }
                tx.Commit();
            }
        }
        catch (Exception ex)
        {
            foreach (var p in group) p.Completion.TrySetException(ex);
            return;
        }
        for (var i = 0; i < group.Count; i++)
        {
            if (errors[i] is { } error) group[i].Completion.TrySetException(error);
            else group[i].Completion.TrySetResult(counts[i]);
        }
    }

    sealed class Pending(string sql, DynamicParameters parameters)
    {
        public string Sql { get; } = sql;
        public DynamicParameters Parameters { get; } = parameters;
        public TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
