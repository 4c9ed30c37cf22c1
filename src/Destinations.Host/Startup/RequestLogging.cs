using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Serilog;
using Serilog.Events;

namespace Destinations.Host.Startup;

/// <summary>
/// One line per request, the line Serilog's request logging writes ("HTTP POST /v1/track responded 400 in 1.2345 ms"), at
/// the level <see cref="LoggingSetup"/> gives the status. Made here rather than by <c>UseSerilogRequestLogging</c> so that a
/// request whose line is not enabled (every success, at Debug) costs a timestamp and a level check: Serilog's middleware
/// opens a diagnostic-context collector per request (an object and an AsyncLocal change) before it knows the level, and
/// nothing here adds properties to it. Headers (Authorization, X-Signature) are never logged.
/// </summary>
sealed class RequestLogging(RequestDelegate next, Func<HttpContext, Exception?, LogEventLevel> level)
{
    const string Template = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0000} ms";

    public async Task InvokeAsync(HttpContext http)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            await next(http);
        }
        // Logged before the stack unwinds and never caught (the filter answers false), so the exception handler outside
        // still sees it — as with Serilog's middleware.
        catch (Exception ex) when (Write(http, StatusCodes.Status500InternalServerError, start, ex))
        {
        }
        Write(http, http.Response.StatusCode, start, null);
    }

    bool Write(HttpContext http, int status, long start, Exception? ex)
    {
        var logger = Log.Logger;
        var at = level(http, ex);
        if (!logger.IsEnabled(at)) return false;
        var path = http.Features.Get<IHttpRequestFeature>()?.Path;
        if (string.IsNullOrEmpty(path)) path = http.Request.Path.ToString();
        logger.ForContext<RequestLogging>().Write(at, ex, Template, http.Request.Method, path, status,
            Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        return false;
    }
}
