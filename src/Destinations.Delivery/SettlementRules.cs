using System.Globalization;
using Destinations.Core.Delivery;
using Microsoft.Extensions.Logging;

namespace Destinations.Delivery;

/// <summary>
/// What one step's answer makes of its delivery: progress (more steps follow, D11), delivered, or for a failure a hold
/// (401/403 pause the instance, D12), a dead letter (final 4xx, D12; too old and tried enough, D13) or a retry with backoff.
/// Every settlement carries the plan when it was mapped in this pass (D11).
/// </summary>
sealed class SettlementRules(DeliveryOptions options, RetryJitter jitter, TimeProvider time, ILogger logger)
{
    readonly RetrySchedule _schedule = new(options, jitter);

    public Settlement AfterStep(DeliveryAttempt attempt, AttemptResult result)
    {
        var d = attempt.Delivery;
        var plan = attempt.Plan;
        var step = attempt.StepsDone;
        if (!result.IsSuccess)
        {
            var request = plan[step];
            logger.LogWarning("Delivery {DeliveryId} step {Step} ({StepNumber}/{Steps}) failed: {Outcome}, {Answer}",
                d.Id, request.Step, step + 1, plan.Count, result.Outcome, Answer(result));
            return AfterFailure(d, RequestDescription.Of(request.Method, attempt.Destination.Describe(request), request.Body?.ToJsonString()), result, attempt.PlanToStore());
        }
        if (step + 1 < plan.Count)
            // D11: progress is stored per step, so a retry resends only the steps that have not succeeded.
            return new Settlement(d, SettlementKind.Progress) { StepsDone = step + 1, Plan = attempt.PlanToStore() };
        if (logger.IsEnabled(LogLevel.Debug))
            logger.LogDebug("Delivery {DeliveryId} delivered ({Steps} steps, attempt {Attempt})", d.Id, plan.Count, d.Attempts + 1);
        // A first-pass success read from the log (a negative id on both stores) leaves no row, so its plan is never written:
        // serializing it would cost as much as mapping the event. A row (a retry, a part-done plan) keeps its plan (D11).
        return new Settlement(d, SettlementKind.Delivered) { StepsDone = plan.Count, Plan = d.Id < 0 ? null : attempt.PlanToStore() };
    }

    /// <summary>Something unexpected threw while handling <paramref name="d"/>: a retry with backoff.</summary>
    public Settlement AfterUnexpectedError(ClaimedDelivery d, Exception ex)
    {
        logger.LogError(ex, "Delivery {DeliveryId} failed unexpectedly; retrying with backoff", d.Id);
        return AfterFailure(d, null, new AttemptResult(AttemptOutcome.Retry, null, null, null, $"unexpected error: {ex.GetType().Name}"), plan: null);
    }

    Settlement AfterFailure(ClaimedDelivery d, RequestDescription? request, AttemptResult failure, string? plan)
    {
        var attempts = d.Attempts + 1;
        var now = time.GetUtcNow();
        switch (failure.Outcome)
        {
            case AttemptOutcome.AuthFailure:
                // D12: the instance is paused (its health was recorded before this); the row waits, attempt not counted.
                logger.LogWarning("Delivery {DeliveryId} held: instance {Destination} is paused after HTTP {Status} (credentials); it waits for a canary to succeed",
                    d.Id, d.DestinationId, failure.StatusCode);
                return new Settlement(d, SettlementKind.Held) { Failure = failure, Request = request, Plan = plan };
            case AttemptOutcome.Final:
                var final = $"partner answered {failure.StatusCode?.ToString(CultureInfo.InvariantCulture) ?? "without a status"}: rejected, not retried";
                logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, final);
                return new Settlement(d, SettlementKind.Dead) { Reason = final, Failure = failure, Request = request, Plan = plan };
        }
        // D13: the age clock does not count time held by a paused instance.
        if (_schedule.ShouldGiveUp(d.CreatedAt + d.HeldFor, attempts, now))
        {
            var reason = $"gave up after {attempts} attempts over {FormatAge(now - d.CreatedAt - d.HeldFor)}: "
                + $"older than {FormatAge(options.MaxAge)} and tried at least {options.MinAttempts} times";
            logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, reason);
            return new Settlement(d, SettlementKind.Dead) { Reason = reason, Failure = failure, Request = request, Plan = plan };
        }
        var next = now + _schedule.DelayAfter(attempts, failure.RetryAfter);
        logger.LogInformation("Delivery {DeliveryId} attempt {Attempt} failed ({Outcome}); next attempt at {NextAttemptAt:O}",
            d.Id, attempts, failure.Outcome, next);
        return new Settlement(d, SettlementKind.RetryScheduled) { At = next, Failure = failure, Request = request, Plan = plan };
    }

    /// <summary>The outcome a written settlement means (not for <see cref="SettlementKind.Progress"/>: the delivery goes on).</summary>
    public static DeliveryOutcome OutcomeOf(SettlementKind kind) => kind switch
    {
        SettlementKind.Delivered => DeliveryOutcome.Delivered,
        SettlementKind.Filtered => DeliveryOutcome.Filtered,
        SettlementKind.Invalid => DeliveryOutcome.Invalid,
        SettlementKind.RetryScheduled => DeliveryOutcome.RetryScheduled,
        SettlementKind.Held => DeliveryOutcome.Held,
        SettlementKind.Dead => DeliveryOutcome.Dead,
        SettlementKind.Released => DeliveryOutcome.Released,
        SettlementKind.Postponed => DeliveryOutcome.Postponed,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "progress is not an outcome"),
    };

    /// <summary>What the partner answered, for the log: its status, or that no answer came and why.</summary>
    internal static string Answer(AttemptResult r)
    {
        if (r.StatusCode is not { } status) return $"no answer ({r.Error ?? "no error recorded"})";
        var http = $"HTTP {status.ToString(CultureInfo.InvariantCulture)}";
        return r.Error is { } error && error != http ? $"{http}: {error}" : http;
    }

    static string FormatAge(TimeSpan age) =>
        age.TotalHours >= 1 ? $"{age.TotalHours:0.#} h" : age.TotalMinutes >= 1 ? $"{age.TotalMinutes:0.#} min" : $"{age.TotalSeconds:0.#} s";
}
