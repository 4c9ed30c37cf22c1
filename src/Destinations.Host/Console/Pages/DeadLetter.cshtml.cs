using Destinations.Core.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Destinations.Host.OperatorConsole.Pages;

/// <summary>One dead letter: the request (never headers), the partner's answer, the reason, the attempts and the stored event.</summary>
public sealed class DeadLetterModel(IDeliveryAdmin store, ConsoleAudit audit) : PageModel
{
    /// <summary>Null after a replay: the delivery is pending again, no longer a dead letter.</summary>
    public DeadLetter? Letter { get; private set; }
    public long Id { get; private set; }
    public string? Result { get; private set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct) => await LoadAsync(id, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostReplayAsync(long id, CancellationToken ct)
    {
        var count = await store.ReplayAsync(ReplaySelection.ByIds(id), ct);
        Result = count == 1 ? "Replayed: the delivery is pending again." : "Not replayed: it is no longer a dead letter.";
        await audit.WriteAsync(HttpContext, "replay", $"id {id}", count, Result, ct);
        await LoadAsync(id, ct);
        return Page();
    }

    async Task<bool> LoadAsync(long id, CancellationToken ct)
    {
        // The list's cursor is "ids after": one row after id - 1 is this one when it is (still) dead.
        Id = id;
        var page = await store.ListDeadLettersAsync(new DeadLetterFilter(Limit: 1, Cursor: id - 1), ct);
        if (page.Items is not [var letter] || letter.Id != id) return false;
        Letter = letter;
        return true;
    }
}
