using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Destinations.Core.Delivery;

namespace Destinations.Host.DryRun;

/// <summary>The answer of <c>POST /v1/dry-run</c>: what delivery would do with this event, per destination instance.</summary>
/// <param name="Sent">True with <c>?send=true</c>: the requests were sent and each carries the partner's answer.</param>
public sealed record DryRunAnswer(string Source, string MessageId, string Type, bool Sent, IReadOnlyList<DryRunDestination> Destinations);

/// <param name="Routed">False when the router filtered the event for this instance (D8); <see cref="Reason"/> says why.</param>
/// <param name="Reason">The filter reason's stable code (<see cref="FilterReason.Code"/>), as the metrics and stats count it.</param>
/// <param name="Sentence">The same reason in words.</param>
/// <param name="Detail">What about this event, when there is more to say (e.g. the call type that is not accepted).</param>
/// <param name="Settings">The instance's settings as the admin API shows them (secrets masked).</param>
/// <param name="Filter">When one of the instance's destination filters (drop, only, sample) dropped the event: which one.</param>
public sealed record DryRunDestination(
    string Destination,
    string Integration,
    bool Routed,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sentence,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail,
    IReadOnlyDictionary<string, string?> Settings,
    IReadOnlyList<DryRunDelivery> Deliveries)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DryRunFilter? Filter { get; init; }
}

/// <summary>One entry of an instance's <c>Filters</c> list.</summary>
/// <param name="Index">Its position in the list (<c>Filters[index]</c> in configuration).</param>
/// <param name="Kind"><c>drop</c>, <c>only</c> or <c>sample</c>.</param>
/// <param name="Condition">The FQL condition, or the sample's share and key (e.g. <c>10% by userId</c>).</param>
public sealed record DryRunFilter(int Index, string Kind, string Condition);

/// <summary>A field the instance's property filters removed from the event before it was mapped.</summary>
/// <param name="Filter">The filter's position in the instance's <c>Filters</c> list.</param>
/// <param name="Kind"><c>dropProperties</c> or <c>allowProperties</c>.</param>
/// <param name="Path">The removed field, e.g. <c>properties.email</c>.</param>
public sealed record DryRunRemovedField(int Filter, string Kind, string Path);

/// <summary>One delivery (D7): the mapper's outcome for a subscription and the plan of partner requests (D11).</summary>
/// <param name="Outcome">Send, Filtered or Invalid (the mapper's <see cref="MappingOutcome"/>).</param>
/// <param name="Reason">Filtered: the filter reason's stable code; Invalid: the rule the event breaks, in words.</param>
/// <param name="Sentence">Filtered: the filter reason in words.</param>
/// <param name="Detail">Filtered: what about this event, when there is more to say (e.g. the event name not allowed).</param>
public sealed record DryRunDelivery(
    string Subscription,
    string Outcome,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sentence,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail,
    IReadOnlyList<DryRunRequest> Requests)
{
    /// <summary>The fields the instance's property filters removed from the event this delivery was mapped from (none: absent).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<DryRunRemovedField>? Removed { get; init; }
}

/// <param name="Url">Where the request goes (<see cref="IDestination.Describe"/>); holds no secret. Auth headers are added
/// by the partner client and are never part of a plan, so they cannot show here.</param>
public sealed record DryRunRequest(
    string Step,
    string Method,
    string Url,
    JsonNode? Body,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DryRunResult? Result)
{
    /// <summary>Headers a mapping chose (Webhook); a secret shows as its <c>{{secrets.NAME}}</c> placeholder, never its value (D29).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}

/// <summary>The partner's answer to one request (send=true only).</summary>
/// <param name="Outcome">Succeeded, Retry, AuthFailure, Final (D12) — or NotSent when an earlier step failed.</param>
public sealed record DryRunResult(
    string Outcome,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? StatusCode,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Response,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error)
{
    public const string NotSent = "NotSent";

    public static DryRunResult From(AttemptResult r) => new(r.Outcome.ToString(), r.StatusCode, r.ResponseExcerpt, r.Error);

    public static DryRunResult Skipped() => new(NotSent, null, null, "not sent: an earlier step of the plan failed (the steps go in order and stop at the first failure)");
}
