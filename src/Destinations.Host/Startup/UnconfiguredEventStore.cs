using Destinations.Storage;

namespace Destinations.Host.Startup;

/// <summary>
/// Placeholder until the SQLite store is wired in (Program.cs, one line): nothing can be stored, so every ingress request is
/// answered 503 with Retry-After and /health/ready is 503 — never a silent acknowledgement of an event that was not kept.
/// </summary>
public sealed class UnconfiguredEventStore : IEventStore
{
    public Task<IReadOnlyList<AcceptStatus>> AcceptAsync(IReadOnlyList<IncomingEvent> events, CancellationToken ct) =>
        throw new StoreUnavailableException("no event store is configured");

    public Task<bool> IsReadyAsync(CancellationToken ct) => Task.FromResult(false);
}
