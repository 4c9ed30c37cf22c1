using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Core.Storage;
using Destinations.Host.Admin;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Destinations.Host.OperatorConsole.Pages;

/// <summary>One instance: state, counts, failures grouped by partner status and reason (with the latest request and answer),
/// filter reasons, masked settings, and the Test connection and Resume actions (audited).</summary>
public sealed class DestinationModel(DestinationRegistry registry, IDeliveryAdmin store, IFailureQueries failures, IOutcomeTimeline timeline,
    ConsoleAudit audit, TimeProvider time)
    : PageModel
{
    public IDestination Instance { get; private set; } = null!;
    public DestinationStats Stats { get; private set; } = null!;
    public IReadOnlyList<FailureGroup> Failures { get; private set; } = [];
    public IReadOnlyDictionary<string, string?> Settings { get; private set; } = new Dictionary<string, string?>();
    public ConnectionCheck? ConnectionResult { get; private set; }
    public ConsoleChart Chart { get; private set; } = null!;

    /// <summary>The chart's span: <c>1h</c> (one bar per minute, the default) or <c>24h</c> (one bar per 10 minutes).</summary>
    [BindProperty(SupportsGet = true)] public string? Range { get; set; }

    public bool Day => Range == "24h";
    public string? ResumeResult { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct) =>
        await LoadAsync(id, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostTestConnectionAsync(string id, CancellationToken ct)
    {
        if (registry.Find(id) is not { } d) return NotFound();
        if (d is IConnectionTest test)
        {
            ConnectionResult = await test.TestConnectionAsync(ct);
            await audit.WriteAsync(HttpContext, "test-connection", id, 1, ConnectionResult.Ok ? "ok" : "failed: " +
                string.Join("; ", ConnectionResult.Steps.Where(s => !s.Ok).Select(s => $"{s.Name} {s.Detail}")), ct);
        }
        await LoadAsync(id, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostResumeAsync(string id, CancellationToken ct)
    {
        if (registry.Find(id) is null) return NotFound();
        var resumed = await store.ResumeAsync(id, ct);
        ResumeResult = resumed ? "Resumed: the held deliveries go out again." : "The instance was not paused and its breaker was not open.";
        await audit.WriteAsync(HttpContext, "resume", id, resumed ? 1 : 0, resumed ? "resumed" : "was not held", ct);
        await LoadAsync(id, ct);
        return Page();
    }

    async Task<bool> LoadAsync(string id, CancellationToken ct)
    {
        if (registry.Find(id) is not { } d) return false;
        Instance = d;
        Stats = await store.GetStatsAsync(id, ct);
        Failures = await failures.ListFailureGroupsAsync(id, 50, ct);
        Settings = AdminEndpoints.MaskedSettings(d);
        var (from, to) = ConsoleChart.Window(time.GetUtcNow(), Day ? TimeSpan.FromHours(24) : TimeSpan.FromHours(1));
        var minutes = await timeline.GetTimelineAsync(id, from, to, ct);
        Chart = Day
            ? ConsoleChart.Build("chart", $"{id}, last 24 h", minutes, from, TimeSpan.FromMinutes(10), 144, 864, 140)
            : ConsoleChart.Build("chart", $"{id}, last hour", minutes, from, TimeSpan.FromMinutes(1), 60, 864, 140);
        return true;
    }
}
