using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using Destinations.Core.Segment;

namespace Destinations.Webhook;

/// <summary>
/// Pure: event + mapping → the one request of Segment's <c>send</c> action (docs/partners/webhook.md "The send action"), or why
/// none is sent. The request's path is the absolute URL and its body the mapped <c>data</c>; secrets stay placeholders (D29).
/// A batched mapping (<c>batch_size</c> &gt; 0) names its batch in the step: <c>batch {size} {key}</c>, where the key is a hash of
/// the mapping's name and the values of its <c>batch_keys</c>, so only requests that Segment would batch together share a
/// partner call: Segment batches each subscription (mapping) on its own and groups within it by <c>batch_keys</c>
/// (action-destinations README "Batch Keys"; <c>onSubscription</c> in packages/core/src/destination-kit/index.ts calls
/// <c>executeBatch</c> once per subscription with that subscription's events only).
/// </summary>
public static class WebhookRequests
{
    public const string SendStep = "send";
    const string BatchStepPrefix = "batch ";

    public static MappingResult Map(SegmentEvent e, ActionMapping mapping, WebhookSettings settings)
    {
        var built = Utf8ActionPayload.Build(mapping, e, CopiedWhole);
        if (built.Payload is not { } p) return MappingResult.Invalid(built.InvalidReason!);

        var url = WebhookSecrets.Restore(p["url"]!.GetValue<string>());
        if (!WebhookUrls.IsUri(url))
            return MappingResult.Invalid("the url is not a valid URI: Segment's url field takes RFC 3986 text (percent-encode spaces and non-ASCII characters)");
        if (WebhookUrls.Check(url, settings) is { } urlProblem) return MappingResult.Invalid(urlProblem);

        var method = p["method"]!.GetValue<string>();
        if (!WebhookActions.Methods.Contains(method, StringComparer.Ordinal))
            return MappingResult.Invalid($"the method must be one of {string.Join(", ", WebhookActions.Methods)}");

        List<KeyValuePair<string, string>>? headers = null;
        if (p["headers"] is JsonObject mappedHeaders)
        {
            headers = [];
            foreach (var (rawName, rawValue) in mappedHeaders)
            {
                var name = WebhookSecrets.Restore(rawName);
                // String(value), as the Headers constructor converts it; HTTP trims the value's surrounding whitespace.
                var value = WebhookSecrets.Restore(rawValue is null ? "null" : MappingKitText.JsString(rawValue)).Trim(' ', '\t', '\r', '\n');
                if (!IsToken(name)) return MappingResult.Invalid($"the header name '{Printable(name)}' is not a valid HTTP header name");
                if (!value.All(c => c is '\t' or >= ' ' and <= '~'))
                    return MappingResult.Invalid($"the header '{name}' has a value that is not printable ASCII (Segment's headers take ASCII only)");
                headers.Add(new(name, value));
            }
        }

        var batchSize = 0;
        if (p["batch_size"] is { } size)
        {
            var number = size.GetValue<double>();
            if (number > WebhookApi.MaxBatchSize)
                return MappingResult.Invalid($"batch_size may be at most {WebhookApi.MaxBatchSize:N0}");
            batchSize = number >= 1 ? (int)number : 0;
        }

        var step = SendStep;
        if (batchSize > 0)
        {
            var keys = p["batch_keys"] is JsonArray list ? list.Select(k => k!.GetValue<string>()) : ["url", "method", "headers"];
            step = $"{BatchStepPrefix}{batchSize.ToString(CultureInfo.InvariantCulture)} {BatchKey(mapping.Name, keys, url, method, headers, p)}";
        }

        // The payload is this mapping's own: its data becomes the body as it is (a copy would build the DOM of a copied value).
        var data = p["data"];
        p.Remove("data");
        return MappingResult.Send(new PartnerRequest(step, method, url, data) { Headers = headers });
    }

    /// <summary><c>data</c> is only written (JsJson), so it may hold values that write the event's bytes; url, method, headers,
    /// batch_size and batch_keys are read.</summary>
    static bool CopiedWhole(string field) => field == "data";

    /// <summary>The size of a batched request's batch; 0 for a request that goes alone.</summary>
    public static int BatchSize(PartnerRequest request) =>
        request.Step.StartsWith(BatchStepPrefix, StringComparison.Ordinal)
        && int.TryParse(request.Step.AsSpan(BatchStepPrefix.Length, request.Step.IndexOf(' ', BatchStepPrefix.Length) - BatchStepPrefix.Length),
            NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : 0;

    public static bool IsBatched(PartnerRequest request) => BatchSize(request) > 0;

    static string BatchKey(string mappingName, IEnumerable<string> keys, string url, string method, List<KeyValuePair<string, string>>? headers, JsonObject payload)
    {
        // The mapping first: two mappings with equal batch_keys values are two subscriptions in Segment, so two batches.
        var sb = new StringBuilder().Append(mappingName).Append('\u0000');
        foreach (var key in keys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            sb.Append(key).Append('\u0000');
            sb.Append(key switch
            {
                "url" => url,
                "method" => method,
                // Header names are compared case-insensitively, values exactly.
                "headers" => string.Join('\u0001', (headers ?? []).Select(h => h.Key.ToLowerInvariant() + ":" + h.Value).Order(StringComparer.Ordinal)),
                _ => JsJson.Stringify(payload[key]),
            }).Append('\u0000');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..16];
    }

    static bool IsToken(string name) =>
        name.Length > 0 && name.All(c => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'
            or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~');

    static string Printable(string s) => new(s.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
}
