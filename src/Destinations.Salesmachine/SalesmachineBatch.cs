using System.Text.Json.Nodes;
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

    /// <summary>The one <c>/v1/batch</c> request for these items (bodies copied, each with its method).</summary>
    public static PartnerRequest Request(IReadOnlyList<PartnerRequest> requests)
    {
        var items = new JsonArray();
        foreach (var r in requests)
        {
            var item = (JsonObject)r.Body!.DeepClone();
            item["method"] = MethodOf(r) ?? throw new ArgumentException($"step '{r.Step}' ({r.Path}) cannot go in a Salesmachine batch", nameof(requests));
            items.Add(item);
        }
        return PartnerRequest.Post(Key, SalesmachineApi.BatchPath, items);
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
