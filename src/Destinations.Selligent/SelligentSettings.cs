using Destinations.Core.Delivery;

namespace Destinations.Selligent;

/// <summary>
/// One SMC instance's <c>Settings</c> (docs/partners/selligent.md "Settings"). Built and validated by
/// <see cref="SelligentSettingsReader"/>; immutable so the mapping of an attempt sees one consistent set (D8).
/// </summary>
public sealed class SelligentSettings
{
    public const string DefaultEventsDataListApiName = "segment_events";

    /// <summary>Service-account key. Secret: never logged, never in <see cref="ToString"/> (D22).</summary>
    public required string ApiKey { get; init; }

    /// <summary>Service-account secret (D22).</summary>
    public required string ApiSecret { get; init; }

    /// <summary>The admin URL, already through the SSRF guard (<see cref="SmcAdminUrlGuard"/>).</summary>
    public required Uri SmcAdminUrl { get; init; }

    public required string Organization { get; init; }

    /// <summary>Track event names sent, exact and case-sensitive; empty = no track events (D19).</summary>
    public IReadOnlySet<string> AllowedEvents { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public string EventsDataListApiName { get; init; } = DefaultEventsDataListApiName;
    public bool SendAliasEvents { get; init; }
    public bool SendGroupEvents { get; init; }
    public bool SendPageEvents { get; init; }
    public bool SendScreenEvents { get; init; }
    public SelligentColumns Columns { get; init; } = new();

    /// <summary>
    /// Static segments the group calls target, as (userlist, segment) api names: the connection test confirms each exists
    /// and is static — the set-up the seed asks customers to confirm with their Selligent CSM before enabling group calls.
    /// </summary>
    public IReadOnlyList<(string UserList, string Segment)> GroupSegments { get; init; } = [];

    /// <summary>Where this instance's event rows go (also the batch key, D19).</summary>
    public string EventsLoadPath => SelligentApi.LoadPath(Organization, EventsDataListApiName, Columns.MessageId);

    /// <summary>Absolute URL of a partner path (which carries its own query); a path prefix on the admin URL is kept.</summary>
    public Uri UrlFor(string path) =>
        PartnerCall.Url(SmcAdminUrl, path);

    /// <summary>The <c>X-ApiKey</c> header value (colon form, docs/partners/selligent.md "API"). Never log it.</summary>
    internal string ApiKeyHeader => $"{ApiKey}:{ApiSecret}";

    /// <summary>Shows the shape, never the secrets (SecretMasker, D22).</summary>
    public override string ToString() =>
        $"SelligentSettings {{ ApiKey = {SecretMasker.Mask(ApiKey)}, ApiSecret = {SecretMasker.Mask(ApiSecret)}, " +
        $"SmcAdminUrl = {SmcAdminUrl}, Organization = {Organization}, EventsDataListApiName = {EventsDataListApiName}, " +
        $"AllowedEvents = [{string.Join(", ", AllowedEvents.Order(StringComparer.Ordinal))}], SendAliasEvents = {SendAliasEvents}, " +
        $"SendGroupEvents = {SendGroupEvents}, SendPageEvents = {SendPageEvents}, SendScreenEvents = {SendScreenEvents} }}";
}
