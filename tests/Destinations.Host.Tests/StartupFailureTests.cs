using System.Text.RegularExpressions;

namespace Destinations.Host.Tests;

/// <summary>
/// The built service started with a bad setting: the problems are printed once, plainly (the key named, no stack trace, the
/// value not echoed), and the process exits non-zero.
/// </summary>
public class StartupFailureTests
{
    const string ShortKey = "tooShort-7x";

    static Task<(int ExitCode, string Output)> StartWith(params string[] settings) =>
        Destinations.Testing.ServiceProcess.RunToExitAsync(
            [$"--Urls=http://127.0.0.1:{Destinations.Testing.ServiceProcess.FreeLoopbackPort()}", .. settings], timeout: TimeSpan.FromSeconds(60));

    static int Count(string text, string part) => Regex.Matches(text, Regex.Escape(part)).Count;

    [Fact]
    public async Task A_short_admin_key_is_reported_once_without_a_stack_trace_and_the_exit_code_is_not_zero()
    {
        var (exit, output) = await StartWith($"--Admin:ApiKey={ShortKey}");

        Assert.True(exit != 0, "exit code 0:\n" + output);
        Assert.Equal(1, Count(output, "Admin:ApiKey: must be at least 16 characters"));
        Assert.Contains("Invalid configuration, the service did not start", output);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Exception", output);
        Assert.DoesNotContain(ShortKey, output);
    }

    [Fact]
    public async Task Every_problem_is_listed_once_options_and_destinations_together()
    {
        var (exit, output) = await StartWith($"--Admin:ApiKey={ShortKey}", "--Destinations:0:Id=x", "--Destinations:0:Type=Nope");

        Assert.Equal(1, exit);
        Assert.Equal(1, Count(output, "Admin:ApiKey: must be at least 16 characters"));
        Assert.Equal(1, Count(output, "Destinations[0].Type: 'Nope' is not a known destination type"));
        Assert.Equal(1, Count(output, "Invalid configuration"));
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task A_console_session_that_would_outlive_its_expired_data_protection_key_is_refused()
    {
        var (exit, output) = await StartWith("--Console:AbsoluteTimeout=8.00:00:00", "--Storage:Retention:ExpiredKeys=7.00:00:00");

        Assert.Equal(1, exit);
        Assert.Equal(1, Count(output, "Console:AbsoluteTimeout must be shorter than Storage:Retention:ExpiredKeys"));
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task A_bad_destination_filter_is_reported_once_naming_the_instance_and_the_filter_index()
    {
        var (exit, output) = await StartWith("--Destinations:0:Id=crm", "--Destinations:0:Type=Salesmachine",
            "--Destinations:0:Settings:ApiToken=t", "--Destinations:0:Settings:ApiSecret=s",
            "--Destinations:0:Filters:0:drop=event = \"x\"", "--Destinations:0:Filters:1:sample=150");

        Assert.Equal(1, exit);
        Assert.Equal(1, Count(output, "Destinations[0].Filters[1].sample: must be a percentage from 0 to 100 (the share of events kept) (instance 'crm')"));
        Assert.Equal(1, Count(output, "Invalid configuration"));
        Assert.DoesNotContain("Filters[0]", output);
        Assert.DoesNotContain("   at ", output);
    }
}
