using System.Diagnostics;
using Destinations.Core.Delivery;
using Destinations.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Destinations.Storage.Delivery;

/// <summary>
/// Sends the next steps of several claimed deliveries of one <see cref="IBatchingDestination"/> in shared partner calls
/// (README.md "How delivery works", step 3; Salesmachine <c>/v1/batch</c>, D15): steps with the same <c>BatchKey</c> go together in chunks
/// of <c>MaxBatchSize</c>, and each item's result is applied to its own delivery (D11), which then continues alone with any
/// later steps. Ordering (D16) needs nothing here: the claim yields at most one delivery per user key.
/// A chunk's outcomes are written in one call to the queue (one transaction, one round trip), so a delivery costs one row
/// update, and its plan, mapped at this first attempt, goes with that update (see <see cref="Settlement"/>).
/// </summary>
public sealed class BatchSender(DeliveryProcessor processor, ILogger<BatchSender> logger, DestinationsMetrics? metrics = null)
{
    /// <summary>At most this many batch calls of one instance in flight at once (per claimed set).</summary>
    const int ConcurrentChunks = 4;

    public async Task<List<DeliveryOutcome>> RunAsync(IBatchingDestination destination, IReadOnlyList<ClaimedDelivery> group, CancellationToken ct)
    {
        var outcomes = new List<DeliveryOutcome>(group.Count);
        var ready = new List<DeliveryAttempt>(group.Count);
        List<Settlement>? unsent = null;
        foreach (var d in group)
        {
            if (ct.IsCancellationRequested)
            {
                (unsent ??= []).Add(new Settlement(d, SettlementKind.Released));
                continue;
            }
            if (processor.LeaseRanOut(d))
            {
                outcomes.Add(await processor.FinishAsync(d, DeliveryOutcome.LeaseLost, ct).ConfigureAwait(false));
                continue;
            }
            try
            {
                if (processor.Prepare(d, out var settlement) is { } attempt) ready.Add(attempt);
                else (unsent ??= []).Add(settlement!);
            }
            catch (Exception ex)
            {
                (unsent ??= []).Add(processor.Unexpected(d, ex));
            }
        }
        // Filtered, invalid (and released at shutdown) rows: one write for all.
        if (unsent is not null)
            foreach (var outcome in await SettleAsync(unsent, null).ConfigureAwait(false)) outcomes.Add(outcome!.Value);

        var max = Math.Max(1, destination.MaxBatchSize);
        var alone = new List<DeliveryAttempt>();
        var chunks = new List<DeliveryAttempt[]>();
        foreach (var batch in ready.Where(a => destination.BatchKey(a.Next) is not null)
                     .GroupBy(a => destination.BatchKey(a.Next)!, StringComparer.Ordinal))
            foreach (var chunk in batch.Chunk(max))
            {
                if (chunk.Length > 1) chunks.Add(chunk);
                else alone.Add(chunk[0]);
            }
        alone.InsertRange(0, ready.Where(a => destination.BatchKey(a.Next) is null));

        if (chunks.Count == 1) outcomes.AddRange(await SendChunkAsync(destination, chunks[0], ct).ConfigureAwait(false));
        else if (chunks.Count > 1)
        {
            using var gate = new SemaphoreSlim(ConcurrentChunks);
            var sent = await Task.WhenAll(chunks.Select(async chunk =>
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
        }
        foreach (var attempt in alone)
            outcomes.Add(await processor.ContinueAsync(attempt, ct).ConfigureAwait(false));
        return outcomes;
    }

    async Task<DeliveryOutcome[]> SendChunkAsync(IBatchingDestination destination, DeliveryAttempt[] chunk, CancellationToken ct)
    {
        var id = destination.Id;
        IReadOnlyList<AttemptResult> results;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var requests = new PartnerRequest[chunk.Length];
            for (var i = 0; i < chunk.Length; i++) requests[i] = chunk[i].Next;
            results = await destination.SendBatchAsync(requests, ct).ConfigureAwait(false);
            if (results.Count != chunk.Length)
                throw new InvalidOperationException($"SendBatchAsync returned {results.Count} results for {chunk.Length} requests");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping before the partner answered: the rows go back, attempt not counted.
            var released = await SettleAsync(chunk.Select(a => new Settlement(a.Delivery, SettlementKind.Released)).ToList(), null).ConfigureAwait(false);
            return Array.ConvertAll(released, o => o!.Value);
        }
        catch (Exception ex)
        {
            logger.LogError("Batch of {Count} for {Destination} failed unexpectedly: {Error}", chunk.Length, id, ex.GetType().Name);
            results = chunk.Select(_ => new AttemptResult(AttemptOutcome.Retry, null, null, null, $"unexpected error: {ex.GetType().Name}")).ToList();
        }
        logger.LogDebug("Sent a batch of {Count} to {Destination}", chunk.Length, id);
        AttemptResult? summary = null;
        var probe = false;
        for (var i = 0; i < results.Count; i++)
        {
            if (summary is null && results[i].IsSuccess) summary = results[i];
            probe |= chunk[i].Delivery.IsProbe;
        }
        summary ??= results[0];
        metrics?.AttemptDuration(id, summary.Outcome.ToString(), Stopwatch.GetElapsedTime(started));
        if (!ct.IsCancellationRequested)
            await processor.RecordHealthAsync(id, summary, probe, ct).ConfigureAwait(false);

        // Each item's own outcome (D11), all written in one call. Once the partner has answered, the answer is recorded even
        // while stopping: dropping it would only resend what was delivered.
        var settlements = new List<Settlement>(chunk.Length);
        for (var i = 0; i < chunk.Length; i++)
        {
            var attempt = chunk[i];
            try
            {
                using (results[i].IsSuccess ? null : processor.BeginScope(attempt.Delivery))
                    settlements.Add(processor.After(attempt, results[i]));
            }
            catch (Exception ex)
            {
                settlements.Add(processor.Unexpected(attempt.Delivery, ex));
            }
        }
        var settled = await SettleAsync(settlements, chunk).ConfigureAwait(false);

        // Deliveries with later steps go on alone, concurrently (each in its own scope, guarded).
        var outcomes = new DeliveryOutcome[chunk.Length];
        List<(int Index, Task<DeliveryOutcome> Task)>? continuing = null;
        for (var i = 0; i < chunk.Length; i++)
        {
            if (settled[i] is { } outcome) outcomes[i] = outcome;
            else (continuing ??= []).Add((i, processor.ContinueAsync(chunk[i], ct)));
        }
        foreach (var (index, rest) in continuing ?? [])
            outcomes[index] = await rest.ConfigureAwait(false);
        return outcomes;
    }

    /// <summary>Writes <paramref name="settlements"/> in one call and counts each final outcome. Null at an index: the row's
    /// progress is recorded and its attempt (of <paramref name="attempts"/>, index for index) goes on with the next step.</summary>
    async Task<DeliveryOutcome?[]> SettleAsync(List<Settlement> settlements, DeliveryAttempt[]? attempts)
    {
        var written = await processor.TrySettleAsync(settlements).ConfigureAwait(false);
        var outcomes = new DeliveryOutcome?[settlements.Count];
        for (var i = 0; i < settlements.Count; i++)
        {
            var s = settlements[i];
            if (s.Kind == SettlementKind.Progress && written is not null && written[i])
            {
                attempts![i].Advanced();
                continue;
            }
            var outcome = written is null || s.Kind == SettlementKind.Progress
                ? DeliveryOutcome.LeaseLost
                : processor.Settled(written[i], DeliveryProcessor.OutcomeOf(s.Kind));
            outcomes[i] = await processor.FinishAsync(s.Delivery, outcome, CancellationToken.None).ConfigureAwait(false);
        }
        return outcomes;
    }
}
