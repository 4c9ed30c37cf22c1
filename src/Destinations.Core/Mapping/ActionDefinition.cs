using System.Text.Json.Nodes;

namespace Destinations.Core.Mapping;

public enum ActionFieldType
{
    /// <summary>A string; a mapped number or boolean is taken as its text (Segment coerces scalars to the field's type).</summary>
    String,
    /// <summary>A JSON object.</summary>
    Object,
    /// <summary>A number; a numeric string is taken as its number (Segment's schema validation coerces it).</summary>
    Number,
    /// <summary>A list of strings (Segment's <c>multiple: true</c> string field); a single string is a list of one.</summary>
    StringList,
}

/// <summary>One field of an action, with its default mapping in mapping-kit notation (Segment's <c>default</c>).</summary>
public sealed record ActionField(string Key, ActionFieldType Type, bool Required, JsonNode? Default)
{
    /// <summary>Parses the default mapping from its JSON text, so definitions read like Segment's (<c>{"@path": "$.userId"}</c>).</summary>
    public static ActionField Of(string key, ActionFieldType type, bool required, string defaultMapping) =>
        new(key, type, required, JsonNode.Parse(defaultMapping));
}

/// <summary>
/// A destination action declared as data (style.md: Segment's action-destinations): its key, the trigger it is preset with,
/// and its fields. A destination turns the resolved payload into partner requests.
/// </summary>
public sealed record ActionDefinition(string Key, string Title, IReadOnlyList<ActionField> Fields)
{
    public ActionField? Field(string key) => Fields.FirstOrDefault(f => f.Key == key);

    /// <summary>The default mappings of every field, as a preset uses them.</summary>
    public JsonObject DefaultFields()
    {
        var fields = new JsonObject();
        foreach (var f in Fields) fields[f.Key] = f.Default?.DeepClone();
        return fields;
    }
}

/// <summary>
/// One subscription of an Actions instance (D7, D20): a unique name (the delivery's subscription key), a parsed trigger, the
/// action, and the effective field mappings (defaults filled in, fields mapped to <c>null</c> left out).
/// </summary>
public sealed record ActionMapping(string Name, Fql Trigger, ActionDefinition Action, JsonObject Fields)
{
    /// <summary>A preset: the action's default mappings under a fixed trigger.</summary>
    public static ActionMapping Preset(string name, string trigger, ActionDefinition action) =>
        new(name, Fql.ParseTrigger(trigger), action, action.DefaultFields());
}
