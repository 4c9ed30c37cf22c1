using System.Data.Common;
using System.Text.Json.Nodes;
using Dapper;
using Destinations.Core.Segment;
using Destinations.Core.Routing;
using Destinations.Core.Storage;
using Destinations.Storage;
using Destinations.Storage.Postgres;
using Destinations.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Destinations.Testing;

public enum StoreProvider { Sqlite, Postgres }

/// <summary>
/// A real store with a fake clock: a SQLite file in its own temp folder, or a PostgreSQL schema of its own (dropped on
/// dispose). Both have the same tables and columns (Unix-ms times), so the tests' SQL runs on either.
/// </summary>
public sealed class TestStore : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    readonly SqliteDatabase? _sqlite;
    readonly PostgresDatabase? _postgres;
    readonly string? _schema;

    TestStore(StoreProvider provider, string folder, string? schema, StorageOptions options, FakeTimeProvider clock)
    {
        Provider = provider;
        Folder = folder;
        _schema = schema;
        Options = options;
        Clock = clock;
        var opts = Microsoft.Extensions.Options.Options.Create(options);
        if (provider == StoreProvider.Sqlite)
        {
            _sqlite = new SqliteDatabase(options.ConnectionString);
            var store = new SqliteEventStore(_sqlite, opts, Clock, Signal, NullLogger<SqliteEventStore>.Instance);
            var queue = new SqliteDeliveryQueue(_sqlite, Clock, Signal);
            (Store, Queue, Admin, _commits) = (store, queue, new SqliteDeliveryAdmin(_sqlite, queue, Clock, Signal), () => store.CommitCount);
            History = new SqliteEventHistory(_sqlite);
        }
        else
        {
            _postgres = new PostgresDatabase(options.ConnectionString);
            var store = new PostgresEventStore(_postgres, opts, Clock, Signal, NullLogger<PostgresEventStore>.Instance);
            var queue = new PostgresDeliveryQueue(_postgres, Clock, Signal, opts);
            (Store, Queue, Admin, _commits) = (store, queue, new PostgresDeliveryAdmin(_postgres, queue, Clock, Signal), () => store.CommitCount);
            History = new PostgresEventHistory(_postgres);
        }
    }

    readonly Func<long> _commits;

    public StoreProvider Provider { get; }
    public string Folder { get; }
    public StorageOptions Options { get; }
    public FakeTimeProvider Clock { get; }
    public DispatchSignal Signal { get; } = new();
    public IEventStore Store { get; }
    public IDeliveryQueue Queue { get; }
    public IDeliveryAdmin Admin { get; }
    public IEventHistory History { get; }

    /// <summary>Every stored event's deliveries as the store's event story tells them (the same on both providers: rows,
    /// or on SQLite's log the routing decision and the cursors), in event order.</summary>
    public async Task<List<StoredDelivery>> DeliveriesAsync()
    {
        var result = new List<StoredDelivery>();
        var seen = new HashSet<string>();
        foreach (var id in await QueryAsync<string>("SELECT message_id FROM events ORDER BY seq"))
            if (seen.Add(id))
                foreach (var story in await History.GetAsync(id, null, CancellationToken.None))
                    result.AddRange(story.Deliveries.Select(d => new StoredDelivery(story.MessageId, d.DestinationId, d.Subscription, d.Status, d.Attempts)));
        return result;
    }

    /// <summary>The delivery of <paramref name="messageId"/> to <paramref name="destination"/> (the only one when null), as
    /// the event's story tells it.</summary>
    public async Task<DeliveryStory> StoryAsync(string messageId, string? destination = null) =>
        (await History.GetAsync(messageId, null, CancellationToken.None)).SelectMany(s => s.Deliveries)
            .Single(d => destination is null || d.DestinationId == destination);

    /// <summary>Attempts counted on the deliveries of one instance (<see cref="DeliveriesAsync"/>).</summary>
    public async Task<int> AttemptsAsync(string destination) =>
        (await DeliveriesAsync()).Where(d => d.Destination == destination).Sum(d => d.Attempts);

    /// <summary>How many deliveries have this status (<see cref="DeliveriesAsync"/>), optionally of one instance.</summary>
    public async Task<int> CountAsync(DeliveryStoryStatus status, string? destination = null) =>
        (await DeliveriesAsync()).Count(d => d.Status == status && (destination is null || d.Destination == destination));

    /// <summary>Transactions the event store committed (group commit).</summary>
    public long CommitCount => _commits();

    /// <summary>A SQLite store on a copy of <paramref name="databaseFile"/> (e.g. a file written by an older schema).</summary>
    public static TestStore FromFile(string databaseFile, FakeTimeProvider clock)
    {
        var folder = Directory.CreateTempSubdirectory("dest-storage-").FullName;
        var path = Path.Combine(folder, "nested", "test.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(databaseFile, path);
        var options = new StorageOptions { Provider = nameof(StoreProvider.Sqlite), ConnectionString = $"Data Source={path}" };
        return new TestStore(StoreProvider.Sqlite, folder, null, options, clock);
    }

    public static TestStore Create(StoreProvider provider = StoreProvider.Sqlite, Action<StorageOptions>? configure = null, FakeTimeProvider? clock = null)
    {
        var folder = Directory.CreateTempSubdirectory("dest-storage-").FullName; // per test and owned by whoever runs it
        string? schema = null;
        var options = new StorageOptions
        {
            Provider = provider.ToString(),
            ConnectionString = provider == StoreProvider.Sqlite
                ? $"Data Source={Path.Combine(folder, "nested", "test.db")}"
                : PostgresTestDatabase.NewSchema(out schema),
        };
        configure?.Invoke(options);
        return new TestStore(provider, folder, schema, options, clock ?? new FakeTimeProvider(Start));
    }

    /// <summary>A second store on the same file or schema, as after a restart (or as another replica).</summary>
    public TestStore Reopen() => new(Provider, Folder, _schema, Options, Clock);

    public Task EnsureMigratedAsync() =>
        _sqlite?.EnsureMigratedAsync(CancellationToken.None) ?? _postgres!.EnsureMigratedAsync(CancellationToken.None);

    /// <summary>One retention purge (D17) with these options.</summary>
    public Task<int> PurgeAsync(RetentionOptions retention)
    {
        var options = Microsoft.Extensions.Options.Options.Create(retention);
        return _sqlite is not null
            ? new SqliteRetention(_sqlite, options, Clock, NullLogger<SqliteRetention>.Instance).PurgeAsync(CancellationToken.None)
            : new PostgresRetention(_postgres!, options, Clock, NullLogger<PostgresRetention>.Instance).PurgeAsync(CancellationToken.None);
    }

    async Task<DbConnection> OpenAsync() =>
        _sqlite is not null ? await _sqlite.OpenAsync(CancellationToken.None) : await _postgres!.OpenAsync(CancellationToken.None);

    public async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var conn = await OpenAsync();
        return (await conn.QueryAsync<T>(sql, args)).ToList();
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await OpenAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var conn = await OpenAsync();
        await conn.ExecuteAsync(sql);
    }

    public async Task<AcceptStatus> AcceptOneAsync(IncomingEvent e) => (await Store.AcceptAsync([e], CancellationToken.None)).Single();

    /// <summary>Keep the file or schema on dispose (to reopen it, as after a restart).</summary>
    public bool KeepFiles { get; set; }

    public async ValueTask DisposeAsync()
    {
        await ((IAsyncDisposable)Store).DisposeAsync();
        if (_postgres is not null)
        {
            if (!KeepFiles)
            {
                await using var conn = await _postgres.OpenAsync(CancellationToken.None);
                await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS \"{_schema}\" CASCADE");
            }
            await _postgres.DisposeAsync();
            return;
        }
        SqliteConnection.ClearAllPools();
        if (KeepFiles) return;
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>One delivery as <see cref="TestStore.DeliveriesAsync"/> lists it.</summary>
public sealed record StoredDelivery(string MessageId, string Destination, string Subscription, DeliveryStoryStatus Status, int Attempts);

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
