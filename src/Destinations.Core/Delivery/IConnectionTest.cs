namespace Destinations.Core.Delivery;

/// <summary>A partner's credential and set-up check, for <c>POST /admin/destinations/{id}/test-connection</c>.</summary>
public interface IConnectionTest
{
    Task<ConnectionCheck> TestConnectionAsync(CancellationToken ct);
}

/// <summary>The checks made, in order; <see cref="Ok"/> when all passed.</summary>
public sealed record ConnectionCheck(IReadOnlyList<ConnectionCheckStep> Steps)
{
    public bool Ok => Steps.Count > 0 && Steps.All(s => s.Ok);
}

/// <param name="Name">What was checked, e.g. "credentials (GET /v1/ping)".</param>
/// <param name="Detail">A human-readable result; never a secret.</param>
public sealed record ConnectionCheckStep(string Name, bool Ok, int? StatusCode, string Detail)
{
    public static ConnectionCheckStep From(string name, AttemptResult result) =>
        new(name, result.IsSuccess, result.StatusCode,
            result.IsSuccess ? "ok" : $"{result.Outcome}: {result.Error}{(result.ResponseExcerpt is { } b ? " — " + b : "")}");
}
