using System.Buffers;
using System.Text.Json;
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

    /// <summary>
    /// What <see cref="Apply(JsonObject, List{RemovedField})"/> does, on an event's UTF-8 JSON without building its DOM: the
    /// event written again without the removed fields (untouched values copied as they are written), the same fields added
    /// to <paramref name="removed"/> in the same order. Null, with nothing added, when an object it has to look into holds a
    /// name twice: which of the two the DOM keeps (or whether it accepts them at all) is then the DOM's to decide.
    /// </summary>
    internal abstract byte[]? Apply(byte[] utf8, List<RemovedField> removed);

    static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>What <paramref name="write"/> writes, or null when it returns false (a name repeated).</summary>
    private protected static byte[]? Rewrite(byte[] utf8, Func<Utf8JsonWriter, bool> write)
    {
        // One buffer and writer per thread: a filtered event is written and copied out before the next one starts.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var w = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        w.Reset(buffer);
        try
        {
            if (!write(w)) return null;
            w.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (buffer.Capacity > KeptBufferBytes) (t_buffer, t_writer) = (null, null);
        }
    }

    /// <summary>A buffer grown past this by a large event is not kept for the thread's next one.</summary>
    const int KeptBufferBytes = 64 * 1024;
    [ThreadStatic] static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] static Utf8JsonWriter? t_writer;

    /// <summary>Copies the value at <paramref name="r"/> (on its first token) to <paramref name="w"/> as it is written.</summary>
    private protected static void CopyValue(ref Utf8JsonReader r, Utf8JsonWriter w, byte[] utf8)
    {
        var start = (int)r.TokenStartIndex;
        r.Skip();
        w.WriteRawValue(utf8.AsSpan(start, (int)r.BytesConsumed - start), skipInputValidation: true);
    }

    /// <summary>The member name at <paramref name="r"/>; false when the object already had it.</summary>
    private protected static bool NextName(ref Utf8JsonReader r, ref Seen seen, byte[] utf8, out Name name)
    {
        name = r.ValueIsEscaped ? new Name(0, 0, r.GetString()!) : new Name((int)r.TokenStartIndex + 1, r.ValueSpan.Length, null);
        return seen.Add(name, utf8);
    }

    /// <summary>The key of <paramref name="children"/> the member name at <paramref name="r"/> is (escapes read as what they
    /// stand for), without making a string of the name.</summary>
    private protected static T? Find<T>(ref Utf8JsonReader r, Dictionary<string, T> children) where T : class
    {
        foreach (var (key, value) in children)
            if (r.ValueTextEquals(key)) return value;
        return null;
    }

    /// <summary>A member name: where it is in the bytes when written without escapes, else the name unescaped.</summary>
    private protected readonly record struct Name(int Start, int Length, string? Unescaped)
    {
        public string Text(byte[] utf8) => Unescaped ?? System.Text.Encoding.UTF8.GetString(utf8, Start, Length);

        public void Write(Utf8JsonWriter w, byte[] utf8)
        {
            if (Unescaped is null) w.WritePropertyName(utf8.AsSpan(Start, Length));
            else w.WritePropertyName(Unescaped);
        }
    }

    /// <summary>The names of one object's members so far, to find one written twice: compared as bytes while they are few and
    /// none was escaped (no string per member), else as strings.</summary>
    private protected struct Seen
    {
        const int MostCompared = 32;
        int[]? _spans;
        int _count;
        HashSet<string>? _strings;

        public bool Add(Name name, byte[] utf8)
        {
            if (_strings is null && name.Unescaped is null && _count < MostCompared)
            {
                var span = utf8.AsSpan(name.Start, name.Length);
                for (var i = 0; i < _count; i++)
                    if (utf8.AsSpan(_spans![2 * i], _spans[2 * i + 1]).SequenceEqual(span)) return false;
                _spans ??= new int[2 * MostCompared];
                _spans[2 * _count] = name.Start;
                _spans[2 * _count + 1] = name.Length;
                _count++;
                return true;
            }
            if (_strings is null)
            {
                _strings = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < _count; i++) _strings.Add(System.Text.Encoding.UTF8.GetString(utf8, _spans![2 * i], _spans[2 * i + 1]));
            }
            return _strings.Add(name.Text(utf8));
        }
    }
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

    readonly Node _tree = Node.From(Paths);

    internal override byte[]? Apply(byte[] utf8, List<RemovedField> removed)
    {
        // Which paths the event holds, found while writing it without them: a path under one that is removed is still looked
        // for, as the DOM removes it first when it is listed first.
        var present = new bool[Paths.Count];
        var any = false;
        var written = Rewrite(utf8, w =>
        {
            var r = new Utf8JsonReader(utf8);
            r.Read();
            return Walk(ref r, w, _tree, present, utf8);
        });
        if (written is null) return null;
        List<IReadOnlyList<string>>? gone = null;
        for (var i = 0; i < Paths.Count; i++)
        {
            if (!present[i]) continue;
            var path = Paths[i].Segments;
            // Listed again, or under a path already removed: the DOM no longer finds it.
            if (gone is not null && gone.Exists(g => StartsWith(path, g))) continue;
            (gone ??= []).Add(path);
            removed.Add(new RemovedField(Index, Kind, Paths[i].Text));
            any = true;
        }
        return any ? written : utf8;
    }

    static bool StartsWith(IReadOnlyList<string> path, IReadOnlyList<string> prefix)
    {
        if (prefix.Count > path.Count) return false;
        for (var i = 0; i < prefix.Count; i++)
            if (!string.Equals(path[i], prefix[i], StringComparison.Ordinal)) return false;
        return true;
    }

    /// <summary>Writes the object at <paramref name="r"/> without the members <paramref name="node"/> names as removed, or
    /// only reads it when <paramref name="w"/> is null; false when a name repeats.</summary>
    static bool Walk(ref Utf8JsonReader r, Utf8JsonWriter? w, Node node, bool[] present, byte[] utf8)
    {
        w?.WriteStartObject();
        var seen = new Seen();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (!NextName(ref r, ref seen, utf8, out var name)) return false;
            var child = Find(ref r, node.Children);
            r.Read();
            if (child is not null)
            {
                foreach (var t in child.Targets) present[t] = true;
                var into = child.Children.Count > 0 && r.TokenType == JsonTokenType.StartObject;
                if (child.Targets.Count > 0)
                {
                    if (into) { if (!Walk(ref r, null, child, present, utf8)) return false; }
                    else r.Skip();
                    continue;
                }
                if (into)
                {
                    if (w is not null) name.Write(w, utf8);
                    if (!Walk(ref r, w, child, present, utf8)) return false;
                    continue;
                }
            }
            if (w is null) r.Skip();
            else
            {
                name.Write(w, utf8);
                CopyValue(ref r, w, utf8);
            }
        }
        w?.WriteEndObject();
        return true;
    }

    /// <summary>The listed paths as a tree: each node the indexes of the paths that end there.</summary>
    sealed class Node
    {
        public Dictionary<string, Node> Children { get; } = new(StringComparer.Ordinal);
        public List<int> Targets { get; } = [];

        public static Node From(IReadOnlyList<FieldPath> paths)
        {
            var root = new Node();
            for (var p = 0; p < paths.Count; p++)
            {
                var node = root;
                foreach (var segment in paths[p].Segments)
                {
                    if (!node.Children.TryGetValue(segment, out var next)) node.Children[segment] = next = new Node();
                    node = next;
                }
                node.Targets.Add(p);
            }
            return root;
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

    internal override byte[]? Apply(byte[] utf8, List<RemovedField> removed)
    {
        // Written in the event's order; listed per root in the order the DOM walks the roots (the order they are listed).
        Dictionary<string, List<RemovedField>>? byRoot = null;
        var written = Rewrite(utf8, w =>
        {
            var r = new Utf8JsonReader(utf8);
            r.Read();
            w.WriteStartObject();
            var seen = new Seen();
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (!NextName(ref r, ref seen, utf8, out var name)) return false;
                var allowed = Find(ref r, _tree.Children!);
                r.Read();
                name.Write(w, utf8);
                if (allowed is not null && r.TokenType == JsonTokenType.StartObject)
                {
                    var root = name.Text(utf8);
                    var list = new List<RemovedField>();
                    (byRoot ??= new(StringComparer.Ordinal))[root] = list;
                    if (!Restrict(ref r, w, allowed, root, list, utf8)) return false;
                }
                else CopyValue(ref r, w, utf8);
            }
            w.WriteEndObject();
            return true;
        });
        if (written is null) return null;
        var before = removed.Count;
        if (byRoot is not null)
            foreach (var root in _tree.Children!.Keys)
                if (byRoot.TryGetValue(root, out var list)) removed.AddRange(list);
        return removed.Count > before ? written : utf8;
    }

    bool Restrict(ref Utf8JsonReader r, Utf8JsonWriter w, Allowed allowed, string at, List<RemovedField> removed, byte[] utf8)
    {
        w.WriteStartObject();
        var seen = new Seen();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (!NextName(ref r, ref seen, utf8, out var key)) return false;
            var child = Find(ref r, allowed.Children!);
            r.Read();
            if (child is not null && child.Children is null)
            {
                key.Write(w, utf8);
                CopyValue(ref r, w, utf8);
                continue;
            }
            if (child is not null && r.TokenType == JsonTokenType.StartObject)
            {
                key.Write(w, utf8);
                if (!Restrict(ref r, w, child, at + "." + key.Text(utf8), removed, utf8)) return false;
                continue;
            }
            r.Skip();
            removed.Add(new RemovedField(Index, Kind, at + "." + key.Text(utf8)));
        }
        w.WriteEndObject();
        return true;
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
