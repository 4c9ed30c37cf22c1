using Destinations.Core.Mapping;
using T = Destinations.Core.Mapping.ActionFieldType;

namespace Destinations.Webhook;

/// <summary>
/// The one action, <c>send</c>, declared as data with the keys, types and defaults of Segment's public source
/// (segmentio/action-destinations, packages/destination-actions/src/destinations/webhook/send/index.ts).
/// </summary>
public static class WebhookActions
{
    public static readonly ActionDefinition Send = new("send", "Send",
    [
        new ActionField("url", T.String, true, null),
        ActionField.Of("method", T.String, true, "\"POST\""),
        ActionField.Of("batch_size", T.Number, false, "0"),
        new ActionField("headers", T.Object, false, null),
        ActionField.Of("data", T.Object, false, """{"@path": "$."}"""),
        ActionField.Of("batch_keys", T.StringList, false, """["url", "method", "headers"]"""),
    ]);

    public static readonly IReadOnlyDictionary<string, ActionDefinition> ByKey =
        new Dictionary<string, ActionDefinition>(StringComparer.Ordinal) { [Send.Key] = Send };

    /// <summary>The methods Segment's field offers (its <c>choices</c>; anything else fails its schema check).</summary>
    public static readonly IReadOnlyList<string> Methods = ["POST", "PUT", "PATCH"];
}
