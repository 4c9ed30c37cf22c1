using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Destinations.Core.Segment;

namespace Destinations.Webhook;

/// <summary>
/// One configured Webhook instance: an Actions destination with Segment's one <c>send</c> action, so one subscription per
/// matching mapping, keyed by the mapping's name (D7). A batched mapping's deliveries share partner calls by their batch key,
/// which holds the mapping's name, as Segment batches each subscription on its own; a non-auth 4xx on a batch is resent item
/// by item to find the bad ones (as D15).
/// </summary>
public sealed class WebhookDestination : IBatchingDestination, IConnectionTest, IDescribedSettings
{
    readonly Dictionary<string, ActionMapping> _byName;
    readonly Func<WebhookClient> _client;

    public WebhookDestination(string id, WebhookSettings settings, IReadOnlyList<ActionMapping> mappings, string mappingsFile,
        WebhookSecretUse secretUse, int maxBatchSize, Func<WebhookClient> client)
    {
        Id = id;
        Settings = settings;
        Mappings = mappings;
        MappingsFile = mappingsFile;
        SecretUse = secretUse;
        MaxBatchSize = maxBatchSize;
        _byName = mappings.ToDictionary(m => m.Name, StringComparer.Ordinal);
        _client = client;
    }

    public string Id { get; }
    public string IntegrationName => WebhookApi.IntegrationName;
    public WebhookSettings Settings { get; }
    public IReadOnlyList<ActionMapping> Mappings { get; }
    public string MappingsFile { get; }
    public WebhookSecretUse SecretUse { get; }

    /// <summary>The largest <c>batch_size</c> the mappings ask for (4,000 when one is mapped from the event); 1 when none batches.</summary>
    public int MaxBatchSize { get; }

    /// <summary>Router-time (D8): every mapping whose trigger matches; none → filtered as no_trigger_matched.</summary>
    public SubscriptionMatch Subscribe(SegmentEvent e)
    {
        if (e.Type == CallTypes.Delete) return SubscriptionMatch.None(FilterReason.DeleteNotSupported, IntegrationName); // D4
        var matched = Mappings.Where(m => m.Trigger.Matches(e)).Select(m => m.Name).ToArray();
        return matched.Length > 0 ? SubscriptionMatch.Of(matched) : SubscriptionMatch.None(FilterReason.NoTriggerMatched);
    }

    /// <summary>Maps with the named mapping as configured now (D8); a mapping removed since routing filters the delivery.</summary>
    public MappingResult Map(SegmentEvent e, string subscription) =>
        _byName.TryGetValue(subscription, out var mapping)
            ? WebhookRequests.Map(e, mapping, Settings)
            : MappingResult.Filtered(FilterReason.MappingNotConfigured, subscription);

    /// <summary>A batched request sent alone is a batch of one: its body is still an array, as Segment sends it.</summary>
    public Task<AttemptResult> SendAsync(PartnerRequest request, CancellationToken ct) =>
        _client().SendAsync([request], WebhookRequests.IsBatched(request), Settings, SecretUse, ct);

    public string? BatchKey(PartnerRequest request) => WebhookRequests.IsBatched(request) ? request.Step : null;

    public async Task<IReadOnlyList<AttemptResult>> SendBatchAsync(IReadOnlyList<PartnerRequest> requests, CancellationToken ct)
    {
        var results = new List<AttemptResult>(requests.Count);
        if (requests.Count == 0) return results;
        var size = Math.Max(1, WebhookRequests.BatchSize(requests[0]));
        foreach (var chunk in requests.Chunk(size))
        {
            var batch = await _client().SendAsync(chunk, true, Settings, SecretUse, ct).ConfigureAwait(false);
            if (batch.Outcome != AttemptOutcome.Final || chunk.Length == 1 || batch.StatusCode is not { } status || status is < 400 or >= 500)
            {
                results.AddRange(chunk.Select(_ => batch));
                continue;
            }
            // As D15: a non-auth 4xx says something in the batch is bad, not which item: resend them one by one.
            foreach (var r in chunk) results.Add(await _client().SendAsync([r], true, Settings, SecretUse, ct).ConfigureAwait(false));
        }
        return results;
    }

    public async Task<ConnectionCheck> TestConnectionAsync(CancellationToken ct)
    {
        if (Settings.TestConnection is not { } test)
            return new([new ConnectionCheckStep("none configured", true, null,
                "a Webhook has no credential check of its own; set Settings.TestConnection (Method, Url) to add one")]);
        var name = $"test request ({test.Method} {new Uri(test.Url).GetLeftPart(UriPartial.Authority)})";
        return new([ConnectionCheckStep.From(name, await _client().TestAsync(test, Settings, ct).ConfigureAwait(false))]);
    }

    public IReadOnlyDictionary<string, string?> MaskedSettings => new Dictionary<string, string?>
    {
        ["SharedSecret"] = SecretMasker.Mask(Settings.SharedSecret),
        ["AllowedHosts"] = string.Join(", ", Settings.AllowedHosts.Entries),
        ["AllowPrivateNetworks"] = Settings.AllowPrivateNetworks ? "true" : "false",
        ["AllowHttp"] = Settings.AllowHttp ? "true" : "false",
        ["Secrets"] = string.Join(", ", Settings.Secrets.Keys.Select(k => $"{k}={SecretMasker.Mask(Settings.Secrets[k])}")),
        ["TestConnection"] = Settings.TestConnection is { } t ? $"{t.Method} {t.Url}" : null,
        ["MappingsFile"] = MappingsFile,
        ["Mappings"] = string.Join(", ", Mappings.Select(m => $"{m.Name} ({m.Action.Key})")),
    };

    /// <summary>The URL as planned: a secret in it is still its placeholder (D29).</summary>
    public Uri Describe(PartnerRequest request) => new(request.Path);

    public override string ToString() => $"Webhook '{Id}' → {string.Join(", ", Settings.AllowedHosts.Entries)} ({Mappings.Count} mappings)";
}
