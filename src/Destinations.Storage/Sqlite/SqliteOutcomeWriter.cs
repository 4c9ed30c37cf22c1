using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// Group commit for the dispatcher's row updates (<see cref="IDeliveryQueue.SettleAsync"/>: delivered, progress, retry,
/// dead …): every concurrent caller's rows are queued, and one loop writes all that is queued in ONE transaction behind the
/// database's write gate, then answers each caller with its own rows' results. A claimed set settled together thus costs
/// one commit, not one per row. Each kind of update is one fixed SQL text (<see cref="SettlementStatements"/>) kept
/// prepared on the loop's own long-lived connection, so a row costs a bind and a step, never a parse. The connection uses
/// <c>synchronous=NORMAL</c> (see <see cref="SqliteDatabase.OpenAsync"/>: a lost outcome is a re-delivery); it is closed
/// after a failed commit (the next group opens a fresh one) and when idle.
/// A statement that fails fails only its caller; a failed commit fails every caller of the group.
/// </summary>
sealed class SqliteOutcomeWriter
{
    /// <summary>At most this many rows per transaction (callers' sets are never split), so the write gate is never held for long.</summary>
    const int MaxPerCommit = 512;

    /// <summary>The connection (and its prepared statements) is closed after this long without work.</summary>
    static readonly TimeSpan IdleClose = TimeSpan.FromSeconds(30);

    readonly SqliteDatabase _db;
    readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    // Only the loop touches these.
    SqliteConnection? _connection;
    readonly Dictionary<SettlementStatement, SqliteCommand> _commands = [];

    public SqliteOutcomeWriter(SqliteDatabase db)
    {
        _db = db;
        _ = Task.Run(LoopAsync);
    }

    /// <summary>Writes <paramref name="rows"/> in one transaction (shared with other callers'); per row, whether it changed.</summary>
    public Task<bool[]> WriteAsync(IReadOnlyList<Settlement> rows, long nowMs, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var pending = new Pending(rows, nowMs);
        _queue.Writer.TryWrite(pending);
        return pending.Completion.Task.WaitAsync(ct);
    }

    async Task LoopAsync()
    {
        var reader = _queue.Reader;
        var group = new List<Pending>();
        while (reader.TryPeek(out _) || await WaitAsync(reader).ConfigureAwait(false))
        {
            group.Clear();
            var rows = 0;
            while (rows < MaxPerCommit && reader.TryRead(out var next))
            {
                group.Add(next);
                rows += next.Rows.Count;
            }
            if (group.Count > 0) await CommitAsync(group).ConfigureAwait(false);
        }
    }

    async ValueTask<bool> WaitAsync(ChannelReader<Pending> reader)
    {
        if (_connection is null) return await reader.WaitToReadAsync().ConfigureAwait(false);
        using var idle = new CancellationTokenSource(IdleClose);
        try
        {
            return await reader.WaitToReadAsync(idle.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Close();
            return await reader.WaitToReadAsync().ConfigureAwait(false);
        }
    }

    async Task CommitAsync(List<Pending> group)
    {
        try
        {
            await _db.EnsureMigratedAsync(CancellationToken.None).ConfigureAwait(false);
            using (await _db.EnterWriteAsync(CancellationToken.None).ConfigureAwait(false))
            {
                var connection = _connection ??= await _db.OpenAsync(CancellationToken.None, relaxedSync: true).ConfigureAwait(false);
                using var tx = connection.BeginTransaction(deferred: false);
                foreach (var pending in group)
                    for (var i = 0; i < pending.Rows.Count; i++)
                    {
                        try
                        {
                            pending.Written[i] = Execute(connection, tx, pending.Rows[i], pending.NowMs) == 1;
                        }
                        catch (SqliteException ex) when (ex.SqliteErrorCode is 1 or 19 or 20 or 25)
                        {
                            // SQLITE_ERROR / CONSTRAINT / MISMATCH / RANGE: this caller only; the transaction goes on.
                            pending.Error ??= ex;
                        }
                    }
                tx.Commit();
            }
        }
        catch (Exception ex)
        {
            Close();
            foreach (var p in group) p.Completion.TrySetException(ex);
            return;
        }
        foreach (var p in group)
        {
            if (p.Error is { } error) p.Completion.TrySetException(error);
            else p.Completion.TrySetResult(p.Written);
        }
    }

    int Execute(SqliteConnection connection, SqliteTransaction tx, Settlement row, long nowMs)
    {
        var statement = SettlementStatements.Sqlite.For(row.Kind);
        if (!_commands.TryGetValue(statement, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = statement.Sql;
            foreach (var p in statement.Parameters)
                command.Parameters.Add(new SqliteParameter("@" + p, SettlementStatement.IsNumber(p) ? SqliteType.Integer : SqliteType.Text));
            _commands.Add(statement, command);
        }
        command.Transaction = tx;
        var parameters = command.Parameters;
        for (var i = 0; i < statement.Parameters.Length; i++)
            parameters[i].Value = SettlementStatements.Value(statement.Parameters[i], row, nowMs) ?? DBNull.Value;
        return command.ExecuteNonQuery();
    }

    void Close()
    {
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();
        _connection?.Dispose();
        _connection = null;
    }

    sealed class Pending(IReadOnlyList<Settlement> rows, long nowMs)
    {
        public IReadOnlyList<Settlement> Rows { get; } = rows;
        public long NowMs { get; } = nowMs;
        public bool[] Written { get; } = new bool[rows.Count];
        public Exception? Error { get; set; }
        public TaskCompletionSource<bool[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
