using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit.Abstractions;

namespace Destinations.Torture.Tests;

/// <summary>
/// Bad-input test: 10,000 generated and mutated payloads (<see cref="BadPayloads"/>, seeded) against one service process, on
/// each storage provider. No 5xx ever; every event of a 200 answer is in the store (its dedupe record, kept for every accepted
/// event); every 400 names a field; the process stays up and ready, and its memory is stable (RSS at the end at most twice the
/// RSS after a warm-up of 1,000 payloads).
/// </summary>
public sealed class BadInputTortureTests(ITestOutputHelper output)
{
    const int Payloads = 10_000;
    const int WarmUp = 1_000;
    const int Concurrency = 8;
    const int Seed = 10_2026;
    const long MaxBodyBytes = 1024 * 1024; // small, so "oversize" bodies stay cheap to send
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(150);

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public async Task Ten_thousand_hostile_payloads_get_no_5xx_and_leave_the_process_up_with_stable_memory(string provider)
    {
        var total = Stopwatch.StartNew();
        await using var partner = await FakePartner.StartAsync();
        var data = TortureEnvironment.NewDataDirectory();
        var env = TortureEnvironment.Service(data, partner.Url);
        env["Ingress__MaxBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string? postgres = null;
        if (provider == "Postgres")
        {
            var server = Environment.GetEnvironmentVariable("DESTINATIONS_TEST_POSTGRES");
            Assert.False(string.IsNullOrEmpty(server),
                "DESTINATIONS_TEST_POSTGRES is not set: this test needs a PostgreSQL server (.ci/run starts one on loopback and sets it)");
            postgres = $"{server};Search Path=badinput_{Guid.NewGuid():N}";
            env["Storage__Provider"] = "Postgres";
            env["Storage__ConnectionString"] = postgres;
        }
        var generator = new BadPayloads(Seed, MaxBodyBytes, TortureEnvironment.SharedSecret);
        var statuses = new ConcurrentDictionary<int, int>();
        var serverErrors = new ConcurrentQueue<string>();
        var transportErrors = new ConcurrentQueue<string>();
        var unnamed400s = new ConcurrentQueue<string>();
        var acceptedIds = new ConcurrentDictionary<string, string>(StringComparer.Ordinal); // messageId → the request that had it
        var unreadable200s = new ConcurrentQueue<string>();
        try
        {
            await using var service = await ServiceProcess.StartAsync(env, data);
            using var http = TortureEnvironment.Client(TimeSpan.FromSeconds(30));
            using var deadline = new CancellationTokenSource(Deadline);

            async Task RunAsync(int count)
            {
                var requests = new ConcurrentQueue<BadRequest>(Enumerable.Range(0, count).Select(_ => generator.Next()));
                await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
                {
                    while (!deadline.IsCancellationRequested && requests.TryDequeue(out var request))
                    {
                        var (status, answer) = await SendAsync(http, service.BaseAddress, request, transportErrors);
                        statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                        if (status >= 500) serverErrors.Enqueue($"{status}: {request.Description}");
                        if (status == 400 && !NamesAField(answer)) unnamed400s.Enqueue($"{request.Description}: {answer}");
                        if (status == 200)
                        {
                            try
                            {
                                foreach (var id in AcceptedMessageIds(request, answer)) acceptedIds.TryAdd(id, request.Description);
                            }
                            catch (Exception ex) when (ex is JsonException or InvalidOperationException or InvalidDataException or KeyNotFoundException)
                            {
                                unreadable200s.Enqueue($"{request.Description}: {ex.Message}; answer {answer}");
                            }
                        }
                    }
                })));
            }

            await RunAsync(WarmUp);
            var rssAfterWarmUp = service.RssKib();
            await RunAsync(Payloads - WarmUp);
            var rssAtEnd = service.RssKib();

            Assert.False(deadline.IsCancellationRequested, $"not done within {Deadline}");
            Assert.True(service.IsAlive, "the service died\n" + service.Output);
            using (var ready = await http.GetAsync(new Uri(service.BaseAddress, "/health/ready")))
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var sent = statuses.Values.Sum();
            output.WriteLine($"bad input: {sent} payloads in {total.Elapsed.TotalSeconds:F1} s; answers " +
                string.Join(", ", statuses.OrderBy(kv => kv.Key).Select(kv => $"{(kv.Key == 0 ? "no answer" : kv.Key)}×{kv.Value}")) +
                $"; RSS after warm-up {rssAfterWarmUp / 1024} MiB, at the end {rssAtEnd / 1024} MiB");
            foreach (var error in transportErrors.Take(5)) output.WriteLine("no answer: " + error);

            var known = await KnownMessageIdsAsync(provider, data, postgres);
            var missing = acceptedIds.Where(kv => !known.Contains(kv.Key)).ToList();
            output.WriteLine($"{provider}: {acceptedIds.Count} distinct messageIds answered 200, {known.Count} in the store, {missing.Count} missing");

