using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;

namespace Destinations.Selligent;

/// <summary>
/// Reads a 2xx SMC answer: a 200 can still be a failure (docs/partners/selligent.md "result_code"). Succeeded → success;
/// PartiallySucceeded → the rows in <c>invalid_records</c> fail (final), the rest succeed; Failed / ValidationFailed /
/// NotFound → final; ServiceUnavailable / InternalServerError → retry (D12). Pure, so every case is tested directly.
/// </summary>
public static class SelligentLoadResult
{
    /// <summary>One result per loaded data row, in row order.</summary>
    public static IReadOnlyList<AttemptResult> ForRows(int status, string? body, int rowCount)
    {
        var json = Parse(body);
        var code = json?["result_code"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        // No result_code (empty or non-JSON body): HTTP said 2xx and there is nothing to contradict it (D12).
        if (code is null) return Same(rowCount, Success(status));
        return code.ToLowerInvariant() switch
        {
            "succeeded" => Same(rowCount, Success(status)),
            "partiallysucceeded" => Partial(status, json!, body!, rowCount),
            "failed" or "validationfailed" or "notfound" =>
                Same(rowCount, new AttemptResult(AttemptOutcome.Final, status, Excerpt(body), null, $"SMC result_code {code}")),
            "serviceunavailable" or "internalservererror" =>
                Same(rowCount, new AttemptResult(AttemptOutcome.Retry, status, Excerpt(body), null, $"SMC result_code {code}")),
            // Unknown code: retrying is safe because every load is an upsert on its key field; the queue gives up in time (D13).
            _ => Same(rowCount, new AttemptResult(AttemptOutcome.Retry, status, Excerpt(body), null, $"SMC result_code {code} is not a known code")),
        };
    }

    /// <summary>
    /// A static segment add/remove: as a one-row load, and a user missing from the userlist
    /// (<c>number_of_records_not_found</c> &gt; 0) is a final failure with that reason (docs/partners/selligent.md "Static segment add").
    /// </summary>
    public static AttemptResult ForSegment(int status, string? body, string userList, string matchKey)
    {
        var result = ForRows(status, body, 1)[0];
        if (!result.IsSuccess) return result;
        var notFound = Integer(Parse(body)?["number_of_records_not_found"]) ?? 0;
        return notFound > 0
            ? new AttemptResult(AttemptOutcome.Final, status, Excerpt(body), null,
                $"SMC found no record in userlist '{userList}' whose {matchKey} matches the userId (number_of_records_not_found = {notFound})")
            : result;
    }

    /// <summary>
    /// <c>invalid_records[].record_index</c> → 0-based position in our rows, or null when it does not point at one.
    /// SMC does not document the base: we assume 1-based over the data rows, the header row excluded (README).
    /// </summary>
    public static int? RowOf(JsonNode? recordIndex, int rowCount) =>
        Integer(recordIndex) is { } i && i >= 1 && i <= rowCount ? (int)(i - 1) : null;

    /// <summary>A JSON integer however the node was made (parsed or created); null for anything else, e.g. "1" or 1.5.</summary>
    static long? Integer(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && long.TryParse(v.ToJsonString(), out var i) ? i : null;

    static IReadOnlyList<AttemptResult> Partial(int status, JsonObject json, string body, int rowCount)
    {
        var failures = new Dictionary<int, List<JsonNode>>();
        foreach (var record in (json["invalid_records"] as JsonArray ?? []).OfType<JsonObject>())
            if (RowOf(record["record_index"], rowCount) is { } row)
            {
                if (!failures.TryGetValue(row, out var list)) failures[row] = list = [];
                list.Add(record);
            }

        if (failures.Count == 0)
        {
            var failed = Integer(json["number_of_failed_records"]) ?? 0;
            // Failures we cannot place: retry every row (an idempotent upsert) rather than mark good rows failed or bad rows done.
            return failed > 0
                ? Same(rowCount, new AttemptResult(AttemptOutcome.Retry, status, Excerpt(body), null,
                    "SMC result_code PartiallySucceeded, but invalid_records name no row of this load"))
                : Same(rowCount, Success(status));
        }

        var results = new AttemptResult[rowCount];
        for (var i = 0; i < rowCount; i++)
            results[i] = failures.TryGetValue(i, out var records)
                ? new AttemptResult(AttemptOutcome.Final, status, Excerpt(new JsonArray([.. records.Select(r => r.DeepClone())]).ToJsonString()), null,
                    "SMC rejected the row: " + string.Join("; ", records.Select(Describe)))
                : Success(status);
        return results;
    }

    static string Describe(JsonNode record) =>
        $"{Str(record["field_name"]) ?? "(no field)"}: {Str(record["message"]) ?? "(no message)"}" +
        (Str(record["validation_code"]) is { } code ? $" ({code})" : "");

    static string? Str(JsonNode? node) => node is JsonValue v ? v.ToString() : null;

    static AttemptResult Success(int status) => new(AttemptOutcome.Succeeded, status, null, null, null);

    static IReadOnlyList<AttemptResult> Same(int count, AttemptResult result) => Enumerable.Repeat(result, count).ToArray();

    static JsonObject? Parse(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        try { return JsonNode.Parse(body) as JsonObject; }
        catch (JsonException) { return null; }
    }

    internal static string? Excerpt(string? body) =>
        string.IsNullOrEmpty(body) ? null : body.Length > ResponseClassifier.ExcerptLength ? body[..ResponseClassifier.ExcerptLength] : body;
}
