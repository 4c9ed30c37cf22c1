using Destinations.Core.Segment;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Destinations.Host.Ingress;

/// <summary>
/// RFC 7807 answers of the ingress: <c>title</c>, <c>status</c>, <c>detail</c>, plus <c>message</c> (what Segment's clients
/// read) and <c>errors</c> {field: [messages]}. Never echoes a write key, a secret or a signature.
/// </summary>
public static class IngressProblems
{
    public static ProblemHttpResult Create(int status, string title, string message,
        IReadOnlyList<FieldError>? errors = null, IReadOnlyList<RejectedEvent>? rejected = null)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = message };
        problem.Extensions["message"] = message;
        if (errors is { Count: > 0 })
            problem.Extensions["errors"] = errors.GroupBy(e => e.Field)
                .ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
        if (rejected is not null) problem.Extensions["rejected"] = rejected;
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult Invalid(IReadOnlyList<FieldError> errors, IReadOnlyList<RejectedEvent>? rejected = null) =>
        Create(StatusCodes.Status400BadRequest, "The request was rejected", Describe(errors), errors, rejected);

    /// <summary>A 400 about one named field or query parameter (admin API).</summary>
    public static ProblemHttpResult Field(string field, string message) => Invalid([new FieldError(field, message)]);

    public static ProblemHttpResult Unauthorized(string message) =>
        Create(StatusCodes.Status401Unauthorized, "Not authenticated", message);

    public static ProblemHttpResult NotFound(string message) =>
        Create(StatusCodes.Status404NotFound, "Not found", message);

    public static ProblemHttpResult TooLarge(long limit) =>
        Create(StatusCodes.Status413PayloadTooLarge, "Body too large",
            $"the body is over the server's limit of {limit:N0} bytes (after decompression)",
            [new FieldError(FieldError.Body, $"over {limit:N0} bytes")]);

    public static ProblemHttpResult UnsupportedMediaType(string message) =>
        Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", message);

    /// <summary>D1: storage trouble is the only 5xx, and it says when to come back (the caller sets Retry-After).</summary>
    public static ProblemHttpResult StoreUnavailable() =>
        Create(StatusCodes.Status503ServiceUnavailable, "Storage unavailable",
            "the event store is unavailable; retry later (nothing was stored)");

    /// <summary>"field: message; field: message" — one line a client log can show.</summary>
    public static string Describe(IReadOnlyList<FieldError> errors) =>
        string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}"));
}
