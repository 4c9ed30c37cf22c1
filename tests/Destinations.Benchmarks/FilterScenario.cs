using System.Globalization;
using System.Text;

namespace Destinations.Benchmarks;

/// <summary>
/// Ingest with a few destination filters on the instance (docs/configuration.md "Destination filters"), against the same
/// service without them, back to back on fresh services. The filters are chosen so every bench event is still routed and
/// stored: the store does the same work in both runs, and the difference is the filters' own cost at routing (the FQL needs
/// the event's DOM; the sample hashes the userId). The property filters act at mapping, after the acknowledgement.
/// </summary>
public static class FilterScenario
{
    public static readonly (string, string)[] Filters =
    [
        ("Destinations__0__Filters__0__drop", "event = \"Test Event\" or contains(context.page.url, \"staging.\")"),
        ("Destinations__0__Filters__1__only", "type = \"track\" or type = \"identify\""),
        ("Destinations__0__Filters__2__sample", "99.99"),
        ("Destinations__0__Filters__2__by", "userId"),
        ("Destinations__0__Filters__3__dropProperties__0", "context.ip"),
        ("Destinations__0__Filters__3__dropProperties__1", "properties.email"),
    ];

    public static string Describe() =>
        "drop (FQL with contains()), only (FQL), sample 99.99% by userId, dropProperties (context.ip, properties.email)";
}

/// <summary>One store's single and batch ingest without and with <see cref="FilterScenario.Filters"/>.</summary>
public sealed class FilterResult
{
    /// <summary>Each variant's better run of two (null until measured).</summary>
    public WrkResult? Single, Batch, FilteredSingle, FilteredBatch;
    public double SingleCpu, BatchCpu, FilteredSingleCpu, FilteredBatchCpu;

    public static string Render(IReadOnlyList<(StoreKind Store, FilterResult Result)> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Destination filters on the instance ({FilterScenario.Describe()}; every event still routed); each run on a fresh " +
            "service, in the order without, with, with, without; the better run of each:");
        sb.AppendLine();
        sb.AppendLine("| store | single req/s without → with | ratio | CPU µs / request without → with | batch events/s without → with | ratio | CPU µs / event without → with |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (store, r) in results)
        {
            if (r is not { Single: { } single, Batch: { } batch, FilteredSingle: { } fs, FilteredBatch: { } fb }) continue;
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {BenchOptions.Name(store)} | {single.PerSecond:N0} → {fs.PerSecond:N0} | {fs.PerSecond / single.PerSecond:F2}x | " +
                $"{Us(r.SingleCpu, single, 1):F1} → {Us(r.FilteredSingleCpu, fs, 1):F1} | " +
                $"{batch.PerSecond * 100:N0} → {fb.PerSecond * 100:N0} | {fb.PerSecond / batch.PerSecond:F2}x | " +
                $"{Us(r.BatchCpu, batch, 100):F1} → {Us(r.FilteredBatchCpu, fb, 100):F1} |"));
        }
        return sb.ToString();
    }

    static double Us(double cpuSeconds, WrkResult w, int perRequest) =>
        w.Requests == 0 ? 0 : cpuSeconds * 1e6 / (w.Requests * (double)perRequest);
}
