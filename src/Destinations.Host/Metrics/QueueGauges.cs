using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Destinations.Core.Diagnostics;
using Destinations.Core.Routing;
using Destinations.Core.Storage;
using Microsoft.Extensions.Options;

namespace Destinations.Host.Metrics;

/// <summary>
/// Observable gauges of the delivery queue per destination instance, from <see cref="IDeliveryQueue.GetStatsAsync"/> (the
/// store's counts, right across replicas, D8) sampled every <see cref="MetricsOptions.QueueSampleInterval"/>.
/// </summary>
public sealed class QueueGauges : BackgroundService
{
    readonly ConcurrentDictionary<string, DestinationStats> _latest = new(StringComparer.Ordinal);
    readonly DestinationRegistry _registry;
    readonly IDeliveryQueue _queue;
    readonly TimeSpan _interval;
    readonly TimeProvider _time;
    readonly ILogger<QueueGauges> _logger;

    public QueueGauges(DestinationsMetrics metrics, DestinationRegistry registry, IDeliveryQueue queue, IOptions<MetricsOptions> options,
        TimeProvider time, ILogger<QueueGauges> logger)
    {
        _registry = registry;
        _queue = queue;
        _interval = options.Value.QueueSampleInterval;
        _time = time;
        _logger = logger;
        metrics.Meter.CreateObservableGauge("destinations.queue.depth", Depth, "{delivery}",
            "Deliveries waiting per destination instance: state=new (never attempted) or retrying");
        metrics.Meter.CreateObservableGauge("destinations.queue.dead", () => _latest.Select(kv =>
            new Measurement<long>(kv.Value.Dead, new KeyValuePair<string, object?>("destination", kv.Key))), "{delivery}",
            "Dead letters kept per destination instance");
        metrics.Meter.CreateObservableGauge("destinations.queue.oldest_due_age", OldestDueAge, "s",
            "Age of the oldest delivery that is due now per destination instance (0 when none is due): how far delivery lags");
        metrics.Meter.CreateObservableGauge("destinations.queue.cursor_lag", () => _latest.Select(kv =>
            new Measurement<long>(kv.Value.LogBacklog, new KeyValuePair<string, object?>("destination", kv.Key))), "{event}",
            "Events on the log after the instance's cursor (not yet delivered, no row of their own; 0 without a log)");
        metrics.Meter.CreateObservableGauge("destinations.queue.cursor_lag_age", CursorLagAge, "s",
            "Age of the oldest event on the log after the instance's cursor (0 when none)");
    }

    /// <summary>Now minus the oldest pending delivery's due time; a due time in the future (a retry waiting) is not lag.</summary>
    IEnumerable<Measurement<double>> OldestDueAge()
    {
        var now = _time.GetUtcNow();
        foreach (var (id, stats) in _latest)
        {
            var age = stats.OldestDueAt is { } due && due < now ? (now - due).TotalSeconds : 0;
            yield return new Measurement<double>(age, new KeyValuePair<string, object?>("destination", id));
        }
    }

    IEnumerable<Measurement<double>> CursorLagAge()
    {
        var now = _time.GetUtcNow();
        foreach (var (id, stats) in _latest)
            yield return new Measurement<double>(stats.LogOldestAt is { } at && at < now ? (now - at).TotalSeconds : 0,
                new KeyValuePair<string, object?>("destination", id));
    }

    IEnumerable<Measurement<long>> Depth() => _latest.SelectMany(kv => new[]
    {
        new Measurement<long>(kv.Value.PendingNew, new("destination", kv.Key), new("state", "new")),
        new Measurement<long>(kv.Value.Retrying, new("destination", kv.Key), new("state", "retrying")),
    });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        do
        {
            foreach (var d in _registry.Destinations)
            {
                try
                {
                    _latest[d.Id] = await _queue.GetStatsAsync(d.Id, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The gauges keep their last values; readiness (/health/ready) is what reports the store as down.
                    _logger.LogWarning("Queue gauges: could not read the stats of {Destination}: {Error}", d.Id, ex.GetType().Name);
                }
            }
        } while (await WaitAsync(timer, stoppingToken));
    }

    static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try { return await timer.WaitForNextTickAsync(ct); }
        catch (OperationCanceledException) { return false; }
    }
}
