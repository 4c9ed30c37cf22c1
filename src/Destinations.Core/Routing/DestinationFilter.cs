using System.Text.Json.Nodes;
using Destinations.Core.Mapping;

namespace Destinations.Core.Routing;

/// <summary>
/// One entry of an instance's <c>Filters</c> list (docs/configuration.md "Destination filters"), what Segment sells as
/// Destination Filters. <see cref="Index"/> is its position in the list, so an operator can find the entry that acted.
/// <c>drop</c>, <c>only</c> and <c>sample</c> decide whether the event goes to the instance at all (router time, before any
/// trigger); <c>dropProperties</c> and <c>allowProperties</c> change the event handed to the mapper.
/// </summary>
public abstract record DestinationFilter(int Index)
{
    /// <summary>The configuration key that names the kind: <c>drop</c>, <c>only</c>, <c>sample</c>, <c>dropProperties</c>, <c>allowProperties</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>The condition or list as configured, for the dry-run and logs.</summary>
    public abstract string Describe();

    public sealed override string ToString() => $"Filters[{Index}] {Kind}: {Describe()}";
}

/// <summary>An event-level filter: keeps or drops the whole event for the instance.</summary>
public abstract record EventFilter(int Index) : DestinationFilter(Index)
{
    /// <summary>True when the event may go on to the instance.</summary>
    public abstract bool Keeps(Segment.SegmentEvent e);
}

/// <summary>An event-level filter with an FQL condition.</summary>
public abstract record ConditionFilter(int Index, Fql Condition) : EventFilter(Index)
{
    public override string Describe() => Condition.Text;
    public override bool Keeps(Segment.SegmentEvent e) => Keeps(e.Json);

    /// <summary>Decides on the event's JSON, or on a copy holding at least the fields the condition reads
    /// (<see cref="ConditionFields"/>).</summary>
    public abstract bool Keeps(JsonObject fields);
}

/// <summary><c>{"drop": "&lt;fql&gt;"}</c>: events the condition matches are not sent.</summary>
public sealed record DropFilter(int Index, Fql Condition) : ConditionFilter(Index, Condition)
{
    public override string Kind => "drop";
    public override bool Keeps(JsonObject fields) => !Condition.Matches(fields);
}

/// <summary><c>{"only": "&lt;fql&gt;"}</c>: only events the condition matches are sent (Segment's "Only Send").</summary>
public sealed record OnlyFilter(int Index, Fql Condition) : ConditionFilter(Index, Condition)
{
    public override string Kind => "only";
    public override bool Keeps(JsonObject fields) => Condition.Matches(fields);
}

/// <summary>What a <see cref="SampleFilter"/> hashes.</summary>
public enum SampleBy
{
    /// <summary>Each event on its own: a percentage of events.</summary>
    MessageId,
    /// <summary>Each user as a whole: a percentage of users, all of a kept user's events.</summary>
    UserId,
}

/// <summary>
/// <c>{"sample": 10}</c> or <c>{"sample": 10, "by": "userId"}</c>: a deterministic share of events (or users), chosen by
/// <see cref="SampleHash"/> so the same event or user is always on the same side of the line.
/// </summary>
public sealed record SampleFilter(int Index, double Percent, SampleBy By) : EventFilter(Index)
{
    public override string Kind => "sample";
    public override string Describe() =>
        Percent.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "%" + (By == SampleBy.UserId ? " by userId" : " by messageId");
    public override bool Keeps(Segment.SegmentEvent e) => SampleHash.Keeps(SampleHash.KeyOf(e, By), Percent);
}

/// <summary>A property-level filter: changes the event the mapper sees; never drops the event.</summary>
public abstract record PropertyFilter(int Index, IReadOnlyList<FieldPath> Paths) : DestinationFilter(Index)
{
    public override string Describe() => string.Join(", ", Paths.Select(p => p.Text));

    /// <summary>Changes <paramref name="e"/> (the caller's own copy of the event) in place and adds each field it removes to
    /// <paramref name="removed"/>.</summary>
    public abstract void Apply(JsonObject e, List<RemovedField> removed);
}

/// <summary>A field a property filter took out of the event handed to the mapper.</summary>
/// <param name="Filter">The filter's index in the instance's <c>Filters</c> list.</param>
/// <param name="Kind"><c>dropProperties</c> or <c>allowProperties</c>.</param>
/// <param name="Path">The dotted path of the removed field, e.g. <c>properties.email</c>.</param>
public sealed record RemovedField(int Filter, string Kind, string Path);

