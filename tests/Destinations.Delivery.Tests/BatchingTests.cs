using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Delivery;

namespace Destinations.Delivery.Tests;

/// <summary>The dispatcher batches due steps of one batching instance (D15) and applies each item's result to its delivery (D11).</summary>
/// <summary>Runs against both providers: <see cref="SqliteBatchingTests"/> and <see cref="PostgresBatchingTests"/>.</summary>
public abstract class BatchingTests(StoreProvider provider)
{
    [Fact]
    public async Task Due_deliveries_go_in_chunks_of_MaxBatchSize_and_each_keeps_its_own_outcome()
    {
        var partner = new FakeDestination("sm") { MaxBatchSize = 3 }.AnswerBatch(r =>
            [FakeDestination.Ok, FakeDestination.Status(400, "bad item"), FakeDestination.Status(503)]);
        await using var h = new DispatchHarness(provider, destinations: partner);
        for (var i = 1; i <= 5; i++) await h.Store.AcceptOneAsync(TestEvents.To($"m-{i}", "sm"));

        var outcomes = await h.RunPassAsync();

        Assert.Equal([3, 2], partner.BatchSizes);
        Assert.Empty(partner.SentSteps);
        Assert.Equal([DeliveryOutcome.Delivered, DeliveryOutcome.Dead, DeliveryOutcome.RetryScheduled, DeliveryOutcome.Delivered, DeliveryOutcome.Delivered], outcomes);
        var dead = Assert.Single((await h.Store.Admin.ListDeadLettersAsync(new DeadLetterFilter(), CancellationToken.None)).Items);
        Assert.Equal(("m-2", 400, "bad item"), (dead.MessageId, dead.LastStatus, dead.ResponseExcerpt));
        Assert.Equal((DeliveryStoryStatus.Pending, 1), ((await h.StoryAsync("m-3")).Status, (await h.StoryAsync("m-3")).Attempts));
    }

    [Fact]
    public async Task Later_steps_continue_alone_after_the_batched_step_and_unbatchable_steps_go_alone_D11()
    {
        var partner = new FakeDestination("sm") { MaxBatchSize = 3 };
        partner.Mapping = (e, _) => e.MessageId == "m-3"
            ? MappingResult.Send(PartnerRequest.Post("alone", "/v1/alias", new JsonObject()))
            : MappingResult.Send(PartnerRequest.Post("account", "/v1/account", new JsonObject()), PartnerRequest.Post("contact-link", "/v1/contact", new JsonObject()));
        await using var h = new DispatchHarness(provider, destinations: partner);
        for (var i = 1; i <= 3; i++) await h.Store.AcceptOneAsync(TestEvents.To($"m-{i}", "sm"));

        Assert.All(await h.RunPassAsync(), o => Assert.Equal(DeliveryOutcome.Delivered, o));
        Assert.Equal([2], partner.BatchSizes); // the two first steps together
        Assert.Equal(["contact-link", "contact-link", "alone"], partner.SentSteps);
        Assert.Equal(2L, (await h.RowAsync(1)).steps_done);
    }

    [Fact]
    public async Task A_batched_first_step_is_recorded_so_a_retry_resends_only_the_rest_with_the_stored_plan_D11()
    {
        var partner = new FakeDestination("sm") { MaxBatchSize = 3 };
        partner.Mapping = (e, _) => e.MessageId == "m-1"
            ? MappingResult.Send(PartnerRequest.Post("account", "/v1/account", new JsonObject()), PartnerRequest.Post("contact-link", "/v1/contact", new JsonObject()))
            : MappingResult.Send(PartnerRequest.Post("account", "/v1/account", new JsonObject()));
        partner.Answer(FakeDestination.Status(503, "busy"));
        await using var h = new DispatchHarness(provider, jitter: 0, destinations: partner);
        for (var i = 1; i <= 2; i++) await h.Store.AcceptOneAsync(TestEvents.To($"m-{i}", "sm"));

        Assert.Equal([DeliveryOutcome.RetryScheduled, DeliveryOutcome.Delivered], await h.RunPassAsync());
        var retrying = await h.RowAsync(1);
        Assert.Equal(("pending", 1L, 1L), (retrying.status, retrying.steps_done, retrying.attempts));
        Assert.NotNull(retrying.plan); // stored with the first outcome (progress), not before the send

        // D8: the settings changed after the first attempt; the stored plan's remaining step is what is sent.
        partner.Mapping = (_, _) => MappingResult.Filtered(FilterReason.EventNotAllowed);
        Assert.Equal([DeliveryOutcome.Delivered], await h.RunPassAsync());
        Assert.Equal([2], partner.BatchSizes);
        Assert.Equal(["contact-link", "contact-link"], partner.SentSteps);
        Assert.Equal(2, partner.MapCalls);
        var done = await h.RowAsync(1);
        Assert.Equal(("delivered", 2L, 2L), (done.status, done.steps_done, done.attempts));
    }

    [Fact]
    public async Task A_401_batch_pauses_the_instance_and_holds_every_item_D12()
    {
        var partner = new FakeDestination("sm") { MaxBatchSize = 3 }.AnswerBatch(r => r.Select(_ => FakeDestination.Status(401)).ToList());
        await using var h = new DispatchHarness(provider, destinations: partner);
        for (var i = 1; i <= 3; i++) await h.Store.AcceptOneAsync(TestEvents.To($"m-{i}", "sm"));

        Assert.Equal([DeliveryOutcome.Held, DeliveryOutcome.Held, DeliveryOutcome.Held], await h.RunPassAsync());
        Assert.Equal(InstanceHold.Paused, (await h.Store.Queue.GetInstanceAsync("sm", CancellationToken.None)).Hold);
        Assert.Equal(0L, await h.Store.ScalarAsync<long>("SELECT SUM(attempts) FROM deliveries"));
    }
}

public sealed class SqliteBatchingTests() : BatchingTests(StoreProvider.Sqlite);

public sealed class PostgresBatchingTests() : BatchingTests(StoreProvider.Postgres);
