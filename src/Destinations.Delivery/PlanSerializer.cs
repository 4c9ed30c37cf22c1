using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;

namespace Destinations.Delivery;

/// <summary>The stored form of a delivery plan (D11): a JSON array of {step, method, path, body}, and "headers" (an array of
/// [name, value] pairs) when the step has mapped headers. Holds no secret (D29).</summary>
public static class PlanSerializer
{
    /// <summary>Written straight to UTF-8 (no copy of the bodies): the same text as building the JSON array of nodes.</summary>
    public static string Serialize(IReadOnlyList<PartnerRequest> plan)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var r in plan)
            {
                w.WriteStartObject();
                w.WriteString("step", r.Step);
                w.WriteString("method", r.Method);
                w.WriteString("path", r.Path);
                w.WritePropertyName("body");
                if (r.Body is null) w.WriteNullValue();
                else r.Body.WriteTo(w);
                if (r.Headers is { } headers)
                {
                    w.WriteStartArray("headers");
                    foreach (var (name, value) in headers)
                    {
                        w.WriteStartArray();
                        w.WriteStringValue(name);
                        w.WriteStringValue(value);
                        w.WriteEndArray();
                    }
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static IReadOnlyList<PartnerRequest> Deserialize(string json)
    {
        var array = JsonNode.Parse(json) as JsonArray ?? throw new FormatException("stored plan is not a JSON array");
        return array.Select(n => n as JsonObject ?? throw new FormatException("stored plan step is not a JSON object"))
            .Select(o => new PartnerRequest(
                Required(o, "step"), Required(o, "method"), Required(o, "path"), o["body"]?.DeepClone())
            {
                Headers = o["headers"] is JsonArray h
                    ? h.Select(p => new KeyValuePair<string, string>(p![0]!.GetValue<string>(), p[1]!.GetValue<string>())).ToList()
                    : null,
            })
            .ToList();
    }

    static string Required(JsonObject o, string name) =>
        o[name]?.GetValue<string>() ?? throw new FormatException($"stored plan step has no '{name}'");
}
