using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Storage;
using Destinations.Host.OperatorConsole;
using Destinations.Host.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>
/// <c>/console/live/stream</c> read as a browser's EventSource reads it (server-sent events over the whole host): the
/// destination, call-type and user-id filters from the query, the session it requires, and a reader that stops reading costing
/// lines, never events or ingest time.
/// </summary>
public sealed class LiveStreamTests
{
    sealed class SseReader(HttpResponseMessage response, Stream stream) : IAsyncDisposable
    {
        readonly StreamReader _reader = new(stream, Encoding.UTF8);

        public static async Task<SseReader> OpenAsync(HttpClient http, string query)
        {
            var response = await http.GetAsync("/console/live/stream" + query, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new SseReader(response, await response.Content.ReadAsStreamAsync());
        }

        /// <summary>The next event's name and data (a JSON object).</summary>
        public async Task<(string Event, JsonObject Data)> NextAsync(CancellationToken ct)
        {
            string? name = null;
            var data = new StringBuilder();
            while (await _reader.ReadLineAsync(ct) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Length > 0) return (name ?? "message", JsonNode.Parse(data.ToString())!.AsObject());
                    continue;
                }
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line["event: ".Length..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Append(line["data: ".Length..]);
            }
            throw new EndOfStreamException("the live stream ended");
        }

        /// <summary>Lines (event "line") until one satisfies <paramref name="last"/>, that one included.</summary>
        public async Task<List<JsonObject>> LinesUntilAsync(Func<JsonObject, bool> last, CancellationToken ct)
        {
            var lines = new List<JsonObject>();
            while (true)
            {
                var (name, data) = await NextAsync(ct);
                if (name != "line") continue;
                lines.Add(data);
                if (last(data)) return lines;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _reader.Dispose();
            response.Dispose();
            await Task.CompletedTask;
        }
    }

