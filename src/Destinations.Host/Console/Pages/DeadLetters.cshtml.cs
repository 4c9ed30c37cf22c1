using Destinations.Core.Routing;
using Destinations.Core.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Destinations.Host.OperatorConsole.Pages;

/// <summary>
/// Dead letters filtered by destination, time of death and partner status — the same filter the admin API lists and replays
/// by, so "Replay all matching" replays exactly the set the page counted. Replays are audited.
/// </summary>
public sealed class DeadLettersModel(IDeliveryAdmin store, IFailureQueries failures, DestinationRegistry registry, ConsoleAudit audit) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public string? Destination { get; set; }
    [BindProperty(SupportsGet = true)] public string? Since { get; set; }
    [BindProperty(SupportsGet = true)] public string? Until { get; set; }
    [BindProperty(SupportsGet = true)] public int? Status { get; set; }
    [BindProperty(SupportsGet = true)] public long? Cursor { get; set; }

    public IReadOnlyList<string> Instances => registry.Destinations.Select(d => d.Id).ToList();
    public DeadLetterPage Items { get; private set; } = new([], null);
    public long Matching { get; private set; }
    public bool Confirming { get; private set; }
    public string? Result { get; private set; }

    DeadLetterFilter Filter(int limit = PageSize, long? cursor = null) =>
        new(string.IsNullOrEmpty(Destination) ? null : Destination, ConsoleFormat.ParseUtc(Since), ConsoleFormat.ParseUtc(Until), Status, limit, cursor);

    public ReplaySelection Selection => new(DestinationId: string.IsNullOrEmpty(Destination) ? null : Destination,
        Since: ConsoleFormat.ParseUtc(Since), Until: ConsoleFormat.ParseUtc(Until), Status: Status);

    public string FilterText => string.Join(", ", new[]
    {
        string.IsNullOrEmpty(Destination) ? "every destination" : $"destination {Destination}",
        Since is { Length: > 0 } ? $"since {Since}" : null,
        Until is { Length: > 0 } ? $"until {Until}" : null,
        Status is { } st ? $"partner status {st}" : null,
    }.OfType<string>());

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    /// <summary>Step one of "Replay all matching": count and ask.</summary>
    public async Task OnPostConfirmAllAsync(CancellationToken ct)
    {
        Confirming = true;
        await LoadAsync(ct);
    }

    public async Task OnPostReplayAllAsync(CancellationToken ct)
    {
        var selection = Selection;
        // Without any filter this is every dead letter: the confirmation step showed that count, so it is what was asked for.
        var count = await store.ReplayAsync(selection, ct);
        Result = Replayed(count);
        await audit.WriteAsync(HttpContext, "replay", $"all matching: {FilterText}", count, Result, ct);
        await LoadAsync(ct);
    }

    static string Replayed(long count) => count == 1 ? "1 dead letter replayed." : $"{count} dead letters replayed.";

    public async Task OnPostReplaySelectedAsync(long[] ids, CancellationToken ct)
    {
        if (ids.Length == 0) Result = "Nothing selected.";
        else
        {
            var count = await store.ReplayAsync(ReplaySelection.ByIds(ids), ct);
            Result = Replayed(count);
            await audit.WriteAsync(HttpContext, "replay", "ids " + string.Join(",", ids.Take(50)), count, Result, ct);
        }
        await LoadAsync(ct);
    }

    async Task LoadAsync(CancellationToken ct)
    {
        Items = await store.ListDeadLettersAsync(Filter(cursor: Cursor), ct);
        Matching = await failures.CountDeadLettersAsync(Filter(), ct);
    }

    public string PageLink(long? cursor) => "/console/dead-letters" + QueryString.Create(new Dictionary<string, string?>
    {
        ["destination"] = Destination, ["since"] = Since, ["until"] = Until, ["status"] = Status?.ToString(), ["cursor"] = cursor?.ToString(),
    }.Where(kv => !string.IsNullOrEmpty(kv.Value)));
}
