namespace Destinations.Core.Delivery;

public enum MappingOutcome
{
    /// <summary>Send these requests, in order (D11 in docs/decisions.md).</summary>
    Send,
    /// <summary>Deliberately not sent (a setting, a missing id): not a failure, counted with its <see cref="FilterReason"/> code (D8).</summary>
    Filtered,
    /// <summary>The event cannot be sent as it is (a required field is missing): final, nothing sent.</summary>
    Invalid,
}

/// <summary>What a pure mapper returns for (event, settings): partner requests, or why nothing is sent.</summary>
/// <param name="Reason">Filtered: the <see cref="FilterReason.Code"/> (what the store and the stats hold); Invalid: the rule
/// the event breaks, in words; Send: null.</param>
public sealed record MappingResult(MappingOutcome Outcome, IReadOnlyList<PartnerRequest> Requests, string? Reason)
{
    /// <summary>Filtered: the catalogue entry whose code is <see cref="Reason"/>.</summary>
    public FilterReason? Filter { get; init; }

    /// <summary>Filtered: what about this event made it so (e.g. the event name not allowed), when there is more to say.</summary>
    public string? Detail { get; init; }

    public static MappingResult Send(params PartnerRequest[] requests) =>
        requests.Length == 0 ? throw new ArgumentException("a Send result needs at least one request", nameof(requests))
                             : new(MappingOutcome.Send, requests, null);

    public static MappingResult Filtered(FilterReason reason, string? detail = null) =>
        new(MappingOutcome.Filtered, [], reason.Code) { Filter = reason, Detail = detail };

    public static MappingResult Invalid(string reason) => new(MappingOutcome.Invalid, [], reason);
}
