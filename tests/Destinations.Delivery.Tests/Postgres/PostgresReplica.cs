using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;
using Destinations.Delivery;
using Destinations.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;

namespace Destinations.Delivery.Tests;

/// <summary>
/// One service instance on a shared PostgreSQL schema, as a replica runs it: its own connection pool, event store, queue,
/// sender and <see cref="Dispatcher"/> (its own lease owner), on the real clock.
/// </summary>
public sealed class PostgresReplica : IAsyncDisposable
{
    public PostgresReplica(string connectionString, IDestination partner, Action<DeliveryOptions>? configure = null)
    {
        configure?.Invoke(Options);
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        Database = new PostgresDatabase(connectionString);
        Store = new PostgresEventStore(Database, Microsoft.Extensions.Options.Options.Create(new StorageOptions()), TimeProvider.System,
            Signal, NullLogger<PostgresEventStore>.Instance);
        Queue = new PostgresDeliveryQueue(Database, TimeProvider.System, Signal);
        var registry = new DestinationRegistry([], [(partner, (IReadOnlyList<string>?)null)], []);
        var sender = new DeliverySender(Queue, registry, options, RetryJitter.Shared, TimeProvider.System, NullLogger<DeliverySender>.Instance);
        Dispatcher = new Dispatcher(Queue, sender, Signal, options, TimeProvider.System, NullLogger<Dispatcher>.Instance);
    }

    public DeliveryOptions Options { get; } = new();
    public DispatchSignal Signal { get; } = new();
    public PostgresDatabase Database { get; }
    public PostgresEventStore Store { get; }
    public PostgresDeliveryQueue Queue { get; }
    public Dispatcher Dispatcher { get; }

    public async ValueTask DisposeAsync()
    {
        await Dispatcher.StopAsync(CancellationToken.None);
        Dispatcher.Dispose();
        await Store.DisposeAsync();
        await Database.DisposeAsync();
    }
}

/// <summary>The shared fake partner, counting every call by message id (one delivery per event here) into one dictionary
/// shared by the replicas.</summary>
public static class CountingPartner
{
    public static FakeDestination Create(string id, ConcurrentDictionary<string, int> calls) => new(id)
    {
        Mapping = (e, _) => MappingResult.Send(PartnerRequest.Post("event", "/v1/event/" + e.MessageId, new JsonObject { ["event"] = e.Event })),
        OnSend = request => calls.AddOrUpdate(request.Path, 1, (_, n) => n + 1),
    };

    /// <summary>How many requests this replica's partner sent.</summary>
    public static int Sent(this FakeDestination partner) { lock (partner.SentSteps) return partner.SentSteps.Count; }
}
