using Destinations.Core.Delivery;

namespace Destinations.Storage.Tests;

/// <summary>The console's read queries on both providers: an event's story found by user, and the per-minute timeline.</summary>
public abstract class ConsoleQueryTests(StoreProvider provider)
{
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    static readonly CancellationToken None = CancellationToken.None;

    static IncomingEvent Of(string messageId, string userId, params string[] destinations) =>
        new("web", TestEvents.Track(messageId, userId), new RoutingDecision(destinations.Select(d => new RoutedDelivery(d, "track")).ToList(), []));

    [Fact]
    public async Task A_users_recent_events_are_found_newest_first_bounded_with_body_and_the_last_attempt()
    {
        await using var store = TestStore.Create(provider);
        foreach (var (id, user) in new[] { ("m-1", "user-1"), ("m-2", "user-2"), ("m-3", "user-1") })
            Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(Of(id, user, "sm")));
        var claimed = (await store.Queue.ClaimAsync("w", 10, Lease, None)).ToDictionary(c => c.MessageId);
        var failure = new AttemptResult(AttemptOutcome.Retry, 503, "{\"error\":\"busy\"}", null, null);
        var request = new RequestDescription("POST", "https://partner.test/v1/event", "{\"event\":\"Signed Up\"}");
        Assert.True(await store.Queue.SettleAsync(new Settlement(claimed["m-1"], SettlementKind.RetryScheduled)
        {
            At = store.Clock.GetUtcNow().AddMinutes(5), Failure = failure, Request = request,
            Call = new PartnerCallRecord(store.Clock.GetUtcNow(), 503, "event"),
        }, None));
        foreach (var id in new[] { "m-2", "m-3" })
            Assert.True(await store.Queue.SettleAsync(new Settlement(claimed[id], SettlementKind.Delivered)
            {
                StepsDone = 1, Call = new PartnerCallRecord(store.Clock.GetUtcNow(), 200, "event"),
            }, None));

        var stories = await store.History.GetByUserAsync("user-1", 10, None);
        Assert.Equal(["m-3", "m-1"], stories.Select(s => s.MessageId));
        Assert.All(stories, s => Assert.Equal("user-1", s.UserKey));
        Assert.Contains("Signed Up", stories[0].Body);
        Assert.Equal(TestStore.Start, stories[0].AcceptedAt);

        var delivered = Assert.Single(stories[0].Deliveries);
        Assert.Equal(DeliveryStoryStatus.Delivered, delivered.Status);
        var retrying = Assert.Single(stories[1].Deliveries);
        Assert.Equal((DeliveryStoryStatus.Pending, 1, 503), (retrying.Status, retrying.Attempts, retrying.LastStatus));
        Assert.Equal(request, retrying.LastRequest);
        Assert.Equal("{\"error\":\"busy\"}", retrying.LastResponse);
        Assert.Equal(TestStore.Start.AddMinutes(5), retrying.NextAttemptAt);
        // Both stores record each partner call: the story lists them, and a delivery names the call that delivered it.
        Assert.Equal([(TestStore.Start, "event", (int?)503)], retrying.Calls.Select(c => (c.At, c.Step, c.Status)));
        Assert.Null(retrying.CallId);
        var call = Assert.Single(delivered.Calls);
        Assert.Equal((TestStore.Start, "event", (int?)200), (call.At, call.Step, call.Status));
        Assert.Equal((call.Id, TestStore.Start), (delivered.CallId, delivered.LastCallAt));
        Assert.NotEqual(retrying.Calls[0].Id, call.Id);
        // A first-pass success on the log has no row: its status is its call's.
        Assert.Equal((200, (long?)null), (delivered.LastStatus, delivered.DeliveryId));

