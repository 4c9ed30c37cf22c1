using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Xunit.Abstractions;

namespace Destinations.Torture.Tests;

/// <summary>
/// Issue 8 bad-input test: 10,000 generated and mutated payloads against one service process. No 5xx ever, the process stays
/// up and ready, and its memory is stable (RSS at the end at most twice the RSS after a warm-up of 1,000 payloads).
/// </summary>
public sealed class BadInputTortureTests(ITestOutputHelper output)
{
    const int Payloads = 10_000;
    const int WarmUp = 1_000;
    const int Concurrency = 8;
    const int Seed = 10_2026;
    const long MaxBodyBytes = 1024 * 1024; // small, so "oversize" bodies stay cheap to send
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(150);

    [Fact]
    public async Task Ten_thousand_hostile_payloads_get_no_5xx_and_leave_the_process_up_with_stable_memory()
    {
        var total = Stopwatch.StartNew();
        await using var partner = await FakePartner.StartAsync();
        var data = TortureEnvironment.NewDataDirectory();
        var env = TortureEnvironment.Service(data, partner.Url);
        env["Ingress__MaxBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var generator = new BadPayloads(Seed, MaxBodyBytes, TortureEnvironment.SharedSecret);
        var statuses = new ConcurrentDictionary<int, int>();
        var serverErrors = new ConcurrentQueue<string>();
        var transportErrors = new ConcurrentQueue<string>();
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
                        var status = await SendAsync(http, service.BaseAddress, request, transportErrors);
                        statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                        if (status >= 500) serverErrors.Enqueue($"{status}: {request.Description}");
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

            Assert.Equal(Payloads, sent);
            Assert.True(serverErrors.IsEmpty, $"{serverErrors.Count} 5xx answers, e.g.\n{string.Join('\n', serverErrors.Take(10))}");
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

    /// <summary>The status code, or 0 when the connection ended without an answer.</summary>
    static async Task<int> SendAsync(HttpClient http, Uri service, BadRequest request, ConcurrentQueue<string> transportErrors)
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
            return (int)response.StatusCode;
        }
        catch (HttpRequestException ex)
        {
            var over = request.Body.Length > MaxBodyBytes ? "over the limit: " : "";
            transportErrors.Enqueue($"{over}{request.Description}: {ex.Message} {ex.InnerException?.Message}");
            return 0;
        }
    }
}
