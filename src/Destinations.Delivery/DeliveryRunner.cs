using Destinations.Core.Delivery;
using Microsoft.Extensions.Logging;

namespace Destinations.Delivery;

/// <summary>
/// Runs one claimed set: groups it by destination instance and serves the instances concurrently (one slow or broken
/// instance never delays the others), admits each instance's rows through its rate limiter (D25: rows without a token are
/// postponed, not attempted, D14), and batches rows of an <see cref="IBatchingDestination"/> (D15).
/// </summary>
public sealed class DeliveryRunner(DeliveryProcessor processor, BatchSender batches, ILogger<DeliveryRunner> logger, DestinationRateLimiter? limiter = null)
{
    public async Task<List<DeliveryOutcome>> RunAsync(IReadOnlyList<ClaimedDelivery> claimed, CancellationToken ct)
    {
        var groups = claimed.GroupBy(d => d.DestinationId, StringComparer.Ordinal).Select(g => RunInstanceAsync(g.Key, g.ToList(), ct));
        return (await Task.WhenAll(groups).ConfigureAwait(false)).SelectMany(o => o).ToList();
    }

    async Task<List<DeliveryOutcome>> RunInstanceAsync(string destinationId, List<ClaimedDelivery> group, CancellationToken ct)
    {
        var outcomes = new List<DeliveryOutcome>();
        if (group.Any(d => !d.IsProbe)) processor.ForgetHeld(destinationId);
        var batching = processor.Registry.Find(destinationId) as IBatchingDestination;
        var batchSize = Math.Max(1, batching?.MaxBatchSize ?? 1);
        var admitted = group.Count;
        if (limiter is not null)
        {
            // A token is one partner call: one per delivery, or one per batch call of up to MaxBatchSize items.
            var wanted = batching is null ? group.Count : (group.Count + batchSize - 1) / batchSize;
            var granted = limiter.TryAcquire(destinationId, wanted);
            admitted = Math.Min(group.Count, batching is null ? granted : granted * batchSize);
            if (admitted < group.Count)
            {
                var until = limiter.NextTokenAt(destinationId);
                logger.LogInformation("Rate limit of {Destination}: {Postponed} deliveries wait until {Until:O} (D25, not an attempt)",
                    destinationId, group.Count - admitted, until);
                outcomes.AddRange(await PostponeAsync(group.Skip(admitted).ToList(), until).ConfigureAwait(false));
            }
        }
        var go = group.Take(admitted).ToList();
        if (batching is not null && go.Count > 1)
        {
            outcomes.AddRange(await batches.RunAsync(batching, go, ct).ConfigureAwait(false));
            return outcomes;
        }
        foreach (var d in go)
        {
            // Paused (D12) or breaker open mid-set: the rest waits for the canary, unsent and not counted.
            if (ct.IsCancellationRequested || (processor.IsKnownHeld(destinationId) && !d.IsProbe))
            {
                outcomes.Add(await ReleaseAsync(d).ConfigureAwait(false));
                continue;
            }
            outcomes.Add(await processor.ProcessAsync(d, ct).ConfigureAwait(false));
        }
        return outcomes;
    }

    async Task<IEnumerable<DeliveryOutcome>> PostponeAsync(List<ClaimedDelivery> rows, DateTimeOffset until)
    {
        try
        {
            var written = await processor.Queue.SettleAsync(rows.ConvertAll(d => new Settlement(d, SettlementKind.Postponed) { At = until }), CancellationToken.None).ConfigureAwait(false);
            return written.Select(w => w ? DeliveryOutcome.Postponed : DeliveryOutcome.LeaseLost);
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not postpone {Count} deliveries; their leases will expire: {Error}", rows.Count, ex.GetType().Name);
            return rows.Select(_ => DeliveryOutcome.LeaseLost);
        }
    }

    async Task<DeliveryOutcome> ReleaseAsync(ClaimedDelivery d)
    {
        try
        {
            await processor.Queue.ReleaseAsync(d, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not release delivery {DeliveryId} at shutdown; its lease will expire: {Error}", d.Id, ex.GetType().Name);
        }
        return DeliveryOutcome.Released;
    }
}
