using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Destinations.Core.Delivery;

namespace Destinations.Salesmachine;

/// <summary>
/// Salesmachine's <c>POST /v1/batch</c> (docs/partners/salesmachine.md "Batch"; D15): a JSON array of the single-call bodies, each with
/// <c>"method": "contact" | "account" | "event"</c>. 2xx → every item succeeded; 5xx/429 (and timeouts) → every item is
/// retried; 401/403 → every item is an auth failure (the instance pauses, D12); any other 4xx → the items are resent one by
/// one so only the bad ones fail.
/// </summary>
public static class SalesmachineBatch
{
    public const string Key = "batch";

    /// <summary>The batch <c>method</c> of a request, or null when it cannot go in a batch (alias, ping).</summary>
    public static string? MethodOf(PartnerRequest request) =>
        !string.Equals(request.Method, "POST", StringComparison.OrdinalIgnoreCase) || request.Body is not JsonObject ? null
        : request.Path switch
        {
            SalesmachineApi.ContactPath => "contact",
            SalesmachineApi.AccountPath => "account",
            SalesmachineApi.EventPath => "event",
            _ => null,
        };

    /// <summary>The one <c>/v1/batch</c> request for these items: each body with its method, written straight from the plan's
    /// bodies when the request is serialized (copying each body into a new array cost as much as writing it).</summary>
    public static PartnerRequest Request(IReadOnlyList<PartnerRequest> requests)
    {
        var items = new (string Method, JsonObject Body)[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            var r = requests[i];
            var method = MethodOf(r) ?? throw new ArgumentException($"step '{r.Step}' ({r.Path}) cannot go in a Salesmachine batch", nameof(requests));
            items[i] = (method, (JsonObject)r.Body!);
        }
        return PartnerRequest.Post(Key, SalesmachineApi.BatchPath, JsonValue.Create(new BatchItems(items), BatchItemsInfo)!);
    }

    static readonly JsonTypeInfo<BatchItems> BatchItemsInfo = (JsonTypeInfo<BatchItems>)new JsonSerializerOptions
    {
        Converters = { new BatchItemsConverter() },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    }.GetTypeInfo(typeof(BatchItems));

    /// <summary>The items of one batch call; serialized as the JSON array Salesmachine takes.</summary>
    sealed record BatchItems(IReadOnlyList<(string Method, JsonObject Body)> Items);

    /// <summary>Writes each item's body, then its <c>method</c> (the plan's bodies are not changed).</summary>
    sealed class BatchItemsConverter : JsonConverter<BatchItems>
    {
        public override BatchItems Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("a Salesmachine batch is only written");

        public override void Write(Utf8JsonWriter writer, BatchItems value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            foreach (var (method, body) in value.Items)
            {
                writer.WriteStartObject();
                foreach (var (name, node) in body)
                {
                    if (name == "method") continue;
                    writer.WritePropertyName(name);
                    if (node is null) writer.WriteNullValue();
                    else node.WriteTo(writer, options);
                }
                writer.WriteString("method", method);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
    }

    /// <param name="send">Sends one request with the instance's client and settings.</param>
    public static async Task<IReadOnlyList<AttemptResult>> SendAsync(IReadOnlyList<PartnerRequest> requests, Func<PartnerRequest, Task<AttemptResult>> send)
    {
        if (requests.Count == 0) return [];
        var batch = await send(Request(requests)).ConfigureAwait(false);
        if (batch.Outcome != AttemptOutcome.Final)
            return requests.Select(_ => batch).ToList();
        // D15: a non-auth 4xx says something in the batch is bad, not which item: resend them one by one.
        var results = new List<AttemptResult>(requests.Count);
        foreach (var r in requests) results.Add(await send(r).ConfigureAwait(false));
        return results;
    }
}
