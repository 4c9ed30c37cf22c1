using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Core.Routing;

/// <summary>
/// An instance's <c>Filters</c>, split by when they act. Segment applies destination filters in the order sample, drop
/// (an "only" is a drop of what does not match), drop properties, allow properties: event-level filters first, at
/// routing, then property filters on what is left. Within each group ours act in list order; whether an event is kept
/// does not depend on the order of event-level filters, only which one is named as the reason does (the first to drop it).
/// </summary>
public sealed class InstanceFilters
{
    public static readonly InstanceFilters None = new([]);

    public InstanceFilters(IReadOnlyList<DestinationFilter> filters)
    {
        All = filters;
        EventFilters = filters.OfType<EventFilter>().ToArray();
        PropertyFilters = filters.OfType<PropertyFilter>().ToArray();
        var conditions = filters.OfType<ConditionFilter>().Select(f => f.Condition).ToList();
        _fields = conditions.Count > 0 ? ConditionFields.Of(conditions) : null;
    }

    readonly ConditionFields? _fields;

    /// <summary>Every filter, in list order.</summary>
    public IReadOnlyList<DestinationFilter> All { get; }
    public IReadOnlyList<EventFilter> EventFilters { get; }
    public IReadOnlyList<PropertyFilter> PropertyFilters { get; }

    /// <summary>The first event-level filter that drops <paramref name="e"/>; null when the event goes on to the triggers.</summary>
    public EventFilter? Dropping(SegmentEvent e)
    {
        JsonObject? fields = null;
        foreach (var f in EventFilters)
        {
            var keeps = f is ConditionFilter c ? c.Keeps(fields ??= Fields(e)) : f.Keeps(e);
            if (!keeps) return f;
        }
        return null;
    }

    /// <summary>What the conditions read: the fields they name, copied out of the event's JSON without building its DOM.</summary>
    JsonObject Fields(SegmentEvent e) => _fields is null ? e.Json : _fields.Extract(e);

    /// <summary>Applies the property filters to <paramref name="e"/> (the caller's own copy; changed in place) and lists
    /// what they removed, in order.</summary>
    public IReadOnlyList<RemovedField> Apply(JsonObject e)
    {
        if (PropertyFilters.Count == 0) return [];
        var removed = new List<RemovedField>();
        foreach (var f in PropertyFilters) f.Apply(e, removed);
        return removed;
    }

    /// <summary>
    /// Applies the property filters to <paramref name="e"/> and lists what they removed, in order; <paramref name="filtered"/>
    /// is the event to map. An event read back from the store without a DOM is filtered on its bytes and
    /// <paramref name="filtered"/> is a new event read from the bytes written (no DOM built, <paramref name="e"/> unchanged);
    /// otherwise <paramref name="e"/> (the caller's own copy) is changed in place and is <paramref name="filtered"/>.
    /// </summary>
    public IReadOnlyList<RemovedField> Apply(SegmentEvent e, out SegmentEvent filtered)
    {
        filtered = e;
        if (PropertyFilters.Count == 0) return [];
        if (e.StoredUtf8WithoutDom is { } stored)
        {
            var removed = new List<RemovedField>();
            byte[]? utf8 = stored;
            foreach (var f in PropertyFilters)
                if (utf8 is not null) utf8 = f.Apply(utf8, removed);
            // A name twice in an object a filter looks into: the DOM decides, from a fresh list.
            if (utf8 is not null)
            {
                if (!ReferenceEquals(utf8, stored)) filtered = SegmentEvent.FromStored(utf8);
                return removed;
            }
        }
        return Apply(e.Json);
    }

    /// <summary>The counted reason of an event-level filter (D8: router time, a counter per instance and code).</summary>
    public static FilterReason ReasonOf(EventFilter f) => f switch
    {
        DropFilter => FilterReason.FilterDrop,
        OnlyFilter => FilterReason.FilterOnly,
        SampleFilter => FilterReason.FilterSample,
        _ => throw new ArgumentOutOfRangeException(nameof(f), f.Kind, "not an event-level filter"),
    };
}
