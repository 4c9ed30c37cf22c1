using Microsoft.Extensions.Primitives;

namespace Destinations.Host.OperatorConsole;

/// <summary>
/// Security headers on every answer, with a Content-Security-Policy per path: the console loads only its own script and
/// stylesheet (no inline code, so an injected tag cannot run); Swagger UI gets the inline styles and data: images it needs;
/// everything else is JSON (or Prometheus text) and may load nothing. Frames are denied everywhere.
/// </summary>
public static class SecurityHeaders
{
    public static readonly StringValues ConsolePolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

    public static readonly StringValues SwaggerPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

    public static readonly StringValues ApiPolicy = "default-src 'none'; frame-ancestors 'none'";

    static readonly StringValues NoSniff = "nosniff";
    static readonly StringValues Deny = "DENY";
    static readonly StringValues NoReferrer = "no-referrer";

    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            var path = context.Request.Path;
            headers.ContentSecurityPolicy = path.StartsWithSegments("/console") ? ConsolePolicy
                : path.StartsWithSegments("/swagger") ? SwaggerPolicy
                : ApiPolicy;
            headers.XContentTypeOptions = NoSniff;
            headers.XFrameOptions = Deny;
            headers["Referrer-Policy"] = NoReferrer;
            return next(context);
        });
        return app;
    }
}
