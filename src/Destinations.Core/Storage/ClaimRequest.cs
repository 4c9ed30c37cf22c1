namespace Destinations.Core.Storage;

/// <summary>What a worker asks the queue for.</summary>
/// <param name="Skip">Instances not to claim now (throttled by their rate limit, D25): one busy instance never occupies the
/// workers of the others.</param>
/// <param name="Ordered">Instances that keep per-user order (D16).</param>
public sealed record ClaimRequest(string Owner, int Max, TimeSpan Lease)
{
    public IReadOnlySet<string> Skip { get; init; } = new HashSet<string>();
    public IReadOnlySet<string> Ordered { get; init; } = new HashSet<string>();

    /// <summary>
    /// The configured instances, when known. A store may then claim instance by instance through an index, so a claim stays
    /// cheap while a held instance (paused, breaker open) sits on a large backlog that a plain "due rows" scan would wade through.
    /// </summary>
    public IReadOnlyList<string>? Destinations { get; init; }

    /// <summary>D25 with a shared store (<see cref="ISharedRateLimits"/>): each instance's limit (null: unlimited), whose
    /// tokens the claim takes in its own transaction so N replicas share one bucket. Ignored by a store without sharing.</summary>
    public Func<string, SharedRateLimit?>? RateLimits { get; init; }
}
