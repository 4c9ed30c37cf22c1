using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Core.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Destinations.Host.OperatorConsole.Pages;

/// <summary>Overview: one row per destination instance with its state and the store's counts (right across replicas, D8).</summary>
public sealed class IndexModel(DestinationRegistry registry, IDeliveryAdmin store, IOutcomeTimeline timeline, TimeProvider time) : PageModel
{
    public sealed record InstanceRow(IDestination Destination, DestinationStats Stats, string State, TimeSpan? OldestPendingAge, RecentError? LastError,
        Last24Hours Day, ConsoleChart LastHour);

    /// <summary>Outcomes of the last 24 h from the per-minute counters (filtered: at mapping time, D8).</summary>
    public sealed record Last24Hours(long Delivered, long Retried, long Dead, long Filtered, long Invalid);

    public IReadOnlyList<InstanceRow> Rows { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Now = time.GetUtcNow();
        var rows = new List<InstanceRow>();
        foreach (var d in registry.Destinations)
        {
            var stats = await store.GetStatsAsync(d.Id, ct);
            // One read of the day's minutes serves both the 24 h counts and the last hour's chart.
            var (from, to) = ConsoleChart.Window(Now, TimeSpan.FromHours(24));
            var minutes = await timeline.GetTimelineAsync(d.Id, from, to, ct);
            var day = new Last24Hours(minutes.Sum(m => m.Delivered), minutes.Sum(m => m.Retried), minutes.Sum(m => m.Dead),
                minutes.Sum(m => m.Filtered), minutes.Sum(m => m.Invalid));
            var chart = ConsoleChart.Build($"chart-{d.Id}", $"{d.Id}, last hour", minutes, to.AddHours(-1), TimeSpan.FromMinutes(1), 60, 240, 56);
            rows.Add(new InstanceRow(d, stats, StateName(stats.State), stats.OldestDueAt is { } due ? Now - due : null,
                stats.LastErrors.FirstOrDefault(), day, chart));
        }
        Rows = rows;
    }

    public static string StateName(InstanceState? state) => state?.Hold switch
    {
        InstanceHold.Paused => "paused",
        InstanceHold.BreakerOpen => "breaker-open",
        _ => "active",
    };
}
