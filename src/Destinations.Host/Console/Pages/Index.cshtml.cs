using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Core.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Destinations.Host.OperatorConsole.Pages;

/// <summary>Overview: one row per destination instance with its state and the store's counts (right across replicas, D8).</summary>
public sealed class IndexModel(DestinationRegistry registry, IDeliveryAdmin store, TimeProvider time) : PageModel
{
    public sealed record InstanceRow(IDestination Destination, DestinationStats Stats, string State, TimeSpan? OldestPendingAge, RecentError? LastError);

    public IReadOnlyList<InstanceRow> Rows { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Now = time.GetUtcNow();
        var rows = new List<InstanceRow>();
        foreach (var d in registry.Destinations)
        {
            var stats = await store.GetStatsAsync(d.Id, ct);
            rows.Add(new InstanceRow(d, stats, StateName(stats.State), stats.OldestDueAt is { } due ? Now - due : null,
                stats.LastErrors.FirstOrDefault()));
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
