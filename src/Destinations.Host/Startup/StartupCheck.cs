using Destinations.Core.Routing;
using Microsoft.Extensions.Options;

namespace Destinations.Host.Startup;

/// <summary>
/// Checks the configuration before the host starts: the validated options (each failure names its key, e.g.
/// <c>Admin:ApiKey</c>) and the destination registry (every key path and rule). A bad configuration is reported once, as
/// plain lines without a stack trace (it is the operator's input, not a bug), and the process exits non-zero. Left to the
/// host, the same failure was logged by the host and then again as an unhandled exception, both with a stack trace.
/// </summary>
public static class StartupCheck
{
    /// <summary>True when the service may start; otherwise the problems have been logged.</summary>
    public static bool ConfigurationIsValid(this WebApplication app)
    {
        var problems = Problems(app);
        if (problems.Count == 0) return true;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Destinations.Configuration");
        logger.LogCritical("Invalid configuration, the service did not start:\n  {Problems}", string.Join("\n  ", problems));
        return false;
    }

    static List<string> Problems(WebApplication app)
    {
        var problems = new List<string>();
        try
        {
            // The same check the host runs at start for options registered with ValidateOnStart, done first so it fails here.
            app.Services.GetService<IStartupValidator>()?.Validate();
        }
        catch (OptionsValidationException ex)
        {
            problems.AddRange(ex.Failures);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            foreach (OptionsValidationException inner in ex.InnerExceptions) problems.AddRange(inner.Failures);
        }
        try
        {
            app.BuildDestinationRegistryNow();
        }
        catch (ConfigurationException ex)
        {
            problems.AddRange(ex.Errors);
        }
        return problems;
    }
}
