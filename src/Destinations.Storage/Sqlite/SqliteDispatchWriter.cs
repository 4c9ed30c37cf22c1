using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Sqlite;

/// <summary>
/// The dispatcher's one write path on SQLite: claims (<see cref="SqliteClaim"/>) and row outcomes
/// (<see cref="IDeliveryQueue.SettleAsync"/>: delivered, progress, retry, dead …) from every worker are queued, and one loop
/// runs all that is queued in ONE transaction behind the database's write gate (or in several, when the group commit asks for
/// the gate meanwhile: see <see cref="CommitAsync"/>), then answers each caller. A claimed set
/// settled together thus costs one commit, not one per row, and a claim shares its commit with the outcomes queued with it.
/// Every statement is a fixed SQL text prepared once (<see cref="SqliteSession"/>) on the database's long-lived writer
/// connection, the one the group commit writes on too (<see cref="SqliteDatabase.Writer"/>: with a connection each, every
/// transaction of one emptied the other's page cache), so a row costs a bind and a step, never a parse. Its transactions run
/// with <c>synchronous=NORMAL</c> (a lost claim or outcome is a re-delivery, see <see cref="SqliteDatabase.Writer"/>). After a
/// failed commit the connection is closed (the next transaction opens a fresh one); when idle, the statements are dropped.
/// A statement that fails fails only its caller (a claim is undone to its savepoint); a failed commit fails every caller
/// of the group.
/// </summary>
sealed class SqliteDispatchWriter
{
    /// <summary>At most this many rows per transaction (callers' sets are never split), so the write gate is never held for long.</summary>
    const int MaxPerCommit = 512;

    /// <summary>The prepared statements are dropped after this long without work.</summary>
    static readonly TimeSpan IdleClose = TimeSpan.FromSeconds(30);

    readonly SqliteDatabase _db;
    readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    readonly WriterStatements<SqliteSession> _session; // only the loop touches it

    /// <summary>The log claims in flight and the cursors (only the loop touches it, inside its transactions).</summary>
    public SqliteLog Log { get; } = new();

    public SqliteDispatchWriter(SqliteDatabase db)
    {
        _db = db;
        // synchronous=NORMAL for claims and outcomes (see SqliteDatabase.Writer).
        _session = new WriterStatements<SqliteSession>(db, fullSync: false, conn => new SqliteSession(conn));
        _ = Task.Run(LoopAsync);
    }

    /// <summary>Writes <paramref name="rows"/> in one transaction (shared with other callers'); per row, whether it changed.</summary>
    public Task<bool[]> SettleAsync(IReadOnlyList<Settlement> rows, long nowMs, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var work = new SettleWork(rows, nowMs);
        _queue.Writer.TryWrite(work);
        return work.Completion.Task.WaitAsync(ct);
    }

    /// <summary>Claims as <see cref="SqliteClaim"/> describes. Cancellation counts only until the claim runs: once rows are
    /// leased they are returned, so the caller can give them back instead of leaving them to their lease.</summary>
    public Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(ClaimRequest request, DateTimeOffset now, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var work = new ClaimWork(request, now, ct);
        _queue.Writer.TryWrite(work);
        return work.Completion.Task;
    }

    async Task LoopAsync()
    {
        var reader = _queue.Reader;
        var group = new List<Work>();
        while (reader.TryPeek(out _) || await WaitAsync(reader).ConfigureAwait(false))
        {
            group.Clear();
            var rows = 0;
            while (rows < MaxPerCommit && reader.TryRead(out var next))
            {
                group.Add(next);
                rows += next.Rows;
            }
            if (group.Count > 0) await CommitAsync(group).ConfigureAwait(false);
        }
    }

