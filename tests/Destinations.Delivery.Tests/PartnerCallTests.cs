using System.Text.Json.Nodes;
using Destinations.Core.Delivery;

namespace Destinations.Delivery.Tests;

/// <summary>SQLite's log keeps one record per partner call, not per delivery: the story of a first-pass success (which has
/// no row) says when and with which answer the call that carried it went (docs/storage.md).</summary>
public sealed class PartnerCallTests
{
    [Fact]
    public async Task A_shared_call_is_one_record_and_tells_each_first_pass_success_when_and_how_it_was_delivered()
    {
        var partner = new FakeDestination("sm") { MaxBatchSize = 3 };
        await using var h = new DispatchHarness(StoreProvider.Sqlite, destinations: partner);
        for (var i = 1; i <= 4; i++) await h.Store.AcceptOneAsync(TestEvents.To($"m-{i}", "sm"));

        Assert.All(await h.RunPassAsync(), o => Assert.Equal(DeliveryOutcome.Delivered, o));

        Assert.Equal([3, 1], partner.BatchSizes.Concat([partner.SentSteps.Count]));
        Assert.Equal(2L, await h.Store.ScalarAsync<long>("SELECT COUNT(*) FROM partner_calls"));
        Assert.Equal(0L, await h.Store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries"));
        var stories = new List<DeliveryStory>();
        for (var i = 1; i <= 4; i++) stories.Add(await h.StoryAsync($"m-{i}"));
        Assert.All(stories, s => Assert.Equal((DeliveryStoryStatus.Delivered, (int?)200, (DateTimeOffset?)h.Now), (s.Status, s.LastStatus, s.LastCallAt)));
        Assert.Single(stories.Take(3).Select(s => s.CallId).Distinct());
        Assert.NotEqual(stories[0].CallId, stories[3].CallId);
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.Postgres)]
    public async Task Each_call_is_recorded_with_its_request_line_and_answer_excerpt_and_a_failed_calls_body_only(StoreProvider provider)
    {
        var big = new string('b', 6000);
        var partner = new FakeDestination("sm")
        {
            Mapping = (e, _) => MappingResult.Send(PartnerRequest.Post("event", "/v1/event?key={{secrets.KEY}}", new JsonObject { ["big"] = big })),
        }.Answer(FakeDestination.Status(500, new string('a', 1024)), new AttemptResult(AttemptOutcome.Retry, null, null, null, "timeout: the partner did not answer in time"));
        await using var h = new DispatchHarness(provider, destinations: partner);
        await h.Store.AcceptOneAsync(TestEvents.To("m-1", "sm"));

        Assert.Equal([DeliveryOutcome.RetryScheduled], await h.RunPassAsync());
        Assert.Equal([DeliveryOutcome.RetryScheduled], await h.RunNextAttemptAsync());
        Assert.Equal([DeliveryOutcome.Delivered], await h.RunNextAttemptAsync());

        var calls = (await h.StoryAsync("m-1")).Calls;
        Assert.Equal([500, null, 200], calls.Select(c => c.Status));
        // The URL as the destination describes it (a secret stays its placeholder), never a header.
        Assert.All(calls, c => Assert.Equal(("POST", "https://partner.example/v1/event?key={{secrets.KEY}}"), (c.Method, c.Url)));
        Assert.Equal(new string('a', PartnerCallRecord.AnswerLength) + "…", calls[0].Answer);
        Assert.Equal("timeout: the partner did not answer in time", calls[1].Answer);
        Assert.Null(calls[2].Answer);
        var sent = new JsonObject { ["big"] = big }.ToJsonString();
        Assert.All(calls.Take(2), c => Assert.Equal(sent[..PartnerCallRecord.BodyLength] + "…", c.Body));
        Assert.Null(calls[2].Body);
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.Postgres)]
    public async Task A_failed_shared_call_records_where_it_went_and_its_answer_but_no_single_items_body(StoreProvider provider)
    {
        var partner = new FakeDestination("sm") { MaxBatchSize = 2 }
            .AnswerBatch(requests => requests.Select(_ => FakeDestination.Status(503, "{\"error\":\"busy\"}")).ToList());
        await using var h = new DispatchHarness(provider, destinations: partner);
        for (var i = 1; i <= 2; i++) await h.Store.AcceptOneAsync(TestEvents.To($"m-{i}", "sm"));

        Assert.All(await h.RunPassAsync(), o => Assert.Equal(DeliveryOutcome.RetryScheduled, o));

        var call = Assert.Single((await h.StoryAsync("m-2")).Calls);
        Assert.Equal((503, "POST", "https://partner.example/v1/event", "{\"error\":\"busy\"}"), (call.Status, call.Method, call.Url, call.Answer));
        Assert.Null(call.Body);
        Assert.Equal(call.Id, Assert.Single((await h.StoryAsync("m-1")).Calls).Id);
    }
}
