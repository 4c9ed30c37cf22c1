using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Destinations.Core.Mapping.MappingKitText;

namespace Destinations.Core.Mapping;

/// <summary>
/// Resolves field mappings written in Segment's mapping-kit JSON shapes (D20) against an event: <c>@path</c>, <c>@template</c>,
/// <c>@literal</c>, <c>@if</c>, <c>@case</c>, <c>@replace</c>, <c>@json</c>, <c>@merge</c>, <c>@arrayPath</c>, <c>@flatten</c>,
/// <c>@transform</c>, <c>@excludeWhenNull</c> — every directive of Segment's public mapping-kit but <c>@liquid</c>. Anything else
/// (strings, numbers, plain objects and arrays) is taken as written, with directives inside resolved. Mappings are checked
/// once by <see cref="MappingKitValidator"/>; resolving never throws for event data: what cannot be resolved is undefined.
/// </summary>
public static class MappingKit
{
    /// <summary>JSON.stringify-like output for <c>@json encode</c>: no escaping of non-ASCII or HTML characters.</summary>
    static readonly JsonSerializerOptions JsStringify = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The directive key of an object, when it is a directive (an object with an <c>@</c> key).</summary>
    public static string? DirectiveOf(JsonObject o) => o.Select(p => p.Key).FirstOrDefault(k => k.StartsWith('@'));

    public static MappedValue Resolve(JsonNode? mapping, JsonNode? payload)
    {
        switch (mapping)
        {
            case JsonObject o when DirectiveOf(o) is { } name:
                return Run(name, o[name], payload);
            case JsonArray a:
                // An undefined item becomes null, as JSON.stringify writes it.
                return MappedValue.Of(new JsonArray(a.Select(item => Resolve(item, payload).Value).ToArray()));
            case JsonObject o:
                var result = new JsonObject();
                foreach (var (key, value) in o)
                    if (Resolve(value, payload) is { IsDefined: true } r) result[key] = r.Value;
                return MappedValue.Of(result);
            default:
                return MappedValue.Of(mapping?.DeepClone());
        }
    }

    static MappedValue Run(string name, JsonNode? opts, JsonNode? payload) => name switch
    {
        "@path" => StringArgument(opts, payload) is { } path ? Get(payload, path) : MappedValue.Undefined,
        "@template" => StringArgument(opts, payload) is { } t ? MappedValue.Of(Render(t, payload)) : MappedValue.Undefined,
        // Segment resolves the literal's value too, so directives inside it still run.
        "@literal" => Resolve(opts, payload),
        "@if" => If(opts as JsonObject, payload),
        "@case" => Case(opts as JsonObject, payload),
        "@replace" => MappingKitReplace.Run(opts as JsonObject, payload),
        "@json" => Json(opts as JsonObject, payload),
        "@merge" => Merge(opts as JsonObject, payload),
        "@arrayPath" => ArrayPath(opts as JsonArray, payload),
        "@flatten" => Flatten(opts as JsonObject, payload),
        "@transform" => Transform(opts as JsonObject, payload),
        "@excludeWhenNull" => ExcludeWhenNull(Resolve(opts, payload)),
        _ => MappedValue.Undefined, // rejected at load by MappingKitValidator
    };

    static string? StringArgument(JsonNode? opts, JsonNode? payload) =>
        Resolve(opts, payload).Value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    static MappedValue If(JsonObject? opts, JsonNode? payload)
    {
        if (opts is null) return MappedValue.Undefined;
        bool condition;
        if (opts.ContainsKey("exists")) condition = Resolve(opts["exists"], payload).Exists;
        else
        {
            // Segment's "blank" is true when the value is NOT blank (undefined, null or == ''), and then "then" is taken.
            var v = Resolve(opts["blank"], payload);
            condition = v.Exists && !LooselyEmpty(v.Value);
        }
        if (condition && opts.ContainsKey("then")) return Resolve(opts["then"], payload);
        if (!condition && Truthy(opts["else"])) return Resolve(opts["else"], payload);
        return MappedValue.Undefined;
    }

