using Destinations.Core.Delivery;
using Destinations.Delivery;
using Microsoft.Extensions.Logging.Abstractions;

namespace Destinations.Delivery.Tests;

/// <summary>A real store, a registry of fake partners and the sender, driven by a fake clock and fixed jitter.</summary>
public sealed class DispatchHarness : IAsyncDisposable
{
    public DispatchHarness(StoreProvider provider, double jitter = 0.5, Action<DeliveryOptions>? configure = null, params IDestination[] destinations)
    {
        Store = TestStore.Create(provider);
        configure?.Invoke(Options);
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        Registry = new DestinationRegistry([], destinations.Select(d => (d, (IReadOnlyList<string>?)null)).ToList(), []);
        Limiter = new DestinationRateLimiter(options, Registry, Store.Clock);
        Sender = new DeliverySender(Store.Queue, Registry, options,
            new RetryJitter(() => jitter), Store.Clock, NullLogger<DeliverySender>.Instance, limiter: Limiter);
    }

    public DestinationRateLimiter Limiter { get; }
    public DeliverySender Sender { get; }

    /// <summary>One dispatcher pass as the Dispatcher makes it: claim (skipping throttled instances, D25; ordered per
    /// Options.OrderedDestinations, D16), then send the claimed set.</summary>
    public async Task<List<DeliveryOutcome>> RunPassAsync(int max = 100)
    {
        var claimed = await Store.Queue.ClaimAsync(new ClaimRequest("test-worker", max, Options.Lease)
        {
            Skip = Limiter.Throttled(),
            Ordered = Options.OrderedDestinations.ToHashSet(),
            Destinations = Registry.Destinations.Select(d => d.Id).ToArray(), // as the Dispatcher passes them (per-instance claim)
        }, CancellationToken.None);
        return await Sender.SendAsync(claimed, CancellationToken.None);
    }

    public TestStore Store { get; }
    public DeliveryOptions Options { get; } = new();
    public DestinationRegistry Registry { get; }
    public DateTimeOffset Now => Store.Clock.GetUtcNow();

    /// <summary>Claims everything due now and sends each row on its own (a set of one), in claim order.</summary>
    public async Task<List<DeliveryOutcome>> RunDueAsync()
    {
        var outcomes = new List<DeliveryOutcome>();
        foreach (var d in await Store.Queue.ClaimAsync("test-worker", 100, Options.Lease, CancellationToken.None))
            outcomes.Add(await SendOneAsync(d));
        return outcomes;
    }

    /// <summary>Sends one claimed row as a set of one.</summary>
    public async Task<DeliveryOutcome> SendOneAsync(ClaimedDelivery d) =>
        Assert.Single(await Sender.SendAsync([d], CancellationToken.None));

    /// <summary>Moves the clock to the row's next attempt and runs that attempt.</summary>
    /// <remarks>A delivery not attempted yet may have no row (SQLite's log): it is due now.</remarks>
    public async Task<List<DeliveryOutcome>> RunNextAttemptAsync(long id = 1)
    {
        var rows = await Store.QueryAsync<DeliveryRow>("SELECT * FROM deliveries WHERE id = @id", new { id });
        var next = rows.Count == 1 ? DateTimeOffset.FromUnixTimeMilliseconds(rows[0].next_attempt_at) : Now;
        if (next > Now) Store.Clock.SetUtcNow(next);
        return await RunDueAsync();
    }

    /// <summary>The delivery of <paramref name="messageId"/> as the event's story tells it (both providers).</summary>
    public Task<DeliveryStory> StoryAsync(string messageId, string? destination = null) => Store.StoryAsync(messageId, destination);

    public async Task<DeliveryRow> RowAsync(long id = 1) =>
        (await Store.QueryAsync<DeliveryRow>("SELECT * FROM deliveries WHERE id = @id", new { id })).Single();

    public ValueTask DisposeAsync() => Store.DisposeAsync();
}

#pragma warning disable IDE1006 // column names as stored
public sealed class DeliveryRow
{
    public long id { get; set; }
    public string status { get; set; } = "";
    public long attempts { get; set; }
    public long next_attempt_at { get; set; }
    public string? lease_owner { get; set; }
    public long? first_attempt_at { get; set; }
    public string? plan { get; set; }
    public long steps_done { get; set; }
    public string? reason { get; set; }
    public long? last_status { get; set; }
    public string? last_error { get; set; }
    public string? last_response { get; set; }
    public string? last_request { get; set; }
    public string? error_class { get; set; }
    public long held_ms { get; set; }
    public long created_at { get; set; }
    public long replays { get; set; }
}
#pragma warning restore IDE1006