/// <summary><c>{"dropProperties": ["properties.email", "context.ip"]}</c>: these fields are removed where present. A path
/// goes through objects only: <c>properties.items.sku</c> does not reach into an array of items.</summary>
public sealed record DropPropertiesFilter(int Index, IReadOnlyList<FieldPath> Paths) : PropertyFilter(Index, Paths)
{
    public override string Kind => "dropProperties";

    public override void Apply(JsonObject e, List<RemovedField> removed)
    {
        foreach (var path in Paths)
        {
            var parent = e;
            for (var i = 0; i < path.Segments.Count - 1 && parent is not null; i++) parent = parent[path.Segments[i]] as JsonObject;
            if (parent is not null && parent.Remove(path.Segments[^1])) removed.Add(new RemovedField(Index, Kind, path.Text));
        }
    }
}

/// <summary>
/// <c>{"allowProperties": ["properties.plan", "traits.email"]}</c>: in each object the paths lead through, only the keys
/// they name are kept (a named key keeps its whole value); an object no path names (say <c>context</c> when only
/// <c>properties.*</c> is listed) is untouched. A value a path would have to pass through that is not an object (a string,
/// an array) is removed: it is not among the fields allowed.
/// </summary>
public sealed record AllowPropertiesFilter(int Index, IReadOnlyList<FieldPath> Paths) : PropertyFilter(Index, Paths)
{
    readonly Allowed _tree = Allowed.From(Paths);

    public override string Kind => "allowProperties";

    public override void Apply(JsonObject e, List<RemovedField> removed)
    {
        foreach (var (root, allowed) in _tree.Children!)
            if (e[root] is JsonObject o) Restrict(o, allowed, root, removed);
    }

    void Restrict(JsonObject o, Allowed allowed, string at, List<RemovedField> removed)
    {
        // Listed in the event's own order; removed after the walk (an object cannot change while it is enumerated).
        List<string>? drop = null;
        foreach (var (key, value) in o)
        {
            if (allowed.Children!.TryGetValue(key, out var child) && child.Children is null) continue; // named itself: kept whole
            if (child is not null && value is JsonObject inner)
            {
                Restrict(inner, child, at + "." + key, removed);
                continue;
            }
            (drop ??= []).Add(key);
            removed.Add(new RemovedField(Index, Kind, at + "." + key));
        }
        if (drop is null) return;
        foreach (var key in drop) o.Remove(key);
    }

    /// <summary>The listed paths as a tree; a node without children is a named field, kept whole.</summary>
    sealed class Allowed
    {
        public Dictionary<string, Allowed>? Children { get; private set; }

        public static Allowed From(IReadOnlyList<FieldPath> paths)
        {
            var root = new Allowed { Children = new(StringComparer.Ordinal) };
            foreach (var path in paths)
            {
                var node = root;
                for (var i = 0; i < path.Segments.Count; i++)
                {
                    if (node.Children is null) break; // a shorter path already keeps this whole
                    if (!node.Children.TryGetValue(path.Segments[i], out var next))
                        node.Children[path.Segments[i]] = next = new Allowed { Children = new(StringComparer.Ordinal) };
                    node = next;
                }
                node.Children = null;
            }
            return root;
        }
    }
}

/// <summary>A dotted path to a field under <c>properties</c>, <c>traits</c> or <c>context</c>, e.g. <c>context.traits.phone</c>.</summary>
public sealed record FieldPath(string Text, IReadOnlyList<string> Segments)
{
    /// <summary>The objects a property filter may change. The event's own fields (type, userId, messageId, …) are what
    /// routing, ordering and dedupe key on, so no filter may remove them.</summary>
    public static readonly IReadOnlyList<string> Roots = ["properties", "traits", "context"];

    /// <summary>Null with <paramref name="error"/> set when the text is not such a path.</summary>
    public static FieldPath? TryParse(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text)) { error = "is empty; name a field such as properties.email"; return null; }
        var segments = text.Split('.');
        if (segments.Any(s => s.Length == 0)) { error = $"'{text}' is not a dotted field path (an empty segment)"; return null; }
        if (!Roots.Contains(segments[0], StringComparer.Ordinal) || segments.Length < 2)
        {
            error = $"'{text}' is not under properties, traits or context (name a field such as properties.email, traits.phone or context.ip)";
            return null;
        }
        return new FieldPath(text, segments);
    }
}
