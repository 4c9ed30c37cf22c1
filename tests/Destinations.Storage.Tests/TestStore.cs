using System.Text.Json.Nodes;
using Dapper;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Destinations.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Destinations.Storage.Tests;

/// <summary>A real SQLite file in its own temp folder, with a fake clock; deleted on dispose.</summary>
public sealed class TestStore : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    TestStore(string folder, StorageOptions options, FakeTimeProvider clock)
    {
        Folder = folder;
        Options = options;
        Clock = clock;
        Database = new SqliteDatabase(options.ConnectionString);
        Store = new SqliteEventStore(Database, Microsoft.Extensions.Options.Options.Create(options), Clock, Signal, NullLogger<SqliteEventStore>.Instance);
        Queue = new SqliteDeliveryQueue(Database, Clock, Signal);
        Admin = new SqliteDeliveryAdmin(Database, Queue, Clock, Signal);
    }

    public string Folder { get; }
    public StorageOptions Options { get; }
    public FakeTimeProvider Clock { get; }
    public DispatchSignal Signal { get; } = new();
    public SqliteDatabase Database { get; }
    public SqliteEventStore Store { get; }
    public SqliteDeliveryQueue Queue { get; }
    public SqliteDeliveryAdmin Admin { get; }

    public static TestStore Create(Action<StorageOptions>? configure = null, string? folder = null, FakeTimeProvider? clock = null)
    {
        folder ??= Path.Combine(Path.GetTempPath(), "dest-storage-tests", Guid.NewGuid().ToString("N"));
        var options = new StorageOptions { ConnectionString = $"Data Source={Path.Combine(folder, "nested", "test.db")}" };
        configure?.Invoke(options);
        return new TestStore(folder, options, clock ?? new FakeTimeProvider(Start));
    }

    /// <summary>A second store on the same file, as after a restart.</summary>
    public TestStore Reopen() => new(Folder, Options, Clock);

    public async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Database.OpenAsync(CancellationToken.None);
        return (await conn.QueryAsync<T>(sql, args)).ToList();
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Database.OpenAsync(CancellationToken.None);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var conn = await Database.OpenAsync(CancellationToken.None);
        await conn.ExecuteAsync(sql);
    }

    public async Task<AcceptStatus> AcceptOneAsync(IncomingEvent e) => (await Store.AcceptAsync([e], CancellationToken.None)).Single();

    /// <summary>Keep the file on dispose (to reopen it, as after a restart).</summary>
    public bool KeepFiles { get; set; }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (KeepFiles) return;
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public static class TestEvents
{
    public static SegmentEvent Track(string messageId, string? userId = "user-1") => new(new JsonObject
    {
        ["type"] = "track",
        ["messageId"] = messageId,
        ["userId"] = userId,
        ["event"] = "Signed Up",
        ["receivedAt"] = "2026-03-01T12:00:00.000Z",
        ["properties"] = new JsonObject { ["plan"] = "pro" },
    });

    public static IncomingEvent Incoming(string messageId, IReadOnlyList<RoutedDelivery> deliveries, IReadOnlyList<RouterFilter>? filtered = null, string source = "web") =>
        new(source, Track(messageId), new RoutingDecision(deliveries, filtered ?? []));

    public static IncomingEvent To(string messageId, params string[] destinationIds) =>
        Incoming(messageId, destinationIds.Select(d => new RoutedDelivery(d, "track")).ToList());
}
