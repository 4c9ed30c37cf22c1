// OpenTelemetry listens to meters by name, process-wide: a host's /metrics would also count what other test hosts running
// in parallel record on their "Destinations" meter. One host at a time keeps scraped values exact.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
