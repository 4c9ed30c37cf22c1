using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Segment;

namespace Destinations.Core.Mapping;

/// <summary>
/// <see cref="ActionPayload.Build"/> reading the event's bytes (<see cref="SegmentEvent.CurrentUtf8Json"/>) instead of its DOM,
/// for mappings made only of <c>@path</c>, <c>@template</c>, <c>@if</c> with <c>exists</c>, and literal values, objects and
/// arrays (the presets, and most mappings): the payload is the one the DOM gives, value for value. A mapping with any other
/// directive is resolved against the DOM, as before. Objects and arrays read by a path are nodes that write the event's
/// bytes (<see cref="Utf8Json.Node"/>) in the fields the caller copies whole into a body; elsewhere (fields it reads
/// into) they are DOM nodes of that value only.
/// </summary>
public static class Utf8ActionPayload
{
    /// <param name="copiedWhole">The fields whose value the caller only writes (never reads into): those may hold
    /// <see cref="Utf8Json.Node"/> values, which read as values, not as <see cref="JsonObject"/> or <see cref="JsonArray"/>.</param>
    public static ActionPayloadResult Build(ActionMapping mapping, SegmentEvent e, Func<string, bool> copiedWhole)
    {
        if (Plans.GetValue(mapping, Compile) is not { } plan) return ActionPayload.Build(mapping, e.Json);

        var context = new Context(e, e.CurrentMembers(plan.Roots));
        var payload = new JsonObject();
        foreach (var (key, resolver) in plan.Fields)
        {
            context.Opaque = copiedWhole(key);
            var value = resolver.Resolve(context);
            if (!value.Exists) continue;
            // A copied object or array is no empty string (and asking its kind would write it).
            if (value.Value is JsonValue v && !Utf8Json.TryGetUtf8(v, out _) && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length == 0) continue;
            payload[key] = value.Value;
        }
        return Validated(mapping.Action, payload);
    }

    /// <summary>ActionPayload's checks and coercions, with a copied value's kind read from its bytes.</summary>
    static ActionPayloadResult Validated(ActionDefinition action, JsonObject payload)
    {
        foreach (var field in action.Fields)
            if (field.Required && !payload.ContainsKey(field.Key))
                return new(null, $"missing the required field '{field.Key}'");

        foreach (var field in action.Fields)
        {
            if (payload[field.Key] is not { } node) continue;
            var kind = KindOf(node);
            switch (field.Type)
            {
                case ActionFieldType.Object when kind != JsonValueKind.Object:
                    return new(null, $"the field '{field.Key}' must be an object, got {Describe(kind)}");
                case ActionFieldType.String when kind is JsonValueKind.Object or JsonValueKind.Array:
                    return new(null, $"the field '{field.Key}' must be a string, got {Describe(kind)}");
                case ActionFieldType.String when kind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    payload[field.Key] = MappingKitText.JsString(node);
                    break;
                case ActionFieldType.Number when kind == JsonValueKind.Number:
                    break;
                case ActionFieldType.Number when kind == JsonValueKind.String
                                                 && double.TryParse(node.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number):
                    payload[field.Key] = number;
                    break;
                case ActionFieldType.Number:
                    return new(null, $"the field '{field.Key}' must be a number, got {Describe(kind)}");
                case ActionFieldType.StringList when kind == JsonValueKind.Array:
                    var list = node as JsonArray ?? JsonNode.Parse(Utf8(node).Span)!.AsArray();
                    if (list.Any(item => item is JsonObject or JsonArray || item is null))
                        return new(null, $"the field '{field.Key}' must be a list of strings");
                    payload[field.Key] = new JsonArray(list.Select(item => (JsonNode?)MappingKitText.JsString(item)).ToArray());
                    break;
                case ActionFieldType.StringList when kind == JsonValueKind.Object:
                    return new(null, $"the field '{field.Key}' must be a list of strings, got an object");
                case ActionFieldType.StringList:
                    payload[field.Key] = new JsonArray(MappingKitText.JsString(node));
                    break;
            }
        }
        return new(payload, null);
    }

    static JsonValueKind KindOf(JsonNode node) => Utf8Json.TryGetUtf8(node, out var raw) ? Utf8Json.KindOf(raw) : node.GetValueKind();

