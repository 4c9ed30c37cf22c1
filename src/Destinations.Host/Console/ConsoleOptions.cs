namespace Destinations.Host.OperatorConsole;

/// <summary>Section <c>Console</c>: the operator console at <c>/console</c> (on whenever <c>Admin:ApiKey</c> is set).</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>Sign-in attempts (POST) allowed per client IP per minute; more are answered 429.</summary>
    public int SignInAttemptsPerMinute { get; set; } = 10;

    /// <summary>How long a console session lasts without a request (sliding).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromHours(8);

    /// <summary>How long a console session lasts at most, however active.</summary>
    public TimeSpan AbsoluteTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Lines a live-tail browser may fall behind by before its oldest unsent lines are dropped.</summary>
    public int LiveBufferLines { get; set; } = 500;
}
