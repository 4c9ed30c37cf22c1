using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Destinations.Benchmarks;

/// <summary>
/// The naive durable reference: the baseline's Kestrel, the body parsed with <see cref="JsonDocument"/>, each event's raw JSON
/// stored as one row <c>(id INTEGER PRIMARY KEY, body TEXT)</c> of one SQLite table (WAL, <c>synchronous=FULL</c>), group
/// commit through one writer thread that takes whatever is queued (up to 512 events, no timer), 200 only after the commit.
/// No auth, validation, routing, dedupe or delivery: the least any service must do to acknowledge an event durably, so its
/// rate is what this machine's disk and SQLite allow — the storage ceiling the service is compared with in the same run.
/// </summary>
static class Reference
{
    public const int MaxEventsPerCommit = 512;

    /// <summary>One request's rows and the answer it waits for.</summary>
    sealed record Pending(string[] Rows, TaskCompletionSource Committed);

    public static async Task<int> RunAsync(string url, string file)
    {
        using var connection = Open(file);
        using var queue = new BlockingCollection<Pending>();
        var writer = new Thread(() => WriteLoop(connection, queue)) { IsBackground = true, Name = "reference writer" };
        writer.Start();

        var app = Baseline.Build(url);
        app.MapPost("/v1/{**rest}", async (HttpContext http, string rest) =>
        {
            string[] rows;
            using (var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted))
                rows = Rows(rest, doc.RootElement);
            // Continuations off the writer thread: it goes straight on to the next group instead of running request code.
            var pending = new Pending(rows, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            queue.Add(pending);
            await pending.Committed.Task;
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(Baseline.Ok, http.RequestAborted);
        });
        await app.RunAsync();
        queue.CompleteAdding();
        writer.Join();
        return 0;
    }

    /// <summary>A batch body's elements one row each, any other body one row.</summary>
    static string[] Rows(string path, JsonElement root)
    {
        if (path == "batch" && root.ValueKind == JsonValueKind.Object && root.TryGetProperty("batch", out var batch)
            && batch.ValueKind == JsonValueKind.Array)
        {
            var rows = new string[batch.GetArrayLength()];
            var i = 0;
            foreach (var e in batch.EnumerateArray()) rows[i++] = e.GetRawText();
            return rows;
        }
        return [root.GetRawText()];
    }

    static SqliteConnection Open(string file)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString());
        connection.Open();
        using var setup = connection.CreateCommand();
        setup.CommandText = """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=FULL;
            CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT);
            """;
        setup.ExecuteNonQuery();
        // Refuse to run with anything but the pinned settings rather than measure a different ceiling.
        setup.CommandText = "PRAGMA journal_mode";
        var journal = (string)setup.ExecuteScalar()!;
        setup.CommandText = "PRAGMA synchronous";
        var synchronous = (long)setup.ExecuteScalar()!;
        if (journal != "wal" || synchronous != 2)
            throw new InvalidOperationException($"{file}: journal_mode={journal}, synchronous={synchronous}; expected wal and 2 (FULL)");
        Console.WriteLine($"reference: {file}, journal_mode={journal}, synchronous=FULL, up to {MaxEventsPerCommit} events per commit");
        return connection;
    }

    /// <summary>The one writer: blocks for the first queued request, adds whatever else is queued while the group stays within
    /// <see cref="MaxEventsPerCommit"/> (a request that would pass it opens the next group), inserts, commits, then answers.</summary>
    static void WriteLoop(SqliteConnection connection, BlockingCollection<Pending> queue)
    {
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO events (body) VALUES ($body)";
        var body = insert.Parameters.Add("$body", SqliteType.Text);
        var group = new List<Pending>();
        Pending? carried = null;
        while (true)
        {
            group.Clear();
            if (carried is not null) group.Add(carried);
            else if (queue.TryTake(out var first, Timeout.Infinite)) group.Add(first);
            else return; // completed and empty
            carried = null;
            var events = group[0].Rows.Length;
            while (queue.TryTake(out var next))
            {
                if (events + next.Rows.Length > MaxEventsPerCommit)
                {
                    carried = next;
                    break;
                }
                group.Add(next);
                events += next.Rows.Length;
            }
            try
            {
                using var transaction = connection.BeginTransaction();
                insert.Transaction = transaction;
                foreach (var p in group)
                    foreach (var row in p.Rows)
                    {
                        body.Value = row;
                        insert.ExecuteNonQuery();
                    }
                transaction.Commit();
                foreach (var p in group) p.Committed.TrySetResult();
            }
            catch (Exception e) when (e is SqliteException or InvalidOperationException)
            {
                Console.Error.WriteLine($"reference: commit failed: {e.Message}");
                foreach (var p in group) p.Committed.TrySetException(e);
            }
        }
    }
}
