using System.Diagnostics;
using Destinations.Core.Delivery;
using Destinations.Core.Diagnostics;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Delivery;

/// <summary>
/// The one way claimed deliveries go out (README.md "How delivery works", steps 3–4). A claimed set is split by destination
/// instance and the instances are served concurrently, so one slow or broken instance never delays the others. For each
/// instance:
/// <list type="number">
/// <item>its rate limiter admits rows (D25); the rest are postponed, which is not an attempt (D14);</item>
/// <item>each admitted row gets its plan: the stored one, or mapped now at its first attempt (D8, D11);</item>
/// <item>the rows' next steps go out in chunks: on an <see cref="IBatchingDestination"/> steps with the same batch key share
/// one partner call of up to <c>MaxBatchSize</c> (D15); every other step is a chunk of one, sent with
/// <see cref="IDestination.SendAsync"/>. A single delivery is a batch of one. Shared calls go concurrently, chunks of one
/// after them one at a time, so a pause (D12) or an open breaker stops the rest of the set before it is sent;</item>
/// <item>each item's answer settles its own delivery (<see cref="SettlementRules"/>; D11–D13), a chunk's items in one write
/// (one transaction, one round trip), and feeds the instance's health (D12 pause, breaker) and rate limiter (429);</item>
/// <item>a delivery with later steps goes on with them, each step a chunk of one.</item>
/// </list>
/// Never throws for a bad row: anything unexpected is retried with backoff, and a row is left to its lease when even that
/// cannot be written. Ordering (D16) needs nothing here: the claim yields at most one delivery per user key.
/// </summary>
public sealed class DeliverySender(
    IDeliveryQueue queue,
    DestinationRegistry registry,
    IOptions<DeliveryOptions> options,
    RetryJitter jitter,
    TimeProvider time,
    ILogger<DeliverySender> logger,
    DestinationsMetrics? metrics = null,
    DestinationRateLimiter? limiter = null)
{
    /// <summary>At most this many shared calls of one batching instance in flight at once.</summary>
    const int ConcurrentBatchCalls = 4;

    readonly SettlementRules _rules = new(options.Value, jitter, time, logger);
    readonly InstanceHealthTracker _health = new(queue, options.Value, time, logger);

    /// <summary>Sends a claimed set; one outcome per row (each instance's postponed rows first, then the rest in claim order).</summary>
    public async Task<List<DeliveryOutcome>> SendAsync(IReadOnlyList<ClaimedDelivery> claimed, CancellationToken ct)
    {
        var instances = claimed.GroupBy(d => d.DestinationId, StringComparer.Ordinal).Select(g => SendInstanceAsync(g.Key, g.ToList(), ct));
        return (await Task.WhenAll(instances).ConfigureAwait(false)).SelectMany(o => o).ToList();
    }

    async Task<List<DeliveryOutcome>> SendInstanceAsync(string destinationId, List<ClaimedDelivery> rows, CancellationToken ct)
    {
        var outcomes = new List<DeliveryOutcome>(rows.Count);
        if (rows.Any(d => !d.IsProbe)) _health.ForgetHeld(destinationId);
        var destination = registry.Find(destinationId);
        var admitted = Admit(destinationId, destination as IBatchingDestination, rows.Count);
        if (admitted < rows.Count)
        {
            var until = limiter!.NextTokenAt(destinationId);
            logger.LogInformation("Rate limit of {Destination}: {Postponed} deliveries wait until {Until:O} (a rate-limit wait is not an attempt)",
                destinationId, rows.Count - admitted, until);
            outcomes.AddRange(await PostponeAsync(rows.GetRange(admitted, rows.Count - admitted), until).ConfigureAwait(false));
            rows = rows.GetRange(0, admitted);
        }
        outcomes.AddRange(await SendRowsAsync(destination, rows, ct).ConfigureAwait(false));
        return outcomes;
    }

    /// <summary>How many rows the rate limiter lets go now: a token is one partner call, so one per delivery, or one per
    /// batch call of up to MaxBatchSize items.</summary>
    int Admit(string destinationId, IBatchingDestination? batching, int rows)
    {
        if (limiter is null) return rows;
        var perCall = Math.Max(1, batching?.MaxBatchSize ?? 1);
        var granted = limiter.TryAcquire(destinationId, (rows + perCall - 1) / perCall);
        return (int)Math.Min(rows, (long)granted * perCall);
    }

    async Task<DeliveryOutcome[]> SendRowsAsync(IDestination? destination, List<ClaimedDelivery> rows, CancellationToken ct)
    {
        var outcomes = new DeliveryOutcome[rows.Count];
        var ready = new List<Item>(rows.Count);
        List<(int Index, Settlement Settlement)>? unsent = null;
        for (var i = 0; i < rows.Count; i++)
        {
            var d = rows[i];
            if (ct.IsCancellationRequested)
            {
                (unsent ??= []).Add((i, new Settlement(d, SettlementKind.Released)));
                continue;
            }
            if (LeaseRanOut(d))
            {
                outcomes[i] = await FinishAsync(d, DeliveryOutcome.LeaseLost).ConfigureAwait(false);
                continue;
            }
            using var scope = BeginScope(d);
            try
            {
                if (Plan(d, destination, out var nothingToSend) is { } attempt) ready.Add(new(i, attempt));
                else (unsent ??= []).Add((i, nothingToSend!));
            }
            catch (Exception ex)
            {
                (unsent ??= []).Add((i, _rules.AfterUnexpectedError(d, ex)));
            }
        }
        // Filtered, invalid, gone (and released at shutdown) rows: one write for all.
        if (unsent is not null)
        {
            var settled = await SettleAsync(unsent.ConvertAll(u => u.Settlement), null).ConfigureAwait(false);
            for (var i = 0; i < unsent.Count; i++) outcomes[unsent[i].Index] = settled[i]!.Value;
        }
        if (destination is not null && ready.Count > 0)
            await SendChunksAsync(destination, Chunk(destination, ready), outcomes, ct).ConfigureAwait(false);
        return outcomes;
    }

    /// <summary>Steps with the same batch key of a batching destination share chunks of up to MaxBatchSize; every other step
    /// is a chunk of one. Shared chunks go first, in claim order.</summary>
    static List<Item[]> Chunk(IDestination destination, List<Item> ready)
    {
        if (destination is not IBatchingDestination batching || batching.MaxBatchSize <= 1) return ready.ConvertAll(i => new[] { i });
        var shared = new List<Item[]>();
        var alone = new List<Item[]>();
        foreach (var item in ready.Where(i => batching.BatchKey(i.Attempt.Next) is null)) alone.Add([item]);
        foreach (var batch in ready.Where(i => batching.BatchKey(i.Attempt.Next) is not null)
                     .GroupBy(i => batching.BatchKey(i.Attempt.Next)!, StringComparer.Ordinal))
            foreach (var chunk in batch.Chunk(batching.MaxBatchSize))
                (chunk.Length > 1 ? shared : alone).Add(chunk);
        shared.AddRange(alone);
        return shared;
    }

    /// <summary>Shared calls of a batching instance go concurrently (at most <see cref="ConcurrentBatchCalls"/>); chunks of
    /// one go after them, one at a time, so a pause or an open breaker stops the rest before it is sent.</summary>
    async Task SendChunksAsync(IDestination destination, List<Item[]> chunks, DeliveryOutcome[] outcomes, CancellationToken ct)
    {
        var shared = chunks.Where(c => c.Length > 1).ToList();
        if (shared.Count == 1) await SendChunkAsync(destination, shared[0], outcomes, ct).ConfigureAwait(false);
        else if (shared.Count > 1)
        {
            using var gate = new SemaphoreSlim(ConcurrentBatchCalls);
            await Task.WhenAll(shared.Select(async chunk =>
            {
                await gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                try
                {
                    await SendChunkAsync(destination, chunk, outcomes, ct).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }
            })).ConfigureAwait(false);
        }
        foreach (var chunk in chunks.Where(c => c.Length == 1))
            await SendChunkAsync(destination, chunk, outcomes, ct).ConfigureAwait(false);
    }

    /// <summary>Sends one chunk's next steps in one partner call, settles each item by its own answer, then sends the later
    /// steps of the items that have more. Writes each item's final outcome into <paramref name="outcomes"/>.</summary>
    async Task SendChunkAsync(IDestination destination, Item[] chunk, DeliveryOutcome[] outcomes, CancellationToken ct)
    {
        var id = destination.Id;
        // A delivery sent on its own logs in its own scope throughout; a shared call's items get theirs for their failures.
        using var scope = chunk.Length == 1 ? BeginScope(chunk[0].Attempt.Delivery) : null;

        // Paused (D12) or breaker open since the set was claimed: the rest waits for the canary, unsent and not counted.
        // Stopping: the rows go back. A long set may outlive a row's lease: another worker may own it by now.
        var releasing = ct.IsCancellationRequested || (_health.IsKnownHeld(id) && !chunk.Any(i => i.Attempt.Delivery.IsProbe));
        if (releasing || chunk.Any(i => time.GetUtcNow() >= i.Attempt.Delivery.LeaseUntil))
        {
            var going = new List<Item>(chunk.Length);
            List<(int Index, Settlement Settlement)>? back = null;
            foreach (var item in chunk)
            {
                if (releasing) (back ??= []).Add((item.Index, new Settlement(item.Attempt.Delivery, SettlementKind.Released)));
                else if (LeaseRanOut(item.Attempt.Delivery))
                    outcomes[item.Index] = await FinishAsync(item.Attempt.Delivery, DeliveryOutcome.LeaseLost).ConfigureAwait(false);
                else going.Add(item);
            }
            if (back is not null)
            {
                var released = await SettleAsync(back.ConvertAll(b => b.Settlement), null).ConfigureAwait(false);
                for (var i = 0; i < back.Count; i++) outcomes[back[i].Index] = released[i]!.Value;
            }
            if (going.Count == 0) return;
            chunk = [.. going];
        }

        IReadOnlyList<AttemptResult> results;
        var unexpected = false;
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (chunk.Length == 1) results = [await destination.SendAsync(chunk[0].Attempt.Next, ct).ConfigureAwait(false)];
            else
            {
                var requests = new PartnerRequest[chunk.Length];
                for (var i = 0; i < chunk.Length; i++) requests[i] = chunk[i].Attempt.Next;
                results = await ((IBatchingDestination)destination).SendBatchAsync(requests, ct).ConfigureAwait(false);
                if (results.Count != chunk.Length)
                    throw new InvalidOperationException($"SendBatchAsync returned {results.Count} results for {chunk.Length} requests");
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping before the partner answered: the rows go back, attempt not counted.
            var back = chunk.Select(i => new Settlement(i.Attempt.Delivery, SettlementKind.Released)).ToList();
            var released = await SettleAsync(back, null).ConfigureAwait(false);
            for (var i = 0; i < chunk.Length; i++) outcomes[chunk[i].Index] = released[i]!.Value;
            return;
        }
        catch (Exception ex)
        {
            // A partner client broke its promise not to throw: each item is retried with backoff; the partner's health is
            // not judged by it.
            logger.LogError(ex, "Sending {Count} deliveries to {Destination} failed unexpectedly; retrying with backoff", chunk.Length, id);
            results = chunk.Select(_ => new AttemptResult(AttemptOutcome.Retry, null, null, null, $"unexpected error: {ex.GetType().Name}")).ToList();
            unexpected = true;
        }
        if (chunk.Length > 1) logger.LogDebug("Sent a batch of {Count} to {Destination}", chunk.Length, id);

        AttemptResult? summary = null;
        var probe = false;
        for (var i = 0; i < results.Count; i++)
        {
            if (summary is null && results[i].IsSuccess) summary = results[i];
            probe |= chunk[i].Attempt.Delivery.IsProbe;
            if (results[i].StatusCode == 429) limiter?.OnThrottled(id, results[i].RetryAfter); // D25 adaptive
        }
        summary ??= results[0];
        metrics?.AttemptDuration(id, summary.Outcome.ToString(), Stopwatch.GetElapsedTime(started));
        if (!unexpected && !ct.IsCancellationRequested)
        {
            try
            {
                await _health.RecordAsync(id, summary, probe, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                logger.LogError("Could not record the health of {Destination}: {Error}", id, ex.GetType().Name + ": " + ex.Message);
            }
            catch (OperationCanceledException)
            {
                // Stopping: the answers below are still recorded.
            }
        }

        // Each item's own outcome (D11), all written in one call. Once the partner has answered, the answer is recorded even
        // while stopping: dropping it would only resend what was delivered.
        var settlements = new List<Settlement>(chunk.Length);
        // One record of the call for all its items (the event's story: "delivered at T in request R, HTTP 200").
        var call = unexpected ? null : CallRecord(destination, chunk, summary);
        for (var i = 0; i < chunk.Length; i++)
        {
            var attempt = chunk[i].Attempt;
            try
            {
                using (chunk.Length > 1 && !results[i].IsSuccess ? BeginScope(attempt.Delivery) : null)
                    settlements.Add(_rules.AfterStep(attempt, results[i]) with { Call = call });
            }
            catch (Exception ex)
            {
                settlements.Add(_rules.AfterUnexpectedError(attempt.Delivery, ex));
            }
        }
        var settled = await SettleAsync(settlements, chunk).ConfigureAwait(false);

        // Deliveries with later steps go on with them, each step a chunk of one.
        List<Item[]>? continuing = null;
        for (var i = 0; i < chunk.Length; i++)
        {
            if (settled[i] is { } outcome) outcomes[chunk[i].Index] = outcome;
            else (continuing ??= []).Add([chunk[i]]);
        }
        if (continuing is not null) await SendChunksAsync(destination, continuing, outcomes, ct).ConfigureAwait(false);
    }

    /// <summary>The record of one partner call: method and URL as described (secrets stay placeholders), the answer's
    /// excerpt, and for a failed call sent alone its body (a shared call's batch body is the partner client's; each item's
    /// failed request is kept on its row).</summary>
    PartnerCallRecord CallRecord(IDestination destination, Item[] chunk, AttemptResult summary)
    {
        var request = chunk[0].Attempt.Next;
        if (chunk.Length > 1)
            return PartnerCallRecord.Of(time.GetUtcNow(), request.Step, request.Method,
                ((IBatchingDestination)destination).DescribeBatch(Array.ConvertAll(chunk, i => i.Attempt.Next)), null, summary);
        // Serialized only for a failure: a success's body is not kept.
        return PartnerCallRecord.Of(time.GetUtcNow(), request.Step, request.Method, destination.Describe(request),
            summary.IsSuccess ? null : request.Body?.ToJsonString(), summary);
    }

    /// <summary>The plan of a row: the stored one, or mapped now at its first attempt with the settings of this moment (D8,
    /// D11). Null, with the settlement in <paramref name="nothingToSend"/>, when there is nothing to send (instance gone,
    /// filtered, invalid). Writes nothing: a plan mapped here is stored with the first outcome after its send
    /// (<see cref="Settlement"/> explains why that keeps D11).</summary>
    DeliveryAttempt? Plan(ClaimedDelivery d, IDestination? destination, out Settlement? nothingToSend)
    {
        nothingToSend = null;
        if (destination is null)
        {
            var reason = $"destination instance '{d.DestinationId}' is no longer configured";
            logger.LogWarning("Delivery {DeliveryId} dead: {Reason}", d.Id, reason);
            nothingToSend = new Settlement(d, SettlementKind.Dead) { Reason = reason };
            return null;
        }
        if (d.Plan is not null) return new DeliveryAttempt(d, destination, PlanSerializer.Deserialize(d.Plan), planStored: true);

        // Through the registry, so the instance's property filters shape the mapper's input here as in the dry-run.
        var mapping = registry.Map(destination, SegmentEvent.FromStored(d.EventBody), d.Subscription).Result;
        switch (mapping.Outcome)
        {
            case MappingOutcome.Filtered:
                logger.LogInformation("Delivery {DeliveryId} filtered: {Reason}", d.Id, mapping.Reason);
                nothingToSend = new Settlement(d, SettlementKind.Filtered) { Reason = mapping.Reason ?? "filtered" };
                return null;
            case MappingOutcome.Invalid:
                logger.LogWarning("Delivery {DeliveryId} invalid: {Reason}", d.Id, mapping.Reason);
                nothingToSend = new Settlement(d, SettlementKind.Invalid) { Reason = mapping.Reason ?? "invalid" };
                return null;
        }
        return new DeliveryAttempt(d, destination, mapping.Requests, planStored: false);
    }

    /// <summary>Writes <paramref name="settlements"/> in one call and counts each final outcome. Null at an index: the row's
    /// progress is recorded and its attempt (of <paramref name="chunk"/>, index for index) goes on with the next step.</summary>
    async Task<DeliveryOutcome?[]> SettleAsync(List<Settlement> settlements, Item[]? chunk)
    {
        bool[]? written;
        try
        {
            written = await queue.SettleAsync(settlements, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogError("Could not record {Count} delivery outcomes; the leases will return the rows: {Error}",
                settlements.Count, ex.GetType().Name + ": " + ex.Message);
            written = null;
        }
        var outcomes = new DeliveryOutcome?[settlements.Count];
        for (var i = 0; i < settlements.Count; i++)
        {
            var s = settlements[i];
            if (s.Kind == SettlementKind.Progress && written is not null && written[i])
            {
                chunk![i].Attempt.Advanced();
                continue;
            }
            DeliveryOutcome outcome;
            if (written is not null && written[i] && s.Kind != SettlementKind.Progress) outcome = SettlementRules.OutcomeOf(s.Kind);
            else
            {
                if (written is not null)
                    logger.LogWarning("Lease lost before the outcome {Outcome} of delivery {DeliveryId} could be recorded", s.Kind, s.Delivery.Id);
                outcome = DeliveryOutcome.LeaseLost;
            }
            outcomes[i] = await FinishAsync(s.Delivery, outcome).ConfigureAwait(false);
        }
        return outcomes;
    }

    async Task<IEnumerable<DeliveryOutcome>> PostponeAsync(List<ClaimedDelivery> rows, DateTimeOffset until)
    {
        try
        {
            var postponed = rows.ConvertAll(d => new Settlement(d, SettlementKind.Postponed) { At = until });
            var written = await queue.SettleAsync(postponed, CancellationToken.None).ConfigureAwait(false);
            return written.Select(w => w ? DeliveryOutcome.Postponed : DeliveryOutcome.LeaseLost);
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not postpone {Count} deliveries; their leases will expire: {Error}", rows.Count, ex.GetType().Name);
            return rows.Select(_ => DeliveryOutcome.LeaseLost);
        }
    }

    /// <summary>A long set may outlive the lease; another worker may own the row by now, so do not send it (again).</summary>
    bool LeaseRanOut(ClaimedDelivery d)
    {
        if (time.GetUtcNow() < d.LeaseUntil) return false;
        logger.LogWarning("Lease ran out before delivery {DeliveryId} was processed; leaving it to the next claim", d.Id);
        return true;
    }

    /// <summary>Counts the outcome; a canary that sent nothing (filtered, invalid, lost) lets the next canary go at once.</summary>
    async ValueTask<DeliveryOutcome> FinishAsync(ClaimedDelivery d, DeliveryOutcome outcome)
    {
        metrics?.Delivery(d.DestinationId, outcome switch
        {
            DeliveryOutcome.Delivered => "delivered",
            DeliveryOutcome.RetryScheduled => "retry",
            DeliveryOutcome.Held => "paused",
            _ => outcome.ToString().ToLowerInvariant(),
        });
        if (d.IsProbe && outcome is DeliveryOutcome.Filtered or DeliveryOutcome.Invalid or DeliveryOutcome.LeaseLost or DeliveryOutcome.Released)
            await _health.ProbeInconclusiveAsync(d).ConfigureAwait(false);
        return outcome;
    }

    /// <summary>The per-delivery log scope (<c>messageId</c>, <c>destination</c> and <c>deliveryId</c>).</summary>
    IDisposable? BeginScope(ClaimedDelivery d) => logger.BeginScope(new DeliveryScope(d));

    /// <summary>A row being sent in this pass and its index in the claimed set (where its outcome goes).</summary>
    readonly record struct Item(int Index, DeliveryAttempt Attempt);
}
