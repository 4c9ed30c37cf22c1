using Destinations.Core.Delivery;

namespace Destinations.Delivery;

/// <summary>
/// The state machine of a destination instance, as pure functions of (state, what happened, now): D12 pausing on 401/403,
/// the circuit breaker on wholesale failure, canary probes with backoff, resume. The store applies them atomically.
/// </summary>
public static class InstanceHealth
{
    /// <summary>After one partner call of this instance.</summary>
    /// <param name="isProbe">The call was the canary of a held instance (only its failures move the next probe).</param>
    public static InstanceState After(InstanceState s, AttemptResult result, bool isProbe, DateTimeOffset now, DeliveryOptions o) => result.Outcome switch
    {
        AttemptOutcome.Succeeded => s.IsHeld ? s.Resumed() : s.ConsecutiveFailures > 0 ? s with { ConsecutiveFailures = 0, FirstFailureAt = null } : s,
        AttemptOutcome.AuthFailure => Paused(s, result, isProbe, now, o),
        // A final 4xx proves the partner is up and answering: it closes an open breaker, never a D12 pause (that needs a 2xx).
        AttemptOutcome.Final when s.Hold == InstanceHold.BreakerOpen && isProbe => s.Resumed(),
        AttemptOutcome.Final => s.ConsecutiveFailures > 0 ? s with { ConsecutiveFailures = 0, FirstFailureAt = null } : s,
        _ => RetryableFailure(s, result, isProbe, now, o),
    };

    /// <summary>D12: 401/403 pauses the instance; a failing canary pushes the next probe back (doubling, capped).</summary>
    static InstanceState Paused(InstanceState s, AttemptResult r, bool isProbe, DateTimeOffset now, DeliveryOptions o)
    {
        var error = Describe(r);
        if (s.Hold == InstanceHold.Paused)
            return isProbe ? Probed(s, now, o) with { LastError = error, LastErrorAt = now } : s with { LastError = error, LastErrorAt = now };
        return s with
        {
            Hold = InstanceHold.Paused,
            HeldSince = s.HeldSince ?? now,
            HoldReason = $"partner answered {r.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "auth failure"}: "
                + "credentials problem; paused until a canary succeeds or an operator resumes it",
            NextProbeAt = now + o.ProbeBaseDelay,
            ProbeFailures = 0,
            LastError = error,
            LastErrorAt = now,
        };
    }

    /// <summary>
    /// Breaker: <see cref="DeliveryOptions.BreakerThreshold"/> retryable failures in a row, the first within
    /// <see cref="DeliveryOptions.BreakerWindow"/>, open it. A 429 does not count: the rate limiter answers it (D25).
    /// </summary>
    static InstanceState RetryableFailure(InstanceState s, AttemptResult r, bool isProbe, DateTimeOffset now, DeliveryOptions o)
    {
        var error = Describe(r);
        if (s.IsHeld)
            return isProbe ? Probed(s, now, o) with { LastError = error, LastErrorAt = now } : s with { LastError = error, LastErrorAt = now };
        if (r.StatusCode == 429 || o.BreakerThreshold <= 0) return s with { LastError = error, LastErrorAt = now };
        var fresh = s.FirstFailureAt is not { } first || now - first > o.BreakerWindow;
        var next = s with
        {
            ConsecutiveFailures = fresh ? 1 : s.ConsecutiveFailures + 1,
            FirstFailureAt = fresh ? now : s.FirstFailureAt,
            LastError = error,
            LastErrorAt = now,
        };
        return next.ConsecutiveFailures < o.BreakerThreshold ? next : next with
        {
            Hold = InstanceHold.BreakerOpen,
            HeldSince = now,
            HoldReason = $"circuit breaker open: {next.ConsecutiveFailures} failures in a row ({error})",
            NextProbeAt = now + o.ProbeBaseDelay,
            ProbeFailures = 0,
        };
    }

    /// <summary>A canary failed: the next one waits ProbeBaseDelay * 2^failures, at most ProbeMaxDelay.</summary>
    static InstanceState Probed(InstanceState s, DateTimeOffset now, DeliveryOptions o)
    {
        var failures = s.ProbeFailures + 1;
        var delayMs = Math.Min(o.ProbeMaxDelay.TotalMilliseconds, o.ProbeBaseDelay.TotalMilliseconds * Math.Pow(2, failures));
        return s with { ProbeFailures = failures, NextProbeAt = now + TimeSpan.FromMilliseconds(delayMs) };
    }

    /// <summary>A canary that sent nothing (mapped to filtered/invalid): let another one go at once.</summary>
    public static InstanceState ProbeInconclusive(InstanceState s, DateTimeOffset now) => s.IsHeld ? s with { NextProbeAt = now } : s;

    static string Describe(AttemptResult r) => r.Error ?? $"{r.Outcome}";
}
