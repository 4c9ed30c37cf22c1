using System.Globalization;
using System.Text;

namespace Destinations.Benchmarks;

/// <summary>The measured figures and the issue-8 targets, as a Markdown table.</summary>
public sealed class Table
{
    public WrkResult? Baseline, Single, SingleQuiet, BaselineBatch, Batch;
    public double SingleCpu;
    public (double[] LatenciesMs, int Failures)? Rate;
    public (int Target, int Posted, double PostSeconds, long Delivered, double Seconds)? EndToEnd;
    public (int Target, int Posted, double PostSeconds, double IdleMiB, double RssMiB, double PeakMiB, double DbMiB)? Backlog;

    public string Render(BenchOptions o)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| measurement | baseline | service (SQLite) | service ÷ baseline | target | met |");
        sb.AppendLine("|---|---|---|---|---|---|");
        if (Baseline is { } b && Single is { } s)
        {
            var ratio = s.PerSecond / b.PerSecond;
            sb.AppendLine(Row($"single-event ingest, /v1/track, {o.Connections} connections (req/s)", N(b.PerSecond) + b.Errors, N(s.PerSecond) + s.Errors, $"{ratio:F2}x", ">= 0.35x", ratio >= 0.35));
            sb.AppendLine(Row("  p50 / p99 latency", Ms(b), Ms(s), "", "", null));
            if (SingleQuiet is { } q)
                sb.AppendLine(Row("  same, service logs at Warning (req/s)", N(b.PerSecond), N(q.PerSecond) + q.Errors + $", {Ms(q)}", $"{q.PerSecond / b.PerSecond:F2}x", "", null));
        }
        if (BaselineBatch is { } bb && Batch is { } ba)
        {
            var events = ba.PerSecond * 100;
            sb.AppendLine(Row($"batch ingest, /v1/batch × 100 events, 16 connections (events/s)", N(bb.PerSecond * 100), N(events) + ba.Errors, $"{ba.PerSecond / bb.PerSecond:F2}x", ">= 100,000", events >= 100_000));
            sb.AppendLine(Row("  p50 / p99 latency per request", Ms(bb), Ms(ba), "", "", null));
        }
        if (Rate is { } r)
        {
            var p99 = Loader.Percentile(r.LatenciesMs, 99);
            sb.AppendLine(Row($"ack latency at {o.Rate:N0} events/s offered (p50 / p99 / max)", "",
                $"{Loader.Percentile(r.LatenciesMs, 50):F2} / {p99:F2} / {r.LatenciesMs[^1]:F1} ms" + (r.Failures > 0 ? $" ({r.Failures} failed)" : ""), "", "p99 < 10 ms", p99 < 10));
        }
        if (EndToEnd is { } e)
        {
            var rate = e.Delivered / e.Seconds;
            sb.AppendLine(Row($"end-to-end: {e.Target:N0} events posted as batches → fake Salesmachine (deliveries/s)", "",
                $"{N(rate)} ({e.Delivered:N0} delivered in {e.Seconds:F1} s; ingest took {e.PostSeconds:F1} s)", "", ">= 5,000", rate >= 5_000));
        }
        if (Backlog is { } k)
            sb.AppendLine(Row($"RSS with a {k.Posted:N0}-event backlog queued (partner down)", "",
                $"{k.RssMiB:F0} MiB (peak {k.PeakMiB:F0}, idle {k.IdleMiB:F0}; DB {k.DbMiB:F0} MiB; ingest {k.PostSeconds:F1} s)", "", "< 300 MB", k.RssMiB * 1.048576 < 300));
        return sb.ToString();
    }

    static string Row(string what, string baseline, string service, string ratio, string target, bool? met) =>
        $"| {what} | {baseline} | {service} | {ratio} | {target} | {(met is null ? "" : met.Value ? "yes" : "**no**")} |";

    static string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);

    static string Ms(WrkResult w) => $"{w.P50Ms:F2} / {w.P99Ms:F2} ms";
}
