using Destinations.Core.Delivery;

namespace Destinations.Core.Storage;

/// <summary>What one pass made of a claimed row (D11–D14, D25); see <see cref="Settlement"/>.</summary>
public enum SettlementKind
{
    /// <summary>The first <see cref="Settlement.StepsDone"/> steps of the plan succeeded and the next ones follow now (D11:
    /// progress stored per step). The row stays leased.</summary>
    Progress,
    Delivered,
    /// <summary>Mapper-time filter (D8): final, counted with its <see cref="Settlement.Reason"/>.</summary>
    Filtered,
    /// <summary>The event cannot be sent as it is: final, nothing sent (<see cref="Settlement.Reason"/>).</summary>
    Invalid,
    /// <summary>A failed attempt, counted, to try again at <see cref="Settlement.At"/>.</summary>
    RetryScheduled,
    /// <summary>D12: the instance is held (paused or breaker open): the row goes back without counting the attempt, keeping
    /// what the partner answered. It waits, still due, for the instance to resume.</summary>
    Held,
    /// <summary>Dead letter (<see cref="Settlement.Reason"/>). <see cref="Settlement.Failure"/> is the attempt that decided it
    /// (counted), or null when nothing was sent.</summary>
    Dead,
    /// <summary>Gives the row back without counting an attempt (shutdown).</summary>
    Released,
    /// <summary>D14/D25: a rate-limiter wait is not an attempt: the row goes back, due at <see cref="Settlement.At"/> at the earliest.</summary>
    Postponed,
}

/// <summary>One claimed row's outcome for <see cref="IDeliveryQueue.SettleAsync"/>.</summary>
/// <remarks>D11: the plan is mapped at the first attempt and stored with the row. It is not written on its own before the
/// first send: <see cref="Plan"/> carries it with the first write after that send (progress, delivered, retry, hold, dead),
/// which saves a statement per delivery. A crash between the send and that write leaves the row as it was claimed (no plan,
/// no attempt counted); its lease runs out and it is claimed, mapped and sent again: a re-delivery, as a lost outcome
/// always was (at-least-once). Once written, the plan is what every later attempt sends, and progress is still stored per
/// step before the next step goes, so a retry resends only the steps that have not succeeded.</remarks>
/// <param name="Kind">What happened.</param>
public sealed record Settlement(ClaimedDelivery Delivery, SettlementKind Kind)
{
    /// <summary>The plan (PlanSerializer JSON) mapped at this, the first, attempt, to store with the outcome (D11); null when
    /// the row's plan is stored already (or nothing was mapped).</summary>
    public string? Plan { get; init; }

    /// <summary>Progress and Delivered: steps of the plan that have succeeded (D11).</summary>
    public int StepsDone { get; init; }

    /// <summary>RetryScheduled: the next attempt; Postponed: not before this.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Filtered, Invalid, Dead: why.</summary>
    public string? Reason { get; init; }

    /// <summary>RetryScheduled, Held, Dead: the failed attempt (kept with the row for stats and a later dead letter).</summary>
    public AttemptResult? Failure { get; init; }

    /// <summary>The request that failed (kept for a later dead letter); null when unknown.</summary>
    public RequestDescription? Request { get; init; }

    /// <summary>The partner call this outcome came from (null when nothing was sent). The items of one shared call (D15)
    /// carry the same instance, so a store can keep one record per call, not per delivery.</summary>
    public PartnerCallRecord? Call { get; init; }
}

/// <summary>One request to a partner: when it was answered, the HTTP status (null without an answer) and the plan step.</summary>
/// <remarks>Bounded so that one row per call stays small: the answer is an excerpt, and the request body is kept only for
/// a failed call (a success's body would double the storage of every delivered batch; the mapper can re-derive it).</remarks>
public sealed record PartnerCallRecord(DateTimeOffset At, int? Status, string Step)
{
    /// <summary>Characters of the partner's answer kept per call.</summary>
    public const int AnswerLength = 300;

    /// <summary>Characters of a failed call's request body kept per call.</summary>
    public const int BodyLength = RequestDescription.MaxBodyLength;

    /// <summary>The HTTP method; null where the store has only the step (calls recorded before methods were kept).</summary>
    public string? Method { get; init; }

    /// <summary>The absolute URL as <see cref="IDestination.Describe"/> gives it: secrets stay placeholders.</summary>
    public string? Url { get; init; }

    /// <summary>An excerpt of the partner's answer as the client scrubbed it, or why no answer came; null when the answer
    /// was not read (a success).</summary>
    public string? Answer { get; init; }

    /// <summary>The request body, only for a failed call (non-2xx or no answer); null for a success.</summary>
    public string? Body { get; init; }

    /// <summary>The record of a call sent as <paramref name="url"/> with <paramref name="request"/>'s method and body, and
    /// its classified result.</summary>
    /// <param name="body">The body that was sent, for a failed call; null when unknown (a shared call's batch body).</param>
    public static PartnerCallRecord Of(DateTimeOffset at, string step, string method, Uri url, string? body, AttemptResult result) =>
        new(at, result.StatusCode, step)
        {
            Method = method,
            Url = url.ToString(),
            Answer = Cut(result.ResponseExcerpt ?? (result.StatusCode is null ? result.Error : null), AnswerLength),
            Body = result.IsSuccess ? null : Cut(body, BodyLength),
        };

    /// <summary>At most <paramref name="length"/> characters, with "…" after a cut.</summary>
    public static string? Cut(string? text, int length)
    {
        if (string.IsNullOrEmpty(text)) return null;
        if (text.Length <= length) return text;
        // Never half a surrogate pair: the cut text is shown and stored as valid UTF-16.
        if (char.IsHighSurrogate(text[length - 1])) length--;
        return string.Concat(text.AsSpan(0, length), "…");
    }
}