    static HttpClient Ingest(OperatorApp app, string writeKey)
    {
        var http = app.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":")));
        return http;
    }

    static async Task SendAsync(HttpClient ingest, string call, string json) =>
        (await ingest.PostAsync($"/v1/{call}", OperatorApp.JsonBody(json))).EnsureSuccessStatusCode();

    static async Task ConnectedAsync(OperatorApp app, SseReader reader, int watchers, CancellationToken ct)
    {
        Assert.Equal("status", (await reader.NextAsync(ct)).Event);
        // The stream subscribes before it says "connected": nothing published from now on can be missed.
        Assert.Equal(watchers, app.Services.GetRequiredService<LiveFeed>().WatcherCount);
    }

    static string Id(JsonObject line) => (string)line["messageId"]!;

    [Fact]
    public async Task The_stream_requires_a_console_session()
    {
        using var app = new OperatorApp();
        var anonymous = await app.CreateClient(new() { AllowAutoRedirect = false }).GetAsync("/console/live/stream");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        // The admin key as a bearer token is not a console session either.
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Admin().GetAsync("/console/live/stream")).StatusCode);
    }

    [Fact]
    public async Task A_line_published_as_soon_as_the_stream_says_connected_arrives()
    {
        using var app = new OperatorApp();
        var console = ConsoleClient.For(app);
        await console.SignInAsync(OperatorApp.AdminKey);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var reader = await SseReader.OpenAsync(console.Http, "");
        Assert.Equal("status", (await reader.NextAsync(cts.Token)).Event);
        app.Services.GetRequiredService<LiveFeed>().Publish(new LiveLine("accepted", DateTimeOffset.UtcNow, "web", null, ["sm"], "track", "first-after-connected", "u1", null));
        var line = Assert.Single(await reader.LinesUntilAsync(_ => true, cts.Token));
        Assert.Equal("first-after-connected", Id(line));
    }

    [Fact]
    public async Task Destination_call_type_and_user_id_from_the_query_each_narrow_the_stream()
    {
        using var app = new OperatorApp();
        app.Partner.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        var console = ConsoleClient.For(app);
        await console.SignInAsync(OperatorApp.AdminKey);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var everything = await SseReader.OpenAsync(console.Http, "");
        await ConnectedAsync(app, everything, 1, cts.Token);
        await using var filtered = await SseReader.OpenAsync(console.Http, "?destination=sm&type=identify&user=live-match");
        await ConnectedAsync(app, filtered, 2, cts.Token);

        var web = Ingest(app, IngressApp.WebWriteKey);
        var dev = Ingest(app, IngressApp.DevWriteKey);
        // Source "dev" is routed to test-1 only: the destination filter leaves it out.
        await SendAsync(dev, "identify", """{"userId":"live-match","messageId":"live-other-destination","traits":{}}""");
        await SendAsync(web, "track", """{"userId":"live-match","event":"Signed Up","messageId":"live-other-type"}""");
        await SendAsync(web, "identify", """{"userId":"live-someone-else","messageId":"live-other-user","traits":{}}""");
        // The unfiltered stream sees them all, accepted and settled (sm delivers; test-1 filters every event).
        string[] excluded = ["live-other-destination", "live-other-type", "live-other-user"];
        var outcomes = new HashSet<string>();
        var accepted = new HashSet<string>();
        await everything.LinesUntilAsync(l =>
        {
            if ((string?)l["kind"] == "accepted") accepted.Add(Id(l));
            else outcomes.Add($"{l["destination"]}/{Id(l)}");
            return accepted.Count == 3 && outcomes.IsSupersetOf(["test-1/live-other-destination", "sm/live-other-type", "test-1/live-other-type",
                "sm/live-other-user", "test-1/live-other-user"]);
        }, cts.Token);
        Assert.Equal(excluded.ToHashSet(), accepted);

        // Then one that matches every filter: everything the filtered stream shows up to its delivery is that event's.
        await SendAsync(web, "identify", """{"userId":"live-match","messageId":"live-match-1","traits":{}}""");
        var lines = await filtered.LinesUntilAsync(l => Id(l) == "live-match-1" && (string?)l["destination"] == "sm", cts.Token);
        Assert.All(lines, l => Assert.Equal("live-match-1", Id(l)));
        var acceptedLine = Assert.Single(lines, l => (string?)l["kind"] == "accepted");
        Assert.Equal("identify", (string?)acceptedLine["type"]);
        Assert.Equal("live-match", (string?)acceptedLine["userId"]);
        Assert.Contains("sm", acceptedLine["destinations"]!.AsArray().Select(d => (string?)d));
        Assert.Equal("delivered", (string?)lines[^1]["kind"]);
        // test-1's outcome of the same event is for another destination: not shown.
        Assert.DoesNotContain(lines, l => (string?)l["destination"] == "test-1");
    }

    [Fact]
    public async Task A_browser_that_stops_reading_loses_lines_while_ingest_and_delivery_take_every_event()
    {
        using var app = new OperatorApp(new Dictionary<string, string?> { ["Console:LiveBufferLines"] = "10" });
        var console = ConsoleClient.For(app);
        await console.SignInAsync(OperatorApp.AdminKey);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var stalled = await SseReader.OpenAsync(console.Http, "?destination=test-1");
        await ConnectedAsync(app, stalled, 1, cts.Token);

        // Nothing reads the stream now. 1000 events (source dev: routed to test-1 only), 2000 lines of a few hundred bytes each:
        // far more than the transport buffers and the 10-line buffer hold.
        const int Total = 1000;
        var dev = Ingest(app, IngressApp.DevWriteKey);
        var clock = Stopwatch.StartNew();
        for (var b = 0; b < Total / 200; b++)
        {
            var batch = new JsonArray();
            for (var i = b * 200; i < (b + 1) * 200; i++)
                batch.Add(new JsonObject { ["type"] = "track", ["userId"] = "slow-reader", ["event"] = "Viewed", ["messageId"] = $"slow-{i}" });
            using var request = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var response = await dev.PostAsync("/v1/batch", OperatorApp.JsonBody(new JsonObject { ["batch"] = batch }.ToJsonString()), request.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var ingestTime = clock.Elapsed;

        // Every event stored and settled by test-1 (it filters each one), with the stream still unread.
        var queue = app.Services.GetRequiredService<IDeliveryQueue>();
        for (var until = DateTime.UtcNow.AddSeconds(60); (await queue.GetStatsAsync("test-1", cts.Token)).FilteredTotal < Total && DateTime.UtcNow < until;)
            await Task.Delay(100, cts.Token);
        Assert.Equal(Total, (await queue.GetStatsAsync("test-1", cts.Token)).FilteredTotal);
        Assert.True(ingestTime < TimeSpan.FromSeconds(60), $"ingest took {ingestTime}");

        // Reading again: what the buffers held, then the newest lines. A marker event sent now arrives after them.
        await SendAsync(dev, "track", """{"userId":"slow-reader","event":"Viewed","messageId":"slow-marker"}""");
        var lines = await stalled.LinesUntilAsync(l => Id(l) == "slow-marker", cts.Token);
        var accepted = lines.Where(l => (string?)l["kind"] == "accepted" && Id(l) != "slow-marker").Select(Id).ToList();
        // Every event had its "accepted" line published; those that did not fit were dropped, and the newest came through.
        Assert.True(accepted.Count < Total, $"all {Total} accepted lines arrived: nothing was dropped");
        Assert.NotEmpty(accepted);
    }
}
