using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Destinations.Webhook;

/// <summary>
/// Builds Webhook instances from <c>Destinations</c> entries with <c>Type: Webhook</c>: <c>Settings</c> plus the required
/// <c>MappingsFile</c> (the same format as UserMotion's, D20, with the one action <c>send</c>). What can be checked at start is:
/// literal URLs against AllowedHosts and the scheme rule, literal methods and batch sizes, every <c>{{secrets.NAME}}</c> defined.
/// </summary>
public sealed class WebhookDestinationFactory(IServiceProvider services) : IDestinationFactory
{
    public string Type => WebhookApi.Type;
    public string IntegrationName => WebhookApi.IntegrationName;

    /// <summary>A webhook's partner is unknown: no limit unless configured (<c>Delivery:RateLimits:{id}</c>, D25).</summary>
    public PartnerRateLimit? DefaultRateLimit => null;

    public DestinationBuildResult Create(string id, IConfigurationSection instanceSection, string keyPath)
    {
        var read = WebhookSettingsReader.Read(instanceSection.GetSection("Settings"), keyPath);
        var errors = new List<string>(read.Errors);
        var at = $"{keyPath}.MappingsFile";

        IReadOnlyList<ActionMapping> mappings = [];
        var file = instanceSection["MappingsFile"];
        if (string.IsNullOrWhiteSpace(file)) errors.Add($"{at}: is required: a Webhook sends what its mappings describe (docs/partners/webhook.md)");
        else
        {
            var root = services.GetService<IHostEnvironment>()?.ContentRootPath ?? Directory.GetCurrentDirectory();
            var loaded = ActionMappingsFile.Load(file, root, at, WebhookActions.ByKey, WebhookApi.MaxMappings);
            errors.AddRange(loaded.Errors);
            if (loaded.Mappings is { } m) mappings = m;
        }

        var urlSecrets = new HashSet<string>(StringComparer.Ordinal);
        var headerSecrets = new HashSet<string>(StringComparer.Ordinal);
        var prepared = new List<ActionMapping>();
        var maxBatch = 1;
        foreach (var mapping in mappings)
        {
            var prefix = $"{at}: mapping '{mapping.Name}'";
            var (ready, problems, batch) = Prepare(mapping, read.Settings, urlSecrets, headerSecrets);
            errors.AddRange(problems.Select(p => $"{prefix}: {p}"));
            prepared.Add(ready);
            maxBatch = Math.Max(maxBatch, batch);
        }

        if (errors.Count > 0 || read.Settings is null) return new DestinationBuildResult(null, errors, read.Warnings);
        var warnings = new List<string>(read.Warnings);
        if (prepared.Count == 0) warnings.Add($"{at}: holds no mappings: this instance sends nothing");
        var destination = new WebhookDestination(id, read.Settings, prepared, file!, new WebhookSecretUse(urlSecrets, headerSecrets), maxBatch,
            () => services.GetRequiredService<WebhookClient>());
        return DestinationBuildResult.Ok(destination, [.. warnings]);
    }

    /// <summary>
    /// Swaps the secret placeholders of url and headers for the template-proof marker (D29) and checks what is literal.
    /// Returns the mapping to run, its problems, and the largest batch it may ask for.
    /// </summary>
    static (ActionMapping Mapping, List<string> Problems, int MaxBatch) Prepare(ActionMapping mapping, WebhookSettings? settings,
        HashSet<string> urlSecrets, HashSet<string> headerSecrets)
    {
        var problems = new List<string>();
        var fields = (JsonObject)mapping.Fields.DeepClone();
        var urlNames = new HashSet<string>(StringComparer.Ordinal);
        var headerNames = new HashSet<string>(StringComparer.Ordinal);
        if (fields["url"] is null) problems.Add("fields.url: is required (the URL to deliver to)");
        else fields["url"] = WebhookSecrets.Protect(fields["url"], urlNames);
        if (fields["headers"] is { } h)
        {
            fields["headers"] = WebhookSecrets.Protect(h, headerNames);
            if (h is JsonValue or JsonArray) problems.Add("fields.headers: expected an object of header names and values, or a directive");
        }
        if (settings is not null)
            foreach (var (field, names) in new[] { ("url", urlNames), ("headers", headerNames) })
                foreach (var name in names.Where(n => !settings.Secrets.ContainsKey(n)))
                    problems.Add($"fields.{field}: uses {{{{secrets.{name}}}}}, which Settings.Secrets does not define");
        urlSecrets.UnionWith(urlNames);
        headerSecrets.UnionWith(headerNames);

        // Literal values are checked now; values built from the event are checked per delivery.
        if (Literal(mapping.Fields["url"]) is { } url && settings is not null && WebhookUrls.Check(url, settings) is { } problem)
            problems.Add($"fields.url: {problem}");
        if (Literal(mapping.Fields["method"]) is { } method && !WebhookActions.Methods.Contains(method, StringComparer.Ordinal))
            problems.Add($"fields.method: must be one of {string.Join(", ", WebhookActions.Methods)}");

        var maxBatch = 0;
        switch (mapping.Fields["batch_size"])
        {
            case null:
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                var n = v.GetValue<double>();
                if (n > WebhookApi.MaxBatchSize) problems.Add($"fields.batch_size: may be at most {WebhookApi.MaxBatchSize:N0}");
                else maxBatch = n >= 1 ? (int)n : 0;
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                problems.Add("fields.batch_size: expected a number (or a directive)");
                break;
            default:
                maxBatch = WebhookApi.MaxBatchSize; // mapped from the event: the dispatcher may gather up to the limit
                break;
        }
        return (mapping with { Fields = fields }, problems, maxBatch);
    }

    static string? Literal(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
