using Destinations.Core.Configuration;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;
using Microsoft.Extensions.Configuration;

namespace Destinations.Core.Routing;

/// <summary>
/// The configured sources and destination instances, validated once at start-up. A bad configuration throws
/// <see cref="ConfigurationException"/> listing every problem with its key path.
/// </summary>
public sealed class DestinationRegistry
{
    readonly Dictionary<string, IDestination> _byId;
    readonly Dictionary<string, HashSet<string>?> _sourcesById;
    readonly IReadOnlyDictionary<string, IDestinationFactory> _factoryById;
    readonly IReadOnlyDictionary<string, InstanceFilters> _filtersById;

    /// <param name="factories">The factory that built each instance, by instance id (its type and defaults).</param>
    /// <param name="filters">Each instance's destination filters, by instance id (none when absent).</param>
    public DestinationRegistry(IReadOnlyList<SourceOptions> sources, IReadOnlyList<(IDestination Destination, IReadOnlyList<string>? Sources)> destinations,
        IReadOnlyList<string> warnings, IReadOnlyDictionary<string, IDestinationFactory>? factories = null,
        IReadOnlyDictionary<string, InstanceFilters>? filters = null)
    {
        _factoryById = factories ?? new Dictionary<string, IDestinationFactory>(StringComparer.Ordinal);
        _filtersById = filters ?? new Dictionary<string, InstanceFilters>(StringComparer.Ordinal);
        Sources = sources;
        Destinations = destinations.Select(d => d.Destination).ToList();
        _byId = Destinations.ToDictionary(d => d.Id, StringComparer.Ordinal);
        _sourcesById = destinations.ToDictionary(d => d.Destination.Id,
            d => d.Sources is { Count: > 0 } s ? new HashSet<string>(s, StringComparer.Ordinal) : null, StringComparer.Ordinal);
        Warnings = warnings;
    }

    public IReadOnlyList<SourceOptions> Sources { get; }
    public IReadOnlyList<IDestination> Destinations { get; }
    public IReadOnlyList<string> Warnings { get; }

    public IDestination? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>The factory that built the instance: its destination type and the partner's defaults (null when unknown).</summary>
    public IDestinationFactory? FactoryOf(string id) => _factoryById.GetValueOrDefault(id);

    /// <summary>The instance's <c>Filters</c> (docs/configuration.md "Destination filters"); <see cref="InstanceFilters.None"/> when it has none.</summary>
    public InstanceFilters FiltersOf(string id) => _filtersById.GetValueOrDefault(id) ?? InstanceFilters.None;

    /// <summary>
    /// The one way an event reaches a mapper, for delivery, replay and the dry-run alike: the instance's property filters
    /// (<c>dropProperties</c>, <c>allowProperties</c>) are applied to <paramref name="e"/> — the caller's own copy, e.g.
    /// <see cref="SegmentEvent.FromStored(string)"/> — and the filtered event is mapped. A stored event without a DOM is
    /// filtered on its bytes (<see cref="InstanceFilters.Apply(SegmentEvent, out SegmentEvent)"/>); one with a DOM is changed
    /// in place.
    /// </summary>
    public FilteredMapping Map(IDestination destination, SegmentEvent e, string subscription)
    {
        var filters = FiltersOf(destination.Id);
        var removed = filters.PropertyFilters.Count == 0 ? [] : filters.Apply(e, out e);
        return new FilteredMapping(destination.Map(e, subscription), removed);
    }

    public SourceOptions? FindSource(string id) => Sources.FirstOrDefault(s => string.Equals(s.Id, id, StringComparison.Ordinal));

    /// <summary>D26: an instance without <c>Sources</c> receives events from every source.</summary>
    public bool IsLinked(string destinationId, string sourceId) =>
        _sourcesById.TryGetValue(destinationId, out var set) && (set is null || set.Contains(sourceId));

