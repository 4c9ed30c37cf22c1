using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Testing;

/// <summary>A test double of a partner (not of the database): scripted mapping and answers, every call recorded.</summary>
public sealed class FakeDestination(string id) : IDestination
{
    readonly Queue<AttemptResult> _answers = new();

    public string Id { get; } = id;
    public string IntegrationName => Integration;
    public string Integration { get; init; } = "Fake";
    public Func<SegmentEvent, string, MappingResult> Mapping { get; set; } =
        (e, _) => MappingResult.Send(PartnerRequest.Post("event", "/v1/event", new JsonObject { ["event_uid"] = e.Event }));
    /// <summary>Runs before each send answers (e.g. to hang until cancelled, like a slow partner).</summary>
    public Func<CancellationToken, Task>? BeforeAnswer { get; set; }
    public int MapCalls { get; private set; }
    public List<string> SentSteps { get; } = [];

    public static AttemptResult Ok => new(AttemptOutcome.Succeeded, 200, null, null, null);
    public static AttemptResult Status(int status, string? excerpt = null, TimeSpan? retryAfter = null) =>
        new(ResponseClassifier.Classify(status), status, excerpt, retryAfter, $"HTTP {status}");

    /// <summary>Answers for the next sends, in order; once used up every send succeeds.</summary>
    public FakeDestination Answer(params AttemptResult[] answers)
    {
        foreach (var a in answers) _answers.Enqueue(a);
        return this;
    }

    public SubscriptionMatch Subscribe(SegmentEvent e) => SubscriptionMatch.Of(e.Type);

    public MappingResult Map(SegmentEvent e, string subscription)
    {
        MapCalls++;
        return Mapping(e, subscription);
    }

    public async Task<AttemptResult> SendAsync(PartnerRequest request, CancellationToken ct)
    {
        lock (SentSteps) SentSteps.Add(request.Step);
        if (BeforeAnswer is { } before) await before(ct);
        return _answers.Count > 0 ? _answers.Dequeue() : Ok;
    }

    public Uri Describe(PartnerRequest request) => new("https://partner.example" + request.Path);
}

/// <summary>A destination type as a partner declares it (type name, Integrations name, default rate limit), building fakes.</summary>
public sealed class FakeDestinationFactory(string type, PartnerRateLimit? defaultRateLimit = null, string integrationName = "Fake") : IDestinationFactory
{
    public string Type { get; } = type;
    public string IntegrationName { get; } = integrationName;
    public PartnerRateLimit? DefaultRateLimit { get; } = defaultRateLimit;

    public DestinationBuildResult Create(string id, Microsoft.Extensions.Configuration.IConfigurationSection instanceSection, string keyPath) =>
        DestinationBuildResult.Ok(new FakeDestination(id) { Integration = IntegrationName });
}
