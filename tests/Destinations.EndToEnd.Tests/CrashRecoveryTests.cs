using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Xunit.Abstractions;

namespace Destinations.EndToEnd.Tests;

/// <summary>
/// "Nothing acknowledged is ever lost": a 200 means the event and its delivery rows were committed, so a
/// SIGKILL after the ack and before delivery must not lose it — it is delivered after restart.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Events_acknowledged_before_a_kill_9_are_delivered_after_restart()
    {
        using var partner = WireMockServer.Start();
        // Phase 1: the partner is down, so nothing acknowledged can have been delivered before the kill.
        partner.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(503));
        var data = E2eEnvironment.NewDataDirectory();
        var env = E2eEnvironment.SalesmachineService(data, partner.Url!);

        var acked = new ConcurrentBag<string>();
        var service = await ServiceProcess.StartAsync(env, data);
        try
        {
            using var http = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes(E2eEnvironment.WriteKey + ":")));

            var next = -1;
            using var killed = new CancellationTokenSource();
            async Task Sender()
            {
                while (!killed.IsCancellationRequested)
                {
                    var i = Interlocked.Increment(ref next);
                    if (i >= 2_000) return;
                    var userId = $"crash-user-{i}";
                    var body = $$$"""{"userId":"{{{userId}}}","messageId":"crash-{{{i}}}","traits":{"email":"u{{{i}}}@example.com"}}""";
                    try
                    {
                        using var response = await http.PostAsync("/v1/identify", new StringContent(body, Encoding.UTF8, "application/json"));
                        if (response.StatusCode == HttpStatusCode.OK) acked.Add(userId);
                    }
                    catch (HttpRequestException) { } // the service died mid-request: not acknowledged
                    catch (TaskCanceledException) { }
                }
            }
            var senders = Enumerable.Range(0, 8).Select(_ => Task.Run(Sender)).ToArray();
            Assert.True(await E2eEnvironment.WaitUntilAsync(() => acked.Count >= 150, TimeSpan.FromSeconds(30)),
                $"only {acked.Count} acks before the kill:\n{service.Output}");
            service.KillHard(); // while requests are still in flight
            killed.Cancel();
            await Task.WhenAll(senders);
        }
        finally
        {
            await service.DisposeAsync();
        }
        Assert.Empty(E2eEnvironment.DeliveredContacts(partner));

        // Phase 2: the partner is back; the same database, a new process.
        partner.Reset();
        partner.Given(Request.Create().UsingPost().WithPath("/v1/contact"))
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("{}"));
        await using var restarted = await ServiceProcess.StartAsync(env, data);

        var expected = acked.ToHashSet();
        var allDelivered = await E2eEnvironment.WaitUntilAsync(
            () => expected.IsSubsetOf(E2eEnvironment.DeliveredContacts(partner)), TimeSpan.FromSeconds(60));
        var missing = expected.Except(E2eEnvironment.DeliveredContacts(partner)).Take(10).ToList();
        output.WriteLine($"acknowledged before the kill: {expected.Count}; delivered after restart: {E2eEnvironment.DeliveredContacts(partner).Count}");
        Assert.True(allDelivered, $"{missing.Count}+ acknowledged events lost, e.g. {string.Join(", ", missing)}\n{restarted.Output}");
    }
}
