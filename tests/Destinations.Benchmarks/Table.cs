using System.Globalization;
using System.Text;

namespace Destinations.Benchmarks;

/// <summary>A service configuration with part of the pipeline left out (<see cref="Partial"/>), for the breakdown table.</summary>
public sealed record Stage(string Key, string Name, string What, (string, string)[] Environment)
{
    public static readonly Stage[] Partial =
    [
        new("nowhere", "routed nowhere",
            "auth, read (parse, normalise, validate), route, answer; the group commit writes the event row without its body, which is its dedupe record (the one instance is linked to another source)",
            [("Destinations__0__Sources__0", "other"), ("Sources__1__Id", "other"), ("Sources__1__WriteKey", "other-key")]),
        new("held", "stored, not delivered",
            "+ the event row with its body and routes (the instance's rate limit is 1 call an hour: the dispatcher sends nothing)",
            [("Delivery__RateLimits__salesmachine-bench__Limit", "1"), ("Delivery__RateLimits__salesmachine-bench__Period", "01:00:00")]),
    ];
}

/// <summary>What one <see cref="Stage"/> measured.</summary>
public sealed class StageResult(Stage stage)
{
    public Stage Stage { get; } = stage;
    public WrkResult Single = null!, Batch = null!;
    public double SingleCpu, BatchCpu;
}

/// <summary>What one store's service measured.</summary>
public sealed class StoreResults
{
    public WrkResult? Single, SingleQuiet, Batch;
    public double SingleCpu, BatchCpu;
    /// <summary>The "where the time goes" runs: the same loads with less of the pipeline behind the acknowledgement.</summary>
    public List<StageResult> Stages { get; } = [];
    /// <summary>The consecutive fixed-rate runs; <see cref="Rate"/> is the one with the highest p99.</summary>
    public List<(double[] LatenciesMs, int Failures)> RateRuns { get; } = [];
    public (double[] LatenciesMs, int Failures)? Rate => RateRuns.Count == 0 ? null : RateRuns.MaxBy(r => Loader.Percentile(r.LatenciesMs, 99));
    /// <summary>Each run's p99, in order.</summary>
    public string RateP99s => string.Join(", ", RateRuns.Select(r => Loader.Percentile(r.LatenciesMs, 99).ToString("F2", CultureInfo.InvariantCulture)));
    public (int Target, int Posted, double PostSeconds, long Delivered, double Seconds)? EndToEnd;
    public (int Target, int Posted, double PostSeconds, double IdleMiB, double RssMiB, double PeakMiB, double DbMiB)? Backlog;
}

/// <summary>
/// The measured figures and the targets, as a Markdown table: the bare baseline, the naive durable reference, then per store
/// the service's figure with its ratio to each. The targets are on SQLite, except single and batch ingest, which have their own
/// on PostgreSQL; "met" is judged per store that has a target for the row (empty when no such store ran).
/// </summary>
public sealed class Table(IReadOnlyList<StoreKind> stores)
{
    public WrkResult? Baseline, BaselineBatch, Reference, ReferenceBatch;
    public double BaselineCpu, BaselineBatchCpu, ReferenceCpu, ReferenceBatchCpu;
    public double? CeilingReadUsPerEvent;
    public List<StoreCeiling.Result> Ceiling { get; } = [];
    public (double[] LatenciesMs, int Failures)? BaselineRate, ReferenceRate;
    readonly Dictionary<StoreKind, StoreResults> _results = stores.ToDictionary(s => s, _ => new StoreResults());

    public StoreResults this[StoreKind store] => _results[store];

