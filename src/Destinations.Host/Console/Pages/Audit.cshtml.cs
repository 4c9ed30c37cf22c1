using Destinations.Core.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Destinations.Host.OperatorConsole.Pages;

/// <summary>The audit log: every replay, resume, connection test and send made in the console (from the store, every replica's).</summary>
public sealed class AuditModel(IAuditLog log) : PageModel
{
    public IReadOnlyList<AuditEntry> Entries { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) => Entries = await log.ListAsync(200, ct);
}