    static ReadOnlyMemory<byte> Utf8(JsonNode node) => Utf8Json.TryGetUtf8(node, out var raw) ? raw : throw new InvalidOperationException("not a copied value");

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        _ => "a boolean",
    };

    // ---- compiled mappings ----

    /// <summary>Per mapping, its fields compiled once; null when a field uses a directive this reader does not run.</summary>
    static readonly ConditionalWeakTable<ActionMapping, Plan?> Plans = new();

    sealed record Plan((string Key, Resolver Resolver)[] Fields, byte[][] Roots);

    static Plan? Compile(ActionMapping mapping)
    {
        var roots = new List<string>();
        var fields = new List<(string, Resolver)>();
        foreach (var (key, fieldMapping) in mapping.Fields)
        {
            if (Compile(fieldMapping, roots) is not { } resolver) return null;
            fields.Add((key, resolver));
        }
        return new Plan([.. fields], [.. roots.Select(Encoding.UTF8.GetBytes)]);
    }

    /// <summary>MappingKit.Resolve's cases, for the directives read here; null for any other.</summary>
    static Resolver? Compile(JsonNode? mapping, List<string> roots)
    {
        switch (mapping)
        {
            case JsonObject o when MappingKit.DirectiveOf(o) is { } name:
                var opts = o[name];
                return name switch
                {
                    "@path" => Literal(opts) is { } path ? PathResolver.Of(path, roots) : null,
                    "@template" => Literal(opts) is { } template ? new TemplateResolver(template) : null,
                    "@if" => IfResolver.Of(opts as JsonObject, roots),
                    _ => null,
                };
            case JsonArray a:
                var items = new Resolver[a.Count];
                for (var i = 0; i < a.Count; i++)
                    if ((items[i] = Compile(a[i], roots)!) is null) return null;
                return new ArrayResolver(items);
            case JsonObject o:
                var members = new List<(string, Resolver)>();
                foreach (var (key, value) in o)
                {
                    if (Compile(value, roots) is not { } r) return null;
                    members.Add((key, r));
                }
                return new ObjectResolver([.. members]);
            default:
                return new LiteralResolver(mapping);
        }
    }

    /// <summary>A directive's argument written as a plain string (MappingKit resolves it to itself); null for anything else.</summary>
    static string? Literal(JsonNode? opts) =>
        opts is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    sealed class Context(SegmentEvent e, ReadOnlyMemory<byte>[] roots)
    {
        public SegmentEvent Event { get; } = e;
        public ReadOnlyMemory<byte>[] Roots { get; } = roots;
        /// <summary>Objects and arrays may be nodes that write the event's bytes.</summary>
        public bool Opaque { get; set; }
    }

    abstract class Resolver
    {
        public abstract MappedValue Resolve(Context c);
    }

    sealed class LiteralResolver(JsonNode? mapping) : Resolver
    {
        public override MappedValue Resolve(Context c) => MappedValue.Of(mapping?.DeepClone());
    }

    sealed class ArrayResolver(Resolver[] items) : Resolver
    {
        // An undefined item becomes null, as JSON.stringify writes it.
        public override MappedValue Resolve(Context c) => MappedValue.Of(new JsonArray(items.Select(i => i.Resolve(c).Value).ToArray()));
    }

    sealed class ObjectResolver((string Key, Resolver Resolver)[] members) : Resolver
    {
        public override MappedValue Resolve(Context c)
        {
            var result = new JsonObject();
            foreach (var (key, resolver) in members)
                if (resolver.Resolve(c) is { IsDefined: true } r) result[key] = r.Value;
            return MappedValue.Of(result);
        }
    }

    sealed class IfResolver(Resolver exists, Resolver? then, Resolver? otherwise) : Resolver
    {
        /// <summary>Only the <c>exists</c> form; <c>else</c> is kept only when truthy, as MappingKit tests it.</summary>
        public static Resolver? Of(JsonObject? opts, List<string> roots)
        {
            if (opts is null || !opts.ContainsKey("exists")) return null;
            if (Compile(opts["exists"], roots) is not { } exists) return null;
            Resolver? then = null, otherwise = null;
            if (opts.ContainsKey("then") && (then = Compile(opts["then"], roots)) is null) return null;
            if (MappingKitText.Truthy(opts["else"]) && (otherwise = Compile(opts["else"], roots)) is null) return null;
            return new IfResolver(exists, then, otherwise);
        }

        public override MappedValue Resolve(Context c)
        {
            var condition = exists.Resolve(c).Exists;
            if (condition && then is not null) return then.Resolve(c);
            if (!condition && otherwise is not null) return otherwise.Resolve(c);
            return MappedValue.Undefined;
        }
    }

    sealed class TemplateResolver(string template) : Resolver
    {
        readonly bool _plain = !template.Contains("{{", StringComparison.Ordinal);

        public override MappedValue Resolve(Context c) =>
            MappedValue.Of(_plain ? template : MappingKitText.Render(template, path => JsString(Get(c, MappingKitText.PathKeys(path), -1))));
    }

    sealed class PathResolver(string[]? keys, int root) : Resolver
    {
        /// <summary>Each key after the first as UTF-8, for <see cref="Utf8Json.Members"/>.</summary>
        readonly byte[][][] _names = keys is null ? [] : [.. keys.Select(k => new[] { Encoding.UTF8.GetBytes(k) })];

        public static PathResolver Of(string path, List<string> roots)
        {
            var keys = MappingKitText.PathKeys(path);
            if (keys is not { Length: > 0 }) return new PathResolver(keys, -1);
            var root = roots.IndexOf(keys[0]);
            if (root < 0)
            {
                root = roots.Count;
                roots.Add(keys[0]);
            }
            return new PathResolver(keys, root);
        }

        public override MappedValue Resolve(Context c)
        {
            var raw = Get(c, keys, root, _names);
            if (raw.IsEmpty) return MappedValue.Undefined;
            return Utf8Json.KindOf(raw) switch
            {
                JsonValueKind.Null => MappedValue.Of(null),
                JsonValueKind.String => MappedValue.Of(JsonValue.Create(Utf8Json.StringOf(raw))),
                JsonValueKind.True => MappedValue.Of(JsonValue.Create(true)),
                JsonValueKind.False => MappedValue.Of(JsonValue.Create(false)),
                // A number keeps the text it was written with, as the DOM's value does.
                JsonValueKind.Number => MappedValue.Of(JsonNode.Parse(raw.Span)),
                _ => MappedValue.Of(c.Opaque ? Utf8Json.Node(raw) : JsonNode.Parse(raw.Span)),
            };
        }
    }

    /// <summary>MappingKitText.Get on the bytes: the value at the keys as written, or empty when undefined. (A name given
    /// twice in an object: the last one; the DOM refuses to look such an object up.)</summary>
    /// <param name="root">Index of keys[0] in the context's root values; -1 to look it up.</param>
    /// <param name="names">Each key as UTF-8 (a one-name list), when the caller has them.</param>
    static ReadOnlyMemory<byte> Get(Context c, string[]? keys, int root, byte[][][]? names = null)
    {
        // No keys (the path "$." or only separators): the payload itself.
        if (keys is not { Length: > 0 }) return Utf8Json.Trimmed(c.Event.CurrentUtf8Json());
        var value = root >= 0 ? c.Roots[root] : c.Event.CurrentMembers([Encoding.UTF8.GetBytes(keys[0])])[0];
        for (var i = 1; i < keys.Length && !value.IsEmpty; i++)
        {
            value = Utf8Json.KindOf(value) switch
            {
                JsonValueKind.Object => Utf8Json.Members(value, names?[i] ?? [Encoding.UTF8.GetBytes(keys[i])])[0],
                JsonValueKind.Array when int.TryParse(keys[i], out var index) => Utf8Json.Item(value, index),
                _ => default,
            };
        }
        return value;
    }

    /// <summary>MappingKitText.JsString of a value as written; "" when undefined or null.</summary>
    static string JsString(ReadOnlyMemory<byte> raw) => Utf8Json.KindOf(raw) switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => "",
        JsonValueKind.String => Utf8Json.StringOf(raw)!,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => Encoding.UTF8.GetString(raw.Span),
        JsonValueKind.Object => "[object Object]",
        _ => MappingKitText.JsString(JsonNode.Parse(raw.Span)),
    };
}
