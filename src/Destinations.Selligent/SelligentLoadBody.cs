using System.Text.Json.Nodes;

namespace Destinations.Selligent;

/// <summary>
/// The <c>data/load</c> body: an array of arrays, first the column names, then one value row per event row
/// (docs/partners/selligent.md "Load rows"). Columns are the union over the rows in first-seen order; a row without a column
/// gets null there. No <c>fields</c> query parameter is sent, so the first row is read as the header.
/// </summary>
public static class SelligentLoadBody
{
    public static JsonArray Build(IReadOnlyList<JsonObject> rows)
    {
        var columns = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in rows)
            foreach (var (name, _) in row)
                if (seen.Add(name)) columns.Add(name);

        var body = new JsonArray(new JsonArray(columns.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()));
        foreach (var row in rows)
            body.Add(new JsonArray(columns.Select(c => row.TryGetPropertyValue(c, out var v) ? v?.DeepClone() : null).ToArray()));
        return body;
    }
}
