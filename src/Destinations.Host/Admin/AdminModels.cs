using Destinations.Core.Delivery;

namespace Destinations.Host.Admin;

/// <summary>One configured destination instance as the admin API lists it; <see cref="Settings"/> has every secret masked.</summary>
/// <param name="Sources">The linked source Ids; every configured source when the instance sets none (D26).</param>
public sealed record DestinationSummary(
    string Id,
    string Integration,
    IReadOnlyList<string> Sources,
    IReadOnlyDictionary<string, string?> Settings,
    bool SupportsConnectionTest,
    DestinationStatsView Stats)
{
    /// <summary>The instance's destination filters in list order (docs/configuration.md "Destination filters"); absent when none.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ConfiguredFilter>? Filters { get; init; }
}

/// <summary>One entry of an instance's <c>Filters</c>.</summary>
/// <param name="Index">Its position in the list (<c>Filters[index]</c> in configuration).</param>
/// <param name="Kind"><c>drop</c>, <c>only</c>, <c>sample</c>, <c>dropProperties</c> or <c>allowProperties</c>.</param>
/// <param name="Condition">The FQL condition, the sample's share and key, or the field paths.</param>
public sealed record ConfiguredFilter(int Index, string Kind, string Condition);

/// <summary>Counts read from the store (right across replicas, D8), and whether the instance is held (D12, breaker).</summary>
/// <param name="State"><c>active</c>, <c>paused</c> (401/403, D12) or <c>breaker-open</c>.</param>
/// <param name="FilteredByReason">Filtered counts by the reason's stable code (e.g. <c>no_user_id</c>).</param>
/// <param name="FilterReasonSentences">Each code of <see cref="FilteredByReason"/> in words (a code this version does not
/// know, e.g. a text stored before codes existed and not recognised by the migration, is left out).</param>
/// <param name="Held">Pending deliveries held while the instance is paused or its breaker open.</param>
public sealed record DestinationStatsView(
    long Pending,
    long Retrying,
    long Delivered,
    long Invalid,
    long Dead,
    long Filtered,
    IReadOnlyDictionary<string, long> FilteredByReason,
    IReadOnlyDictionary<string, string> FilterReasonSentences,
    long Duplicates,
    string State,
    DateTimeOffset? HeldSince,
    string? HoldReason,
    DateTimeOffset? NextProbeAt,
    long Held,
    IReadOnlyList<Destinations.Core.Storage.RecentError> LastErrors);

public sealed record DestinationList(IReadOnlyList<DestinationSummary> Destinations);

/// <summary>The answer of <c>POST /admin/destinations/{id}/test-connection</c>: 200 whether or not the partner accepted.</summary>
public sealed record ConnectionTestAnswer(string Destination, bool Ok, IReadOnlyList<ConnectionCheckStep> Steps)
{
    public static ConnectionTestAnswer From(string id, ConnectionCheck check) => new(id, check.Ok, check.Steps);
}
