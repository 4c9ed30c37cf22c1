using Destinations.Core.Delivery;

namespace Destinations.Selligent;

/// <summary>
/// Service-wide SMC options, section <c>Selligent</c>: the SSRF guard (docs/partners/selligent.md "Settings", D19) and the
/// in-process resilience (D13, D14), configurable so tests and CI can widen or compress them.
/// </summary>
public sealed class SelligentOptions : IPartnerClientOptions
{
    public const string SectionName = "Selligent";

    /// <summary>The code default of the SSRF allow-list; configured suffixes are added to it, never replace it (D19).</summary>
    public static readonly IReadOnlyList<string> DefaultAdminHosts = ["slgnt.us", "slgnt.eu"];

    /// <summary>Extra host suffixes (e.g. <c>127.0.0.1</c> for tests). Bound from configuration; see <see cref="AllowedHosts"/>.</summary>
    public List<string> AdminHostAllowList { get; set; } = [];

    /// <summary>Allow <c>http://</c> admin URLs (tests, sandboxes). Off by default: the API key travels in a header.</summary>
    public bool AllowHttp { get; set; }

    /// <summary>Per-attempt timeout (D13 default 10 s). A timed-out attempt is classified Retry; the queue retries it.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of a request that never left (connect refused, DNS, TLS) — safe because nothing was sent (D14).</summary>
    public int ConnectRetries { get; set; } = 2;

    /// <summary>First delay between those retries; doubles each time.</summary>
    public TimeSpan ConnectRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Most rows in one <c>data/load</c> call (D19: 1,000).</summary>
    public int MaxRowsPerLoad { get; set; } = 1000;

    /// <summary>The code default plus the configured suffixes, trimmed, lower-case, without duplicates, in that order.</summary>
    public IReadOnlyList<string> AllowedHosts =>
        DefaultAdminHosts.Concat(AdminHostAllowList)
            .Select(h => h.Trim().TrimStart('.').ToLowerInvariant())
            .Where(h => h.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .ToList();
}
