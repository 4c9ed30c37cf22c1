using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Salesmachine;

/// <summary>
/// One configured Salesmachine instance: a classic destination, so one fixed subscription per accepted call type (D7).
/// </summary>
public sealed class SalesmachineDestination(string id, SalesmachineSettings settings, Func<SalesmachineClient> client) : IBatchingDestination, IConnectionTest, IDescribedSettings
{
    /// <summary>What the seed's "Destination Info" lists as accepted; screen is not among them.</summary>
    static readonly HashSet<string> Accepted =
        new(StringComparer.Ordinal) { CallTypes.Identify, CallTypes.Track, CallTypes.Page, CallTypes.Group, CallTypes.Alias };

    public string Id { get; } = id;
    public string IntegrationName => SalesmachineApi.IntegrationName;
    public SalesmachineSettings Settings { get; } = settings;

    /// <summary>Router-time decision (D8): a call type that is not accepted is counted, not stored as a delivery.</summary>
    public SubscriptionMatch Subscribe(SegmentEvent e) => e.Type switch
    {
        _ when Accepted.Contains(e.Type) => SubscriptionMatch.Of(e.Type),
        CallTypes.Delete => SubscriptionMatch.None(FilterReason.DeleteNotSupported, IntegrationName), // D4
        _ => SubscriptionMatch.None(FilterReason.CallTypeNotAccepted, CallTypes.Describe(e.Type)),
    };

    public MappingResult Map(SegmentEvent e, string subscription) =>
        subscription == e.Type && Accepted.Contains(subscription)
            ? SalesmachineMapper.Map(e, Settings)
            : MappingResult.Invalid($"subscription '{subscription}' does not match a {e.Type} event for Salesmachine");

    public Task<AttemptResult> SendAsync(PartnerRequest request, CancellationToken ct) => client().SendAsync(request, Settings, ct);

    /// <summary>Contact, account and event requests may share one <c>/v1/batch</c> call (D15); alias goes alone.</summary>
    public string? BatchKey(PartnerRequest request) => SalesmachineBatch.MethodOf(request) is null ? null : SalesmachineBatch.Key;

    public int MaxBatchSize => SalesmachineApi.MaxBatchItems;

    public Task<IReadOnlyList<AttemptResult>> SendBatchAsync(IReadOnlyList<PartnerRequest> requests, CancellationToken ct) =>
        SalesmachineBatch.SendAsync(requests, r => client().SendAsync(r, Settings, ct));

    /// <summary>Credential check: <c>GET /v1/ping</c> with the Basic auth header (D15).</summary>
    public Task<AttemptResult> PingAsync(CancellationToken ct) => client().PingAsync(Settings, ct);

    public async Task<ConnectionCheck> TestConnectionAsync(CancellationToken ct) =>
        new([ConnectionCheckStep.From("credentials (GET /v1/ping)", await PingAsync(ct).ConfigureAwait(false))]);

    public IReadOnlyDictionary<string, string?> MaskedSettings => new Dictionary<string, string?>
    {
        ["ApiToken"] = SecretMasker.Mask(Settings.ApiToken),
        ["ApiSecret"] = SecretMasker.Mask(Settings.ApiSecret),
        ["BaseUrl"] = Settings.BaseUrl.ToString(),
        ["AliasPath"] = Settings.AliasPath,
    };

    public Uri Describe(PartnerRequest request) => Settings.UrlFor(request.Path);

    /// <summary>A shared call goes to <c>/v1/batch</c> (D15), not to its items' endpoints.</summary>
    public Uri DescribeBatch(IReadOnlyList<PartnerRequest> requests) => Settings.UrlFor(SalesmachineApi.BatchPath);

    public override string ToString() => $"Salesmachine '{Id}' → {Settings.BaseUrl}";
}
