using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Testing;

/// <summary>
/// The one test double of a partner (not of the database) for every test project: scripted mapping and answers, every call
/// recorded. With <see cref="MaxBatchSize"/> above 1 it takes batches (steps other than <see cref="AloneStep"/> share calls);
/// with <see cref="CallTypes"/> it accepts only those call types at the router.
/// </summary>
public sealed class FakeDestination(string id) : IBatchingDestination
{
    /// <summary>A destination the router sends only <paramref name="callTypes"/> to, named <paramref name="integrationName"/>
    /// in the Integrations object.</summary>
    public FakeDestination(string id, string integrationName, params string[] callTypes) : this(id)
    {
        Integration = integrationName;
        CallTypes = callTypes;
    }

    readonly Queue<AttemptResult> _answers = new();
    readonly Queue<Func<IReadOnlyList<PartnerRequest>, IReadOnlyList<AttemptResult>>> _batchAnswers = new();

    public string Id { get; } = id;
    public string IntegrationName => Integration;
    public string Integration { get; init; } = "Fake";
    /// <summary>The call types the router sends here (null: every one).</summary>
    public IReadOnlyList<string>? CallTypes { get; init; }
    public Func<SegmentEvent, string, MappingResult> Mapping { get; set; } =
        (e, _) => MappingResult.Send(PartnerRequest.Post("event", "/v1/event", new JsonObject { ["event_uid"] = e.Event }));
    /// <summary>Sees every request sent one by one, as it is sent (e.g. to count calls shared by several replicas).</summary>
    public Action<PartnerRequest>? OnSend { get; set; }
    /// <summary>Runs before each send answers (e.g. to hang until cancelled, like a slow partner).</summary>
    public Func<CancellationToken, Task>? BeforeAnswer { get; set; }
    public int MapCalls { get; private set; }
    /// <summary>Steps sent one by one (<see cref="SendAsync"/>).</summary>
    public List<string> SentSteps { get; } = [];

    /// <summary>Most requests in one call; 1 (the default) never shares a call.</summary>
    public int MaxBatchSize { get; init; } = 1;
    /// <summary>The size of every shared call (<see cref="SendBatchAsync"/>).</summary>
    public List<int> BatchSizes { get; } = [];
    /// <summary>Requests with this step never share a call (like Salesmachine's alias).</summary>
    public string AloneStep { get; set; } = "alone";

    public static AttemptResult Ok => new(AttemptOutcome.Succeeded, 200, null, null, null);
    public static AttemptResult Status(int status, string? excerpt = null, TimeSpan? retryAfter = null) =>
        new(ResponseClassifier.Classify(status), status, excerpt, retryAfter, $"HTTP {status}");

    /// <summary>Answers for the next sends, in order; once used up every send succeeds.</summary>
    public FakeDestination Answer(params AttemptResult[] answers)
    {
        foreach (var a in answers) _answers.Enqueue(a);
        return this;
    }

    /// <summary>Answers for the next shared calls, in order; once used up every item succeeds.</summary>
    public FakeDestination AnswerBatch(Func<IReadOnlyList<PartnerRequest>, IReadOnlyList<AttemptResult>> answer)
    {
        _batchAnswers.Enqueue(answer);
        return this;
    }

    public SubscriptionMatch Subscribe(SegmentEvent e) =>
        CallTypes is null || CallTypes.Contains(e.Type) ? SubscriptionMatch.Of(e.Type) : SubscriptionMatch.None(FilterReason.CallTypeNotAccepted, e.Type);

    public MappingResult Map(SegmentEvent e, string subscription)
    {
        MapCalls++;
        return Mapping(e, subscription);
    }

    public async Task<AttemptResult> SendAsync(PartnerRequest request, CancellationToken ct)
    {
        lock (SentSteps) SentSteps.Add(request.Step);
        OnSend?.Invoke(request);
        if (BeforeAnswer is { } before) await before(ct);
        return _answers.Count > 0 ? _answers.Dequeue() : Ok;
    }

    public string? BatchKey(PartnerRequest request) => request.Step == AloneStep ? null : "batch";

    public Task<IReadOnlyList<AttemptResult>> SendBatchAsync(IReadOnlyList<PartnerRequest> requests, CancellationToken ct)
    {
        lock (BatchSizes) BatchSizes.Add(requests.Count);
        return Task.FromResult(_batchAnswers.Count > 0 ? _batchAnswers.Dequeue()(requests) : requests.Select(_ => Ok).ToList());
    }

    public Uri Describe(PartnerRequest request) => new("https://partner.example" + request.Path);
}

/// <summary>
/// A destination type as a partner declares it (type name, Integrations name, default rate limit), building fakes from
/// configuration like a partner's factory: <c>Settings:Fail = true</c> makes the instance's settings invalid (a start-up
/// error naming the key); <paramref name="configure"/> scripts every instance it builds.
/// </summary>
public sealed class FakeDestinationFactory(string type, PartnerRateLimit? defaultRateLimit = null, string integrationName = "Fake",
    Action<FakeDestination>? configure = null) : IDestinationFactory
{
    public string Type { get; } = type;
    public string IntegrationName { get; } = integrationName;
    public PartnerRateLimit? DefaultRateLimit { get; } = defaultRateLimit;

    public DestinationBuildResult Create(string id, Microsoft.Extensions.Configuration.IConfigurationSection instanceSection, string keyPath)
    {
        if (instanceSection["Settings:Fail"] == "true")
            return DestinationBuildResult.Failed([$"{keyPath}.Settings.Fail: the fake destination was told to fail"]);
        var destination = new FakeDestination(id) { Integration = IntegrationName };
        configure?.Invoke(destination);
        return DestinationBuildResult.Ok(destination);
    }
}
