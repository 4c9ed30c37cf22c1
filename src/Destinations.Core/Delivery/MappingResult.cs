namespace Destinations.Core.Delivery;

public enum MappingOutcome
{
    /// <summary>Send these requests, in order (D11).</summary>
    Send,
    /// <summary>Deliberately not sent (a setting, a missing id): not a failure, counted with its reason (D8).</summary>
    Filtered,
    /// <summary>The event cannot be sent as it is (a required field is missing): final, nothing sent.</summary>
    Invalid,
}

/// <summary>What a pure mapper returns for (event, settings): partner requests, or why nothing is sent.</summary>
public sealed record MappingResult(MappingOutcome Outcome, IReadOnlyList<PartnerRequest> Requests, string? Reason)
{
    public static MappingResult Send(params PartnerRequest[] requests) =>
        requests.Length == 0 ? throw new ArgumentException("a Send result needs at least one request", nameof(requests))
                             : new(MappingOutcome.Send, requests, null);

    public static MappingResult Filtered(string reason) => new(MappingOutcome.Filtered, [], reason);

    public static MappingResult Invalid(string reason) => new(MappingOutcome.Invalid, [], reason);
}
