using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace Destinations.Storage.Postgres;

/// <summary>
/// The dispatcher's one write path on a PostgreSQL replica, as <see cref="Sqlite.SqliteDispatchWriter"/> on SQLite: claims
/// (<see cref="PostgresClaim"/>) and outcomes from every worker of this replica are queued, and one loop runs what is queued
/// in ONE transaction, then answers each caller. The log's memory (<see cref="PostgresLog"/>: the claims in flight per
/// leased partition) thus changes only with the transaction that records it; when a transaction fails, the memory is
/// dropped and the next claim starts again from the persisted cursors. A failed claim is undone to its savepoint and fails
/// only its caller; any other failure fails every caller of the group.
/// </summary>
sealed class PostgresDispatchWriter
{
    const int MaxPerCommit = 512;

    readonly PostgresDatabase _db;
    readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });

    public PostgresLog Log { get; }

    public PostgresDispatchWriter(PostgresDatabase db, PostgresLog log)
    {
        _db = db;
        Log = log;
        _ = Task.Run(LoopAsync);
    }

    public Task<bool[]> SettleAsync(IReadOnlyList<Settlement> rows, long nowMs, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var work = new SettleWork(rows, nowMs);
        _queue.Writer.TryWrite(work);
        return work.Completion.Task.WaitAsync(ct);
    }

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
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
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

    async Task CommitAsync(List<Work> group)
    {
        try
        {
            // The lease rounds run on their own connections, before the group's transaction (they commit on their own).
            foreach (var work in group) await work.PrepareAsync(Log).ConfigureAwait(false);
            await using var conn = await _db.OpenAsync(CancellationToken.None).ConfigureAwait(false);
            // Outcomes that change only memory and the flush (first-pass successes, given back, postponed: the usual settle)
            // need no transaction around the flush: one batch runs as one implicit transaction, all or nothing, so the
            // commit's round trip is saved.
            await using var tx = group.All(w => w.InMemory(Log)) ? null : await conn.BeginTransactionAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                var nowMs = 0L;
                // Writes whose outcome no later work reads (partner_calls records) go in the flush's round trip.
                var deferred = new List<NpgsqlBatchCommand>();
                foreach (var work in group)
                {
                    await work.RunAsync(conn, tx, Log, deferred).ConfigureAwait(false);
                    nowMs = Math.Max(nowMs, work.NowMs);
                }
                await Log.FlushAsync(conn, tx, nowMs, deferred, CancellationToken.None).ConfigureAwait(false);
                if (tx is not null) await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch
            {
                Log.Reset();
                throw;
            }
        }
        catch (Exception ex)
        {
            foreach (var work in group) work.Fail(ex);
            return;
        }
        foreach (var work in group) work.Complete();
    }

    abstract class Work
    {
        public abstract int Rows { get; }
        public abstract long NowMs { get; }
        public virtual Task PrepareAsync(PostgresLog log) => Task.CompletedTask;
        /// <summary>True when running it executes no statement (it changes the log's memory, and the flush writes it).</summary>
        public virtual bool InMemory(PostgresLog log) => false;
        public abstract Task RunAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, PostgresLog log, List<NpgsqlBatchCommand> deferred);
        public abstract void Complete();
        public abstract void Fail(Exception ex);
    }

    sealed class SettleWork(IReadOnlyList<Settlement> rows, long nowMs) : Work
    {
        readonly bool[] _written = new bool[rows.Count];

        public TaskCompletionSource<bool[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override int Rows => rows.Count;
        public override long NowMs => nowMs;

        public override bool InMemory(PostgresLog log) => rows.All(log.InMemory);

        public override async Task RunAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, PostgresLog log, List<NpgsqlBatchCommand> deferred)
        {
            var rowSettlements = new List<(int Index, Settlement Row)>();
            for (var i = 0; i < rows.Count; i++)
            {
                var row = rows[i];
                if (row.Delivery.Id < 0)
                {
                    // A log claim (no row yet): a row only if the outcome needs state, else just the cursor and counters.
                    var target = await log.SettleAsync(conn, tx, row, nowMs, CancellationToken.None).ConfigureAwait(false);
                    if (target is null) continue;
                    if (target == 0)
                    {
                        _written[i] = true;
                        continue;
                    }
                    row = row with { Delivery = row.Delivery with { Id = target.Value } };
                }
                rowSettlements.Add((i, row));
            }
            if (rowSettlements.Count > 0)
            {
                await using var batch = new NpgsqlBatch(conn, tx);
                foreach (var (_, row) in rowSettlements)
                {
                    var statement = SettlementStatements.Postgres.For(row.Kind);
                    var command = new NpgsqlBatchCommand(statement.Sql);
                    foreach (var p in statement.Parameters)
                        command.Parameters.Add(new NpgsqlParameter
                        {
                            NpgsqlDbType = SettlementStatement.IsNumber(p) ? NpgsqlDbType.Bigint : NpgsqlDbType.Text,
                            Value = SettlementStatements.Value(p, row, nowMs) ?? DBNull.Value,
                        });
                    batch.BatchCommands.Add(command);
                }
                await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
                for (var k = 0; k < rowSettlements.Count; k++)
                {
                    var (i, row) = rowSettlements[k];
                    _written[i] = batch.BatchCommands[k].RecordsAffected == 1;
                    if (_written[i] && Sqlite.SqliteLog.OutcomeOf(row.Kind) is { } outcome) log.Count(row.Delivery.DestinationId, outcome, nowMs);
                }
            }
            if (PartnerCalls.Record(rows, _written) is { } record) deferred.Add(record);
        }

        public override void Complete() => Completion.TrySetResult(_written);
        public override void Fail(Exception ex) => Completion.TrySetException(ex);
    }

    sealed class ClaimWork(ClaimRequest request, DateTimeOffset now, CancellationToken ct) : Work
    {
        IReadOnlyList<ClaimedDelivery>? _claimed;
        Exception? _error;

        public TaskCompletionSource<IReadOnlyList<ClaimedDelivery>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override int Rows => request.Max;
        public override long NowMs => now.ToUnixTimeMilliseconds();

        public override async Task PrepareAsync(PostgresLog log)
        {
            if (ct.IsCancellationRequested) return;
            try
            {
                await log.RoundAsync(request, NowMs, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _error = ex;
            }
        }

        public override async Task RunAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, PostgresLog log, List<NpgsqlBatchCommand> deferred)
        {
            if (_error is not null) return;
            ArgumentNullException.ThrowIfNull(tx);
            if (ct.IsCancellationRequested)
            {
                _error = new OperationCanceledException(ct);
                return;
            }
            // The claim sets the savepoint "claim" in its first round trip. Not released after the claim (a round trip saved):
            // a later claim's savepoint of the same name hides this one, and a rollback to "claim" goes to the latest, undoing
            // that claim only. A group holds a few claims, so few savepoints.
            try
            {
                _claimed = await PostgresClaim.ClaimAsync(conn, tx, log, request, now, CancellationToken.None).ConfigureAwait(false);
            }
            catch (PostgresException ex)
            {
                // This claim only: undone; the log's memory may hold part of it, so it starts again from the persisted cursors.
                await tx.RollbackAsync("claim").ConfigureAwait(false);
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

/// <summary>One <c>partner_calls</c> record per partner call among the written outcomes (not per delivery: the items of a
/// shared call, D15, carry one record instance), in the settle transaction, as on SQLite.</summary>
static class PartnerCalls
{
    const string Insert = """
        INSERT INTO partner_calls (destination_id, at, status, step, first_seq, last_seq, seqs, method, url, answer, body)
        SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::text[],
                             $8::text[], $9::text[], $10::text[], $11::text[])
        """;

    /// <summary>The insert of the records, or null when there is none.</summary>
    public static NpgsqlBatchCommand? Record(IReadOnlyList<Settlement> rows, bool[] written)
    {
        Dictionary<PartnerCallRecord, (string Destination, List<long> Seqs)>? calls = null;
        for (var i = 0; i < rows.Count; i++)
        {
            if (!written[i] || rows[i].Call is not { } call) continue;
            calls ??= new(ReferenceEqualityComparer.Instance);
            if (!calls.TryGetValue(call, out var entry)) calls[call] = entry = (rows[i].Delivery.DestinationId, []);
            entry.Seqs.Add(rows[i].Delivery.EventSeq);
        }
        if (calls is null) return null;
        var list = calls.ToList();
        var command = new NpgsqlBatchCommand(Insert);
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(c => c.Value.Destination).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(c => c.Key.At.ToUnixTimeMilliseconds()).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(c => (long?)c.Key.Status).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(c => c.Key.Step).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(c => c.Value.Seqs.Min()).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(c => c.Value.Seqs.Max()).ToArray() });
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = list.Select(c => string.Join(',', c.Value.Seqs.Select(q => q.ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToArray(),
        });
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(c => c.Key.Method).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(c => c.Key.Url).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(c => c.Key.Answer).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = list.Select(c => c.Key.Body).ToArray() });
        return command;
    }
}
