using System.Collections.Concurrent;
using Destinations.Storage;

namespace Destinations.Host.Tests.Support;

/// <summary>In-memory IEventStore test double: records what the ingress stores; dedupes on (source, messageId) like D5.</summary>
public sealed class RecordingEventStore : IEventStore
{
    readonly ConcurrentDictionary<(string, string), IncomingEvent> _byKey = new();
    readonly ConcurrentQueue<IncomingEvent> _stored = new();

    public bool Unavailable { get; set; }

    /// <summary>Makes AcceptAsync wait this long (honouring the request's cancellation), to let a client give up mid-request.</summary>
    public TimeSpan AcceptDelay { get; set; }
    public bool Ready { get; set; } = true;
    public IReadOnlyList<IncomingEvent> Stored => _stored.ToList();

    public IncomingEvent Find(string messageId) => Assert.Single(Stored, e => e.Event.MessageId == messageId);

    public async Task<IReadOnlyList<AcceptStatus>> AcceptAsync(IReadOnlyList<IncomingEvent> events, CancellationToken ct)
    {
        if (AcceptDelay > TimeSpan.Zero) await Task.Delay(AcceptDelay, ct);
        if (Unavailable) throw new StoreUnavailableException("test: store down");
        var statuses = new List<AcceptStatus>();
        foreach (var e in events)
        {
            if (_byKey.TryAdd((e.SourceId, e.Event.MessageId), e)) { _stored.Enqueue(e); statuses.Add(AcceptStatus.Stored); }
            else statuses.Add(AcceptStatus.Duplicate);
        }
        return statuses;
    }

    public Task<bool> IsReadyAsync(CancellationToken ct) => Task.FromResult(Ready);
}
