namespace Destinations.Core.Storage;

/// <summary>One operator action taken in the console (replay, resume, test connection, send): who, from where, what, how many.</summary>
/// <param name="Action">e.g. <c>replay</c>, <c>resume</c>, <c>test-connection</c>, <c>send</c>.</param>
/// <param name="Target">What it acted on: an instance id, a dead-letter selection, a message id.</param>
/// <param name="Count">How many items it affected (dead letters replayed, requests sent; 1 for a single action).</param>
/// <param name="Detail">The outcome in words (never a secret, never a payload).</param>
/// <param name="Session">A short, non-secret id of the console session (not the cookie).</param>
public sealed record AuditEntry(
    DateTimeOffset At,
    string Action,
    string Target,
    long Count,
    string? Detail,
    string Session,
    string? ClientIp)
{
    public long Id { get; init; }

    /// <summary>Detail and target longer than this are cut: the log is for people, not for payloads.</summary>
    public const int MaxTextLength = 500;
}

/// <summary>The console's audit log, kept in the store so every replica writes to and shows the same log.</summary>
public interface IAuditLog
{
    Task AppendAsync(AuditEntry entry, CancellationToken ct);

    /// <summary>The newest <paramref name="limit"/> entries, newest first.</summary>
    Task<IReadOnlyList<AuditEntry>> ListAsync(int limit, CancellationToken ct);
}