    public string Render(BenchOptions o)
    {
        var sb = new StringBuilder();
        sb.Append("| measurement | baseline | durable reference |");
        foreach (var s in stores) sb.Append($" {BenchOptions.Name(s)} | ÷ baseline | ÷ reference |");
        sb.AppendLine(" target | met |");
        sb.Append("|---|---|---|").Append(string.Concat(stores.Select(_ => "---|---|---|"))).AppendLine("---|---|");

        if (Baseline is { } b)
        {
            var rf = Reference;
            Row(sb, $"single-event ingest, /v1/track, {o.Connections} connections (req/s)", N(b.PerSecond) + b.Errors,
                rf is null ? NotRun : $"{N(rf.PerSecond)}{rf.Errors} ({Ratio(rf, b)} of baseline)",
                r => r.Single is { } s ? (N(s.PerSecond) + s.Errors, Ratio(s, b), Ratio(s, rf)) : null,
                "SQLite >= 0.7x reference and >= 0.35x baseline; PostgreSQL >= 0.15x baseline", SingleMet);
            Row(sb, "  p50 / p99 latency", Ms(b), rf is null ? "" : Ms(rf), r => r.Single is { } s ? (Ms(s), "", "") : null, "", null);
            Row(sb, "  same, service logs at Warning (req/s)", N(b.PerSecond), rf is null ? "" : N(rf.PerSecond),
                r => r.SingleQuiet is { } q ? (N(q.PerSecond) + q.Errors + $", {Ms(q)}", Ratio(q, b), Ratio(q, rf)) : null, "", null);
        }
        if (BaselineBatch is { } bb)
        {
            var rb = ReferenceBatch;
            Row(sb, "batch ingest, /v1/batch × 100 events, 16 connections (events/s)", N(bb.PerSecond * 100) + bb.Errors,
                rb is null ? NotRun : $"{N(rb.PerSecond * 100)}{rb.Errors} ({Ratio(rb, bb)} of baseline)",
                r => r.Batch is { } ba ? (N(ba.PerSecond * 100) + ba.Errors, Ratio(ba, bb), Ratio(ba, rb)) : null,
                "SQLite >= 0.7x reference; PostgreSQL >= 40,000 events/s", BatchMet);
            Row(sb, "  p50 / p99 latency per request", Ms(bb), rb is null ? "" : Ms(rb),
                r => r.Batch is { } ba ? (Ms(ba), "", "") : null, "", null);
        }
        Row(sb, $"ack latency at {o.Rate:N0} events/s offered (p50 / p99 / max)", BaselineRate is { } br ? Latencies(br) : "",
            ReferenceRate is { } rr ? Latencies(rr) : BaselineRate is null ? "" : NotRun,
            r => r.Rate is { } x ? ($"{Latencies(x)} (worst of {r.RateRuns.Count}; p99 by run: {r.RateP99s} ms)", "", "") : null,
            $"SQLite p99 < 10 ms in {o.RateRuns} runs in a row",
            (store, r) => store == StoreKind.Sqlite ? Verdict(r.RateRuns.All(x => Loader.Percentile(x.LatenciesMs, 99) < 10)) : null);
        Row(sb, $"end-to-end: {o.EndToEndEvents:N0} events posted as batches → fake Salesmachine (deliveries/s)", "", "",
            r => r.EndToEnd is { } e
                ? ($"{N(e.Delivered / e.Seconds)} ({e.Delivered:N0} delivered in {e.Seconds:F1} s; ingest took {e.PostSeconds:F1} s"
                   + (e.Posted < e.Target ? $"; only {e.Posted:N0} posted" : "") + ")", "", "")
                : null,
            "SQLite >= 20,000",
            (store, r) => store == StoreKind.Sqlite ? Verdict(r.EndToEnd!.Value.Delivered / r.EndToEnd.Value.Seconds >= 20_000) : null);
        Row(sb, $"RSS with a {o.Backlog:N0}-event backlog queued (partner down)", "", "",
            r => r.Backlog is { } k
                ? ($"{k.RssMiB:F0} MiB (peak {k.PeakMiB:F0}, idle {k.IdleMiB:F0}; DB {k.DbMiB:F0} MiB; ingest {k.PostSeconds:F1} s"
                   + (k.Posted < k.Target ? $"; only {k.Posted:N0} posted" : "") + ")", "", "")
                : null,
            "SQLite < 300 MB", (store, r) => store == StoreKind.Sqlite ? Verdict(r.Backlog!.Value.RssMiB * 1.048576 < 300) : null);
        return sb.ToString();
    }

    const string NotRun = "not run";

    string? SingleMet(StoreKind store, StoreResults r)
    {
        var vsBaseline = r.Single!.PerSecond / Baseline!.PerSecond;
        if (store == StoreKind.Postgres) return Verdict(vsBaseline >= 0.15);
        if (Reference is not { } rf) return vsBaseline >= 0.35 ? "÷ baseline yes; ÷ reference not run" : Verdict(false);
        return Verdict(vsBaseline >= 0.35 && r.Single.PerSecond / rf.PerSecond >= 0.7);
    }

    string? BatchMet(StoreKind store, StoreResults r)
    {
        if (store == StoreKind.Postgres) return Verdict(r.Batch!.PerSecond * 100 >= 40_000);
        return ReferenceBatch is { } rb ? Verdict(r.Batch!.PerSecond / rb.PerSecond >= 0.7) : "not judged (reference not run)";
    }

    static string Verdict(bool met) => met ? "yes" : "**no**";

    static string Ratio(WrkResult service, WrkResult? yardstick) =>
        yardstick is null ? "" : $"{service.PerSecond / yardstick.PerSecond:F2}x";

