using Destinations.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SQLitePCL;
using Xunit.Abstractions;

namespace Destinations.Storage.Tests.Sqlite;

/// <summary>
/// An event is acknowledged only once the transaction holding its ingest group has committed with <c>synchronous=FULL</c>,
/// so the commit fsyncs the WAL and the event survives a power loss, not just kill -9. The group commit shares one writer
/// connection with the dispatch writer, whose claims and outcomes run with <c>NORMAL</c>; the connection is switched per
/// transaction (<see cref="SqliteDatabase.Writer"/>). A fresh pooled connection says nothing about that one, so this test
/// watches the writer connection itself.
/// <para>How it watches: on the writer connection, TEMP triggers on the tables each writer touches (events for the group
/// commit, cursor moves for the dispatch writer) call a function that reads <c>PRAGMA synchronous</c> on the same
/// connection, from inside the transaction; a commit hook marks where each transaction committed. SQLite refuses to change
/// <c>synchronous</c> inside a transaction, so the value read inside it is the value its COMMIT runs with.</para>
/// </summary>
public sealed class GroupCommitDurabilityTests(ITestOutputHelper output)
{
    const int Full = 2, Normal = 1;
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_ingest_group_commits_with_synchronous_FULL_on_the_writer_connection_even_right_after_a_NORMAL_dispatch_transaction()
    {
        var folder = Directory.CreateTempSubdirectory("dest-durability-").FullName;
        try
        {
            var clock = new FakeTimeProvider(TestStore.Start);
            var db = new SqliteDatabase($"Data Source={Path.Combine(folder, "test.db")}");
            var signal = new DispatchSignal();
            var options = Microsoft.Extensions.Options.Options.Create(new StorageOptions { Provider = "Sqlite", ConnectionString = db.ConnectionString });
            await using var store = new SqliteEventStore(db, options, clock, signal, NullLogger<SqliteEventStore>.Instance);
            var queue = new SqliteDeliveryQueue(db, clock, signal);
            await db.EnsureMigratedAsync(CancellationToken.None);

            var log = new TransactionLog();
            using (db.EnterWrite())
            {
                // Taken the way the dispatch writer takes it, so the connection is left at NORMAL: the first ingest group
                // must switch it back.
                var writer = db.Writer(fullSync: false);
                log.Attach(writer);
            }

            // Strictly alternating: each ingest group right after a dispatch transaction (a claim, then an outcome).
            Assert.Equal(AcceptStatus.Stored, (await store.AcceptAsync([TestEvents.To("m-1", "sm")], CancellationToken.None)).Single());
            var claimed = Assert.Single(await queue.ClaimAsync("worker", 10, Lease, CancellationToken.None));
            Assert.Equal(AcceptStatus.Stored, (await store.AcceptAsync([TestEvents.To("m-2", "sm")], CancellationToken.None)).Single());
            Assert.True(await queue.MarkDeliveredAsync(claimed, 1, CancellationToken.None));
            Assert.Equal(AcceptStatus.Stored, (await store.AcceptAsync([TestEvents.To("m-3", "sm")], CancellationToken.None)).Single());

            // Then both writers at once, so the two take turns on the connection in whatever order the gate gives them.
            var ingest = Task.Run(async () =>
            {
                for (var i = 0; i < 100; i++)
                    await store.AcceptAsync([TestEvents.To($"c-{i}-a", "sm"), TestEvents.To($"c-{i}-b", "sm")], CancellationToken.None);
            });
            var dispatch = Task.Run(async () =>
            {
                for (var i = 0; i < 100; i++)
                    foreach (var row in await queue.ClaimAsync("worker", 4, Lease, CancellationToken.None))
                        await queue.MarkDeliveredAsync(row, 1, CancellationToken.None);
            });
            await Task.WhenAll(ingest, dispatch);

            var transactions = log.Transactions();
            var ingestTx = transactions.Where(t => t.Any(o => o.Writer == "ingest")).ToList();
            var dispatchTx = transactions.Where(t => t.Any(o => o.Writer == "dispatch")).ToList();
            var switches = transactions.Zip(transactions.Skip(1)).Count(p =>
                p.First.Any(o => o.Writer == "dispatch") && p.Second.Any(o => o.Writer == "ingest"));
            output.WriteLine($"{transactions.Count} committed transactions on the writer connection: {ingestTx.Count} ingest groups, " +
                             $"{dispatchTx.Count} dispatch transactions, {switches} ingest groups right after a dispatch transaction");

            // Each event was inserted in a committed transaction: 3 + 2 × 100 events.
            Assert.Equal(203, ingestTx.Sum(t => t.Count(o => o.Writer == "ingest")));
            // The observation can tell the two apart: the dispatch writer's transactions really ran with NORMAL …
            Assert.NotEmpty(dispatchTx);
            Assert.All(dispatchTx, t => Assert.All(t.Where(o => o.Writer == "dispatch"), o => Assert.Equal(Normal, o.Synchronous)));
            // … and the case that matters happened: an ingest group on the connection a NORMAL transaction had just used.
            Assert.True(switches >= 2, $"only {switches} ingest groups followed a dispatch transaction");
            // Every ingest group committed with FULL.
            Assert.All(ingestTx, t => Assert.All(t, o => Assert.Equal(Full, o.Synchronous)));
            Assert.False(log.Uncommitted.Any(o => o.Writer == "ingest"), "an ingest group's rows were seen but its commit was not");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>What the hooks saw on one connection, in order: observations, and where each transaction committed.</summary>
    sealed class TransactionLog
    {
        readonly object _lock = new();
        readonly List<List<Observation>> _committed = [];
        List<Observation> _current = [];
        // Kept alive for as long as the connection: SQLite holds only native pointers to them.
        delegate_commit? _commitHook;
        delegate_rollback? _rollbackHook;

        public IReadOnlyList<Observation> Uncommitted { get { lock (_lock) return [.. _current]; } }

        public List<List<Observation>> Transactions() { lock (_lock) return _committed.Select(t => t.ToList()).ToList(); }

        public void Attach(SqliteConnection conn)
        {
            // Called from inside the statement that fired the trigger: reading a pragma on the same connection from an
            // application-defined function is allowed (unlike from a commit or update hook).
            conn.CreateFunction("observe_synchronous", (string writer) =>
            {
                var level = ReadSynchronous(conn.Handle!);
                lock (_lock) _current.Add(new Observation(writer, level));
                return 0L;
            });
            _commitHook = _ =>
            {
                lock (_lock)
                {
                    if (_current.Count > 0) _committed.Add(_current);
                    _current = [];
                }
                return 0; // 0: let the commit go ahead
            };
            raw.sqlite3_commit_hook(conn.Handle!, _commitHook, null);
            _rollbackHook = _ => { lock (_lock) _current = []; };
            raw.sqlite3_rollback_hook(conn.Handle!, _rollbackHook, null);
            using var cmd = conn.CreateCommand();
            cmd.CommandText = """
                CREATE TEMP TRIGGER observe_ingest AFTER INSERT ON main.events BEGIN SELECT observe_synchronous('ingest'); END;
                CREATE TEMP TRIGGER observe_dispatch AFTER UPDATE ON main.cursors BEGIN SELECT observe_synchronous('dispatch'); END;
                """;
            cmd.ExecuteNonQuery();
        }

        static int ReadSynchronous(sqlite3 db)
        {
            Assert.Equal(raw.SQLITE_OK, raw.sqlite3_prepare_v2(db, "PRAGMA synchronous", out var stmt));
            using (stmt)
            {
                Assert.Equal(raw.SQLITE_ROW, raw.sqlite3_step(stmt));
                return raw.sqlite3_column_int(stmt, 0);
            }
        }
    }

    sealed record Observation(string Writer, int Synchronous);
}
