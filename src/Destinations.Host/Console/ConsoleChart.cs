using System.Globalization;
using Destinations.Core.Storage;

namespace Destinations.Host.OperatorConsole;

/// <summary>
/// A per-minute chart of delivered (above the axis) and failed (below it: retried or dead) outcomes, drawn as server-side SVG
/// (no script, so the console's strict CSP holds). Each half has its own scale, so a few failures stay visible next to many
/// deliveries; the maxima are written on the chart.
/// </summary>
public sealed class ConsoleChart
{
    public sealed record Bar(int Index, DateTimeOffset At, long Delivered, long Failed, double X, double DeliveredHeight, double FailedHeight);

    ConsoleChart(string id, string label, DateTimeOffset from, TimeSpan bucket, IReadOnlyList<Bar> bars, long maxDelivered,
        long maxFailed, int width, int height)
    {
        (Id, Label, From, BucketSize, Bars, MaxDelivered, MaxFailed, Width, Height) =
            (id, label, from, bucket, bars, maxDelivered, maxFailed, width, height);
    }

    public string Id { get; }
    public string Label { get; }
    public DateTimeOffset From { get; }
    public DateTimeOffset To => From + BucketSize * Bars.Count;
    public TimeSpan BucketSize { get; }
    public IReadOnlyList<Bar> Bars { get; }
    public long MaxDelivered { get; }
    public long MaxFailed { get; }
    public long TotalDelivered => Bars.Sum(b => b.Delivered);
    public long TotalFailed => Bars.Sum(b => b.Failed);
    public int Width { get; }
    public int Height { get; }
    public double Axis => Height / 2.0;
    public double BarWidth => Math.Max(1, Width / (double)Bars.Count - (Bars.Count > 90 ? 0.5 : 1));

    /// <summary>The window ending at the current minute's end (so the current minute is drawn), in <paramref name="buckets"/> bars.</summary>
    public static (DateTimeOffset From, DateTimeOffset To) Window(DateTimeOffset now, TimeSpan span)
    {
        var end = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(1);
        return (end - span, end);
    }

    public static ConsoleChart Build(string id, string label, IReadOnlyList<OutcomeMinute> minutes, DateTimeOffset from, TimeSpan bucket,
        int buckets, int width, int height)
    {
        var delivered = new long[buckets];
        var failed = new long[buckets];
        foreach (var m in minutes)
        {
            var i = (int)((m.Minute - from).Ticks / bucket.Ticks);
            if (i < 0 || i >= buckets) continue;
            delivered[i] += m.Delivered;
            failed[i] += m.Failed;
        }
        var maxDelivered = delivered.DefaultIfEmpty().Max();
        var maxFailed = failed.DefaultIfEmpty().Max();
        var half = height / 2.0 - 1;
        var step = width / (double)buckets;
        var bars = Enumerable.Range(0, buckets).Select(i => new Bar(i, from + bucket * i, delivered[i], failed[i], i * step,
            Scale(delivered[i], maxDelivered, half), Scale(failed[i], maxFailed, half))).ToList();
        return new ConsoleChart(id, label, from, bucket, bars, maxDelivered, maxFailed, width, height);
    }

    // A non-zero count is always at least one pixel tall, so a single failure is visible.
    static double Scale(long value, long max, double half) => value == 0 || max == 0 ? 0 : Math.Max(1, value * half / max);

    public static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
