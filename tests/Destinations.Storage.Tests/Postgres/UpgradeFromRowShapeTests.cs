using Destinations.Core.Delivery;
using Destinations.Delivery;
using Destinations.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Destinations.Storage.Tests;

/// <summary>
/// A PostgreSQL schema written by the row-shaped store (schema 6: a delivery row per routed delivery from ingest on, a dedupe
/// row per accepted messageId) upgrades in place at start: its pending deliveries are claimed in order and delivered with the
/// attempts, plans and step progress they had (D11), its dead letters list and replay, its dedupe window still refuses the old
/// messageIds until it ends (D5), the paused instance stays paused and its paused time is not counted (D12, D13), events
/// accepted after the upgrade go through the log, and a user's old rows go before that user's new events (D16).
/// </summary>
/// <remarks>
/// The data is not written by hand: Fixtures/postgres-schema6.sql is a <c>pg_dump --schema=… --no-owner</c> of a schema written
/// by the store and sender of commit 1f58926 (the last before the PostgreSQL log), driven by a throwaway test added to that
/// commit's Destinations.Delivery.Tests (MakePostgresSchema6Fixture: a DispatchHarness with fake partners answering as
/// scripted, and the real Selligent mapper for the two-step plan) on the test clock from 2026-03-01T12:00Z; the schema's
/// generated name was then replaced by <see cref="FixtureSchema"/>. Fixtures/README.md lists what it holds and has that
/// program's source and the commands to remake it.
/// </remarks>
public sealed class UpgradeFromRowShapeTests
{
    const string FixtureSchema = "destinations_schema6";
    static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "postgres-schema6.sql");
    static readonly DateTimeOffset Start = TestStore.Start;

    /// <summary>The dump restored into a fresh schema of its own and opened by today's store (the migration has run), with fake
    /// partners standing in for the instances the old code delivered to, and the sender the Dispatcher runs.</summary>
    sealed class Upgraded : IAsyncDisposable
    {
        public Upgraded(TestStore store, DeliveryOptions options)
        {
            (Store, Options) = (store, options);
            var registry = new DestinationRegistry([], new IDestination[] { Sm, Smc, Um, Paused }
                .Select(d => (d, (IReadOnlyList<string>?)null)).ToList(), []);
            Sender = new DeliverySender(store.Queue, registry, Microsoft.Extensions.Options.Options.Create(options),
                new RetryJitter(() => 0.5), store.Clock, NullLogger<DeliverySender>.Instance);
        }

        public TestStore Store { get; }
        public DeliveryOptions Options { get; }
        public DeliverySender Sender { get; }
        public FakeDestination Sm { get; } = new("sm");
        public FakeDestination Um { get; } = new("um");
        public FakeDestination Smc { get; } = new("smc");
        public FakeDestination Paused { get; } = new("paused");
        public IReadOnlyList<string> Instances { get; } = ["sm", "smc", "um", "paused"];

        /// <summary>One dispatcher pass: the claim as the Dispatcher asks for it, then the sender on what it got.</summary>
        public async Task<(IReadOnlyList<ClaimedDelivery> Claimed, List<DeliveryOutcome> Outcomes)> RunPassAsync()
        {
            var claimed = await Store.Queue.ClaimAsync(new ClaimRequest("w", 100, Options.Lease)
            {
                Destinations = Instances,
                Ordered = Options.OrderedDestinations.ToHashSet(),
            }, CancellationToken.None);
            return (claimed, await Sender.SendAsync(claimed, CancellationToken.None));
        }

        public Task<DestinationStats> StatsAsync(string instance) => Store.Queue.GetStatsAsync(instance, CancellationToken.None);

        public ValueTask DisposeAsync() => Store.DisposeAsync();
    }

    /// <summary>Restores the fixture at <paramref name="after"/> past 12:00 and starts today's store on it.</summary>
    static async Task<Upgraded> OpenAsync(TimeSpan after, Action<DeliveryOptions>? configure = null)
    {
        var store = TestStore.Create(StoreProvider.Postgres, clock: new FakeTimeProvider(Start + after));
        var schema = new NpgsqlConnectionStringBuilder(store.Options.ConnectionString).SearchPath!;
        // Restored before the store's first use, which migrates.
        await RestoreAsync((await File.ReadAllTextAsync(Fixture)).Replace(FixtureSchema, schema, StringComparison.Ordinal));
        await using (var conn = new NpgsqlConnection(PostgresTestDatabase.ConnectionString))
        {
            await conn.OpenAsync();
            await using var version = new NpgsqlCommand($"SELECT MAX(version) FROM \"{schema}\".schema_version", conn);
            Assert.Equal(6, await version.ExecuteScalarAsync());
        }
        await store.EnsureMigratedAsync();

        // As the fixture was written: the probe backoff that made the paused instance's next canary 12:31.
        var options = new DeliveryOptions { ProbeBaseDelay = TimeSpan.FromMinutes(30) };
        configure?.Invoke(options);
        return new Upgraded(store, options);
    }

    /// <summary>Runs a plain-format dump as psql would: its statements, and each <c>COPY … FROM stdin</c> with the rows that
    /// follow it up to <c>\.</c>; psql's own commands (<c>\restrict</c>, <c>\unrestrict</c>) are psql's business and skipped. A
    /// connection of its own (not pooled): the dump empties the session's search_path.</summary>
    static async Task RestoreAsync(string dump)
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresTestDatabase.ConnectionString) { Pooling = false };
        await using var conn = new NpgsqlConnection(builder.ConnectionString);
        await conn.OpenAsync();
        var statements = new System.Text.StringBuilder();
        using var reader = new StringReader(dump);
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            if (line.StartsWith("COPY ", StringComparison.Ordinal) && line.EndsWith(" FROM stdin;", StringComparison.Ordinal))
            {
                await ExecuteAsync(conn, statements);
                await using var copy = await conn.BeginTextImportAsync(line[..^1]);
                for (var row = reader.ReadLine(); row != @"\."; row = reader.ReadLine())
                    await copy.WriteAsync((row ?? throw new InvalidDataException($"{Fixture}: {line} has no end (\\.)")) + "\n");
                continue;
            }
            if (!line.StartsWith("--", StringComparison.Ordinal) && !line.StartsWith('\\')) statements.AppendLine(line);
        }
        await ExecuteAsync(conn, statements);

        static async Task ExecuteAsync(NpgsqlConnection conn, System.Text.StringBuilder sql)
        {
            if (sql.ToString().Trim().Length == 0) return;
            await using var cmd = new NpgsqlCommand(sql.ToString(), conn);
            await cmd.ExecuteNonQueryAsync();
            sql.Clear();
        }
    }

    static DateTimeOffset At(int minutes) => Start.AddMinutes(minutes);

    [Fact]
    public async Task Pending_rows_are_claimed_in_order_with_their_attempts_and_plans_and_the_part_done_plan_resumes_at_its_next_step()
    {
        await using var u = await OpenAsync(TimeSpan.FromMinutes(3));
        var store = u.Store;
        Assert.Equal((long)PostgresMigrations.All.Max(m => m.Version), await store.ScalarAsync<long>("SELECT MAX(version) FROM schema_version"));
        // The old events got their messageId and user hashes, so the event's story and the partitions find them.
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM events WHERE id_hash IS NULL OR user_hash IS NULL"));

        // Stats as the old store left them: counted from its rows and counters.
        var sm = await u.StatsAsync("sm");
        Assert.Equal((3L, 1L, 2L, 2L, 1L), (sm.PendingNew, sm.Retrying, sm.Delivered, sm.Dead, sm.Duplicates));
        Assert.Equal(1L, sm.Filtered["source_not_linked"]);
        var (um, smc) = (await u.StatsAsync("um"), await u.StatsAsync("smc"));
        Assert.Equal((3L, 0L, 0L, 1L), (um.PendingNew, um.Retrying, smc.PendingNew, smc.Retrying));

        // The retry keeps its attempt, its answer and its next time (12:05); the part-done plan its progress.
        var retry = await store.StoryAsync("m-retry");
        Assert.Equal((DeliveryStoryStatus.Pending, 1, At(5), 503), (retry.Status, retry.Attempts, retry.NextAttemptAt, retry.LastStatus));
        var part = await store.StoryAsync("m-part");
        Assert.Equal((DeliveryStoryStatus.Pending, 1, At(2)), (part.Status, part.Attempts, part.NextAttemptAt));
        Assert.Equal([("segment-add", 200), ("event-row", 500)], part.Calls.Select(c => (c.Step, c.Status ?? 0)));

        // 12:03: the rows due are claimed oldest due first (never-attempted 12:01, the part-done plan 12:02), not the retry.
        var (claimed, outcomes) = await u.RunPassAsync();
        Assert.Equal([("m-new-1", "sm"), ("m-new-1", "um"), ("m-new-2", "sm"), ("m-new-2", "um"), ("m-new-3", "sm"), ("m-new-3", "um"), ("m-part", "smc")],
            claimed.Select(c => (c.MessageId, c.DestinationId)));
        Assert.All(claimed, c => Assert.True(c.Id > 0)); // rows from before the upgrade stay rows
        var claimedPart = claimed.Single(c => c.MessageId == "m-part");
        Assert.Equal((1, 1), (claimedPart.StepsDone, claimedPart.Attempts));
        Assert.All(outcomes, o => Assert.Equal(DeliveryOutcome.Delivered, o));

        // D11: the stored plan's second step is sent, not the first again, and nothing is mapped afresh.
        Assert.Equal(["event-row"], u.Smc.SentSteps);
        Assert.Equal(0, u.Smc.MapCalls);
        part = await store.StoryAsync("m-part");
        Assert.Equal((DeliveryStoryStatus.Delivered, 2), (part.Status, part.Attempts));
        Assert.Equal([("segment-add", 200), ("event-row", 500), ("event-row", 200)], part.Calls.Select(c => (c.Step, c.Status ?? 0)));

        // 12:05: the retry, with its frozen plan (not mapped again), its attempts counted on.
        store.Clock.SetUtcNow(At(5));
        (claimed, outcomes) = await u.RunPassAsync();
        var again = Assert.Single(claimed);
        Assert.Equal(("m-retry", 1, true), (again.MessageId, again.Attempts, again.Plan is not null));
        Assert.Equal([DeliveryOutcome.Delivered], outcomes);
        Assert.Equal(3, u.Sm.MapCalls); // only the three never attempted
        retry = await store.StoryAsync("m-retry");
        Assert.Equal((DeliveryStoryStatus.Delivered, 2), (retry.Status, retry.Attempts));

        foreach (var id in new[] { "m-new-1", "m-new-2", "m-new-3", "m-done-1", "m-done-2" })
            Assert.Equal(DeliveryStoryStatus.Delivered, (await store.StoryAsync(id, "sm")).Status);
        // A row the old code delivered still tells in which call, at 12:00, with HTTP 200.
        Assert.Equal([(Start, 200)], (await store.StoryAsync("m-done-1")).Calls.Select(c => (c.At, c.Status ?? 0)));
        (sm, um, smc) = (await u.StatsAsync("sm"), await u.StatsAsync("um"), await u.StatsAsync("smc"));
        Assert.Equal((6L, 0L, 0L, 2L), (sm.Delivered, sm.PendingNew, sm.Retrying, sm.Dead));
        Assert.Equal((3L, 0L, 1L, 0L), (um.Delivered, um.PendingNew, smc.Delivered, smc.Retrying));

        // Events accepted after the upgrade go through the log: no row, delivered from the instances' cursors.
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-after", "sm", "um")));
        (claimed, outcomes) = await u.RunPassAsync();
        Assert.Equal([("m-after", "sm", true), ("m-after", "um", true)],
            claimed.Select(c => (c.MessageId, c.DestinationId, c.Id < 0)).Order());
        Assert.All(outcomes, o => Assert.Equal(DeliveryOutcome.Delivered, o));
        Assert.Equal(DeliveryStoryStatus.Delivered, (await store.StoryAsync("m-after", "sm")).Status);
        Assert.Equal(0L, await store.ScalarAsync<long>("SELECT COUNT(*) FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE e.message_id = 'm-after'"));
        Assert.Equal(7L, (await u.StatsAsync("sm")).Delivered);
    }

    [Fact]
    public async Task Dead_letters_list_with_the_partners_answers_and_replay()
    {
        await using var u = await OpenAsync(TimeSpan.FromMinutes(10));
        var store = u.Store;
        var dead = (await store.Admin.ListDeadLettersAsync(new DeadLetterFilter(), CancellationToken.None)).Items.OrderBy(d => d.MessageId).ToList();
        Assert.Equal([("m-dead-1", "sm", 400, 1), ("m-dead-2", "sm", 422, 1)], dead.Select(d => (d.MessageId, d.DestinationId, d.LastStatus ?? 0, d.Attempts)));
        Assert.Equal(["bad", "nope"], dead.Select(d => d.ResponseExcerpt));
        Assert.All(dead, d => Assert.Equal((Start, "https://partner.example/v1/event"), (d.DeadAt, d.LastRequest?.Url)));
        Assert.All(dead, d => Assert.Contains("Signed Up", d.EventBody));
        Assert.Equal(DeliveryStoryStatus.Dead, (await store.StoryAsync("m-dead-1")).Status);

        // By id: pending again with no plan and no attempt (D11: a replay maps afresh), then delivered.
        Assert.Equal(1, await store.Admin.ReplayAsync(ReplaySelection.ByIds(dead[0].Id), CancellationToken.None));
        var (claimed, outcomes) = await u.RunPassAsync();
        var replayed = Assert.Single(claimed, c => c.MessageId == "m-dead-1");
        Assert.Equal((0, (string?)null), (replayed.Attempts, replayed.Plan));
        Assert.All(outcomes, o => Assert.Equal(DeliveryOutcome.Delivered, o));
        Assert.Equal(DeliveryStoryStatus.Delivered, (await store.StoryAsync("m-dead-1")).Status);

        // By destination and the time it died: the other one.
        Assert.Equal(1, await store.Admin.ReplayAsync(new ReplaySelection(DestinationId: "sm", Since: Start, Until: At(1)), CancellationToken.None));
        (claimed, _) = await u.RunPassAsync();
        Assert.Equal("m-dead-2", Assert.Single(claimed).MessageId);
        Assert.Equal(DeliveryStoryStatus.Delivered, (await store.StoryAsync("m-dead-2")).Status);
        Assert.Empty((await store.Admin.ListDeadLettersAsync(new DeadLetterFilter(), CancellationToken.None)).Items);
    }

    [Fact]
    public async Task The_dedupe_window_refuses_the_old_messageIds_until_24_h_after_each_was_accepted()
    {
        await using (var u = await OpenAsync(TimeSpan.FromHours(23)))
        {
            foreach (var id in new[] { "m-new-1", "m-done-1", "m-dead-1", "m-part", "m-paused-2", "m-nowhere" })
                Assert.Equal(AcceptStatus.Duplicate, await u.Store.AcceptOneAsync(TestEvents.To(id, "sm")));
            Assert.Equal(AcceptStatus.Stored, await u.Store.AcceptOneAsync(TestEvents.To("m-unseen", "sm")));
            Assert.Equal(AcceptStatus.Duplicate, await u.Store.AcceptOneAsync(TestEvents.To("m-unseen", "sm")));
            // The key is (source, messageId): the same id from another source is new.
            Assert.Equal(AcceptStatus.Stored, await u.Store.AcceptOneAsync(TestEvents.Incoming("m-nowhere", [new("sm", "track")], source: "app")));
            Assert.Equal(1L + 7L, (await u.StatsAsync("sm")).Duplicates);
        }

        // The ids accepted at 12:00 are new again 24 h later; those accepted at 12:01 a minute after that.
        await using (var u = await OpenAsync(TimeSpan.FromHours(24)))
        {
            Assert.Equal(AcceptStatus.Stored, await u.Store.AcceptOneAsync(TestEvents.To("m-done-1", "sm")));
            Assert.Equal(AcceptStatus.Duplicate, await u.Store.AcceptOneAsync(TestEvents.To("m-new-1", "sm")));
            Assert.Equal(AcceptStatus.Duplicate, await u.Store.AcceptOneAsync(TestEvents.To("m-nowhere", "sm")));
            u.Store.Clock.SetUtcNow(Start.AddHours(24).AddMinutes(1));
            Assert.Equal(AcceptStatus.Stored, await u.Store.AcceptOneAsync(TestEvents.To("m-new-1", "sm")));
            Assert.Equal(AcceptStatus.Stored, await u.Store.AcceptOneAsync(TestEvents.To("m-nowhere", "sm")));
        }
    }

    [Fact]
    public async Task Per_user_order_holds_across_the_upgrade_the_old_rows_go_before_the_users_later_events_D16()
    {
        await using var u = await OpenAsync(TimeSpan.FromMinutes(10), o => o.OrderedDestinations = ["sm"]);
        var store = u.Store;
        // After the upgrade: user-1's next event (behind four pending rows of user-1) and another user's.
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-after", "sm")));
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(new IncomingEvent("web", TestEvents.Track("m-other", "user-3"),
            new RoutingDecision([new RoutedDelivery("sm", "track")], []))));

        var passes = new List<string[]>();
        for (var pass = 0; pass < 6; pass++)
        {
            var (claimed, outcomes) = await u.RunPassAsync();
            Assert.All(outcomes, o => Assert.Equal(DeliveryOutcome.Delivered, o));
            passes.Add(claimed.Where(c => c.DestinationId == "sm").Select(c => c.MessageId).Order().ToArray());
        }
        // One of user-1's at a time, oldest first (the retry's event is the oldest); the other user's goes at once.
        Assert.Equal([["m-other", "m-retry"], ["m-new-1"], ["m-new-2"], ["m-new-3"], ["m-after"], []], passes);
    }

    [Fact]
    public async Task The_paused_instance_stays_paused_and_its_paused_time_is_not_counted_D12_D13()
    {
        // D13 with a 20 min MaxAge: 30 min old by the wall clock, but paused for all of it.
        await using var u = await OpenAsync(TimeSpan.FromMinutes(10), o => (o.MaxAge, o.MinAttempts) = (TimeSpan.FromMinutes(20), 1));
        var store = u.Store;
        var state = await store.Queue.GetInstanceAsync("paused", CancellationToken.None);
        Assert.Equal((InstanceHold.Paused, At(1), At(31)), (state.Hold, state.HeldSince, state.NextProbeAt));
        Assert.StartsWith("partner answered 401", state.HoldReason);
        var stats = await u.StatsAsync("paused");
        Assert.Equal((2L, 2L, InstanceHold.Paused), (stats.Held, stats.PendingNew, stats.State?.Hold));

        // Nothing of the paused instance is claimed before its canary is due; an event accepted meanwhile waits in the log.
        var (claimed, _) = await u.RunPassAsync();
        Assert.DoesNotContain(claimed, c => c.DestinationId == "paused");
        Assert.Equal(AcceptStatus.Stored, await store.AcceptOneAsync(TestEvents.To("m-paused-3", "paused")));
        store.Clock.SetUtcNow(At(30));
        (claimed, _) = await u.RunPassAsync();
        Assert.Empty(claimed);
        stats = await u.StatsAsync("paused");
        Assert.Equal((3L, 1L), (stats.Held, stats.LogBacklog));

        // 12:31: one canary, the oldest held delivery, with the plan frozen at its held attempt (D11); paused since 12:01,
        // its wait is held time (D12, D13).
        store.Clock.SetUtcNow(At(31));
        u.Paused.Answer(FakeDestination.Ok, FakeDestination.Status(503), FakeDestination.Status(503));
        List<DeliveryOutcome> outcomes;
        (claimed, outcomes) = await u.RunPassAsync();
        var canary = Assert.Single(claimed);
        Assert.Equal(("m-paused-1", true, TimeSpan.FromMinutes(30)), (canary.MessageId, canary.IsProbe, canary.HeldFor));
        Assert.Equal([DeliveryOutcome.Delivered], outcomes);
        Assert.Equal(0, u.Paused.MapCalls);
        Assert.False((await store.Queue.GetInstanceAsync("paused", CancellationToken.None)).IsHeld);
        Assert.Equal((long)TimeSpan.FromMinutes(30).TotalMilliseconds,
            await store.ScalarAsync<long>("SELECT d.held_ms FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE e.message_id = 'm-paused-2'"));

        // The others waited 30 and 21 min, all of it paused (the row's held time; the log event's from the hold the migration
        // carried over): a 503 now is retried, not given up (20 min MaxAge, MinAttempts 1).
        (claimed, outcomes) = await u.RunPassAsync();
        Assert.Equal([("m-paused-2", TimeSpan.FromMinutes(30)), ("m-paused-3", TimeSpan.FromMinutes(21))],
            claimed.Select(c => (c.MessageId, c.HeldFor)).Order());
        Assert.Equal([DeliveryOutcome.RetryScheduled, DeliveryOutcome.RetryScheduled], outcomes);
        foreach (var id in new[] { "m-paused-2", "m-paused-3" })
        {
            var story = await store.StoryAsync(id);
            Assert.Equal((DeliveryStoryStatus.Pending, 1, At(31).AddSeconds(2.5)), (story.Status, story.Attempts, story.NextAttemptAt));
        }
    }
}
