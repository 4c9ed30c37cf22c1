using System.Text.Json;
using System.Text.Json.Nodes;

namespace Destinations.Core.Mapping;

/// <summary>
/// Checks a field mapping once, at start-up (D20): every directive is one we support, in Segment's JSON shape. Errors name
/// the path inside the mapping, e.g. <c>fields.email.@if.then: unknown directive '@foo'</c>.
/// </summary>
public static class MappingKitValidator
{
    public static readonly IReadOnlyList<string> Supported =
        ["@path", "@template", "@literal", "@if", "@case", "@replace", "@json", "@merge", "@arrayPath", "@flatten", "@transform", "@excludeWhenNull"];

    /// <summary>
    /// Segment directives we do not run, named as unsupported rather than unknown: <c>@liquid</c> (a whole template language,
    /// D30) and <c>@split</c> (in older mapping-kit documents, no longer in Segment's source).
    /// </summary>
    static readonly HashSet<string> KnownElsewhere = ["@liquid", "@split"];

    public static IReadOnlyList<string> Validate(JsonNode? mapping, string path)
    {
        var errors = new List<string>();
        Check(mapping, path, errors);
        return errors;
    }

    static void Check(JsonNode? node, string path, List<string> errors)
    {
        switch (node)
        {
            case JsonArray a:
                for (var i = 0; i < a.Count; i++) Check(a[i], $"{path}[{i}]", errors);
                return;
            case JsonObject o when MappingKit.DirectiveOf(o) is { } name:
                if (o.Count > 1)
                {
                    errors.Add($"{path}: a directive object holds only its directive; '{name}' is next to " +
                               string.Join(", ", o.Where(p => p.Key != name).Select(p => $"'{p.Key}'")));
                    return;
                }
                Directive(name, o[name], $"{path}.{name}", errors);
                return;
            case JsonObject o:
                foreach (var (key, value) in o) Check(value, $"{path}.{key}", errors);
                return;
        }
    }

