using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Delivery;

/// <summary>What became of one claimed delivery in one pass.</summary>
public enum DeliveryOutcome { Delivered, Filtered, Invalid, RetryScheduled, Dead, Released, LeaseLost }

/// <summary>
/// Processes one claimed delivery: map at the first attempt and keep the plan (D8, D11), send the steps not yet done in
/// order, classify failures (D12), back off or give up (D13). Never throws for a bad row: anything unexpected is retried
/// with backoff, and the row is left to its lease if even that cannot be written.
/// </summary>
public sealed class DeliveryProcessor(
    IDeliveryQueue queue,
    DestinationRegistry registry,
    IOptions<DeliveryOptions> options,
    RetryJitter jitter,
    TimeProvider time,
    ILogger<DeliveryProcessor> logger)
{
    readonly RetrySchedule _schedule = new(options.Value, jitter);

    public async Task<DeliveryOutcome> ProcessAsync(ClaimedDelivery d, CancellationToken ct)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["messageId"] = d.MessageId, ["destination"] = d.DestinationId, ["deliveryId"] = d.Id,
        });
        try
        {
            // A long batch may outlive the lease; another worker may own the row by now, so do not send it twice.
            if (time.GetUtcNow() >= d.LeaseUntil)
            {
                logger.LogWarning("Lease ran out before delivery {DeliveryId} was processed; leaving it to the next claim", d.Id);
                return DeliveryOutcome.LeaseLost;
            }
            return await ProcessLeasedAsync(d, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await TryAsync(() => queue.ReleaseAsync(d, CancellationToken.None)).ConfigureAwait(false);
            return DeliveryOutcome.Released;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Delivery {DeliveryId} failed unexpectedly; retrying with backoff", d.Id);
            var failure = new AttemptResult(AttemptOutcome.Retry, null, null, null, $"unexpected error: {ex.GetType().Name}");
            return await TryAsync(() => FailAsync(d, failure, CancellationToken.None)).ConfigureAwait(false) ?? DeliveryOutcome.LeaseLost;
        }
    }

    async Task<DeliveryOutcome> ProcessLeasedAsync(ClaimedDelivery d, CancellationToken ct)
    {
        if (registry.Find(d.DestinationId) is not { } destination)
        {
            var reason = $"destination instance '{d.DestinationId}' is no longer configured";
            logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, reason);
            return Settled(await queue.MarkDeadAsync(d, reason, null, ct).ConfigureAwait(false), DeliveryOutcome.Dead);
        }

        IReadOnlyList<PartnerRequest> plan;
        if (d.Plan is null)
        {
            // D8/D11: mapping runs once, at the first dispatch attempt, with the settings of that moment.
            var mapping = destination.Map(SegmentEvent.FromStored(d.EventBody), d.Subscription);
            switch (mapping.Outcome)
            {
                case MappingOutcome.Filtered:
                    logger.LogInformation("Delivery {DeliveryId} filtered: {Reason}", d.Id, mapping.Reason);
                    return Settled(await queue.MarkFilteredAsync(d, mapping.Reason ?? "filtered", ct).ConfigureAwait(false), DeliveryOutcome.Filtered);
                case MappingOutcome.Invalid:
                    logger.LogWarning("Delivery {DeliveryId} invalid: {Reason}", d.Id, mapping.Reason);
                    return Settled(await queue.MarkInvalidAsync(d, mapping.Reason ?? "invalid", ct).ConfigureAwait(false), DeliveryOutcome.Invalid);
            }
            plan = mapping.Requests;
            if (!await queue.SavePlanAsync(d, PlanSerializer.Serialize(plan), ct).ConfigureAwait(false))
                return DeliveryOutcome.LeaseLost;
        }
        else
        {
            plan = PlanSerializer.Deserialize(d.Plan);
        }

        var stepsDone = d.StepsDone;
        while (stepsDone < plan.Count)
        {
            var request = plan[stepsDone];
            var result = await destination.SendAsync(request, ct).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                logger.LogWarning("Delivery {DeliveryId} step {Step} ({StepNumber}/{Steps}) failed: {Outcome} {Status} {Error}",
                    d.Id, request.Step, stepsDone + 1, plan.Count, result.Outcome, result.StatusCode, result.Error);
                return await FailAsync(d, result, ct).ConfigureAwait(false);
            }
            stepsDone++;
            // D11: progress is stored per step, so a retry resends only the steps that have not succeeded.
            if (stepsDone < plan.Count && !await queue.RecordStepsDoneAsync(d, stepsDone, ct).ConfigureAwait(false))
                return DeliveryOutcome.LeaseLost;
        }
        logger.LogInformation("Delivery {DeliveryId} delivered ({Steps} steps, attempt {Attempt})", d.Id, plan.Count, d.Attempts + 1);
        return Settled(await queue.MarkDeliveredAsync(d, stepsDone, ct).ConfigureAwait(false), DeliveryOutcome.Delivered);
    }

    async Task<DeliveryOutcome> FailAsync(ClaimedDelivery d, AttemptResult failure, CancellationToken ct)
    {
        var attempts = d.Attempts + 1;
        var now = time.GetUtcNow();
        if (!RetrySchedule.IsRetryable(failure.Outcome))
        {
            var reason = $"partner answered {failure.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "without a status"}: final (D12)";
            logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, reason);
            return Settled(await queue.MarkDeadAsync(d, reason, failure, ct).ConfigureAwait(false), DeliveryOutcome.Dead);
        }
        if (_schedule.ShouldGiveUp(d.CreatedAt, attempts, now))
        {
            var reason = $"gave up after {attempts} attempts over {FormatAge(now - d.CreatedAt)} (D13)";
            logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, reason);
            return Settled(await queue.MarkDeadAsync(d, reason, failure, ct).ConfigureAwait(false), DeliveryOutcome.Dead);
        }
        var next = now + _schedule.DelayAfter(attempts, failure.RetryAfter);
        logger.LogInformation("Delivery {DeliveryId} attempt {Attempt} failed ({Outcome}); next attempt at {NextAttemptAt:O}",
            d.Id, attempts, failure.Outcome, next);
        return Settled(await queue.ScheduleRetryAsync(d, next, failure, ct).ConfigureAwait(false), DeliveryOutcome.RetryScheduled);
    }

    DeliveryOutcome Settled(bool written, DeliveryOutcome outcome)
    {
        if (written) return outcome;
        logger.LogWarning("Lease lost before the outcome {Outcome} could be recorded", outcome);
        return DeliveryOutcome.LeaseLost;
    }

    async Task<T?> TryAsync<T>(Func<Task<T>> action) where T : struct
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogError("Could not record a delivery outcome; the lease will return the row: {Error}", ex.GetType().Name + ": " + ex.Message);
            return null;
        }
    }

    static string FormatAge(TimeSpan age) =>
        age.TotalHours >= 1 ? $"{age.TotalHours:0.#} h" : age.TotalMinutes >= 1 ? $"{age.TotalMinutes:0.#} min" : $"{age.TotalSeconds:0.#} s";
}
