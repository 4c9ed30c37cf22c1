using System.Diagnostics;
using Destinations.Core.Delivery;
using Destinations.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Destinations.Storage.Delivery;

/// <summary>
/// Sends the next steps of several claimed deliveries of one <see cref="IBatchingDestination"/> in shared partner calls
/// (architecture.md Flow step 4; Salesmachine <c>/v1/batch</c>, D15): steps with the same <c>BatchKey</c> go together in chunks
/// of <c>MaxBatchSize</c>, and each item's result is applied to its own delivery (D11), which then continues alone with any
/// later steps. Ordering (D16) needs nothing here: the claim yields at most one delivery per user key.
/// </summary>
public sealed class BatchSender(DeliveryProcessor processor, ILogger<BatchSender> logger, DestinationsMetrics? metrics = null)
{
    sealed record Item(ClaimedDelivery Delivery, IReadOnlyList<PartnerRequest> Plan)
    {
        public PartnerRequest Next => Plan[Delivery.StepsDone];
    }

    /// <summary>At most this many batch calls of one instance in flight at once (per claimed set).</summary>
    const int ConcurrentChunks = 4;

    public async Task<List<DeliveryOutcome>> RunAsync(IBatchingDestination destination, IReadOnlyList<ClaimedDelivery> group, CancellationToken ct)
    {
        // Mapped and planned concurrently: each plan is its own row update, and the store commits concurrent updates
        // together (SQLite: one transaction for all that is queued), so the set costs one commit instead of one per row.
        var prepared = await Task.WhenAll(group.Select(d => PrepareAsync(d, ct))).ConfigureAwait(false);
        var outcomes = new List<DeliveryOutcome>();
        var ready = new List<Item>();
        foreach (var (item, outcome) in prepared)
        {
            if (item is null) outcomes.Add(outcome);
            else ready.Add(item);
        }

        var max = Math.Max(1, destination.MaxBatchSize);
        var alone = ready.Where(i => destination.BatchKey(i.Next) is null).ToList();
        var chunks = ready.Except(alone)
            .GroupBy(i => destination.BatchKey(i.Next)!, StringComparer.Ordinal)
            .SelectMany(g => g.Chunk(max))
            .ToList();
        alone.AddRange(chunks.Where(c => c.Length == 1).Select(c => c[0]));
        using var gate = new SemaphoreSlim(ConcurrentChunks);
        var sent = await Task.WhenAll(chunks.Where(c => c.Length > 1).Select(async chunk =>
        {
            await gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                return await SendChunkAsync(destination, chunk, ct).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
        foreach (var chunkOutcomes in sent) outcomes.AddRange(chunkOutcomes);
        foreach (var item in alone)
            outcomes.Add(await ContinueAsync(destination, item, item.Delivery.StepsDone, null, ct).ConfigureAwait(false));
        return outcomes;
    }

    async Task<(Item? Item, DeliveryOutcome Outcome)> PrepareAsync(ClaimedDelivery d, CancellationToken ct)
    {
        Item? item = null;
        var outcome = await processor.GuardAsync(d, async () =>
        {
            var prepared = await processor.PrepareAsync(d, ct).ConfigureAwait(false);
            if (prepared.Outcome is { } final) return final;
            item = new Item(d, prepared.Plan!);
            return DeliveryOutcome.Delivered; // placeholder: the item goes on below
        }, ct).ConfigureAwait(false);
        return item is null ? (null, await processor.FinishAsync(d, outcome, ct).ConfigureAwait(false)) : (item, outcome);
    }

    async Task<List<DeliveryOutcome>> SendChunkAsync(IBatchingDestination destination, Item[] chunk, CancellationToken ct)
    {
        var id = destination.Id;
        IReadOnlyList<AttemptResult> results;
        var started = Stopwatch.GetTimestamp();
        try
        {
            results = await destination.SendBatchAsync(chunk.Select(i => i.Next).ToList(), ct).ConfigureAwait(false);
            if (results.Count != chunk.Length)
                throw new InvalidOperationException($"SendBatchAsync returned {results.Count} results for {chunk.Length} requests");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: each row is released by its guard below, attempt not counted.
            results = chunk.Select(_ => new AttemptResult(AttemptOutcome.Retry, null, null, null, "cancelled")).ToList();
        }
        catch (Exception ex)
        {
            logger.LogError("Batch of {Count} for {Destination} failed unexpectedly: {Error}", chunk.Length, id, ex.GetType().Name);
            results = chunk.Select(_ => new AttemptResult(AttemptOutcome.Retry, null, null, null, $"unexpected error: {ex.GetType().Name}")).ToList();
        }
        logger.LogDebug("Sent a batch of {Count} to {Destination}", chunk.Length, id);
        var summary = results.FirstOrDefault(r => r.IsSuccess) ?? results[0];
        metrics?.AttemptDuration(id, summary.Outcome.ToString(), Stopwatch.GetElapsedTime(started));
        if (!ct.IsCancellationRequested)
            await processor.RecordHealthAsync(id, summary, chunk.Any(i => i.Delivery.IsProbe), ct).ConfigureAwait(false);

        // Each item's outcome concurrently, so the chunk's row updates share one commit.
        var continued = new Task<DeliveryOutcome>[chunk.Length];
        for (var i = 0; i < chunk.Length; i++)
            continued[i] = ContinueAsync(destination, chunk[i], chunk[i].Delivery.StepsDone, results[i], ct);
        return [.. await Task.WhenAll(continued).ConfigureAwait(false)];
    }

    /// <summary>Applies the batched step's result (when there is one), then sends the delivery's remaining steps alone.</summary>
    async Task<DeliveryOutcome> ContinueAsync(IDestination destination, Item item, int step, AttemptResult? batched, CancellationToken ct)
    {
        var d = item.Delivery;
        using var scope = processor.BeginScope(d);
        var outcome = await processor.GuardAsync(d, async () =>
        {
            ct.ThrowIfCancellationRequested();
            if (batched is null) return await processor.SendStepsAsync(d, destination, item.Plan, step, ct).ConfigureAwait(false);
            var settled = await processor.AfterStepAsync(d, destination, item.Plan, step, batched, ct).ConfigureAwait(false);
            return settled ?? await processor.SendStepsAsync(d, destination, item.Plan, step + 1, ct).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
        return await processor.FinishAsync(d, outcome, ct).ConfigureAwait(false);
    }
}
