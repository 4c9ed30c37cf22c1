using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;

namespace Destinations.Host.Ingress;

/// <summary>
/// A single event stored (D2): 200 with <see cref="SingleAccepted"/>, the answer to nearly every Tracking-API request. The
/// usual <c>{"success":true}</c> is written from bytes made once, with its length, as <see cref="Ok{TValue}"/> would write it
/// (same status, content type and body) without a serializer run and a logger look-up per request; an answer carrying a
/// generated messageId is written by <see cref="Ok{TValue}"/> itself. OpenAPI sees what <see cref="Ok{TValue}"/> declares.
/// </summary>
public sealed class SingleAcceptedResult : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult, IValueHttpResult,
    IValueHttpResult<SingleAccepted>, IContentTypeHttpResult
{
    static readonly byte[] SuccessBody = """{"success":true}"""u8.ToArray();
    const string Json = "application/json; charset=utf-8";

    /// <summary>The answer without a generated messageId, made once: a result only writes itself, so one serves all.</summary>
    public static readonly SingleAcceptedResult Success = new(new SingleAccepted(true, null));

    public SingleAcceptedResult(SingleAccepted value) => Value = value;

    public SingleAccepted Value { get; }
    object? IValueHttpResult.Value => Value;
    public int StatusCode => StatusCodes.Status200OK;
    int? IStatusCodeHttpResult.StatusCode => StatusCode;
    public string ContentType => Json;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        if (Value is not { Success: true, MessageId: null }) return TypedResults.Ok(Value).ExecuteAsync(httpContext);
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = Json;
        response.ContentLength = SuccessBody.Length;
        return response.Body.WriteAsync(SuccessBody, httpContext.RequestAborted).AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(SingleAccepted), ["application/json"]));
}
