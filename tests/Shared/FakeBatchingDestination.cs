using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Testing;

/// <summary>A partner test double that takes batches: every batch call recorded, answers scripted per call.</summary>
public sealed class FakeBatchingDestination(string id, int maxBatchSize = 3) : IBatchingDestination
{
    readonly FakeDestination _single = new(id);
    readonly Queue<Func<IReadOnlyList<PartnerRequest>, IReadOnlyList<AttemptResult>>> _batchAnswers = new();

    public string Id => _single.Id;
    public string IntegrationName => "FakeBatch";
    public int MaxBatchSize { get; } = maxBatchSize;
    public FakeDestination Single => _single;
    public List<int> BatchSizes { get; } = [];

    /// <summary>Requests with this step never batch (like Salesmachine's alias).</summary>
    public string AloneStep { get; set; } = "alone";

    public FakeBatchingDestination AnswerBatch(Func<IReadOnlyList<PartnerRequest>, IReadOnlyList<AttemptResult>> answer)
    {
        _batchAnswers.Enqueue(answer);
        return this;
    }

    public string? BatchKey(PartnerRequest request) => request.Step == AloneStep ? null : "batch";

    public Task<IReadOnlyList<AttemptResult>> SendBatchAsync(IReadOnlyList<PartnerRequest> requests, CancellationToken ct)
    {
        lock (BatchSizes) BatchSizes.Add(requests.Count);
        return Task.FromResult(_batchAnswers.Count > 0 ? _batchAnswers.Dequeue()(requests) : requests.Select(_ => FakeDestination.Ok).ToList());
    }

    public SubscriptionMatch Subscribe(SegmentEvent e) => _single.Subscribe(e);
    public MappingResult Map(SegmentEvent e, string subscription) => _single.Map(e, subscription);
    public Task<AttemptResult> SendAsync(PartnerRequest request, CancellationToken ct) => _single.SendAsync(request, ct);
    public Uri Describe(PartnerRequest request) => _single.Describe(request);
}
