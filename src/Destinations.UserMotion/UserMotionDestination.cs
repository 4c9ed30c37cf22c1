using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Destinations.Core.Segment;

namespace Destinations.UserMotion;

/// <summary>
/// One configured UserMotion instance: an Actions destination, so one subscription per matching mapping, keyed by the
/// mapping's name (D7). Each match is its own delivery with its own retries and status.
/// </summary>
public sealed class UserMotionDestination : IDestination, IConnectionTest, IDescribedSettings
{
    readonly Dictionary<string, ActionMapping> _byName;
    readonly Func<UserMotionClient> _client;

    public UserMotionDestination(string id, UserMotionSettings settings, IReadOnlyList<ActionMapping> mappings, string? mappingsFile,
        Func<UserMotionClient> client)
    {
        Id = id;
        Settings = settings;
        Mappings = mappings;
        MappingsFile = mappingsFile;
        _byName = mappings.ToDictionary(m => m.Name, StringComparer.Ordinal);
        _client = client;
    }

    public string Id { get; }
    public string IntegrationName => UserMotionApi.IntegrationName;
    public UserMotionSettings Settings { get; }
    public IReadOnlyList<ActionMapping> Mappings { get; }
    /// <summary>Where the mappings came from; null = the presets.</summary>
    public string? MappingsFile { get; }

    /// <summary>Router-time (D8, D20): every mapping whose trigger matches; none → filtered as no_trigger_matched (alias, screen with presets).</summary>
    public SubscriptionMatch Subscribe(SegmentEvent e)
    {
        if (e.Type == CallTypes.Delete) return SubscriptionMatch.None(FilterReason.DeleteNotSupported, IntegrationName); // D4
        var matched = Mappings.Where(m => m.Trigger.Matches(e)).Select(m => m.Name).ToArray();
        return matched.Length > 0 ? SubscriptionMatch.Of(matched) : SubscriptionMatch.None(FilterReason.NoTriggerMatched);
    }

    /// <summary>
    /// Maps with the named mapping as configured now (D8). A mapping removed since routing is not an error in the event:
    /// the delivery is filtered.
    /// </summary>
    public MappingResult Map(SegmentEvent e, string subscription) =>
        _byName.TryGetValue(subscription, out var mapping)
            ? UserMotionRequests.Map(e, mapping)
            : MappingResult.Filtered(FilterReason.MappingNotConfigured, subscription);

    public Task<AttemptResult> SendAsync(PartnerRequest request, CancellationToken ct) => _client().SendAsync(request, Settings, ct);

    public Task<AttemptResult> VerifyAsync(CancellationToken ct) => _client().VerifyAsync(Settings, ct);

    public async Task<ConnectionCheck> TestConnectionAsync(CancellationToken ct) =>
        new([ConnectionCheckStep.From("credentials (POST /v1/verify)", await VerifyAsync(ct).ConfigureAwait(false))]);

    public IReadOnlyDictionary<string, string?> MaskedSettings => new Dictionary<string, string?>
    {
        ["ApiKey"] = SecretMasker.Mask(Settings.ApiKey),
        ["BaseUrl"] = Settings.BaseUrl.ToString(),
        ["MappingsFile"] = MappingsFile,
        ["Mappings"] = string.Join(", ", Mappings.Select(m => $"{m.Name} ({m.Action.Key})")),
    };

    public Uri Describe(PartnerRequest request) => Settings.UrlFor(request.Path);

    public override string ToString() => $"UserMotion '{Id}' → {Settings.BaseUrl} ({Mappings.Count} mappings)";
}
