using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Destinations.Host.Ingress;
using Microsoft.Extensions.Options;

namespace Destinations.Host.Admin;

/// <summary>
/// D21: <c>Authorization: Bearer &lt;Admin:ApiKey&gt;</c>, compared in constant time; anything else → 401 problem. No key
/// configured → 404, so an unconfigured service never exposes an open admin surface.
/// </summary>
public sealed class AdminKeyFilter(IOptions<AdminOptions> options) : IEndpointFilter
{
    public const string Scheme = "adminKey";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var key = options.Value.ApiKey;
        if (string.IsNullOrEmpty(key))
            return IngressProblems.NotFound("the admin API is off: set Admin:ApiKey to enable it");
        if (!IsAuthorized(context.HttpContext.Request, key))
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return IngressProblems.Unauthorized("an admin key is required: Authorization: Bearer <Admin:ApiKey>");
        }
        return await next(context);
    }

    static bool IsAuthorized(HttpRequest request, string key)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var auth)
            || !auth.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) || auth.Parameter is null) return false;
        // FixedTimeEquals returns at once on a length mismatch; hashing both first keeps the length of the key secret too.
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(auth.Parameter)), SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }
}

public static class AdminKeyFilterExtensions
{
    public static RouteGroupBuilder RequireAdminKey(this RouteGroupBuilder group) =>
        group.AddEndpointFilter<RouteGroupBuilder, AdminKeyFilter>()
            .WithMetadata(new AdminKeyRequired())
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
}

/// <summary>Endpoint metadata: Swagger shows the admin bearer scheme on this operation.</summary>
public sealed record AdminKeyRequired;
