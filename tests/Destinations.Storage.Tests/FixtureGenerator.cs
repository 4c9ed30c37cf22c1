using Destinations.Core.Delivery;
using Microsoft.Data.Sqlite;

namespace Destinations.Storage.Tests;

public class FixtureGenerator
{
    const string Plan = """[{"step":"event","method":"POST","path":"/v1/event","body":{"event_uid":"Signed Up"}}]""";
    const string TwoStepPlan = """[{"step":"alias","method":"POST","path":"/v1/alias","body":{"a":1}},{"step":"event","method":"POST","path":"/v1/event","body":{"event_uid":"Signed Up"}}]""";

    [Fact]
    public async Task Generate()
    {
        var lease = TimeSpan.FromSeconds(60);
        await using var store = TestStore.Create();
        store.KeepFiles = true;
        var q = store.Queue;
        // m-new-1..3: pending, never attempted (sm)
        for (var i = 1; i <= 3; i++) await store.AcceptOneAsync(TestEvents.To($"m-new-{i}", "sm"));
        // m-retry: retrying with attempts>0 and a stored plan
        await store.AcceptOneAsync(TestEvents.To("m-retry", "sm"));
        // m-part: a part-done two-step plan
        await store.AcceptOneAsync(TestEvents.To("m-part", "sm"));
        // m-dead-1, m-dead-2: dead letters
        await store.AcceptOneAsync(TestEvents.To("m-dead-1", "sm"));
        await store.AcceptOneAsync(TestEvents.To("m-dead-2", "sm"));
        // m-done-1, m-done-2: delivered
        await store.AcceptOneAsync(TestEvents.To("m-done-1", "sm"));
        await store.AcceptOneAsync(TestEvents.To("m-done-2", "sm"));
        // m-paused-1,2: pending for the paused instance
        await store.AcceptOneAsync(TestEvents.To("m-paused-1", "paused"));
        await store.AcceptOneAsync(TestEvents.To("m-paused-2", "paused"));
        // m-nowhere: routed nowhere (only the dedupe row and a filter count)
        await store.AcceptOneAsync(TestEvents.Incoming("m-nowhere", [], [new RouterFilter("sm", FilterReason.SourceNotLinked)]));
        Assert.Equal(AcceptStatus.Duplicate, await store.AcceptOneAsync(TestEvents.To("m-done-1", "sm")));

        var claimed = (await q.ClaimAsync("gen", 100, lease, CancellationToken.None)).ToDictionary(c => c.MessageId);
        await q.SettleAsync(new Settlement(claimed["m-retry"], SettlementKind.RetryScheduled)
        {
            At = TestStore.Start.AddMinutes(5), Failure = FakeDestination.Status(503, "busy"), Plan = Plan,
            Request = new RequestDescription("POST", "https://partner.invalid/v1/event", "{}"),
        }, CancellationToken.None);
        await q.SettleAsync(new Settlement(claimed["m-part"], SettlementKind.Progress) { StepsDone = 1, Plan = TwoStepPlan }, CancellationToken.None);
        await q.SettleAsync(new Settlement(claimed["m-part"], SettlementKind.RetryScheduled)
        {
            At = TestStore.Start.AddMinutes(2), Failure = FakeDestination.Status(500, "oops"),
        }, CancellationToken.None);
        await q.MarkDeadAsync(claimed["m-dead-1"], "partner answered 400", FakeDestination.Status(400, "bad"),
            new RequestDescription("POST", "https://partner.invalid/v1/event", "{\"x\":1}"), CancellationToken.None);
        await q.MarkDeadAsync(claimed["m-dead-2"], "partner answered 422", FakeDestination.Status(422, "nope"), null, CancellationToken.None);
        await q.SettleAsync(new Settlement(claimed["m-done-1"], SettlementKind.Delivered) { StepsDone = 1, Plan = Plan }, CancellationToken.None);
        await q.SettleAsync(new Settlement(claimed["m-done-2"], SettlementKind.Delivered) { StepsDone = 1, Plan = Plan }, CancellationToken.None);
        foreach (var id in new[] { "m-new-1", "m-new-2", "m-new-3", "m-paused-1", "m-paused-2" })
            await q.ReleaseAsync(claimed[id], CancellationToken.None);
        store.Clock.Advance(TimeSpan.FromMinutes(1));
        await q.UpdateInstanceAsync("paused", s => s with
        {
            Hold = InstanceHold.Paused, HeldSince = store.Clock.GetUtcNow(), HoldReason = "partner answered 401",
            NextProbeAt = store.Clock.GetUtcNow().AddMinutes(30), LastError = "HTTP 401", LastErrorAt = store.Clock.GetUtcNow(),
        }, CancellationToken.None);

        await store.ExecuteAsync("PRAGMA wal_checkpoint(TRUNCATE)");
        var path = Path.Combine(store.Folder, "nested", "test.db");
        await ((IAsyncDisposable)store.Store).DisposeAsync();
        SqliteConnection.ClearAllPools();
        using (var conn = new SqliteConnection($"Data Source={path}"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            cmd.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();
        File.Copy(path, Environment.GetEnvironmentVariable("FIXTURE_OUT")!, overwrite: true);
    }
}
