using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Delivery;

namespace Destinations.Delivery.Tests;

/// <summary>Dead letters keep what an operator needs (D12); list filters and paging; replay maps afresh (D11) with a new age clock (D13).</summary>
/// <summary>Runs against both providers: <see cref="SqliteDeadLetterTests"/> and <see cref="PostgresDeadLetterTests"/>.</summary>
public abstract class DeadLetterTests(StoreProvider provider)
{
    static Task<DeadLetterPage> ListAsync(DispatchHarness h, DeadLetterFilter filter) => h.Store.Admin.ListDeadLettersAsync(filter, CancellationToken.None);

    [Fact]
    public async Task A_dead_letter_keeps_the_event_the_request_without_headers_the_status_excerpt_and_error_class()
    {
        var partner = new FakeDestination("sm").Answer(FakeDestination.Status(400, """{"error":"bad contact_uid"}"""));
        await using var h = new DispatchHarness(provider, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        h.Store.Clock.Advance(TimeSpan.FromSeconds(3));
        await h.RunPassAsync();

        var dead = Assert.Single((await ListAsync(h, new DeadLetterFilter())).Items);
        Assert.Equal((1L, "sm", "track", "m-1", "partner answered 400: rejected, not retried", 1, TestStore.Start, TestStore.Start.AddSeconds(3)),
            (dead.Id, dead.DestinationId, dead.Subscription, dead.MessageId, dead.Reason, dead.Attempts, dead.CreatedAt, dead.DeadAt));
        Assert.Equal((400, "HTTP 400", "Final: HTTP 400", """{"error":"bad contact_uid"}"""), (dead.LastStatus, dead.LastError, dead.ErrorClass, dead.ResponseExcerpt));
        Assert.Equal(new RequestDescription("POST", "https://partner.example/v1/event", """{"event_uid":"Signed Up"}"""), dead.LastRequest);
        Assert.Equal("m-1", JsonNode.Parse(dead.EventBody)!["messageId"]!.GetValue<string>());
        Assert.DoesNotContain("Authorization", (await h.RowAsync()).last_request, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Timeouts_and_connection_errors_are_classed_by_kind()
    {
        var partner = new FakeDestination("sm").Answer(
            ResponseClassifier.FromException(new TimeoutException()),
            ResponseClassifier.FromException(new HttpRequestException("refused", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused))));
        await using var h = new DispatchHarness(provider, jitter: 0, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        Assert.Equal([DeliveryOutcome.RetryScheduled], await h.RunPassAsync());
        Assert.Equal("Retry: timeout", (await h.RowAsync()).error_class);
        Assert.Equal([DeliveryOutcome.RetryScheduled], await h.RunPassAsync());
        Assert.Equal(("Retry: connection error", "connection error: ConnectionRefused"), ((await h.RowAsync()).error_class, (await h.RowAsync()).last_error));
        Assert.Equal([DeliveryOutcome.Delivered], await h.RunPassAsync());
    }

    [Fact]
    public async Task Dead_letters_filter_by_destination_time_range_and_status_and_page_with_a_cursor()
    {
        var a = new FakeDestination("a").Answer(FakeDestination.Status(400), FakeDestination.Status(404), FakeDestination.Status(400));
        var b = new FakeDestination("b").Answer(FakeDestination.Status(422));
        await using var h = new DispatchHarness(provider, destinations: [a, b]);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "a", "b"));
        await h.RunPassAsync();
        h.Store.Clock.Advance(TimeSpan.FromHours(1));
        await h.Store.AcceptOneAsync(TestEvents.To("m-2", "a"));
        await h.Store.AcceptOneAsync(TestEvents.To("m-3", "a"));
        await h.RunPassAsync();

        // A dead letter's row is written when its delivery fails (the log has no row before), so the ids follow the order
        // the two instances settled in, which on PostgreSQL is not fixed: name each letter by instance and event.
        var all = (await ListAsync(h, new DeadLetterFilter())).Items;
        Assert.Equal(all.Select(d => d.Id).Order(), all.Select(d => d.Id)); // listed in id order
        var id = all.ToDictionary(d => (d.DestinationId, d.MessageId), d => d.Id);
        Assert.Equal(4, id.Count);
        long[] Of(params (string, string)[] letters) => letters.Select(l => id[l]).Order().ToArray();
        var (a1, b1, a2, a3) = (("a", "m-1"), ("b", "m-1"), ("a", "m-2"), ("a", "m-3"));

        static long[] Ids(DeadLetterPage p) => p.Items.Select(d => d.Id).ToArray();
        Assert.Equal(Of(a1, b1, a2, a3), Ids(await ListAsync(h, new DeadLetterFilter())));
        Assert.Equal(Of(a1, a2, a3), Ids(await ListAsync(h, new DeadLetterFilter(DestinationId: "a"))));
        Assert.Equal(Of(a2, a3), Ids(await ListAsync(h, new DeadLetterFilter(Since: TestStore.Start.AddMinutes(30)))));
        Assert.Equal(Of(a1, b1), Ids(await ListAsync(h, new DeadLetterFilter(Until: TestStore.Start.AddMinutes(30)))));
        Assert.Equal(Of(a1, a3), Ids(await ListAsync(h, new DeadLetterFilter(DestinationId: "a", Status: 400))));

        var ordered = Of(a1, b1, a2, a3);
        var first = await ListAsync(h, new DeadLetterFilter(Limit: 3));
        Assert.Equal(ordered[..3], Ids(first));
        Assert.Equal(ordered[2], first.NextCursor);
        var last = await ListAsync(h, new DeadLetterFilter(Limit: 3, Cursor: first.NextCursor));
        Assert.Equal(ordered[3..], Ids(last));
        Assert.Null(last.NextCursor);
    }

    [Fact]
    public async Task Replay_round_trip_maps_afresh_with_the_current_settings_and_a_new_age_clock_D11_D13()
    {
        var partner = new FakeDestination("sm").Answer(FakeDestination.Status(400));
        await using var h = new DispatchHarness(provider, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        await h.RunPassAsync();
        Assert.Equal("dead", (await h.RowAsync()).status);

        // The operator fixes the settings: the mapping now produces another request.
        partner.Mapping = (e, _) => MappingResult.Send(PartnerRequest.Post("fixed", "/v1/fixed", new JsonObject { ["event_uid"] = e.Event }));
        h.Store.Clock.Advance(TimeSpan.FromDays(2));
        var wake = h.Store.Signal.WaitTask;
        Assert.Equal(1, await h.Store.Admin.ReplayAsync(ReplaySelection.ByIds(1), CancellationToken.None));
        Assert.True(wake.IsCompleted); // the dispatcher is woken at once

        var row = await h.RowAsync();
        Assert.Equal(("pending", 0L, (string?)null, 0L, h.Now.ToUnixTimeMilliseconds(), 1L, (string?)null),
            (row.status, row.attempts, row.plan, row.steps_done, row.created_at, row.replays, row.reason));
        Assert.Equal([DeliveryOutcome.Delivered], await h.RunPassAsync());
        Assert.Equal(2, partner.MapCalls);
        Assert.Equal(["event", "fixed"], partner.SentSteps);
        Assert.Empty((await h.Store.Admin.ListDeadLettersAsync(new DeadLetterFilter(), CancellationToken.None)).Items);
        Assert.Equal(0, await h.Store.Admin.ReplayAsync(ReplaySelection.ByIds(1), CancellationToken.None)); // only dead rows replay
    }

    [Fact]
    public async Task Replay_selects_by_destination_and_time_range_or_all()
    {
        var a = new FakeDestination("a").Answer(Enumerable.Repeat(FakeDestination.Status(400), 3).ToArray());
        var b = new FakeDestination("b").Answer(FakeDestination.Status(400));
        await using var h = new DispatchHarness(provider, destinations: [a, b]);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "a", "b"));
        await h.RunPassAsync();
        h.Store.Clock.Advance(TimeSpan.FromHours(2));
        await h.Store.AcceptOneAsync(TestEvents.To("m-2", "a"));
        await h.RunPassAsync();

        Assert.Equal(1, await h.Store.Admin.ReplayAsync(new ReplaySelection(DestinationId: "a", Since: TestStore.Start.AddHours(1)), CancellationToken.None));
        Assert.Equal("pending", (await h.RowAsync(3)).status);
        Assert.Equal(2, await h.Store.Admin.ReplayAsync(ReplaySelection.All, CancellationToken.None));
        Assert.Equal(0L, await h.Store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries WHERE status = 'dead'"));
    }

    [Fact]
    public async Task Stats_show_the_hold_held_rows_and_the_last_errors()
    {
        var a = new FakeDestination("a").Answer(FakeDestination.Status(500, "boom"), FakeDestination.Status(401));
        await using var h = new DispatchHarness(provider, jitter: 0, destinations: a);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "a"));
        await h.Store.AcceptOneAsync(TestEvents.To("m-2", "a"));
        await h.RunPassAsync();

        var stats = await h.Store.Admin.GetStatsAsync("a", CancellationToken.None);
        Assert.Equal((InstanceHold.Paused, 2L, 1L, 1L), (stats.State!.Hold, stats.Held, stats.Retrying, stats.PendingNew));
        Assert.Equal([(2L, (int?)401, "AuthFailure: HTTP 401"), (1L, 500, "Retry: HTTP 500")],
            stats.LastErrors.Select(e => (e.DeliveryId, e.Status, e.ErrorClass)).ToArray());
        Assert.Equal(["a"], (await h.Store.Admin.ListInstancesAsync(CancellationToken.None)).Select(s => s.DestinationId));
    }
}

public sealed class SqliteDeadLetterTests() : DeadLetterTests(StoreProvider.Sqlite);

public sealed class PostgresDeadLetterTests() : DeadLetterTests(StoreProvider.Postgres);
