using System.Collections.Concurrent;
using Destinations.Core.Delivery;
using Microsoft.Extensions.Logging;

namespace Destinations.Delivery;

/// <summary>
/// Feeds partner answers to each instance's stored state (D12 pause, circuit breaker, canary probes; the transitions are
/// <see cref="InstanceHealth"/>'s) and remembers which instances this process last saw held, so the rest of a claimed set
/// goes back unsent instead of spending attempts.
/// </summary>
sealed class InstanceHealthTracker(IDeliveryQueue queue, DeliveryOptions options, TimeProvider time, ILogger logger)
{
    /// <summary>Instances with failures recorded since their last success: only they need a state write on success.</summary>
    readonly ConcurrentDictionary<string, bool> _unhealthy = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, bool> _held = new(StringComparer.Ordinal);

    /// <summary>True when this process last saw the instance paused or its breaker open.</summary>
    public bool IsKnownHeld(string destinationId) => _held.ContainsKey(destinationId);

    /// <summary>The claim returned ordinary rows of this instance, so the store no longer holds it (e.g. an operator resumed it).</summary>
    public void ForgetHeld(string destinationId) => _held.TryRemove(destinationId, out _);

    /// <summary>Records one partner answer in the instance's stored state. Successes of a healthy instance write nothing, so
    /// the common path costs no extra transaction.</summary>
    public async Task RecordAsync(string destinationId, AttemptResult result, bool isProbe, CancellationToken ct)
    {
        if (result.IsSuccess && !isProbe && !_unhealthy.ContainsKey(destinationId)) return;
        if (!result.IsSuccess) _unhealthy[destinationId] = true;
        var now = time.GetUtcNow();
        var state = await queue.UpdateInstanceAsync(destinationId, s => InstanceHealth.After(s, result, isProbe, now, options), ct).ConfigureAwait(false);
        if (state is { IsHeld: false, ConsecutiveFailures: 0 }) _unhealthy.TryRemove(destinationId, out _);
        if (state.IsHeld) _held[destinationId] = true;
        else _held.TryRemove(destinationId, out _);
        if (state.IsHeld) logger.LogWarning("Instance {Destination} held ({Hold}): {Reason}; next probe at {NextProbeAt:O}",
            destinationId, state.Hold, state.HoldReason, state.NextProbeAt);
    }

    /// <summary>A canary that sent nothing (filtered, invalid, lost): the next canary may go at once.</summary>
    public async Task ProbeInconclusiveAsync(ClaimedDelivery d)
    {
        var now = time.GetUtcNow();
        try
        {
            await queue.UpdateInstanceAsync(d.DestinationId, s => InstanceHealth.ProbeInconclusive(s, now), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogError("Could not record a delivery outcome; the lease will return the row: {Error}", ex.GetType().Name + ": " + ex.Message);
        }
    }
}
