namespace Destinations.Selligent;

/// <summary>
/// Column names of the events data list (docs/partners/selligent.md "Mapping"). The layout is our design, so every name is
/// configurable under <c>Settings:Columns:*</c>; the list's columns must already exist in SMC.
/// </summary>
public sealed record SelligentColumns
{
    public string MessageId { get; init; } = "MESSAGE_ID";
    public string EventType { get; init; } = "EVENT_TYPE";
    public string EventName { get; init; } = "EVENT_NAME";
    public string UserId { get; init; } = "USER_ID";
    public string AnonymousId { get; init; } = "ANONYMOUS_ID";
    public string PreviousId { get; init; } = "PREVIOUS_ID";
    public string GroupId { get; init; } = "GROUP_ID";
    public string EventTimestamp { get; init; } = "EVENT_TIMESTAMP";
    public string Properties { get; init; } = "PROPERTIES";
    public string Context { get; init; } = "CONTEXT";

    /// <summary>Configuration key (under <c>Columns</c>) → the configured column name, in row order.</summary>
    public IReadOnlyList<(string Key, string Name)> All =>
    [
        (nameof(MessageId), MessageId), (nameof(EventType), EventType), (nameof(EventName), EventName),
        (nameof(UserId), UserId), (nameof(AnonymousId), AnonymousId), (nameof(PreviousId), PreviousId),
        (nameof(GroupId), GroupId), (nameof(EventTimestamp), EventTimestamp), (nameof(Properties), Properties),
        (nameof(Context), Context),
    ];

    public static readonly IReadOnlyList<string> Keys = new SelligentColumns().All.Select(c => c.Key).ToArray();
}
