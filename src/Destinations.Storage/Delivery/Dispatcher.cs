using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Delivery;

/// <summary>
/// The background delivery loop (architecture.md, Flow step 4): <see cref="DeliveryOptions.Workers"/> workers each claim up
/// to <see cref="DeliveryOptions.ClaimBatchSize"/> due deliveries under a lease and process them one by one. An idle worker
/// sleeps until the store signals new deliveries or <see cref="DeliveryOptions.PollInterval"/> passes (for due retries).
/// </summary>
public sealed class Dispatcher(
    IDeliveryQueue queue,
    DeliveryProcessor processor,
    DispatchSignal signal,
    IOptions<DeliveryOptions> options,
    TimeProvider time,
    ILogger<Dispatcher> logger) : BackgroundService
{
    readonly DeliveryOptions _options = options.Value;
    readonly string _instance = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Dispatcher starting {Workers} workers (claim batch {ClaimBatchSize})", _options.Workers, _options.ClaimBatchSize);
        var workers = Enumerable.Range(0, _options.Workers)
            .Select(i => Task.Run(() => WorkAsync($"{_instance}/{i}", stoppingToken), CancellationToken.None));
        return Task.WhenAll(workers);
    }

    async Task WorkAsync(string owner, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // Taken before claiming, so a commit between the claim and the wait still wakes this worker.
            var wake = signal.WaitTask;
            IReadOnlyList<ClaimedDelivery> batch;
            try
            {
                batch = await queue.ClaimAsync(owner, _options.ClaimBatchSize, _options.Lease, ct).ConfigureAwait(false);
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

            foreach (var delivery in batch)
            {
                if (ct.IsCancellationRequested)
                {
                    await ReleaseQuietlyAsync(delivery).ConfigureAwait(false);
                    continue;
                }
                await processor.ProcessAsync(delivery, ct).ConfigureAwait(false);
            }

            if (batch.Count == 0) await IdleAsync(wake, ct).ConfigureAwait(false);
        }
    }

    async Task IdleAsync(Task wake, CancellationToken ct)
    {
        using var stopDelay = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var poll = Task.Delay(_options.PollInterval, time, stopDelay.Token);
        await Task.WhenAny(wake, poll).ConfigureAwait(false);
        await stopDelay.CancelAsync().ConfigureAwait(false);
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