    static void Directive(string name, JsonNode? opts, string at, List<string> errors)
    {
        switch (name)
        {
            case "@path" or "@template":
                if (!IsString(opts) && !IsDirective(opts)) errors.Add($"{at}: expected a string");
                else Check(opts, at, errors);
                return;
            case "@literal":
                Check(opts, at, errors);
                return;
            case "@if":
                if (Options(opts, at, errors, ["exists", "blank", "then", "else"]) is not { } @if) return;
                if (!@if.ContainsKey("exists") && !@if.ContainsKey("blank")) errors.Add($"{at}: needs an \"exists\" or a \"blank\" key");
                if (!@if.ContainsKey("then") && !@if.ContainsKey("else")) errors.Add($"{at}: needs a \"then\" or an \"else\" key");
                foreach (var (key, value) in @if) Check(value, $"{at}.{key}", errors);
                return;
            case "@case":
                if (Options(opts, at, errors, ["operator", "value"]) is not { } @case) return;
                if ((string?)Str(@case["operator"]) is not ("lower" or "upper")) errors.Add($"{at}.operator: must be \"lower\" or \"upper\"");
                Required(@case, "value", at, errors);
                return;
            case "@replace":
                if (Options(opts, at, errors, ["pattern", "replacement", "pattern2", "replacement2", "ignorecase", "global", "value"]) is not { } r) return;
                if (Str(r["pattern"]) is not { Length: > 0 }) errors.Add($"{at}.pattern: must be a non-empty string");
                foreach (var key in new[] { "replacement", "pattern2", "replacement2" })
                    if (r.ContainsKey(key) && r[key] is not null && !IsString(r[key])) errors.Add($"{at}.{key}: must be a string");
                // Segment's MAX_PATTERN_LENGTH and MAX_REPLACEMENT_LENGTH: longer ones fail every event there.
                foreach (var key in new[] { "pattern", "replacement", "pattern2", "replacement2" })
                    if (Str(r[key]) is { Length: > 10 }) errors.Add($"{at}.{key}: at most 10 characters (Segment's limit)");
                foreach (var key in new[] { "ignorecase", "global" })
                    if (r[key] is { } flag && flag.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                        errors.Add($"{at}.{key}: must be true or false");
                Required(r, "value", at, errors);
                return;
            case "@json":
                if (Options(opts, at, errors, ["mode", "value"]) is not { } json) return;
                if (Str(json["mode"]) is not ("encode" or "decode")) errors.Add($"{at}.mode: must be \"encode\" or \"decode\"");
                Required(json, "value", at, errors);
                return;
            case "@merge":
                if (Options(opts, at, errors, ["objects", "direction"]) is not { } merge) return;
                if (Str(merge["direction"]) is not ("left" or "right")) errors.Add($"{at}.direction: must be \"left\" or \"right\"");
                if (merge["objects"] is not JsonArray objects) errors.Add($"{at}.objects: must be an array of objects or directives");
                else Check(objects, $"{at}.objects", errors);
                return;
            case "@arrayPath":
                if (opts is not JsonArray { Count: 1 or 2 } ap) { errors.Add($"{at}: expected [path] or [path, itemShape]"); return; }
                if (!IsString(ap[0]) && !IsDirective(ap[0])) errors.Add($"{at}[0]: expected a path string or a directive");
                else Check(ap[0], $"{at}[0]", errors);
                if (ap.Count == 2)
                {
                    if (ap[1] is not JsonObject shape) errors.Add($"{at}[1]: the item shape must be an object");
                    else Check(shape, $"{at}[1]", errors);
                }
                return;
            case "@flatten":
                if (Options(opts, at, errors, ["separator", "value", "omitArrays"]) is not { } flatten) return;
                if (!IsString(flatten["separator"]) && !IsDirective(flatten["separator"]))
                    errors.Add($"{at}.separator: is required: a string such as \".\" (Segment flattens nothing without one)");
                else Check(flatten["separator"], $"{at}.separator", errors);
                if (!flatten.ContainsKey("value")) errors.Add($"{at}.value: is required");
                else Check(flatten["value"], $"{at}.value", errors);
                if (flatten["omitArrays"] is { } omit && omit.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                    errors.Add($"{at}.omitArrays: must be true or false");
                return;
            case "@transform":
                if (Options(opts, at, errors, ["apply", "mapping"]) is not { } transform) return;
                if (transform["apply"] is not JsonObject apply) errors.Add($"{at}.apply: is required: an object of fields to build first");
                else Check(apply, $"{at}.apply", errors);
                if (transform["mapping"] is not JsonObject mapping) errors.Add($"{at}.mapping: is required: an object or a directive, resolved against what apply built");
                else Check(mapping, $"{at}.mapping", errors);
                return;
            case "@excludeWhenNull":
                Check(opts, at, errors);
                return;
            default:
                errors.Add(KnownElsewhere.Contains(name)
                    ? $"{at}: the directive '{name}' is not supported here (supported: {string.Join(", ", Supported)})"
                    : $"{at}: unknown directive '{name}' (supported: {string.Join(", ", Supported)})");
                return;
        }
    }

    static JsonObject? Options(JsonNode? opts, string at, List<string> errors, string[] known)
    {
        if (opts is not JsonObject o) { errors.Add($"{at}: expected an object"); return null; }
        foreach (var key in o.Select(p => p.Key).Where(k => !known.Contains(k)))
            errors.Add($"{at}.{key}: unknown key (known: {string.Join(", ", known)})");
        return o;
    }

    static void Required(JsonObject opts, string key, string at, List<string> errors)
    {
        // Segment skips the directive when the value is falsy, so a missing or empty value is a configuration mistake.
        if (!MappingKitText.Truthy(opts[key])) errors.Add($"{at}.{key}: is required");
        else Check(opts[key], $"{at}.{key}", errors);
    }

    static bool IsString(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String;
    static bool IsDirective(JsonNode? n) => n is JsonObject o && MappingKit.DirectiveOf(o) is not null;
    static string? Str(JsonNode? n) => IsString(n) ? n!.GetValue<string>() : null;
}
