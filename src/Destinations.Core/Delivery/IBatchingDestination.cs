namespace Destinations.Core.Delivery;

/// <summary>
/// A destination whose partner takes several requests in one call (Salesmachine <c>/v1/batch</c>, D15; SMC <c>data/load</c>,
/// D19). The dispatcher groups the due steps of several deliveries of one instance by <see cref="BatchKey"/> and sends them
/// together; each delivery still keeps its own outcome (D11).
/// </summary>
public interface IBatchingDestination : IDestination
{
    /// <summary>Requests with the same key may share one partner call; null = this request always goes alone.</summary>
    string? BatchKey(PartnerRequest request);

    /// <summary>Most requests in one partner call (Salesmachine 100; SMC 1,000 by default, D19).</summary>
    int MaxBatchSize { get; }

    /// <summary>
    /// Sends requests that share one <see cref="BatchKey"/> and returns exactly one result per request, in input order.
    /// Partial success is reported per item (SMC <c>invalid_records</c>; Salesmachine splits a non-auth 4xx batch to find the
    /// bad items, D15). Never throws for partner or network trouble.
    /// </summary>
    Task<IReadOnlyList<AttemptResult>> SendBatchAsync(IReadOnlyList<PartnerRequest> requests, CancellationToken ct);

    /// <summary>The absolute URL one shared call for these requests goes to (for its record; holds no secret): by default
    /// the first request's, for partners whose shared call goes where its items would.</summary>
    Uri DescribeBatch(IReadOnlyList<PartnerRequest> requests) => Describe(requests[0]);
}