        Assert.Equal(["m-3"], (await store.History.GetByUserAsync("user-1", 1, None)).Select(s => s.MessageId));
        Assert.Equal(["m-2"], (await store.History.GetByUserAsync("user-2", 10, None)).Select(s => s.MessageId));
        Assert.Empty(await store.History.GetByUserAsync("nobody", 10, None));
    }

    [Fact]
    public async Task The_timeline_counts_outcomes_per_instance_and_minute_within_the_window()
    {
        await using var store = TestStore.Create(provider);
        var timeline = (IOutcomeTimeline)store.History;
        foreach (var id in new[] { "m-1", "m-2", "m-3", "m-4" })
            await store.AcceptOneAsync(Of(id, "user-" + id, "sm"));
        await store.AcceptOneAsync(Of("m-5", "user-5", "um"));
        var claimed = (await store.Queue.ClaimAsync("w", 10, Lease, None)).ToDictionary(c => c.MessageId);
        var failure = new AttemptResult(AttemptOutcome.Retry, 503, "busy", null, null);

        // Minute 0: one delivered, one retried (it stays pending); another instance's delivery.
        Assert.True(await store.Queue.MarkDeliveredAsync(claimed["m-1"], 1, None));
        Assert.True(await store.Queue.ScheduleRetryAsync(claimed["m-2"], store.Clock.GetUtcNow().AddHours(1), failure, null, None));
        Assert.True(await store.Queue.MarkDeliveredAsync(claimed["m-5"], 1, None));
        // Minute 2: one delivered, one dead.
        store.Clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(10));
        Assert.True(await store.Queue.MarkDeliveredAsync(claimed["m-3"], 1, None));
        Assert.True(await store.Queue.MarkDeadAsync(claimed["m-4"], "final", failure with { Outcome = AttemptOutcome.Final, StatusCode = 400 }, null, None));

        var hour = await timeline.GetTimelineAsync("sm", TestStore.Start, TestStore.Start.AddHours(1), None);
        Assert.Equal([
                new OutcomeMinute(TestStore.Start, 1, 1, 0, 0, 0),
                new OutcomeMinute(TestStore.Start.AddMinutes(2), 1, 0, 1, 0, 0),
            ], hour);
        Assert.Equal([1L, 1L], hour.Select(m => m.Failed));
        var later = await timeline.GetTimelineAsync("sm", TestStore.Start.AddMinutes(1), TestStore.Start.AddHours(1), None);
        Assert.Equal([TestStore.Start.AddMinutes(2)], later.Select(m => m.Minute));
        Assert.Equal([new OutcomeMinute(TestStore.Start, 1, 0, 0, 0, 0)],
            await timeline.GetTimelineAsync("um", TestStore.Start, TestStore.Start.AddHours(1), None));
        Assert.Empty(await timeline.GetTimelineAsync("sm", TestStore.Start.AddHours(1), TestStore.Start.AddHours(2), None));
    }

    [Fact]
    public async Task An_outcome_whose_lease_was_lost_is_not_counted_and_a_batch_counts_each_written_outcome()
    {
        await using var store = TestStore.Create(provider);
        var timeline = (IOutcomeTimeline)store.History;
        foreach (var id in new[] { "m-1", "m-2", "m-3" })
            await store.AcceptOneAsync(Of(id, "user-" + id, "sm"));
        var first = Assert.Single(await store.Queue.ClaimAsync("slow", 1, Lease, None));
        store.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var claimed = await store.Queue.ClaimAsync("fast", 10, Lease, None);
        Assert.Equal(3, claimed.Count);

        Assert.False(await store.Queue.MarkDeliveredAsync(first, 1, None));
        Assert.Empty(await timeline.GetTimelineAsync("sm", TestStore.Start, TestStore.Start.AddHours(1), None));

        var failure = new AttemptResult(AttemptOutcome.Retry, 503, "busy", null, null);
        var written = await store.Queue.SettleAsync([
            new Settlement(claimed[0], SettlementKind.Delivered) { StepsDone = 1 },
            new Settlement(claimed[1], SettlementKind.Delivered) { StepsDone = 1 },
            new Settlement(claimed[2], SettlementKind.RetryScheduled) { At = store.Clock.GetUtcNow().AddMinutes(1), Failure = failure },
        ], None);
        Assert.Equal([true, true, true], written);
        var minute = TestStore.Start.AddMinutes(1);
        Assert.Equal([new OutcomeMinute(minute, 2, 1, 0, 0, 0)],
            await timeline.GetTimelineAsync("sm", TestStore.Start, TestStore.Start.AddHours(1), None));
    }

    [Fact]
    public async Task Each_call_keeps_its_request_line_and_answer_and_only_a_failed_call_keeps_its_body()
    {
        await using var store = TestStore.Create(provider);
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(Of("m-1", "user-1", "sm")));
        var claimed = Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, None));
        const string Url = "https://hooks.example/in?token={{secrets.TOKEN}}";
        var body = "{\"event\":\"" + new string('x', 5000) + "\"}";
        var failure = new AttemptResult(AttemptOutcome.Retry, 500, new string('e', 1024), null, "HTTP 500");
        var failedCall = PartnerCallRecord.Of(store.Clock.GetUtcNow(), "event", "POST", new Uri(Url), body, failure);
        Assert.True(await store.Queue.SettleAsync(new Settlement(claimed, SettlementKind.RetryScheduled)
        {
            At = store.Clock.GetUtcNow().AddMinutes(1), Failure = failure, Call = failedCall,
            Request = new RequestDescription("POST", Url, body[..100]),
        }, None));
        store.Clock.Advance(TimeSpan.FromMinutes(1));
        var again = Assert.Single(await store.Queue.ClaimAsync("w", 10, Lease, None));
        var ok = new AttemptResult(AttemptOutcome.Succeeded, 200, null, null, null);
        Assert.True(await store.Queue.SettleAsync(new Settlement(again, SettlementKind.Delivered)
        {
            StepsDone = 1, Call = PartnerCallRecord.Of(store.Clock.GetUtcNow(), "event", "POST", new Uri(Url), body, ok),
        }, None));

        var delivery = Assert.Single(Assert.Single(await store.History.GetAsync("m-1", "web", None)).Deliveries);
        Assert.Equal(2, delivery.Calls.Count);
        var (first, second) = (delivery.Calls[0], delivery.Calls[1]);
        // The URL is kept as described: the secret stays its placeholder.
        Assert.Equal(("POST", "https://hooks.example/in?token={{secrets.TOKEN}}"), (first.Method, first.Url));
        Assert.Equal(new string('e', PartnerCallRecord.AnswerLength) + "…", first.Answer);
        Assert.Equal(body[..PartnerCallRecord.BodyLength] + "…", first.Body);
        Assert.Equal((TestStore.Start, 500, false), (first.At, first.Status, first.Succeeded));
        Assert.Equal(("POST", first.Url, 200, true), (second.Method, second.Url, second.Status, second.Succeeded));
        Assert.Null(second.Body);
        Assert.Null(second.Answer);
        Assert.Equal(second.Id, delivery.CallId);
        Assert.Null(await store.ScalarAsync<string?>("SELECT body FROM partner_calls WHERE status = 200"));
    }

    [Fact]
    public async Task A_batch_call_is_one_record_carrying_only_the_written_outcomes_and_retention_purges_it()
    {
        await using var store = TestStore.Create(provider);
        foreach (var id in new[] { "m-1", "m-2", "m-3" })
            await store.AcceptOneAsync(Of(id, "user-" + id, "sm"));
        await store.AcceptOneAsync(Of("m-4", "user-4", "um"));
        var first = Assert.Single(await store.Queue.ClaimAsync("slow", 1, Lease, None));
        store.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var claimed = (await store.Queue.ClaimAsync("fast", 10, Lease, None)).ToDictionary(c => c.MessageId);
        Assert.Equal(4, claimed.Count);

        // The slow worker lost its lease: its call carried nothing that was written, so it leaves no record.
        var lost = await store.Queue.SettleAsync([
            new Settlement(first, SettlementKind.Delivered) { StepsDone = 1, Call = new PartnerCallRecord(store.Clock.GetUtcNow(), 200, "event") },
        ], None);
        Assert.Equal([false], lost);
        // One batch call of three deliveries, and another instance's call, in one settle.
        var batchCall = new PartnerCallRecord(store.Clock.GetUtcNow(), 200, "batch");
        var written = await store.Queue.SettleAsync([
            new Settlement(claimed["m-1"], SettlementKind.Delivered) { StepsDone = 1, Call = batchCall },
            new Settlement(claimed["m-2"], SettlementKind.Delivered) { StepsDone = 1, Call = batchCall },
            new Settlement(claimed["m-3"], SettlementKind.Delivered) { StepsDone = 1, Call = batchCall },
            new Settlement(claimed["m-4"], SettlementKind.Delivered) { StepsDone = 1, Call = new PartnerCallRecord(store.Clock.GetUtcNow(), 202, "event") },
        ], None);
        Assert.Equal([true, true, true, true], written);

        Assert.Equal(2L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM partner_calls"));
        var seqs = (await store.QueryAsync<(string Destination, string Seqs)>("SELECT destination_id, seqs FROM partner_calls ORDER BY id")).ToList();
        Assert.Equal(["sm", "um"], seqs.Select(c => c.Destination));
        Assert.Equal(3, seqs[0].Seqs.Split(',').Length);
        var stories = new List<DeliveryStory>();
        foreach (var id in new[] { "m-1", "m-2", "m-3" })
            stories.Add(Assert.Single(Assert.Single(await store.History.GetAsync(id, "web", None)).Deliveries));
        Assert.Single(stories.Select(d => d.CallId).Distinct());
        Assert.All(stories, d => Assert.Equal(("batch", (int?)200), (Assert.Single(d.Calls).Step, d.Calls[0].Status)));
        var other = Assert.Single(Assert.Single(await store.History.GetAsync("m-4", "web", None)).Deliveries);
        Assert.Equal((int?)202, Assert.Single(other.Calls).Status);
        Assert.NotEqual(stories[0].CallId, other.CallId);

        // Kept as long as delivered rows (7 days by default), purged with them, in batches.
        var retention = new RetentionOptions { PurgeBatchSize = 1 };
        store.Clock.Advance(TimeSpan.FromDays(6));
        await store.PurgeAsync(retention);
        Assert.Equal(2L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM partner_calls"));
        store.Clock.Advance(TimeSpan.FromDays(2));
        await store.PurgeAsync(retention);
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM partner_calls"));
    }
}

public sealed class SqliteConsoleQueryTests() : ConsoleQueryTests(StoreProvider.Sqlite);

public sealed class PostgresConsoleQueryTests() : ConsoleQueryTests(StoreProvider.Postgres);
