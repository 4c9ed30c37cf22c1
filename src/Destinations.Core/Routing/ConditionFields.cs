using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Mapping;
using Destinations.Core.Segment;

namespace Destinations.Core.Routing;

/// <summary>
/// The fields an instance's filter conditions read, as a tree of paths, and the sparse copy of an event that holds just
/// those fields. Routing runs for every event at ingest, where an event is still its UTF-8 JSON: building its whole DOM for a
/// condition on <c>context.page.url</c> allocated ~6.9 KB per event (its lazily built levels); one pass of a forward-only
/// reader that copies out only the paths named, and stops as soon as they are all resolved, allocates a third of that; the
/// fields the ingress already read (type, event, name, userId) are taken from the event, so a condition on those alone reads
/// no JSON at all. A condition reads the copy exactly as it would the
/// whole event: every named path is either present with its full value or absent in both.
/// </summary>
public sealed class ConditionFields
{
    readonly Node _root;

    ConditionFields(Node root)
    {
        _root = root;
        _root.CountLeaves();
        var typed = root.Children!.Where(c => c.Node.Children is null && Typed.Contains(c.Name)).ToList();
        _typed = typed.Select(c => c.Name).ToArray();
        var rest = root.Children!.Except(typed).ToList();
        if (rest.Count > 0)
        {
            _fromJson = new Node(rest);
            _fromJson.CountLeaves();
        }
    }

    /// <summary>Top-level fields the ingress already read into <see cref="SegmentEvent"/>'s properties, normalised as stored.</summary>
    static readonly HashSet<string> Typed = new(StringComparer.Ordinal) { "type", "event", "name", "userId" };

    /// <summary>The <see cref="Typed"/> fields the conditions read: taken from the event's properties, no JSON read for them
    /// (the common <c>type = "track" and event = "…"</c> reads no JSON at all).</summary>
    readonly string[] _typed;

    /// <summary>The other paths, read from the event's JSON; null when there are none.</summary>
    readonly Node? _fromJson;

    /// <summary>The paths of <paramref name="conditions"/>; null when a condition holds a node this walk does not know
    /// (then the caller evaluates on the whole event, which is always right).</summary>
    public static ConditionFields? Of(IEnumerable<Fql> conditions)
    {
        var root = new Node();
        foreach (var c in conditions)
            if (!Collect(c.Root, root)) return null;
        return new ConditionFields(root);
    }

    static bool Collect(FqlNode node, Node root)
    {
        switch (node)
        {
            case FqlAnd a: return Collect(a.Left, root) && Collect(a.Right, root);
            case FqlOr o: return Collect(o.Left, root) && Collect(o.Right, root);
            case FqlNot n: return Collect(n.Inner, root);
            case FqlComparison c: root.Add(c.Field.Segments); return true;
            case FqlContains c: root.Add(c.Field.Segments); return true;
            case FqlMatch m: root.Add(m.Field.Segments); return true;
            default: return false;
        }
    }

    /// <summary>The named fields of <paramref name="e"/>, and nothing else.</summary>
    public JsonObject Extract(SegmentEvent e)
    {
        var into = new JsonObject();
        foreach (var name in _typed)
            if (name switch { "type" => e.Type, "event" => e.Event, "name" => e.Name, _ => e.UserId } is { } value) into[name] = value;
        if (_fromJson is not null) Read(e.ToUtf8Json().Span, _fromJson, into);
        return into;
    }

    /// <summary>The named fields of the event <paramref name="utf8"/> (one JSON object), and nothing else.</summary>
    public JsonObject Extract(ReadOnlySpan<byte> utf8)
    {
        var into = new JsonObject();
        Read(utf8, _root, into);
        return into;
    }

    static void Read(ReadOnlySpan<byte> utf8, Node wanted, JsonObject into)
    {
        var reader = new Utf8JsonReader(utf8);
        var remaining = wanted.Leaves;
        if (reader.Read() && reader.TokenType == JsonTokenType.StartObject) ReadObject(ref reader, wanted, into, ref remaining);
    }

    /// <summary>Copies the wanted members of the object the reader is in; true when every named path has been resolved
    /// (<paramref name="remaining"/> is 0) and the rest of the event need not be read. A path is resolved when its value
    /// was copied, or when the object that would hold it has been read to its end without it: an event's keys are unique
    /// at every depth (the ingress refuses a body with a duplicate key), so it is not further on either. Stopping there
    /// matters: a condition on <c>context.page.url</c> is resolved a third of the way into a typical event.</summary>
    static bool ReadObject(ref Utf8JsonReader reader, Node wanted, JsonObject into, ref int remaining)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var child = wanted.Find(ref reader, out var name);
            reader.Read();
            if (child is null)
            {
                reader.Skip();
                continue;
            }
            if (child.Children is not null && reader.TokenType == JsonTokenType.StartObject)
            {
                var inner = new JsonObject();
                var before = remaining;
                var done = ReadObject(ref reader, child, inner, ref remaining);
                into[name!] = inner;
                if (done) return true;
                remaining = before - child.Leaves;
            }
            else
            {
                // A named leaf, or a value the path must go into that is not an object (an array a path indexes into, a
                // scalar where an object was expected): copied whole, so the condition sees what it would on the whole event.
                // Strings and literals are made directly (same kind and value as the parsed node, which copies the value into
                // a JsonDocument of its own); numbers, arrays and objects keep the parsed node (its number text).
                into[name!] = reader.TokenType switch
                {
                    JsonTokenType.String => JsonValue.Create(reader.GetString()),
                    JsonTokenType.True => JsonValue.Create(true),
                    JsonTokenType.False => JsonValue.Create(false),
                    JsonTokenType.Null => null,
                    _ => JsonNode.Parse(ref reader),
                };
                remaining -= child.Leaves;
            }
            if (remaining == 0) return true;
        }
        return false;
    }

    /// <summary>A path segment; <see cref="Children"/> null = the value is read whole.</summary>
    sealed class Node
    {
        public Node() { }

        public Node(List<(string Name, byte[] Utf8, Node Node)> children) => Children = children;

        public List<(string Name, byte[] Utf8, Node Node)>? Children { get; private set; } = [];

        /// <summary>The paths that end at or under this node (1 for a value read whole); set by <see cref="CountLeaves"/>.</summary>
        public int Leaves { get; private set; }

        public int CountLeaves() => Leaves = Children is null ? 1 : Children.Sum(c => c.Node.CountLeaves());

        public void Add(IReadOnlyList<string> segments)
        {
            var node = this;
            foreach (var segment in segments)
            {
                if (node.Children is null) return; // a shorter path already reads this value whole
                var i = node.Children.FindIndex(c => c.Name == segment);
                if (i < 0)
                {
                    node.Children.Add((segment, Encoding.UTF8.GetBytes(segment), new Node()));
                    i = node.Children.Count - 1;
                }
                node = node.Children[i].Node;
            }
            node.Children = null;
        }

        /// <summary>The child named by the reader's current property name (escapes compared as text), or null.</summary>
        public Node? Find(ref Utf8JsonReader reader, out string? name)
        {
            foreach (var (n, utf8, node) in Children!)
                if (reader.ValueTextEquals(utf8))
                {
                    name = n;
                    return node;
                }
            name = null;
            return null;
        }
    }
}
