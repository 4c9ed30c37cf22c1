using Destinations.Core.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Delivery;

/// <summary>
/// The background delivery loop (README.md "How delivery works", step 3): <see cref="DeliveryOptions.Workers"/> workers each claim up
/// to <see cref="DeliveryOptions.ClaimBatchSize"/> due deliveries under a lease (skipping throttled instances, D25; ordered
/// ones per D16) and hand them to the <see cref="DeliverySender"/>. An idle worker sleeps until the store signals new
/// deliveries (one worker per signal) or <see cref="DeliveryOptions.PollInterval"/> passes (for due retries and probes). Before a claim
/// that follows a wake-up or a claim that was not full, a worker lingers (<see cref="DeliveryOptions.ClaimLinger"/>) so the
/// commits of that moment share one claim, partner call and settle commit; commits signalled while a worker lingers are left
/// to its claim. Worker 0 also dead-letters
/// deliveries held past PausedMaxAge (D12) every <see cref="DeliveryOptions.MaintenanceInterval"/>.
/// </summary>
public sealed class Dispatcher(
    IDeliveryQueue queue,
    DeliverySender sender,
    DispatchSignal signal,
    IOptions<DeliveryOptions> options,
    TimeProvider time,
    ILogger<Dispatcher> logger,
    DestinationRateLimiter? limiter = null,
    DestinationRegistry? registry = null) : BackgroundService
{
    readonly string[]? _destinations = registry?.Destinations.Select(d => d.Id).ToArray();
    readonly DeliveryOptions _options = options.Value;
    readonly string _instance = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    readonly HashSet<string> _ordered = new(options.Value.OrderedDestinations, StringComparer.Ordinal);
    DateTimeOffset _nextMaintenance = DateTimeOffset.MinValue;
    int _lingering; // workers waiting out ClaimLinger before their next claim

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Dispatcher starting {Workers} workers (claim batch {ClaimBatchSize})", _options.Workers, _options.ClaimBatchSize);
        var workers = Enumerable.Range(0, _options.Workers)
            .Select(i => Task.Run(() => WorkAsync($"{_instance}/{i}", i == 0, stoppingToken), CancellationToken.None));
        return Task.WhenAll(workers);
    }

    async Task WorkAsync(string owner, bool maintains, CancellationToken ct)
    {
        var linger = false;
        var counted = false; // counted in _lingering already (by IdleAsync, the moment a commit woke it)
        while (!ct.IsCancellationRequested)
        {
            if (linger && !await LingerAsync(counted, ct).ConfigureAwait(false)) return;
            if (maintains) await MaintainAsync(ct).ConfigureAwait(false);
            IReadOnlyList<ClaimedDelivery> batch;
            try
            {
                var request = new ClaimRequest(owner, _options.ClaimBatchSize, _options.Lease)
                {
                    Skip = limiter?.Throttled() ?? new HashSet<string>(),
                    Ordered = _ordered,
                    Destinations = _destinations,
                    RateLimits = limiter?.SharedLimits, // D25 across replicas (PostgreSQL): tokens taken in the claim
                };
                batch = await queue.ClaimAsync(request, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The store may be briefly unavailable (locked, disk trouble): wait a poll interval and try again.
                logger.LogError("Claiming deliveries failed: {Error}", ex.GetType().Name + ": " + ex.Message);
                batch = [];
            }

            if (ct.IsCancellationRequested)
                foreach (var delivery in batch) await ReleaseQuietlyAsync(delivery).ConfigureAwait(false);
            else if (batch.Count > 0)
                await sender.SendAsync(batch, ct).ConfigureAwait(false);

            // A full claim means more may be due: wake one more worker (each commit wakes only one, DispatchSignal).
            if (batch.Count >= _options.ClaimBatchSize) signal.Notify();
            // A commit between the empty claim and the wait is kept by the signal as a pending wake-up: never missed.
            counted = batch.Count == 0 && await IdleAsync(ct).ConfigureAwait(false);
            // Anything short of a full claim: the next claim waits for the linger, so the events of several group commits go
            // in one claim and one partner call instead of one each.
            linger = batch.Count < _options.ClaimBatchSize;
        }
    }

    /// <summary>Waits <see cref="DeliveryOptions.ClaimLinger"/> (wall-clock: it only gathers work) before a claim; false when
    /// stopping. While a worker lingers, the claim it is about to make covers every commit signalled meanwhile, so a worker
    /// woken by such a commit goes back to sleep (<see cref="IdleAsync"/>).</summary>
    /// <param name="counted">The worker is counted in <see cref="_lingering"/> already.</param>
    async Task<bool> LingerAsync(bool counted, CancellationToken ct)
    {
        if (_options.ClaimLinger <= TimeSpan.Zero) return true;
        if (!counted) Interlocked.Increment(ref _lingering);
        try
        {
            await Task.Delay(_options.ClaimLinger, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            // After this the worker claims: its claim reads the log after every commit whose wake-up saw it lingering.
            Interlocked.Decrement(ref _lingering);
        }
        return !ct.IsCancellationRequested;
    }

    async Task MaintainAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (now < _nextMaintenance) return;
        _nextMaintenance = now + _options.MaintenanceInterval;
        try
        {
            var expired = await queue.ExpireHeldAsync(_options.PausedMaxAge, ct).ConfigureAwait(false);
            if (expired > 0)
                logger.LogWarning("{Count} deliveries held longer than PausedMaxAge ({PausedMaxAge}) became dead letters", expired, _options.PausedMaxAge);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError("Expiring held deliveries failed: {Error}", ex.GetType().Name + ": " + ex.Message);
        }
    }

    /// <summary>Sleeps until a commit or the poll interval. True when a commit woke it and it now counts as lingering: from
    /// that moment on, workers woken by later commits leave those to its claim.</summary>
    async Task<bool> IdleAsync(CancellationToken ct)
    {
        using var stopDelay = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var poll = Task.Delay(_options.PollInterval, time, stopDelay.Token);
        var counted = false;
        while (true)
        {
            var woken = signal.WaitOneAsync(stopDelay.Token);
            await Task.WhenAny(woken, poll).ConfigureAwait(false);
            if (poll.IsCompleted || ct.IsCancellationRequested || _options.ClaimLinger <= TimeSpan.Zero) break;
            // Woken by a commit while another worker lingers before its claim: that claim takes the new events, so this
            // worker sleeps on (until the next commit or the poll) instead of claiming the same few events on its own.
            if (Interlocked.CompareExchange(ref _lingering, 1, 0) == 0)
            {
                counted = true;
                break;
            }
        }
        await stopDelay.CancelAsync().ConfigureAwait(false);
        return counted;
    }

    async Task ReleaseQuietlyAsync(ClaimedDelivery delivery)
    {
        try
        {
            await queue.ReleaseAsync(delivery, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not release delivery {DeliveryId} at shutdown; its lease will expire: {Error}", delivery.Id, ex.GetType().Name);
        }
    }
}
