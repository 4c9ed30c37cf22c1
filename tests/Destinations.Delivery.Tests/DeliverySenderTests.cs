using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Delivery;

namespace Destinations.Delivery.Tests;

/// <summary>Runs against both providers: <see cref="SqliteDeliverySenderTests"/> and <see cref="PostgresDeliverySenderTests"/>.</summary>
public abstract class DeliverySenderTests(StoreProvider provider)
{
    static PartnerRequest Step(string name) => PartnerRequest.Post(name, "/v1/" + name, new JsonObject { ["step"] = name });

    [Fact]
    public async Task A_successful_send_marks_the_delivery_delivered_and_keeps_the_plan()
    {
        var partner = new FakeDestination("sm");
        await using var h = new DispatchHarness(provider, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        Assert.Equal([DeliveryOutcome.Delivered], await h.RunDueAsync());

        var story = await h.StoryAsync("m-1");
        Assert.Equal((DeliveryStoryStatus.Delivered, 1), (story.Status, story.Attempts));
        // The log writes nothing for a first-pass success (docs/storage.md).
        Assert.Equal(0L, await h.Store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries"));
        Assert.Equal(1L, (await h.Store.Queue.GetStatsAsync("sm", CancellationToken.None)).Delivered);
        Assert.Equal(["event"], partner.SentSteps);
        Assert.Empty(await h.RunDueAsync());
    }

    [Fact]
    public async Task A_failed_attempt_without_an_HTTP_answer_is_logged_as_no_answer_with_its_cause()
    {
        var partner = new FakeDestination("sm").Answer(
            new AttemptResult(AttemptOutcome.Retry, null, null, null, "connection error: ConnectionRefused"),
            FakeDestination.Status(503));
        await using var h = new DispatchHarness(provider, destinations: partner);
        var logger = new ListLogger<DeliverySender>();
        var sender = new DeliverySender(h.Store.Queue, h.Registry, Microsoft.Extensions.Options.Options.Create(h.Options),
            new RetryJitter(() => 0.5), h.Store.Clock, logger);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        await h.Store.AcceptOneAsync(TestEvents.To("m-2", "sm"));

        var claimed = await h.Store.Queue.ClaimAsync("w", 10, h.Options.Lease, CancellationToken.None);
        Assert.Equal([DeliveryOutcome.RetryScheduled, DeliveryOutcome.RetryScheduled], await sender.SendAsync(claimed, CancellationToken.None));

        var failed = logger.Entries.Where(e => e.Message.Contains(" failed: ", StringComparison.Ordinal)).Select(e => e.Message).ToList();
        Assert.Equal(2, failed.Count);
        Assert.EndsWith("failed: Retry, no answer (connection error: ConnectionRefused)", failed[0]);
        Assert.EndsWith("failed: Retry, HTTP 503", failed[1]);
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains("null", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_retry_resends_only_the_steps_not_yet_done_and_maps_once_D11()
    {
        var partner = new FakeDestination("sm") { Mapping = (_, _) => MappingResult.Send(Step("account"), Step("contact")) }
            .Answer(FakeDestination.Ok, FakeDestination.Status(503, "busy"));
        await using var h = new DispatchHarness(provider, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        Assert.Equal([DeliveryOutcome.RetryScheduled], await h.RunDueAsync());
        var afterFailure = await h.RowAsync();
        Assert.Equal(("pending", 1L, 1L, 503L, "busy"), (afterFailure.status, afterFailure.attempts, afterFailure.steps_done, afterFailure.last_status, afterFailure.last_response));

        // D8: the settings changed after the first attempt; the stored plan is what is sent.
        partner.Mapping = (_, _) => MappingResult.Filtered(FilterReason.EventNotAllowed);
        Assert.Equal([DeliveryOutcome.Delivered], await h.RunNextAttemptAsync());

        Assert.Equal(["account", "contact", "contact"], partner.SentSteps);
        Assert.Equal(1, partner.MapCalls);
        var done = await h.RowAsync();
        Assert.Equal(("delivered", 2L, 2L), (done.status, done.attempts, done.steps_done));
    }

    [Fact]
    public async Task A_retry_is_scheduled_with_exponential_backoff_and_full_jitter()
    {
        var partner = new FakeDestination("sm").Answer(FakeDestination.Status(503), FakeDestination.Status(500), FakeDestination.Status(429));
        await using var h = new DispatchHarness(provider, jitter: 0.5, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        var expectedDelays = new[] { 2.5, 5, 10 }; // 0.5 * 5 s * 2^(attempts-1)
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            Assert.Equal([DeliveryOutcome.RetryScheduled], attempt == 1 ? await h.RunDueAsync() : await h.RunNextAttemptAsync());
            var attemptAt = h.Now; // the fake clock stands still during an attempt
            var row = await h.RowAsync();
            Assert.Equal((attempt, (attemptAt + TimeSpan.FromSeconds(expectedDelays[attempt - 1])).ToUnixTimeMilliseconds()), ((int)row.attempts, row.next_attempt_at));
        }
        // Not due before next_attempt_at.
        h.Store.Clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty(await h.RunDueAsync());
    }

    [Theory]
    [InlineData(0.0, 1, 0)]
    [InlineData(0.999, 1, 4995)]
    [InlineData(0.5, 4, 20000)]
    [InlineData(0.5, 30, 1_800_000)] // capped at MaxDelay (1 h) before the jitter
    public void Backoff_delay_is_random_between_zero_and_the_capped_exponential(double jitter, int attempts, double expectedMs)
    {
        var schedule = new RetrySchedule(new DeliveryOptions(), new RetryJitter(() => jitter));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), schedule.DelayAfter(attempts, null));
    }

    [Fact]
    public async Task Retry_After_is_honoured_when_longer_than_the_backoff()
    {
        var partner = new FakeDestination("sm").Answer(
            FakeDestination.Status(429, retryAfter: TimeSpan.FromMinutes(2)),
            FakeDestination.Status(429, retryAfter: TimeSpan.FromSeconds(1)));
        await using var h = new DispatchHarness(provider, jitter: 0.5, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        await h.RunDueAsync();
        Assert.Equal((TestStore.Start + TimeSpan.FromMinutes(2)).ToUnixTimeMilliseconds(), (await h.RowAsync()).next_attempt_at);

        await h.RunNextAttemptAsync();
        // Backoff (0.5 * 10 s) is longer than the 1 s Retry-After: backoff wins.
        Assert.Equal((h.Now + TimeSpan.FromSeconds(5)).ToUnixTimeMilliseconds(), (await h.RowAsync()).next_attempt_at);
    }

    [Fact]
    public async Task A_final_answer_dead_letters_with_the_status_and_excerpt_D12()
    {
        var partner = new FakeDestination("sm").Answer(FakeDestination.Status(400, """{"error":"bad contact_uid"}"""));
        await using var h = new DispatchHarness(provider, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        Assert.Equal([DeliveryOutcome.Dead], await h.RunDueAsync());

        var row = await h.RowAsync();
        Assert.Equal(("dead", 1L, 400L, """{"error":"bad contact_uid"}""", "HTTP 400", "partner answered 400: rejected, not retried"),
            (row.status, row.attempts, row.last_status, row.last_response, row.last_error, row.reason));
    }

    [Fact]
    public async Task An_auth_failure_holds_the_delivery_without_counting_an_attempt_never_dead_on_first_sight_D12()
    {
        // D12: 401/403 pauses the instance instead of retrying with backoff.
        var partner = new FakeDestination("sm").Answer(FakeDestination.Status(401));
        await using var h = new DispatchHarness(provider, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        Assert.Equal([DeliveryOutcome.Held], await h.RunDueAsync());
        var row = await h.RowAsync();
        Assert.Equal(("pending", 0L, 401L, "AuthFailure: HTTP 401"), (row.status, row.attempts, row.last_status, row.error_class));
    }

    [Fact]
    public async Task Gives_up_only_when_older_than_MaxAge_and_attempted_MinAttempts_times_D13()
    {
        var partner = new FakeDestination("sm").Answer(Enumerable.Repeat(FakeDestination.Status(503), 10).ToArray());
        await using var h = new DispatchHarness(provider, jitter: 0, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        // Young with many attempts: kept.
        for (var i = 0; i < 4; i++) Assert.Equal([DeliveryOutcome.RetryScheduled], await h.RunNextAttemptAsync());

        // Old with enough attempts: dead after the next failed attempt.
        h.Store.Clock.Advance(TimeSpan.FromHours(4) + TimeSpan.FromSeconds(1));
        Assert.Equal([DeliveryOutcome.Dead], await h.RunDueAsync());
        var row = await h.RowAsync();
        Assert.Equal(("dead", 5L, "gave up after 5 attempts over 4 h: older than 4 h and tried at least 3 times"), (row.status, row.attempts, row.reason));
    }

    [Fact]
    public async Task An_old_delivery_still_gets_MinAttempts_D13()
    {
        var partner = new FakeDestination("sm").Answer(Enumerable.Repeat(FakeDestination.Status(503), 3).ToArray());
        await using var h = new DispatchHarness(provider, jitter: 0, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        h.Store.Clock.Advance(TimeSpan.FromHours(5)); // e.g. the service was down

        Assert.Equal([DeliveryOutcome.RetryScheduled], await h.RunDueAsync());
        Assert.Equal([DeliveryOutcome.RetryScheduled], await h.RunNextAttemptAsync());
        Assert.Equal([DeliveryOutcome.Dead], await h.RunNextAttemptAsync());
        Assert.Equal(3L, (await h.RowAsync()).attempts);
    }

    [Fact]
    public async Task A_Retry_After_past_the_deadline_gets_one_more_attempt_D13()
    {
        var partner = new FakeDestination("sm").Answer(
            FakeDestination.Status(503), FakeDestination.Status(503),
            FakeDestination.Status(429, retryAfter: TimeSpan.FromHours(2)), FakeDestination.Status(503));
        await using var h = new DispatchHarness(provider, jitter: 0, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        await h.RunDueAsync();
        await h.RunNextAttemptAsync();
        h.Store.Clock.Advance(TimeSpan.FromHours(3) + TimeSpan.FromMinutes(59));

        Assert.Equal([DeliveryOutcome.RetryScheduled], await h.RunDueAsync()); // 3 attempts, 3h59m old: not yet
        Assert.Equal((h.Now + TimeSpan.FromHours(2)).ToUnixTimeMilliseconds(), (await h.RowAsync()).next_attempt_at);

        Assert.Equal([DeliveryOutcome.Dead], await h.RunNextAttemptAsync()); // the attempt was made, then the check
        Assert.Equal(["event", "event", "event", "event"], partner.SentSteps);
    }

    [Fact]
    public async Task Mapper_time_filters_and_invalid_events_are_recorded_with_their_reasons_D8()
    {
        var partner = new FakeDestination("sm")
        {
            Mapping = (e, _) => e.MessageId == "m-1" ? MappingResult.Filtered(FilterReason.NoUserId, "detail not stored") : MappingResult.Invalid("traits.method must be ADD or REMOVE"),
        };
        await using var h = new DispatchHarness(provider, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        await h.Store.AcceptOneAsync(TestEvents.To("m-2", "sm"));

        Assert.Equal([DeliveryOutcome.Filtered, DeliveryOutcome.Invalid], await h.RunDueAsync());

        Assert.Equal(("filtered", "no_user_id", 0L), ((await h.RowAsync(1)).status, (await h.RowAsync(1)).reason, (await h.RowAsync(1)).attempts));
        Assert.Equal(("invalid", "traits.method must be ADD or REMOVE"), ((await h.RowAsync(2)).status, (await h.RowAsync(2)).reason));
        Assert.Empty(partner.SentSteps);
        Assert.Equal(new Dictionary<string, long> { ["no_user_id"] = 1 }, (await h.Store.Queue.GetStatsAsync("sm", CancellationToken.None)).Filtered);
    }

    [Fact]
    public async Task A_delivery_for_an_instance_no_longer_configured_is_dead_lettered()
    {
        await using var h = new DispatchHarness(provider, destinations: new FakeDestination("other"));
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "gone"));

        Assert.Equal([DeliveryOutcome.Dead], await h.RunDueAsync());
        var row = await h.RowAsync();
        Assert.Equal(("dead", 0L, "destination instance 'gone' is no longer configured"), (row.status, row.attempts, row.reason));
    }

    [Fact]
    public async Task A_row_that_throws_is_retried_with_backoff_and_the_next_row_still_goes()
    {
        var partner = new FakeDestination("sm")
        {
            Mapping = (e, _) => e.MessageId == "m-1" ? throw new InvalidOperationException("mapper bug") : MappingResult.Send(Step("event")),
        };
        await using var h = new DispatchHarness(provider, jitter: 0.5, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        await h.Store.AcceptOneAsync(TestEvents.To("m-2", "sm"));

        Assert.Equal([DeliveryOutcome.RetryScheduled, DeliveryOutcome.Delivered], await h.RunDueAsync());

        var row = await h.RowAsync(1);
        Assert.Equal(("pending", 1L, "unexpected error: InvalidOperationException", (TestStore.Start + TimeSpan.FromSeconds(2.5)).ToUnixTimeMilliseconds()),
            (row.status, row.attempts, row.last_error, row.next_attempt_at));
        Assert.Null(row.plan);
    }

    [Fact]
    public async Task A_row_whose_lease_ran_out_is_not_sent()
    {
        var partner = new FakeDestination("sm");
        await using var h = new DispatchHarness(provider, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));
        var claimed = Assert.Single(await h.Store.Queue.ClaimAsync("w", 1, h.Options.Lease, CancellationToken.None));
        h.Store.Clock.Advance(h.Options.Lease);

        Assert.Equal(DeliveryOutcome.LeaseLost, await h.SendOneAsync(claimed));
        Assert.Empty(partner.SentSteps);
    }
}

public sealed class SqliteDeliverySenderTests() : DeliverySenderTests(StoreProvider.Sqlite);

public sealed class PostgresDeliverySenderTests() : DeliverySenderTests(StoreProvider.Postgres);
