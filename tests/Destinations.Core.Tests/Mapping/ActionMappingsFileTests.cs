using System.Text.Json.Nodes;
using Destinations.Core.Mapping;

namespace Destinations.Core.Tests.Mapping;

public sealed class ActionMappingsFileTests
{
    static readonly ActionDefinition Greet = new("greet", "Greet",
    [
        ActionField.Of("userId", ActionFieldType.String, true, """{"@path":"$.userId"}"""),
        ActionField.Of("label", ActionFieldType.String, false, """{"@path":"$.event"}"""),
        ActionField.Of("traits", ActionFieldType.Object, false, """{"@path":"$.traits"}"""),
    ]);

    static readonly Dictionary<string, ActionDefinition> Actions = new() { ["greet"] = Greet };

    static ActionMappingsFile.Result Parse(string json, int max = 50) =>
        ActionMappingsFile.Parse(JsonNode.Parse(json), "Destinations[2].MappingsFile", Actions, max);

    [Fact]
    public void Left_out_fields_take_the_default_and_null_removes_one_D20()
    {
        var result = Parse("""[{"name":"A","trigger":"type = \"track\"","action":"greet","fields":{"label":{"@template":"hi"},"traits":null}}]""");
        Assert.Empty(result.Errors);
        var m = Assert.Single(result.Mappings!);
        Assert.Equal("A", m.Name);
        Assert.Equal("type = \"track\"", m.Trigger.Text);
        Assert.Equal("""{"userId":{"@path":"$.userId"},"label":{"@template":"hi"}}""", m.Fields.ToJsonString());
    }

    [Fact]
    public void Every_problem_is_reported_with_mapping_name_index_and_position()
    {
        var result = Parse("""
            [{"name":"A","trigger":"type = \"track\")","action":"greet"},
             {"name":"A","trigger":"type = \"page\"","action":"shout"},
             {"name":"B","trigger":"type = \"page\"","action":"greet","fields":{"colour":"x","label":{"@upper":"x"}},"enabled":true},
             {"trigger":"type = \"page\"","action":"greet"}]
            """);
        Assert.Equal(
        [
            "Destinations[2].MappingsFile: mapping 'A' (index 0): trigger: unexpected token ')' at 15",
            "Destinations[2].MappingsFile: mapping 'A' (index 1): name: another mapping already uses this name",
            "Destinations[2].MappingsFile: mapping 'A' (index 1): action: 'shout' is not an action (actions: greet)",
            "Destinations[2].MappingsFile: mapping 'B' (index 2): enabled: unknown key (known: name, trigger, action, fields)",
            "Destinations[2].MappingsFile: mapping 'B' (index 2): fields.colour: not a field of 'greet' (fields: userId, label, traits)",
            "Destinations[2].MappingsFile: mapping 'B' (index 2): fields.label.@upper: unknown directive '@upper' (supported: @path, @template, @literal, @if, @case, @replace, @json, @merge, @arrayPath, @flatten, @transform, @excludeWhenNull)",
            "Destinations[2].MappingsFile: mapping at index 3: name: is required",
        ], result.Errors);
        Assert.Null(result.Mappings);
    }

    [Fact]
    public void More_mappings_than_allowed_is_an_error()
    {
        var list = new JsonArray();
        for (var i = 0; i < 3; i++) list.Add(new JsonObject { ["name"] = $"m{i}", ["trigger"] = "type = \"track\"", ["action"] = "greet" });
        Assert.Equal(["Destinations[2].MappingsFile: holds 3 mappings; an instance may have at most 2"], Parse(list.ToJsonString(), max: 2).Errors);
        Assert.Empty(Parse(list.ToJsonString(), max: 3).Errors);
    }

    [Fact]
    public void File_problems_are_named()
    {
        var dir = Directory.CreateTempSubdirectory("mappings").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "bad.json"), "[{\"name\": }]");
            File.WriteAllText(Path.Combine(dir, "obj.json"), "{}");
            string Load(string f) => string.Join("|", ActionMappingsFile.Load(f, dir, "D[0].MappingsFile", Actions, 50).Errors);
            Assert.Equal($"D[0].MappingsFile: the file 'none.json' does not exist (looked for {Path.Combine(dir, "none.json")})", Load("none.json"));
            Assert.StartsWith("D[0].MappingsFile: 'bad.json' is not valid JSON: line 1", Load("bad.json"));
            Assert.Equal("D[0].MappingsFile: expected a JSON array of mappings [{\"name\", \"trigger\", \"action\", \"fields\"}]", Load("obj.json"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("""{"type":"track","userId":"u1","event":"E","traits":{"a":1}}""", """{"userId":"u1","label":"E","traits":{"a":1}}""")]
    [InlineData("""{"type":"track","userId":"u1","event":"","traits":null}""", """{"userId":"u1"}""")]   // "" and null removed
    [InlineData("""{"type":"track","userId":42}""", """{"userId":"42"}""")]                           // scalar coerced to string
    public void Payloads_drop_nulls_and_empty_strings(string e, string expected)
    {
        var mapping = ActionMapping.Preset("p", "type = \"track\"", Greet);
        var result = ActionPayload.Build(mapping, JsonNode.Parse(e)!.AsObject());
        Assert.Null(result.InvalidReason);
        Assert.Equal(expected, result.Payload!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"type":"track","event":"E"}""", "missing the required field 'userId'")]
    [InlineData("""{"type":"track","userId":""}""", "missing the required field 'userId'")]
    [InlineData("""{"type":"track","userId":{"id":1}}""", "the field 'userId' must be a string, got an object")]
    [InlineData("""{"type":"track","userId":"u","traits":[1]}""", "the field 'traits' must be an object, got an array")]
    [InlineData("""{"type":"track","userId":"u","traits":"x"}""", "the field 'traits' must be an object, got a string")]
    public void Required_and_type_problems_make_the_payload_invalid(string e, string reason)
    {
        var result = ActionPayload.Build(ActionMapping.Preset("p", "type = \"track\"", Greet), JsonNode.Parse(e)!.AsObject());
        Assert.Null(result.Payload);
        Assert.Equal(reason, result.InvalidReason);
    }
}
