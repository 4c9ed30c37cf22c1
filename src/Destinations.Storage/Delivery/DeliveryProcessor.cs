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
            if (Prepare(d, out var settlement) is { } attempt) return await SendStepsAsync(attempt, ct).ConfigureAwait(false);
            return Settled(await queue.SettleAsync(settlement!, ct).ConfigureAwait(false), OutcomeOf(settlement!.Kind));
        }, ct).ConfigureAwait(false);
        return await FinishAsync(d, outcome, ct).ConfigureAwait(false);
    }

    /// <summary>The per-delivery log scope (<c>messageId</c>, <c>destination</c> and <c>deliveryId</c>).</summary>
    public IDisposable? BeginScope(ClaimedDelivery d) => logger.BeginScope(new DeliveryScope(d));

    /// <summary>Runs <paramref name="work"/> for a leased row: skips it when the lease ran out, releases it on shutdown,
    /// retries it with backoff when something unexpected throws.</summary>
    public async Task<DeliveryOutcome> GuardAsync(ClaimedDelivery d, Func<Task<DeliveryOutcome>> work, CancellationToken ct)
    {
        try
        {
            if (LeaseRanOut(d)) return DeliveryOutcome.LeaseLost;
            return await work().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await TryAsync(() => queue.ReleaseAsync(d, CancellationToken.None)).ConfigureAwait(false);
            return DeliveryOutcome.Released;
        }
        catch (Exception ex)
        {
            var retry = Unexpected(d, ex);
            return await TryAsync(async () => Settled(await queue.SettleAsync(retry, CancellationToken.None).ConfigureAwait(false), OutcomeOf(retry.Kind))).ConfigureAwait(false)
                ?? DeliveryOutcome.LeaseLost;
        }
    }

    /// <summary>A long batch may outlive the lease; another worker may own the row by now, so do not send it (again).</summary>
    internal bool LeaseRanOut(ClaimedDelivery d)
    {
        if (time.GetUtcNow() < d.LeaseUntil) return false;
        logger.LogWarning("Lease ran out before delivery {DeliveryId} was processed; leaving it to the next claim", d.Id);
        return true;
    }

    /// <summary>Something unexpected threw while processing <paramref name="d"/>: a retry with backoff.</summary>
    internal Settlement Unexpected(ClaimedDelivery d, Exception ex)
    {
        logger.LogError(ex, "Delivery {DeliveryId} failed unexpectedly; retrying with backoff", d.Id);
        return Failed(d, null, new AttemptResult(AttemptOutcome.Retry, null, null, null, $"unexpected error: {ex.GetType().Name}"), plan: null);
    }

    /// <summary>The destination and plan of a row (mapping it at its first attempt, D8/D11), or null with the settlement of a
    /// row there is nothing to send for (instance gone, filtered, invalid). Writes nothing: a plan mapped here is stored with
    /// the first outcome after its send (<see cref="Settlement"/> explains why that keeps D11).</summary>
    internal DeliveryAttempt? Prepare(ClaimedDelivery d, out Settlement? settlement)
    {
        settlement = null;
        if (registry.Find(d.DestinationId) is not { } destination)
        {
            var reason = $"destination instance '{d.DestinationId}' is no longer configured";
            logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, reason);
            settlement = new Settlement(d, SettlementKind.Dead) { Reason = reason };
            return null;
        }
        if (d.Plan is not null) return new DeliveryAttempt(d, destination, PlanSerializer.Deserialize(d.Plan), planStored: true);

        // D8/D11: mapping runs once, at the first dispatch attempt, with the settings of that moment.
        var mapping = destination.Map(SegmentEvent.FromStored(d.EventBody), d.Subscription);
        switch (mapping.Outcome)
        {
            case MappingOutcome.Filtered:
                logger.LogInformation("Delivery {DeliveryId} filtered: {Reason}", d.Id, mapping.Reason);
                settlement = new Settlement(d, SettlementKind.Filtered) { Reason = mapping.Reason ?? "filtered" };
                return null;
            case MappingOutcome.Invalid:
                logger.LogWarning("Delivery {DeliveryId} invalid: {Reason}", d.Id, mapping.Reason);
                settlement = new Settlement(d, SettlementKind.Invalid) { Reason = mapping.Reason ?? "invalid" };
                return null;
        }
        return new DeliveryAttempt(d, destination, mapping.Requests, planStored: false);
    }

    /// <summary>Sends the steps not yet done, one by one (D11: progress stored per step, before the next step goes).</summary>
    internal async Task<DeliveryOutcome> SendStepsAsync(DeliveryAttempt attempt, CancellationToken ct)
    {
        var d = attempt.Delivery;
        while (true)
        {
            var started = Stopwatch.GetTimestamp();
            var result = await attempt.Destination.SendAsync(attempt.Next, ct).ConfigureAwait(false);
            metrics?.AttemptDuration(d.DestinationId, result.Outcome.ToString(), Stopwatch.GetElapsedTime(started));
            await RecordHealthAsync(d.DestinationId, result, d.IsProbe, ct).ConfigureAwait(false);
            var settlement = After(attempt, result);
            var written = await queue.SettleAsync(settlement, ct).ConfigureAwait(false);
            if (settlement.Kind != SettlementKind.Progress) return Settled(written, OutcomeOf(settlement.Kind));
            if (!written) return DeliveryOutcome.LeaseLost;
            attempt.Advanced();
        }
    }

    /// <summary>Sends the rest of a delivery whose earlier steps went in a batch (<see cref="BatchSender"/>), in its own log scope.</summary>
    internal async Task<DeliveryOutcome> ContinueAsync(DeliveryAttempt attempt, CancellationToken ct)
    {
        var d = attempt.Delivery;
        using var scope = BeginScope(d);
        var outcome = await GuardAsync(d, () => SendStepsAsync(attempt, ct), ct).ConfigureAwait(false);
        return await FinishAsync(d, outcome, ct).ConfigureAwait(false);
    }

    /// <summary>What one step's result makes of the row: <see cref="SettlementKind.Progress"/> (more steps follow),
    /// delivered, or a failure's retry / hold / dead letter. Carries the plan when it was mapped in this pass (D11).</summary>
    internal Settlement After(DeliveryAttempt attempt, AttemptResult result)
    {
        var d = attempt.Delivery;
        var plan = attempt.Plan;
        var step = attempt.StepsDone;
        if (!result.IsSuccess)
        {
            var request = plan[step];
            logger.LogWarning("Delivery {DeliveryId} step {Step} ({StepNumber}/{Steps}) failed: {Outcome} {Status} {Error}",
                d.Id, request.Step, step + 1, plan.Count, result.Outcome, result.StatusCode, result.Error);
            return Failed(d, RequestDescription.Of(request.Method, attempt.Destination.Describe(request), request.Body?.ToJsonString()), result, attempt.PlanToStore());
        }
        if (step + 1 < plan.Count)
            // D11: progress is stored per step, so a retry resends only the steps that have not succeeded.
            return new Settlement(d, SettlementKind.Progress) { StepsDone = step + 1, Plan = attempt.PlanToStore() };
        if (logger.IsEnabled(LogLevel.Debug))
            logger.LogDebug("Delivery {DeliveryId} delivered ({Steps} steps, attempt {Attempt})", d.Id, plan.Count, d.Attempts + 1);
        return new Settlement(d, SettlementKind.Delivered) { StepsDone = plan.Count, Plan = attempt.PlanToStore() };
    }

    Settlement Failed(ClaimedDelivery d, RequestDescription? request, AttemptResult failure, string? plan)
    {
        var attempts = d.Attempts + 1;
        var now = time.GetUtcNow();
        if (failure.StatusCode == 429) limiter?.OnThrottled(d.DestinationId, failure.RetryAfter); // D25 adaptive
        switch (failure.Outcome)
        {
            case AttemptOutcome.AuthFailure:
                // D12: the instance is paused (RecordHealthAsync did it before this); the row waits, attempt not counted.
                logger.LogWarning("Delivery {DeliveryId} held: instance {Destination} paused on {Status} (D12)", d.Id, d.DestinationId, failure.StatusCode);
                return new Settlement(d, SettlementKind.Held) { Failure = failure, Request = request, Plan = plan };
            case AttemptOutcome.Final:
                var final = $"partner answered {failure.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "without a status"}: final (D12)";
                logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, final);
                return new Settlement(d, SettlementKind.Dead) { Reason = final, Failure = failure, Request = request, Plan = plan };
        }
        // D13: the age clock does not count time held by a paused instance.
        if (_schedule.ShouldGiveUp(d.CreatedAt + d.HeldFor, attempts, now))
        {
            var reason = $"gave up after {attempts} attempts over {FormatAge(now - d.CreatedAt - d.HeldFor)} (D13)";
            logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, reason);
            return new Settlement(d, SettlementKind.Dead) { Reason = reason, Failure = failure, Request = request, Plan = plan };
        }
        var next = now + _schedule.DelayAfter(attempts, failure.RetryAfter);
        logger.LogInformation("Delivery {DeliveryId} attempt {Attempt} failed ({Outcome}); next attempt at {NextAttemptAt:O}",
            d.Id, attempts, failure.Outcome, next);
        return new Settlement(d, SettlementKind.RetryScheduled) { At = next, Failure = failure, Request = request, Plan = plan };
    }

    /// <summary>Writes several rows' settlements at once (<see cref="IDeliveryQueue.SettleAsync"/>); null when that failed
    /// (logged: the rows' leases will return them).</summary>
    internal async Task<bool[]?> TrySettleAsync(IReadOnlyList<Settlement> settlements)
    {
        try
        {
            return await queue.SettleAsync(settlements, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogError("Could not record {Count} delivery outcomes; the leases will return the rows: {Error}", settlements.Count, ex.GetType().Name + ": " + ex.Message);
            return null;
        }
    }

    /// <summary>The outcome a written settlement means (not for <see cref="SettlementKind.Progress"/>: the delivery goes on).</summary>
    internal static DeliveryOutcome OutcomeOf(SettlementKind kind) => kind switch
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
    public ValueTask<DeliveryOutcome> FinishAsync(ClaimedDelivery d, DeliveryOutcome outcome, CancellationToken ct)
    {
        metrics?.Delivery(d.DestinationId, outcome switch
        {
            DeliveryOutcome.Delivered => "delivered",
            DeliveryOutcome.RetryScheduled => "retry",
            DeliveryOutcome.Held => "paused",
            _ => outcome.ToString().ToLowerInvariant(),
        });
        return d.IsProbe && outcome is DeliveryOutcome.Filtered or DeliveryOutcome.Invalid or DeliveryOutcome.LeaseLost or DeliveryOutcome.Released
            ? ProbeInconclusiveAsync(d, outcome)
            : ValueTask.FromResult(outcome);
    }

    async ValueTask<DeliveryOutcome> ProbeInconclusiveAsync(ClaimedDelivery d, DeliveryOutcome outcome)
    {
        var now = time.GetUtcNow();
        await TryAsync(async () => await queue.UpdateInstanceAsync(d.DestinationId, s => InstanceHealth.ProbeInconclusive(s, now), CancellationToken.None).ConfigureAwait(false) is not null).ConfigureAwait(false);
        return outcome;
    }

    internal DeliveryOutcome Settled(bool written, DeliveryOutcome outcome)
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
