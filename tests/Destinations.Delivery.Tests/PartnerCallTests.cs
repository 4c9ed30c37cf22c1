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
}