    /// <summary>Reads <c>Sources</c> and <c>Destinations</c> from configuration and validates them.</summary>
    public static DestinationRegistry Build(IConfiguration configuration, IEnumerable<IDestinationFactory> factories)
    {
        var errors = new List<string>();
        var warnings = new List<string>();
        var factoryByType = new Dictionary<string, IDestinationFactory>(StringComparer.Ordinal);
        foreach (var f in factories) factoryByType[f.Type] = f;
        var integrationNames = factoryByType.Values.Select(f => f.IntegrationName).ToHashSet(StringComparer.Ordinal);

        var sources = new List<SourceOptions>();
        var i = 0;
        foreach (var section in configuration.GetSection("Sources").GetChildren())
        {
            var path = $"Sources[{i++}]";
            var s = new SourceOptions();
            section.Bind(s);
            if (string.IsNullOrWhiteSpace(s.Id)) errors.Add($"{path}.Id: is required");
            else if (sources.Any(o => o.Id == s.Id)) errors.Add($"{path}.Id: '{s.Id}' is used by another source");
            if (!string.IsNullOrEmpty(s.WriteKey) && sources.Any(o => o.WriteKey == s.WriteKey))
                errors.Add($"{path}.WriteKey: the same write key is configured for another source");
            if (string.IsNullOrEmpty(s.WriteKey) && string.IsNullOrEmpty(s.SharedSecret) && !s.AllowUnsigned)
                warnings.Add($"{path}: source '{s.Id}' has no WriteKey and no SharedSecret and does not AllowUnsigned: nothing can send to it");
            if (s.AllowUnsigned)
                warnings.Add($"{path}: source '{s.Id}' accepts unsigned webhooks (AllowUnsigned) — for local trials only: anyone who can reach the service can post events as this source");
            sources.Add(s);
        }

        var built = new List<(IDestination, IReadOnlyList<string>?)>();
        var factoryById = new Dictionary<string, IDestinationFactory>(StringComparer.Ordinal);
        var filtersById = new Dictionary<string, InstanceFilters>(StringComparer.Ordinal);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        i = 0;
        foreach (var section in configuration.GetSection("Destinations").GetChildren())
        {
            var path = $"Destinations[{i++}]";
            var id = section["Id"];
            var type = section["Type"];
            var linked = section.GetSection("Sources").GetChildren().Select(c => c.Value ?? "").ToList();
            if (string.IsNullOrWhiteSpace(id)) { errors.Add($"{path}.Id: is required"); continue; }
            if (!ids.Add(id)) errors.Add($"{path}.Id: '{id}' is used by another destination instance");
            if (id == "All" || integrationNames.Contains(id))
                errors.Add($"{path}.Id: '{id}' may not equal a destination name or 'All': the Integrations object keys on both, so such an Id would be ambiguous");
            foreach (var src in linked.Where(src => sources.All(s => s.Id != src)))
                errors.Add($"{path}.Sources: '{src}' is not a configured source");
            if (string.IsNullOrWhiteSpace(type)) { errors.Add($"{path}.Type: is required"); continue; }
            if (!factoryByType.TryGetValue(type, out var factory))
            {
                errors.Add($"{path}.Type: '{type}' is not a known destination type (known: {string.Join(", ", factoryByType.Keys.Order())})");
                continue;
            }
            var filters = DestinationFilterReader.Read(section.GetSection("Filters"), path, id, errors);
            var result = factory.Create(id, section, path);
            errors.AddRange(result.Errors);
            warnings.AddRange(result.Warnings);
            if (result.Destination is { } d)
            {
                built.Add((d, linked.Count > 0 ? linked : null));
                factoryById[d.Id] = factory;
                if (filters.All.Count > 0) filtersById[d.Id] = filters;
            }
        }

        if (errors.Count > 0) throw new ConfigurationException(errors);
        return new DestinationRegistry(sources, built, warnings, factoryById, filtersById);
    }
}

/// <summary>A mapper's answer for an event after the instance's property filters, and what those filters removed.</summary>
public sealed record FilteredMapping(MappingResult Result, IReadOnlyList<RemovedField> Removed);

/// <summary>Start-up configuration errors, each naming the key path and the rule.</summary>
public sealed class ConfigurationException(IReadOnlyList<string> errors)
    : Exception("Invalid configuration:\n  " + string.Join("\n  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