    static MappedValue Case(JsonObject? opts, JsonNode? payload)
    {
        if (opts is null || !Truthy(opts["value"])) return MappedValue.Undefined;
        var value = Resolve(opts["value"], payload);
        if (value.Value is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return value;
        var s = v.GetValue<string>();
        return MappedValue.Of((string?)opts["operator"] == "upper" ? s.ToUpperInvariant() : s.ToLowerInvariant());
    }

    static MappedValue Json(JsonObject? opts, JsonNode? payload)
    {
        if (opts is null || !Truthy(opts["value"])) return MappedValue.Undefined;
        var value = Resolve(opts["value"], payload);
        if ((string?)opts["mode"] == "encode")
            return value.IsDefined ? MappedValue.Of(value.Value?.ToJsonString(JsStringify) ?? "null") : MappedValue.Undefined;
        if (value.Value is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return value;
        try
        {
            return MappedValue.Of(JsonNode.Parse(v.GetValue<string>()));
        }
        catch (JsonException)
        {
            // Segment catches the JSON.parse error and keeps the string as it was.
            return value;
        }
    }

    static MappedValue Merge(JsonObject? opts, JsonNode? payload)
    {
        if (opts?["objects"] is not JsonArray list) return MappedValue.Undefined;
        var objects = list.Select(o => Resolve(o, payload).Value).ToList();
        // "right": later objects win; "left": earlier ones win (Segment reverses the list and assigns in order).
        if (StringArgument(opts["direction"], payload) == "left") objects.Reverse();
        // Object.assign({}, ...objects): an object's own keys; a string's characters and an array's items by index; any
        // other value adds nothing.
        var merged = new JsonObject();
        foreach (var source in objects)
        {
            switch (source)
            {
                case JsonObject o:
                    foreach (var (key, value) in o) merged[key] = value?.DeepClone();
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++) merged[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = a[i]?.DeepClone();
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    var text = v.GetValue<string>();
                    for (var i = 0; i < text.Length; i++) merged[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = text[i].ToString();
                    break;
            }
        }
        return MappedValue.Of(merged);
    }

    static MappedValue ArrayPath(JsonArray? opts, JsonNode? payload)
    {
        if (opts is null || opts.Count == 0) return MappedValue.Undefined;
        var root = opts[0] is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? Get(payload, v.GetValue<string>())
            : Resolve(opts[0], payload);
        var shape = opts.Count > 1 ? opts[1] as JsonObject : null;
        if (shape is not { Count: > 0 } || root.Value is not (JsonObject or JsonArray)) return root;
        // An object is treated as a one-item array (Segment's arrify).
        var items = root.Value is JsonArray a ? a.ToList() : [root.Value];
        return MappedValue.Of(new JsonArray(items.Select(item => Resolve(shape, item).Value).ToArray()));
    }

    /// <summary>
    /// <c>{"@flatten": {"value": …, "separator": ".", "omitArrays": false}}</c>: nested keys joined with the separator
    /// (Segment's flattenObject); arrays are flattened by index unless omitArrays. A scalar becomes <c>{"": value}</c>, as there.
    /// </summary>
    static MappedValue Flatten(JsonObject? opts, JsonNode? payload)
    {
        if (opts is null || !Truthy(opts["separator"]) || StringArgument(opts["separator"], payload) is not { } separator) return MappedValue.Undefined;
        var value = Resolve(opts["value"], payload);
        var result = new JsonObject();
        FlattenInto(result, value, "", separator, Truthy(opts["omitArrays"]));
        return MappedValue.Of(result);
    }

    static void FlattenInto(JsonObject result, MappedValue value, string prefix, string separator, bool omitArrays)
    {
        IEnumerable<KeyValuePair<string, JsonNode?>>? children = value.Value switch
        {
            JsonObject o => o,
            JsonArray a when !omitArrays => a.Select((item, i) => KeyValuePair.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture), item)),
            _ => null,
        };
        if (children is null)
        {
            // An undefined leaf is dropped when the result is cleaned, as Segment's removeUndefined does.
            if (value.IsDefined) result[prefix] = value.Value?.DeepClone();
            return;
        }
        foreach (var (key, child) in children.ToList())
            FlattenInto(result, MappedValue.Of(child), prefix.Length > 0 ? prefix + separator + key : key, separator, omitArrays);
    }

    /// <summary><c>{"@transform": {"apply": {…}, "mapping": {…}}}</c>: <c>mapping</c> resolved against what <c>apply</c> builds.</summary>
    static MappedValue Transform(JsonObject? opts, JsonNode? payload)
    {
        if (opts?["apply"] is not JsonObject apply || !Truthy(opts["mapping"])) return MappedValue.Undefined;
        var applied = Resolve(apply, payload).Value;
        return Resolve(opts["mapping"], applied as JsonObject ?? new JsonObject());
    }

    /// <summary><c>{"@excludeWhenNull": …}</c>: null → left out; an object loses its null values, nested objects too (not arrays).</summary>
    static MappedValue ExcludeWhenNull(MappedValue value)
    {
        if (!value.IsDefined || value.Value is null) return MappedValue.Undefined;
        return value.Value is JsonObject o ? MappedValue.Of(WithoutNulls(o)) : value;
    }

    static JsonObject WithoutNulls(JsonObject o)
    {
        var cleaned = new JsonObject();
        foreach (var (key, child) in o)
        {
            if (child is null) continue;
            cleaned[key] = child is JsonObject nested ? WithoutNulls(nested) : child.DeepClone();
        }
        return cleaned;
    }
}
