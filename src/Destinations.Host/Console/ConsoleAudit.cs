using Destinations.Core.Storage;

namespace Destinations.Host.OperatorConsole;

/// <summary>Writes the console's state-changing actions to the store's audit log, naming the session and the client IP
/// (the proxy's forwarded address only when the proxy is a configured known one).</summary>
public sealed class ConsoleAudit(IAuditLog log, TimeProvider time, ILogger<ConsoleAudit> logger)
{
    public async Task WriteAsync(HttpContext http, string action, string target, long count, string? detail, CancellationToken ct)
    {
        var entry = new AuditEntry(time.GetUtcNow(), action, target, count, detail, ConsoleSession.SessionId(http.User),
            http.Connection.RemoteIpAddress?.ToString());
        await log.AppendAsync(entry, ct);
        logger.LogInformation("Console {Action} on {Target} by session {Session} from {ClientIp}: {Count} ({Detail})",
            entry.Action, entry.Target, entry.Session, entry.ClientIp, entry.Count, entry.Detail);
    }
}
