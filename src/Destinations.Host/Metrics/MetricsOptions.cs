namespace Destinations.Host.Metrics;

/// <summary>Section <c>Metrics</c>.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>
    /// How often the queue gauges re-read the store's per-instance counts. Gauges are read from a snapshot so a Prometheus
    /// scrape never waits on the database, and many scrapers cost one query per instance per interval.
    /// </summary>
    public TimeSpan QueueSampleInterval { get; set; } = TimeSpan.FromSeconds(5);
}
