using Destinations.Host.Ingress;
using Destinations.Storage;
using Microsoft.AspNetCore.Diagnostics;

namespace Destinations.Host.Startup;

/// <summary>
/// Exceptions a client can cause must not become a 500 (Segment retries 5xx for hours, docs/ingress.md "Answers"): Kestrel's
/// BadHttpRequestException keeps its 4xx, an aborted or broken request body is a 400, storage trouble a 503 with Retry-After.
/// Anything else is a genuine bug and is left to the default 500 problem (without details).
/// </summary>
public sealed class IngressExceptionHandler(ILogger<IngressExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var problem = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => IngressProblems.Create(413, "Body too large", "the body is over the server's limit"),
            BadHttpRequestException bad => IngressProblems.Create(bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : 400, "Bad request", "the request could not be read"),
            OperationCanceledException or IOException when http.RequestAborted.IsCancellationRequested =>
                IngressProblems.Create(400, "Request aborted", "the client closed the request before it was read"),
            IOException or InvalidDataException => IngressProblems.Create(400, "Bad request", "the request body could not be read"),
            StoreUnavailableException => IngressProblems.StoreUnavailable(),
            _ => null,
        };
        if (problem is null) return false;
        logger.LogInformation("Request {Path} answered {Status}: {Exception}", http.Request.Path, problem.StatusCode, exception.GetType().Name);
        if (exception is StoreUnavailableException) http.Response.Headers.RetryAfter = IngressFlow.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await problem.ExecuteAsync(http);
        return true;
    }
}