    async ValueTask<bool> WaitAsync(ChannelReader<Work> reader)
    {
        if (!_session.IsPrepared) return await reader.WaitToReadAsync().ConfigureAwait(false);
        using var idle = new CancellationTokenSource(IdleClose);
        try
        {
            return await reader.WaitToReadAsync(idle.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Under the gate: the statements live on the connection the group commit is using meanwhile.
            using (await _db.EnterWriteAsync(CancellationToken.None).ConfigureAwait(false)) _session.Drop();
            return await reader.WaitToReadAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs the group in one transaction, or in several when the group commit asks for the gate meanwhile
    /// (<see cref="WriteGate.PriorityWaiting"/>, checked between callers' pieces of work): acknowledgements do not wait
    /// behind a whole group of claims and outcomes. Each caller is answered once its own transaction is committed.</summary>
    async Task CommitAsync(List<Work> group)
    {
        var done = 0;
        while (done < group.Count)
        {
            var start = done;
            try
            {
                await _db.EnsureMigratedAsync(CancellationToken.None).ConfigureAwait(false);
                using (await _db.EnterWriteAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    try
                    {
                        var session = _session.Get();
                        session.Begin();
                        do group[done++].Run(session, Log);
                        while (done < group.Count && !_db.Gate.PriorityWaiting);
                        Log.Flush(session, NowMs(group, start, done));
                        session.Commit();
                    }
                    catch
                    {
                        // What the log remembers may now differ from the database: start again from the persisted cursors.
                        Log.Reset();
                        // The connection may be unusable: the next transaction (ours or the group commit's) opens a fresh
                        // one. Still inside the gate, so the group commit is not using it meanwhile.
                        _session.Reset();
                        throw;
                    }
                }
            }
            catch (Exception ex)
            {
                for (var i = start; i < group.Count; i++) group[i].Fail(ex);
                return;
            }
            for (var i = start; i < done; i++) group[i].Complete();
        }
    }

    static long NowMs(List<Work> group, int start, int end)
    {
        var now = 0L;
        for (var i = start; i < end; i++) now = Math.Max(now, group[i].NowMs);
        return now;
    }

    /// <summary>SQLITE_ERROR / CONSTRAINT / MISMATCH / RANGE: the statement's own fault, which fails only its caller; the
    /// transaction goes on (anything else — busy, I/O, full disk — fails the group).</summary>
    static bool IsStatementError(Exception ex) => ex is SqliteException { SqliteErrorCode: 1 or 19 or 20 or 25 };

    abstract class Work
    {
        public abstract int Rows { get; }
        public abstract long NowMs { get; }
        public abstract void Run(SqliteSession session, SqliteLog log);
        public abstract void Complete();
        public abstract void Fail(Exception ex);
    }

    sealed class SettleWork(IReadOnlyList<Settlement> rows, long nowMs) : Work
    {
        readonly bool[] _written = new bool[rows.Count];
        Exception? _error;

        public TaskCompletionSource<bool[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override int Rows => rows.Count;
        public override long NowMs => nowMs;

        public override void Run(SqliteSession session, SqliteLog log)
        {
            for (var i = 0; i < rows.Count; i++)
            {
                try
                {
                    var row = rows[i];
                    if (row.Delivery.Id < 0)
                    {
                        // A log claim (no row yet): a row only if the outcome needs state, else just the cursor and counters.
                        var target = log.Settle(session, row, nowMs);
                        if (target is null) continue;
                        if (target == 0)
                        {
                            _written[i] = true;
                            continue;
                        }
                        row = row with { Delivery = row.Delivery with { Id = target.Value } };
                    }
                    _written[i] = Execute(session, row) == 1;
                    if (_written[i] && SqliteLog.OutcomeOf(row.Kind) is { } outcome) log.Count(row.Delivery.DestinationId, outcome, nowMs);
                }
                catch (Exception ex) when (IsStatementError(ex))
                {
                    _error ??= ex;
                }
            }
            RecordCalls(session);
        }

        const string InsertCall = """
            INSERT INTO partner_calls (destination_id, at, status, step, first_seq, last_seq, seqs, method, url, answer, body)
            VALUES (@Destination, @At, @Status, @Step, @First, @Last, @Seqs, @Method, @Url, @Answer, @Body)
            """;
        static readonly string[] InsertCallParameters = ["@Destination", "@At", "@Status", "@Step", "@First", "@Last", "@Seqs",
            "@Method", "@Url", "@Answer", "@Body"];

        /// <summary>One record per partner call among the written outcomes (the items of a shared call carry one instance).</summary>
        void RecordCalls(SqliteSession session)
        {
            Dictionary<PartnerCallRecord, (string Destination, List<long> Seqs)>? calls = null;
            for (var i = 0; i < rows.Count; i++)
            {
                if (!_written[i] || rows[i].Call is not { } call) continue;
                calls ??= new(ReferenceEqualityComparer.Instance);
                if (!calls.TryGetValue(call, out var entry)) calls[call] = entry = (rows[i].Delivery.DestinationId, []);
                entry.Seqs.Add(rows[i].Delivery.EventSeq);
            }
            if (calls is null) return;
            var command = session.Command(InsertCall, InsertCallParameters);
            foreach (var (call, (destination, seqs)) in calls)
            {
                object?[] values = [destination, call.At.ToUnixTimeMilliseconds(), call.Status, call.Step, seqs.Min(), seqs.Max(),
                    string.Join(',', seqs.Select(q => q.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                    call.Method, call.Url, call.Answer, call.Body];
                for (var v = 0; v < values.Length; v++) command.Parameters[v].Value = values[v] ?? DBNull.Value;
                command.ExecuteNonQuery();
            }
        }

        int Execute(SqliteSession session, Settlement row)
        {
            var statement = SettlementStatements.Sqlite.For(row.Kind);
            var command = session.Command(statement.Sql, statement.Names);
            for (var i = 0; i < statement.Parameters.Length; i++)
                command.Parameters[i].Value = SettlementStatements.Value(statement.Parameters[i], row, nowMs) ?? DBNull.Value;
            return command.ExecuteNonQuery();
        }

        public override void Complete()
        {
            if (_error is { } error) Completion.TrySetException(error);
            else Completion.TrySetResult(_written);
        }

        public override void Fail(Exception ex) => Completion.TrySetException(ex);
    }

    sealed class ClaimWork(ClaimRequest request, DateTimeOffset now, CancellationToken ct) : Work
    {
        IReadOnlyList<ClaimedDelivery>? _claimed;
        Exception? _error;

        public TaskCompletionSource<IReadOnlyList<ClaimedDelivery>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override int Rows => request.Max;
        public override long NowMs => SqliteDatabase.ToUnixMs(now);

        public override void Run(SqliteSession session, SqliteLog log)
        {
            if (ct.IsCancellationRequested)
            {
                _error = new OperationCanceledException(ct);
                return;
            }
            session.Savepoint();
            try
            {
                _claimed = SqliteClaim.Claim(session, log, request, now);
                session.ReleaseSavepoint();
            }
            catch (Exception ex) when (ex is not SqliteException || IsStatementError(ex))
            {
                // This claim only: undone, the group's other work stays; the log's memory may hold part of it, so it starts
                // again from the persisted cursors (log claims of other workers then count as lost leases: re-delivered).
                session.RollbackToSavepoint();
                log.Reset();
                _error = ex;
            }
        }

        public override void Complete()
        {
            if (_error is { } error) Completion.TrySetException(error);
            else Completion.TrySetResult(_claimed!);
        }

        public override void Fail(Exception ex) => Completion.TrySetException(ex);
    }
}

/// <summary>
/// The dispatch writer's prepared statements (<see cref="Command"/>) on the database's writer connection, inside the
/// transaction of the group being written.
/// </summary>
sealed class SqliteSession(SqliteConnection connection) : IDisposable
{
    public SqliteConnection Connection => connection;

    // Keyed by reference: only fixed SQL texts (constants, static fields) come here, so the cache stays small.
    readonly Dictionary<string, SqliteCommand> _commands = new(ReferenceEqualityComparer.Instance);
    SqliteTransaction? _transaction;

    const string SavepointSql = "SAVEPOINT claim";
    const string ReleaseSql = "RELEASE claim";
    const string RollbackToSql = "ROLLBACK TO claim";

    /// <summary>The command for <paramref name="sql"/>, prepared once, its parameters (<c>@name</c>, in this order) bound by
    /// index; enlisted in the current transaction.</summary>
    public SqliteCommand Command(string sql, ReadOnlySpan<string> parameters)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters) command.Parameters.Add(new SqliteParameter(name, null));
            _commands.Add(sql, command);
        }
        command.Transaction = _transaction;
        return command;
    }

    public void Begin() => _transaction = connection.BeginTransaction(deferred: false);

    public void Commit()
    {
        _transaction!.Commit();
        _transaction.Dispose();
        _transaction = null;
    }

    public void Savepoint() => Command(SavepointSql, []).ExecuteNonQuery();

    public void ReleaseSavepoint() => Command(ReleaseSql, []).ExecuteNonQuery();

    public void RollbackToSavepoint()
    {
        Command(RollbackToSql, []).ExecuteNonQuery();
        ReleaseSavepoint();
    }

    /// <summary>Disposes the prepared statements; the connection is the database's (<see cref="SqliteDatabase.Writer"/>).</summary>
    public void Dispose()
    {
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();
        _transaction?.Dispose();
    }
}