            Assert.Equal(Payloads, sent);
            Assert.True(serverErrors.IsEmpty, $"{serverErrors.Count} 5xx answers, e.g.\n{string.Join('\n', serverErrors.Take(10))}");
            Assert.True(unnamed400s.IsEmpty, $"{unnamed400s.Count} 400 answers name no field, e.g.\n{string.Join('\n', unnamed400s.Take(10))}");
            Assert.True(unreadable200s.IsEmpty, $"200 answers whose events could not be listed:\n{string.Join('\n', unreadable200s.Take(10))}");
            Assert.True(acceptedIds.Count > 100, $"only {acceptedIds.Count} events were accepted: the generator no longer exercises the store");
            Assert.True(missing.Count == 0, $"{missing.Count} events answered 200 are not in the store, e.g.\n" +
                string.Join('\n', missing.Take(10).Select(kv => $"{kv.Key} from {kv.Value}")));
            Assert.True(rssAtEnd <= 2 * rssAfterWarmUp, $"RSS grew from {rssAfterWarmUp} KiB to {rssAtEnd} KiB");
            // Only a body over the limit may be cut off (Kestrel answers 413 and closes before reading it all).
            var unanswered = transportErrors.Where(e => !e.StartsWith("over the limit", StringComparison.Ordinal)).ToList();
            Assert.True(unanswered.Count == 0, "requests without an answer:\n" + string.Join('\n', unanswered.Take(10)));
        }
        finally
        {
            TortureEnvironment.DeleteQuietly(data);
        }
    }

    /// <summary>The status code (0 when the connection ended without an answer) and the answer's body.</summary>
    static async Task<(int Status, string Answer)> SendAsync(HttpClient http, Uri service, BadRequest request, ConcurrentQueue<string> transportErrors)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(service, request.Path));
        var content = new ByteArrayContent(request.Body);
        content.Headers.ContentType = null;
        if (request.ContentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        message.Content = content;
        message.Headers.ConnectionClose = true;
        foreach (var (name, value) in request.Headers)
        {
            if (name == "Authorization") message.Headers.Authorization = null;
            if (!message.Headers.TryAddWithoutValidation(name, value)) content.Headers.TryAddWithoutValidation(name, value);
        }
        if (!request.Headers.Any(h => h.Name == "Authorization"))
            message.Headers.Authorization = TortureEnvironment.BasicAuth();
        try
        {
            using var response = await http.SendAsync(message);
            var status = (int)response.StatusCode;
            return (status, status is 200 or 400 ? await response.Content.ReadAsStringAsync() : "");
        }
        catch (HttpRequestException ex)
        {
            var over = request.Body.Length > MaxBodyBytes ? "over the limit: " : "";
            transportErrors.Enqueue($"{over}{request.Description}: {ex.Message} {ex.InnerException?.Message}");
            return (0, "");
        }
    }

    /// <summary>A 400 is a problem+json whose <c>errors</c> names at least one field.</summary>
    static bool NamesAField(string answer)
    {
        try
        {
            return JsonNode.Parse(answer) is JsonObject { } problem && problem["errors"] is JsonObject { Count: > 0 } errors
                && errors.All(e => e.Key.Length > 0 && e.Value is JsonArray { Count: > 0 });
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// The messageIds of the events a 200 answer accepted, read back from the request as the service read it (gzip undone, a
    /// byte order mark skipped): a batch or array answer lists the rejected indexes and the generated ids; a single answer
    /// carries the id it generated, else the event has its own.
    /// </summary>
    static IEnumerable<string> AcceptedMessageIds(BadRequest request, string answerText)
    {
        var answer = (JsonObject)JsonNode.Parse(answerText)!;
        var body = request.Body;
        if (request.Headers.Any(h => h.Name == "Content-Encoding" && h.Value.Trim().Equals("gzip", StringComparison.OrdinalIgnoreCase)))
        {
            using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gzip.CopyTo(plain);
            body = plain.ToArray();
        }
        if (body.AsSpan().StartsWith("\uFEFF"u8)) body = body[3..];
        using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        var root = document.RootElement;
        var ids = new List<string>();
        if (answer["accepted"] is null)
        {
            ids.Add(answer["messageId"]?.GetValue<string>() ?? root.GetProperty("messageId").GetString()!);
            return ids;
        }
        var events = root.ValueKind == JsonValueKind.Array ? root : root.GetProperty("batch");
        var rejected = ((JsonArray)answer["rejected"]!).Select(r => r!["index"]!.GetValue<int>()).ToHashSet();
        var generated = ((JsonArray)answer["generated"]!).ToDictionary(g => g!["index"]!.GetValue<int>(), g => g!["messageId"]!.GetValue<string>());
        var i = 0;
        foreach (var e in events.EnumerateArray())
        {
            if (!rejected.Contains(i)) ids.Add(generated.TryGetValue(i, out var id) ? id : e.GetProperty("messageId").GetString()!);
            i++;
        }
        Assert.Equal(answer["accepted"]!.GetValue<int>(), ids.Count);
        return ids;
    }

    /// <summary>Every messageId the store has a dedupe record of (kept for each accepted event, routed or not) or an event row for.</summary>
    static async Task<HashSet<string>> KnownMessageIdsAsync(string provider, string data, string? postgres)
    {
        const string sql = "SELECT message_id FROM dedupe UNION SELECT message_id FROM events";
        var known = new HashSet<string>(StringComparer.Ordinal);
        if (provider == "Postgres")
        {
            await using var conn = new NpgsqlConnection(postgres);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(sql, conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) known.Add(reader.GetString(0));
        }
        else
        {
            await using var conn = new SqliteConnection($"Data Source={TortureEnvironment.DatabasePath(data)};Mode=ReadOnly;Pooling=False");
            await conn.OpenAsync();
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = sql;
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) known.Add(reader.GetString(0));
        }
        return known;
    }
}
