using System.Text.Json;
using System.Text.Json.Nodes;

namespace Destinations.Core.Mapping;

/// <summary>
/// Reads an instance's mappings file, <c>[{"name", "trigger", "action", "fields": {…}}]</c>, with System.Text.Json so
/// mapping-kit values keep their JSON types (D20; configuration binding would turn them into strings). Every problem is
/// reported, each naming the mapping and the rule: <c>Destinations[2].MappingsFile: mapping 'X' (index 3): trigger: …</c>.
/// </summary>
public static class ActionMappingsFile
{
    public sealed record Result(IReadOnlyList<ActionMapping>? Mappings, IReadOnlyList<string> Errors);

    static readonly string[] Keys = ["name", "trigger", "action", "fields"];

    /// <param name="file">The configured path; a relative one is taken from <paramref name="baseDirectory"/> (the content root).</param>
    /// <param name="at">The error prefix, e.g. <c>Destinations[2].MappingsFile</c>.</param>
    public static Result Load(string file, string baseDirectory, string at,
        IReadOnlyDictionary<string, ActionDefinition> actions, int maxMappings)
    {
        var full = Path.GetFullPath(file, baseDirectory);
        if (!File.Exists(full)) return Failed($"{at}: the file '{file}' does not exist (looked for {full})");
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(full), documentOptions: new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            return Failed($"{at}: '{file}' is not valid JSON: line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}");
        }
        return Parse(root, at, actions, maxMappings);
    }

    /// <summary>Validates an already-parsed mappings array (the file's content).</summary>
    public static Result Parse(JsonNode? root, string at, IReadOnlyDictionary<string, ActionDefinition> actions, int maxMappings)
    {
        if (root is not JsonArray list) return Failed($"{at}: expected a JSON array of mappings [{{\"name\", \"trigger\", \"action\", \"fields\"}}]");
        if (list.Count > maxMappings)
            return Failed($"{at}: holds {list.Count} mappings; an instance may have at most {maxMappings}");

        var errors = new List<string>();
        var mappings = new List<ActionMapping>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonObject m) { errors.Add($"{at}: mapping at index {i}: expected an object"); continue; }
            var name = Str(m["name"]);
            var prefix = $"{at}: mapping '{name}' (index {i})";
            if (string.IsNullOrWhiteSpace(name)) { errors.Add($"{at}: mapping at index {i}: name: is required"); continue; }
            // The name is the delivery's subscription key (D7): it must identify one mapping.
            if (!names.Add(name)) errors.Add($"{prefix}: name: another mapping already uses this name");
            foreach (var key in m.Select(p => p.Key).Where(k => !Keys.Contains(k)))
                errors.Add($"{prefix}: {key}: unknown key (known: {string.Join(", ", Keys)})");

            Fql? trigger = null;
            if (Str(m["trigger"]) is not { } text || text.Trim().Length == 0) errors.Add($"{prefix}: trigger: is required");
            else
            {
                try { trigger = Fql.ParseTrigger(text); }
                catch (FqlSyntaxException ex) { errors.Add($"{prefix}: trigger: {ex.Message}"); }
            }

            var actionKey = Str(m["action"]);
            if (actionKey is null || !actions.TryGetValue(actionKey, out var action))
            {
                errors.Add($"{prefix}: action: {(actionKey is null ? "is required" : $"'{actionKey}' is not an action")} " +
                           $"(actions: {string.Join(", ", actions.Keys)})");
                continue;
            }

            var fields = Fields(m["fields"], action, prefix, errors);
            if (trigger is not null && fields is not null) mappings.Add(new ActionMapping(name, trigger, action, fields));
        }
        return errors.Count > 0 ? new Result(null, errors) : new Result(mappings, []);
    }

    /// <summary>
    /// D20: a field left out takes the action's default mapping; a field mapped to <c>null</c> is not mapped at all.
    /// </summary>
    static JsonObject? Fields(JsonNode? node, ActionDefinition action, string prefix, List<string> errors)
    {
        if (node is not null and not JsonObject) { errors.Add($"{prefix}: fields: expected an object"); return null; }
        var custom = node as JsonObject ?? [];
        var before = errors.Count;
        foreach (var (key, value) in custom)
        {
            if (action.Field(key) is null)
            {
                errors.Add($"{prefix}: fields.{key}: not a field of '{action.Key}' (fields: {string.Join(", ", action.Fields.Select(f => f.Key))})");
                continue;
            }
            errors.AddRange(MappingKitValidator.Validate(value, $"fields.{key}").Select(e => $"{prefix}: {e}"));
        }
        if (errors.Count > before) return null;

        var effective = new JsonObject();
        foreach (var field in action.Fields)
        {
            if (!custom.TryGetPropertyValue(field.Key, out var mapped)) effective[field.Key] = field.Default?.DeepClone();
            else if (mapped is not null) effective[field.Key] = mapped.DeepClone();
        }
        return effective;
    }

    static Result Failed(string error) => new(null, [error]);

    static string? Str(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
