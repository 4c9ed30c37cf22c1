using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;
using static Destinations.Selligent.SelligentApi;

namespace Destinations.Selligent;

/// <summary>
/// One configured SMC instance: a classic destination, one subscription per call type (D7). Setting-gated call types are
/// accepted here and filtered by the mapper with a reason (D8); event rows of one list batch into one <c>data/load</c> (D19).
/// </summary>
public sealed class SelligentDestination(string id, SelligentSettings settings, int maxBatchSize, Func<SelligentClient> client)
    : IBatchingDestination, IConnectionTest, IDescribedSettings
{
    /// <summary>The seed's accepted calls, plus screen (documented by the seed, behind its flag: docs/partners/selligent.md "Mapping").</summary>
    static readonly HashSet<string> Accepted = new(StringComparer.Ordinal)
        { CallTypes.Identify, CallTypes.Track, CallTypes.Page, CallTypes.Screen, CallTypes.Group, CallTypes.Alias };

    public string Id { get; } = id;
    public string IntegrationName => SelligentApi.IntegrationName;
    public SelligentSettings Settings { get; } = settings;
    public int MaxBatchSize { get; } = maxBatchSize;

    /// <summary>Router-time decision (D8): only call types never accepted; settings are the mapper's business.</summary>
    public SubscriptionMatch Subscribe(SegmentEvent e) => e.Type switch
    {
        _ when Accepted.Contains(e.Type) => SubscriptionMatch.Of(e.Type),
        CallTypes.Delete => SubscriptionMatch.None(FilterReason.DeleteNotSupported, IntegrationName), // D4
        _ => SubscriptionMatch.None(FilterReason.CallTypeNotAccepted, CallTypes.Describe(e.Type)),
    };

    public MappingResult Map(SegmentEvent e, string subscription) =>
        subscription == e.Type && Accepted.Contains(subscription)
            ? SelligentMapper.Map(e, Settings)
            : MappingResult.Invalid($"subscription '{subscription}' does not match a {e.Type} event for Selligent Marketing Cloud");

    /// <summary>Event rows of one list share a load; segment operations go alone.</summary>
    public string? BatchKey(PartnerRequest request) =>
        request.Step == Steps.EventRow && request.Body is JsonObject ? request.Path : null;

    public async Task<AttemptResult> SendAsync(PartnerRequest request, CancellationToken ct) => request.Step switch
    {
        Steps.EventRow when request.Body is JsonObject row =>
            (await client().LoadRowsAsync(request.Path, [row], Settings, ct).ConfigureAwait(false))[0],
        Steps.SegmentAdd or Steps.SegmentRemove => await client().SegmentAsync(request, Settings, ct).ConfigureAwait(false),
        _ => new AttemptResult(AttemptOutcome.Final, null, null, null,
            $"step '{request.Step}' is not a Selligent Marketing Cloud request this version can send"),
    };

    /// <summary>
    /// Groups by <see cref="BatchKey"/> (the dispatcher sends one key, but a mixed list still works), loads each group in
    /// chunks of <see cref="MaxBatchSize"/>, and returns one result per request in input order (D11).
    /// </summary>
    public async Task<IReadOnlyList<AttemptResult>> SendBatchAsync(IReadOnlyList<PartnerRequest> requests, CancellationToken ct)
    {
        var results = new AttemptResult[requests.Count];
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < requests.Count; i++)
        {
            if (BatchKey(requests[i]) is { } key)
            {
                if (!groups.TryGetValue(key, out var list)) groups[key] = list = [];
                list.Add(i);
            }
            else results[i] = await SendAsync(requests[i], ct).ConfigureAwait(false);
        }
        foreach (var (path, indices) in groups)
            foreach (var chunk in indices.Chunk(MaxBatchSize))
            {
                var rows = chunk.Select(i => (JsonObject)requests[i].Body!).ToArray();
                var loaded = await client().LoadRowsAsync(path, rows, Settings, ct).ConfigureAwait(false);
                for (var j = 0; j < chunk.Length; j++) results[chunk[j]] = loaded[j];
            }
        return results;
    }

    public Task<ConnectionCheck> TestConnectionAsync(CancellationToken ct) => SelligentConnectionTest.RunAsync(client(), Settings, ct);

    public IReadOnlyDictionary<string, string?> MaskedSettings
    {
        get
        {
            var masked = new Dictionary<string, string?>
            {
                ["ApiKey"] = SecretMasker.Mask(Settings.ApiKey),
                ["ApiSecret"] = SecretMasker.Mask(Settings.ApiSecret),
                ["SmcAdminUrl"] = Settings.SmcAdminUrl.ToString(),
                ["Organization"] = Settings.Organization,
                ["AllowedEvents"] = string.Join(", ", Settings.AllowedEvents.Order(StringComparer.Ordinal)),
                ["EventsDataListApiName"] = Settings.EventsDataListApiName,
                ["SendAliasEvents"] = Settings.SendAliasEvents ? "true" : "false",
                ["SendGroupEvents"] = Settings.SendGroupEvents ? "true" : "false",
                ["SendPageEvents"] = Settings.SendPageEvents ? "true" : "false",
                ["SendScreenEvents"] = Settings.SendScreenEvents ? "true" : "false",
                ["GroupSegments"] = string.Join(", ", Settings.GroupSegments.Select(g => $"{g.UserList}/{g.Segment}")),
            };
            foreach (var (key, name) in Settings.Columns.All) masked[$"Columns:{key}"] = name;
            return masked;
        }
    }

    public Uri Describe(PartnerRequest request) => Settings.UrlFor(request.Path);

    public override string ToString() => $"Selligent Marketing Cloud '{Id}' → {Settings.SmcAdminUrl}";
}
