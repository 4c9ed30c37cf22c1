using Destinations.Host.Startup;
using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests;

/// <summary><c>--probe</c>: the Docker HEALTHCHECK (D23) — exit 0 when /health/ready is 200, else 1, no web host started.</summary>
public class ProbeModeTests
{
    [Fact]
    public async Task Probe_exits_0_against_a_ready_service_and_1_when_nothing_answers()
    {
        await using var host = await ServiceProcess.StartAsync(HostEnvironments.Minimal());
        var ok = await ServiceProcess.RunToExitAsync(["--probe", host.BaseAddress.ToString()]);
        Assert.Equal((0, "probe: /health/ready answered 200"), ok);

        var closed = $"http://127.0.0.1:{ServiceProcess.FreeLoopbackPort()}";
        var down = await ServiceProcess.RunToExitAsync(["probe", closed]);
        Assert.Equal(1, down.ExitCode);
        Assert.Equal($"probe: {closed}/health/ready unreachable (HttpRequestException)", down.Output);
    }

    [Theory]
    [InlineData("http://+:8080", null, "http://127.0.0.1:8080")]
    [InlineData("http://*:80;https://*:443", null, "http://127.0.0.1:80")]
    [InlineData("http://0.0.0.0:9000", "8080", "http://127.0.0.1:9000")]
    [InlineData("http://127.0.0.1:5123", null, "http://127.0.0.1:5123")]
    [InlineData(null, "8080", "http://127.0.0.1:8080")]
    [InlineData(null, null, "http://127.0.0.1:5000")]
    public void Default_url_is_where_the_service_listens_seen_from_inside(string? urls, string? ports, string expected) =>
        Assert.Equal(expected, ProbeMode.DefaultBaseUrl(urls, ports));
}
