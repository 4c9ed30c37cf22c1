using System.Collections.Concurrent;
using System.Diagnostics;
using Destinations.Core.Delivery;
using Destinations.Core.Diagnostics;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Delivery;

/// <summary>What became of one claimed delivery in one pass.</summary>
public enum DeliveryOutcome { Delivered, Filtered, Invalid, RetryScheduled, Dead, Released, LeaseLost, Held, Postponed }

/// <summary>
/// Processes one claimed delivery: map at the first attempt and keep the plan (D8, D11), send the steps not yet done in
/// order, classify failures (D12): hold the instance on 401/403, back off or give up (D13), and feed the instance's health
/// (pause, breaker) and rate limiter (429, D25). Never throws for a bad row: anything unexpected is retried with backoff,
/// and the row is left to its lease if even that cannot be written.
/// </summary>
public sealed class DeliveryProcessor(
    IDeliveryQueue queue,
    DestinationRegistry registry,
    IOptions<DeliveryOptions> options,
    RetryJitter jitter,
    TimeProvider time,
    ILogger<DeliveryProcessor> logger,
    DestinationsMetrics? metrics = null,
    DestinationRateLimiter? limiter = null)
{
    readonly DeliveryOptions _options = options.Value;
    readonly RetrySchedule _schedule = new(options.Value, jitter);
    /// <summary>Instances with failures recorded since their last success: only they need a state write on success.</summary>
    readonly ConcurrentDictionary<string, bool> _unhealthy = new(StringComparer.Ordinal);
    /// <summary>Instances this process saw held: the rest of a claimed set is given back unsent (no attempt burnt).</summary>
    readonly ConcurrentDictionary<string, bool> _held = new(StringComparer.Ordinal);

    /// <summary>True when this process last saw the instance paused or its breaker open.</summary>
    public bool IsKnownHeld(string destinationId) => _held.ContainsKey(destinationId);

    /// <summary>The claim returned ordinary rows of this instance, so the store no longer holds it (e.g. an operator resumed it).</summary>
    public void ForgetHeld(string destinationId) => _held.TryRemove(destinationId, out _);

    public IDeliveryQueue Queue => queue;
    public DestinationRegistry Registry => registry;

    public async Task<DeliveryOutcome> ProcessAsync(ClaimedDelivery d, CancellationToken ct)
    {
        using var scope = BeginScope(d);
        var outcome = await GuardAsync(d, async () =>
        {
            var prepared = await PrepareAsync(d, ct).ConfigureAwait(false);
            return prepared.Outcome ?? await SendStepsAsync(d, prepared.Destination!, prepared.Plan!, d.StepsDone, ct).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
        return await FinishAsync(d, outcome, ct).ConfigureAwait(false);
    }

    public IDisposable? BeginScope(ClaimedDelivery d) => logger.BeginScope(new Dictionary<string, object>
    {
        ["messageId"] = d.MessageId, ["destination"] = d.DestinationId, ["deliveryId"] = d.Id,
    });

    /// <summary>Runs <paramref name="work"/> for a leased row: skips it when the lease ran out, releases it on shutdown,
    /// retries it with backoff when something unexpected throws.</summary>
    public async Task<DeliveryOutcome> GuardAsync(ClaimedDelivery d, Func<Task<DeliveryOutcome>> work, CancellationToken ct)
    {
        try
        {
            // A long batch may outlive the lease; another worker may own the row by now, so do not send it twice.
            if (time.GetUtcNow() >= d.LeaseUntil)
            {
                logger.LogWarning("Lease ran out before delivery {DeliveryId} was processed; leaving it to the next claim", d.Id);
                return DeliveryOutcome.LeaseLost;
            }
            return await work().ConfigureAwait(false);
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
            return await TryAsync(() => FailAsync(d, null, failure, CancellationToken.None)).ConfigureAwait(false) ?? DeliveryOutcome.LeaseLost;
        }
    }

    /// <summary>The destination and plan of a row (mapping it at its first attempt, D8/D11), or the final outcome when there
    /// is nothing to send.</summary>
    public async Task<(DeliveryOutcome? Outcome, IDestination? Destination, IReadOnlyList<PartnerRequest>? Plan)> PrepareAsync(ClaimedDelivery d, CancellationToken ct)
    {
        if (registry.Find(d.DestinationId) is not { } destination)
        {
            var reason = $"destination instance '{d.DestinationId}' is no longer configured";
            logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, reason);
            return (Settled(await queue.MarkDeadAsync(d, reason, null, null, ct).ConfigureAwait(false), DeliveryOutcome.Dead), null, null);
        }
        if (d.Plan is not null) return (null, destination, PlanSerializer.Deserialize(d.Plan));

        // D8/D11: mapping runs once, at the first dispatch attempt, with the settings of that moment.
        var mapping = destination.Map(SegmentEvent.FromStored(d.EventBody), d.Subscription);
        switch (mapping.Outcome)
        {
            case MappingOutcome.Filtered:
                logger.LogInformation("Delivery {DeliveryId} filtered: {Reason}", d.Id, mapping.Reason);
                return (Settled(await queue.MarkFilteredAsync(d, mapping.Reason ?? "filtered", ct).ConfigureAwait(false), DeliveryOutcome.Filtered), null, null);
            case MappingOutcome.Invalid:
                logger.LogWarning("Delivery {DeliveryId} invalid: {Reason}", d.Id, mapping.Reason);
                return (Settled(await queue.MarkInvalidAsync(d, mapping.Reason ?? "invalid", ct).ConfigureAwait(false), DeliveryOutcome.Invalid), null, null);
        }
        if (!await queue.SavePlanAsync(d, PlanSerializer.Serialize(mapping.Requests), ct).ConfigureAwait(false))
            return (DeliveryOutcome.LeaseLost, null, null);
        return (null, destination, mapping.Requests);
    }

    /// <summary>Sends the steps from <paramref name="stepsDone"/> on, one by one (D11: progress stored per step).</summary>
    public async Task<DeliveryOutcome> SendStepsAsync(ClaimedDelivery d, IDestination destination, IReadOnlyList<PartnerRequest> plan, int stepsDone, CancellationToken ct)
    {
        while (stepsDone < plan.Count)
        {
            var request = plan[stepsDone];
            var started = Stopwatch.GetTimestamp();
            var result = await destination.SendAsync(request, ct).ConfigureAwait(false);
            metrics?.AttemptDuration(d.DestinationId, result.Outcome.ToString(), Stopwatch.GetElapsedTime(started));
            await RecordHealthAsync(d.DestinationId, result, d.IsProbe, ct).ConfigureAwait(false);
            var next = await AfterStepAsync(d, destination, plan, stepsDone, result, ct).ConfigureAwait(false);
            if (next is { } outcome) return outcome;
            stepsDone++;
        }
        return DeliveryOutcome.Delivered; // not reached: AfterStepAsync settles the last step
    }

    /// <summary>Applies one step's result: null = continue with the next step; otherwise the row is settled.</summary>
    public async Task<DeliveryOutcome?> AfterStepAsync(ClaimedDelivery d, IDestination destination, IReadOnlyList<PartnerRequest> plan, int step, AttemptResult result, CancellationToken ct)
    {
        var request = plan[step];
        if (!result.IsSuccess)
        {
            logger.LogWarning("Delivery {DeliveryId} step {Step} ({StepNumber}/{Steps}) failed: {Outcome} {Status} {Error}",
                d.Id, request.Step, step + 1, plan.Count, result.Outcome, result.StatusCode, result.Error);
            return await FailAsync(d, RequestDescription.Of(request.Method, destination.Describe(request), request.Body?.ToJsonString()), result, ct).ConfigureAwait(false);
        }
        if (step + 1 == plan.Count)
        {
            logger.LogDebug("Delivery {DeliveryId} delivered ({Steps} steps, attempt {Attempt})", d.Id, plan.Count, d.Attempts + 1);
            return Settled(await queue.MarkDeliveredAsync(d, plan.Count, ct).ConfigureAwait(false), DeliveryOutcome.Delivered);
        }
        // D11: progress is stored per step, so a retry resends only the steps that have not succeeded.
        return await queue.RecordStepsDoneAsync(d, step + 1, ct).ConfigureAwait(false) ? null : DeliveryOutcome.LeaseLost;
    }

    async Task<DeliveryOutcome> FailAsync(ClaimedDelivery d, RequestDescription? request, AttemptResult failure, CancellationToken ct)
    {
        var attempts = d.Attempts + 1;
        var now = time.GetUtcNow();
        if (failure.StatusCode == 429) limiter?.OnThrottled(d.DestinationId, failure.RetryAfter); // D25 adaptive
        switch (failure.Outcome)
        {
            case AttemptOutcome.AuthFailure:
                // D12: the instance is paused (RecordHealthAsync did it before this); the row waits, attempt not counted.
                logger.LogWarning("Delivery {DeliveryId} held: instance {Destination} paused on {Status} (D12)", d.Id, d.DestinationId, failure.StatusCode);
                return Settled(await queue.HoldAsync(d, failure, request, ct).ConfigureAwait(false), DeliveryOutcome.Held);
            case AttemptOutcome.Final:
                var final = $"partner answered {failure.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "without a status"}: final (D12)";
                logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, final);
                return Settled(await queue.MarkDeadAsync(d, final, failure, request, ct).ConfigureAwait(false), DeliveryOutcome.Dead);
        }
        // D13: the age clock does not count time held by a paused instance.
        if (_schedule.ShouldGiveUp(d.CreatedAt + d.HeldFor, attempts, now))
        {
            var reason = $"gave up after {attempts} attempts over {FormatAge(now - d.CreatedAt - d.HeldFor)} (D13)";
            logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, reason);
            return Settled(await queue.MarkDeadAsync(d, reason, failure, request, ct).ConfigureAwait(false), DeliveryOutcome.Dead);
        }
        var next = now + _schedule.DelayAfter(attempts, failure.RetryAfter);
        logger.LogInformation("Delivery {DeliveryId} attempt {Attempt} failed ({Outcome}); next attempt at {NextAttemptAt:O}",
            d.Id, attempts, failure.Outcome, next);
        return Settled(await queue.ScheduleRetryAsync(d, next, failure, request, ct).ConfigureAwait(false), DeliveryOutcome.RetryScheduled);
    }

    /// <summary>Feeds one partner answer to the instance's stored state (D12 pause, breaker). Successes of a healthy
    /// instance write nothing, so the common path costs no extra transaction.</summary>
    public async Task RecordHealthAsync(string destinationId, AttemptResult result, bool isProbe, CancellationToken ct)
    {
        if (result.IsSuccess && !isProbe && !_unhealthy.ContainsKey(destinationId)) return;
        if (!result.IsSuccess) _unhealthy[destinationId] = true;
        var now = time.GetUtcNow();
        var state = await queue.UpdateInstanceAsync(destinationId, s => InstanceHealth.After(s, result, isProbe, now, _options), ct).ConfigureAwait(false);
        if (state is { IsHeld: false, ConsecutiveFailures: 0 }) _unhealthy.TryRemove(destinationId, out _);
        if (state.IsHeld) _held[destinationId] = true;
        else _held.TryRemove(destinationId, out _);
        if (state.IsHeld) logger.LogWarning("Instance {Destination} held ({Hold}): {Reason}; next probe at {NextProbeAt:O}",
            destinationId, state.Hold, state.HoldReason, state.NextProbeAt);
    }

    /// <summary>Counts the outcome; a canary that sent nothing (filtered, invalid, lost) lets the next canary go at once.</summary>
    public async Task<DeliveryOutcome> FinishAsync(ClaimedDelivery d, DeliveryOutcome outcome, CancellationToken ct)
    {
        metrics?.Delivery(d.DestinationId, outcome switch
        {
            DeliveryOutcome.RetryScheduled => "retry",
            DeliveryOutcome.Held => "paused",
            _ => outcome.ToString().ToLowerInvariant(),
        });
        if (d.IsProbe && outcome is DeliveryOutcome.Filtered or DeliveryOutcome.Invalid or DeliveryOutcome.LeaseLost or DeliveryOutcome.Released)
        {
            var now = time.GetUtcNow();
            await TryAsync(async () => await queue.UpdateInstanceAsync(d.DestinationId, s => InstanceHealth.ProbeInconclusive(s, now), CancellationToken.None).ConfigureAwait(false) is not null).ConfigureAwait(false);
        }
        return outcome;
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