    /// <summary>Where the time goes: per store, each stage's throughput and the service's CPU per event (single: per request),
    /// next to the baseline's (needs the single and batch runs); then the in-process SQLite store ceiling. Empty when neither ran.</summary>
    public string RenderStages()
    {
        var sb = new StringBuilder();
        if (Baseline is { } b && BaselineBatch is { } bb && stores.Any(s => _results[s].Stages.Count > 0)) RenderStageRows(sb, b, bb);
        if (Ceiling.Count > 0)
        {
            if (sb.Length > 0) sb.AppendLine();
            sb.AppendLine($"SQLite store alone, in the harness process ({StoreCeiling.Callers} concurrent callers × {StoreCeiling.EventsPerRequest}-event requests, no HTTP, no dispatcher):");
            sb.AppendLine();
            sb.AppendLine("| rows per event | events/s | group-commit thread CPU µs / event | process CPU µs / event | commits |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var c in Ceiling)
                sb.AppendLine($"| {c.Variant} | {N(c.PerSecond)} | {c.WriterUsPerEvent:F1} | {c.ProcessUsPerEvent:F1} | {c.Commits:N0} |");
            if (CeilingReadUsPerEvent is { } read)
                sb.AppendLine($"\nReading the same events as 100-event batches (parse, normalise, validate) on one thread: {read:F1} µs CPU per event.");
        }
        return sb.ToString();
    }

    void RenderStageRows(StringBuilder sb, WrkResult b, WrkResult bb)
    {
        sb.AppendLine("Where the time goes (service CPU per event = CPU seconds of the service process during the measured run ÷ events; " +
            $"2 cores = {2e6 / 100_000:F0} µs of CPU per event at 100,000 events/s, for everything on the machine):");
        sb.AppendLine();
        sb.AppendLine("| stage | single req/s | ÷ baseline | CPU µs / request | batch events/s | CPU µs / event |");
        sb.AppendLine("|---|---|---|---|---|---|");
        sb.AppendLine($"| baseline: bare Kestrel, parse, 200 | {N(b.PerSecond)} | 1.00x | {Us(BaselineCpu, b)} | {N(bb.PerSecond * 100)} | {Us(BaselineBatchCpu, bb, 100)} |");
        if (Reference is { } rf && ReferenceBatch is { } rb)
            sb.AppendLine("| durable reference: + one row per event (raw JSON) in SQLite, group commit, 200 after it | " +
                $"{N(rf.PerSecond)} | {rf.PerSecond / b.PerSecond:F2}x | {Us(ReferenceCpu, rf)} | " +
                $"{N(rb.PerSecond * 100)} | {Us(ReferenceBatchCpu, rb, 100)} |");
        foreach (var store in stores)
        {
            var r = _results[store];
            var name = BenchOptions.Name(store);
            foreach (var st in r.Stages)
                sb.AppendLine($"| {name}, {st.Stage.Name}: {st.Stage.What} | {N(st.Single.PerSecond)} | {st.Single.PerSecond / b.PerSecond:F2}x | " +
                    $"{Us(st.SingleCpu, st.Single)} | {N(st.Batch.PerSecond * 100)} | {Us(st.BatchCpu, st.Batch, 100)} |");
            if (r.Single is { } s && r.Batch is { } ba)
                sb.AppendLine($"| {name}, stored and delivered (the table above): + the dispatcher claiming, mapping, sending to the fake partner, settling | " +
                    $"{N(s.PerSecond)} | {s.PerSecond / b.PerSecond:F2}x | {Us(r.SingleCpu, s)} | {N(ba.PerSecond * 100)} | {Us(r.BatchCpu, ba, 100)} |");
        }
    }

    static string Us(double cpuSeconds, WrkResult r, int eventsPerRequest = 1) =>
        r.Requests == 0 ? "" : $"{cpuSeconds * 1e6 / (r.Requests * (double)eventsPerRequest):F1}";

    static string Latencies((double[] LatenciesMs, int Failures) x) =>
        $"{Loader.Percentile(x.LatenciesMs, 50):F2} / {Loader.Percentile(x.LatenciesMs, 99):F2} / {x.LatenciesMs[^1]:F1} ms"
        + (x.Failures > 0 ? $" ({x.Failures} failed)" : "");

    /// <summary>One row when at least one store has the figure; <paramref name="met"/> is asked for each store that has it and
    /// answers null where that store has no target for the row. With more than one store each verdict is named.</summary>
    void Row(StringBuilder sb, string what, string baseline, string reference,
        Func<StoreResults, (string Value, string VsBaseline, string VsReference)?> cell, string target,
        Func<StoreKind, StoreResults, string?>? met)
    {
        var cells = stores.Select(s => (Store: s, Cell: cell(_results[s]))).ToList();
        if (cells.All(c => c.Cell is null)) return;
        sb.Append($"| {what} | {baseline} | {reference} |");
        foreach (var (_, c) in cells) sb.Append(c is { } v ? $" {v.Value} | {v.VsBaseline} | {v.VsReference} |" : " not run | | |");
        var verdicts = met is null
            ? []
            : cells.Where(c => c.Cell is not null)
                .Select(c => (c.Store, Text: met(c.Store, _results[c.Store])))
                .Where(v => v.Text is not null)
                .ToList();
        var verdict = stores.Count == 1
            ? string.Concat(verdicts.Select(v => v.Text))
            : string.Join("; ", verdicts.Select(v => $"{BenchOptions.Name(v.Store)} {v.Text}"));
        sb.AppendLine($" {target} | {verdict} |");
    }

    static string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);

    static string Ms(WrkResult w) => $"{w.P50Ms:F2} / {w.P99Ms:F2} ms";
}
