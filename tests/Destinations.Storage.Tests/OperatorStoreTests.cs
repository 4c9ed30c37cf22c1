using System.Xml.Linq;
using Destinations.Core.Storage;
using Destinations.Storage.Operator;
using Destinations.Storage.Postgres;
using Destinations.Storage.Sqlite;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection;

namespace Destinations.Storage.Tests;

/// <summary>The operator console's tables (audit log, Data Protection keys) and queries (failure groups, dead-letter count,
/// replay by status) on both providers.</summary>
public abstract class OperatorStoreTests(StoreProvider provider)
{
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    sealed class Operator(object store, IAsyncDisposable? owned) : IAsyncDisposable
    {
        public IAuditLog Audit => (IAuditLog)store;
        public IFailureQueries Failures => (IFailureQueries)store;
        public IXmlRepository Keys => (IXmlRepository)store;
        public ValueTask DisposeAsync() => owned?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    /// <summary>A fresh operator store on the test store's file or schema, as another process or replica would open it.</summary>
    static Operator Open(TestStore store)
    {
        if (store.Provider == StoreProvider.Sqlite)
            return new Operator(new SqliteOperatorStore(new SqliteDatabase(store.Options.ConnectionString), store.Clock), null);
        var db = new PostgresDatabase(store.Options.ConnectionString);
        return new Operator(new PostgresOperatorStore(db, store.Clock), db);
    }

    [Fact]
    public async Task The_audit_log_keeps_every_entry_and_lists_the_newest_first()
    {
        await using var store = TestStore.Create(provider);
        await using var op = Open(store);
        var at = TestStore.Start;
        await op.Audit.AppendAsync(new AuditEntry(at, "replay", "sm status=400", 12, "12 dead letters replayed", "s-1a2b", "203.0.113.9"), CancellationToken.None);
        await op.Audit.AppendAsync(new AuditEntry(at.AddMinutes(1), "resume", "sm", 1, "resumed", "s-1a2b", null), CancellationToken.None);
        await op.Audit.AppendAsync(new AuditEntry(at.AddMinutes(2), "send", "msg-9", 2, new string('x', 2000), "s-3c4d", "::1"), CancellationToken.None);

        await using var other = Open(store);
        var all = await other.Audit.ListAsync(10, CancellationToken.None);
        Assert.Equal(["send", "resume", "replay"], all.Select(e => e.Action));
        var replay = all[2];
        Assert.Equal((at, "sm status=400", 12L, "12 dead letters replayed", "s-1a2b", "203.0.113.9"),
            (replay.At, replay.Target, replay.Count, replay.Detail, replay.Session, replay.ClientIp));
        Assert.Null(all[1].ClientIp);
        Assert.Equal(AuditEntry.MaxTextLength, all[0].Detail!.Length);
        Assert.Equal(["send", "resume"], (await other.Audit.ListAsync(2, CancellationToken.None)).Select(e => e.Action));
    }

    [Fact]
    public async Task Data_protection_keys_written_by_one_process_unprotect_in_another()
    {
        await using var store = TestStore.Create(provider);
        await using var first = Open(store);
        var token = Protector(first.Keys).Protect("console session");
        Assert.NotEmpty(first.Keys.GetAllElements());

        await using var second = Open(store); // a restart, or another replica on the same store
        Assert.Equal("console session", Protector(second.Keys).Unprotect(token));

        // Storing the same key again (Data Protection revoking or re-writing it) replaces it rather than failing.
        var element = first.Keys.GetAllElements().First();
        second.Keys.StoreElement(new XElement(element), "key-" + element.Attribute("id")!.Value);
        Assert.Equal(first.Keys.GetAllElements().Count, second.Keys.GetAllElements().Count);
    }

    [Fact]
    public async Task Retention_purges_audit_entries_after_90_days_and_keys_a_week_after_they_expired()
    {
        await using var store = TestStore.Create(provider);
        await using var op = Open(store);
        var start = TestStore.Start;
        await op.Audit.AppendAsync(new AuditEntry(start, "replay", "sm", 3, null, "s-1", null), CancellationToken.None);
        await op.Audit.AppendAsync(new AuditEntry(start.AddDays(60), "resume", "sm", 1, null, "s-2", null), CancellationToken.None);

        // Real Data Protection keys in the store: one expiring a day after the start, one much later; and a revocation.
        var services = new ServiceCollection();
        services.AddDataProtection().SetApplicationName("Destinations");
        services.Configure<KeyManagementOptions>(o => o.XmlRepository = op.Keys);
        var keys = services.BuildServiceProvider().GetRequiredService<IKeyManager>();
        var shortKey = keys.CreateNewKey(start.AddDays(-89), start.AddDays(1));
        var longKey = keys.CreateNewKey(start, start.AddDays(200));
        keys.RevokeAllKeys(start.AddDays(-100), "older keys are compromised");
        Assert.Equal(3, op.Keys.GetAllElements().Count);

        // Six days after the short key expired: it stays (a session it protected may still be within its absolute limit,
        // and replicas' clocks differ).
        store.Clock.Advance(TimeSpan.FromDays(7));
        await store.PurgeAsync(new RetentionOptions());
        Assert.Equal(3, op.Keys.GetAllElements().Count);
        Assert.Equal(2, (await op.Audit.ListAsync(10, CancellationToken.None)).Count);

        // Past 7 days after its expiration: the short key goes; the live key and the revocation stay.
        store.Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        await store.PurgeAsync(new RetentionOptions());
        var left = op.Keys.GetAllElements();
        Assert.Equal([longKey.KeyId.ToString()], left.Where(e => e.Name.LocalName == "key").Select(e => e.Attribute("id")!.Value));
        Assert.Single(left, e => e.Name.LocalName == "revocation");
        Assert.DoesNotContain(left, e => e.Attribute("id")?.Value == shortKey.KeyId.ToString());

        // 90 days after the first audit entry it goes; the later one stays, until its own 90 days are past.
        store.Clock.Advance(TimeSpan.FromDays(90) - TimeSpan.FromDays(8));
        await store.PurgeAsync(new RetentionOptions { PurgeBatchSize = 1 });
        Assert.Equal(["resume"], (await op.Audit.ListAsync(10, CancellationToken.None)).Select(e => e.Action));
        await store.PurgeAsync(new RetentionOptions { Audit = TimeSpan.FromDays(20) });
        Assert.Empty(await op.Audit.ListAsync(10, CancellationToken.None));
    }

    static IDataProtector Protector(IXmlRepository repository)
    {
        var services = new ServiceCollection();
        services.AddDataProtection().SetApplicationName("Destinations");
        services.Configure<KeyManagementOptions>(o => o.XmlRepository = repository);
        return services.BuildServiceProvider().GetRequiredService<IDataProtectionProvider>().CreateProtector("test");
    }

    [Fact]
    public async Task Failures_group_by_status_and_reason_and_replay_by_status_selects_what_the_count_counted()
    {
        await using var store = TestStore.Create(provider);
        for (var i = 0; i < 5; i++) await store.AcceptOneAsync(TestEvents.To($"m-{i}", "sm"));
        await store.AcceptOneAsync(TestEvents.To("other", "um"));
        var rows = (await store.Queue.ClaimAsync("w", 10, Lease, CancellationToken.None)).Where(r => r.DestinationId == "sm").OrderBy(r => r.EventSeq).ToList();
        RequestDescription Request(int i) => RequestDescription.Of("POST", new Uri("https://api.salesmachine.io/v1/contact"), $"{{\"contact_uid\":\"u{i}\"}}");
        await store.Queue.MarkDeadAsync(rows[0], "partner answered 400", FakeDestination.Status(400, "bad email"), Request(0), CancellationToken.None);
        await store.Queue.MarkDeadAsync(rows[1], "partner answered 400", FakeDestination.Status(400, "bad name"), Request(1), CancellationToken.None);
        await store.Queue.MarkDeadAsync(rows[2], "partner answered 422", FakeDestination.Status(422, "no"), Request(2), CancellationToken.None);
        await store.Queue.ScheduleRetryAsync(rows[3], TestStore.Start.AddMinutes(5), FakeDestination.Status(503, "later"), Request(3), CancellationToken.None);
        await store.Queue.MarkDeliveredAsync(rows[4], 1, CancellationToken.None);

        await using var op = Open(store);
        var groups = await op.Failures.ListFailureGroupsAsync("sm", 50, CancellationToken.None);
        Assert.Equal(3, groups.Count);
        var bad = groups[0];
        Assert.Equal(("dead", (int?)400, "partner answered 400", 2L), (bad.State, bad.Status, bad.Reason, bad.Count));
        // The latest sample is m-1's dead letter (its row id: on the SQLite log a claim has no row until it needs one).
        var deadM1 = (await store.Admin.ListDeadLettersAsync(new DeadLetterFilter("sm"), CancellationToken.None)).Items.Single(d => d.MessageId == "m-1");
        Assert.Equal((deadM1.Id, "m-1", "bad name"), (bad.LatestId, bad.MessageId, bad.LatestResponse));
        Assert.Equal("{\"contact_uid\":\"u1\"}", bad.LatestRequest!.Body);
        Assert.Contains(groups, g => g is { State: "dead", Status: 422, Count: 1 });
        Assert.Contains(groups, g => g is { State: "retrying", Status: 503, Count: 1, MessageId: "m-3" });
        Assert.Empty(await op.Failures.ListFailureGroupsAsync("um", 50, CancellationToken.None));

        var only400 = new DeadLetterFilter("sm", Status: 400);
        Assert.Equal(2, await op.Failures.CountDeadLettersAsync(only400, CancellationToken.None));
        Assert.Equal(3, await op.Failures.CountDeadLettersAsync(new DeadLetterFilter("sm"), CancellationToken.None));
        Assert.Equal(2, (await store.Admin.ListDeadLettersAsync(only400, CancellationToken.None)).Items.Count);

        Assert.Equal(2, await store.Admin.ReplayAsync(new ReplaySelection(DestinationId: "sm", Status: 400), CancellationToken.None));
        Assert.Equal(0, await op.Failures.CountDeadLettersAsync(only400, CancellationToken.None));
        Assert.Equal(1, await op.Failures.CountDeadLettersAsync(new DeadLetterFilter("sm"), CancellationToken.None));
    }
}

public sealed class SqliteOperatorStoreTests() : OperatorStoreTests(StoreProvider.Sqlite);

public sealed class PostgresOperatorStoreTests() : OperatorStoreTests(StoreProvider.Postgres);
