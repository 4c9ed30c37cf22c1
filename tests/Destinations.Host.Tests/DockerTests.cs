using System.Diagnostics;
using Destinations.Host.Tests.Support;
using YamlDotNet.Serialization;

namespace Destinations.Host.Tests;

/// <summary>
/// D23 without a Docker engine: compose.yaml parses (YamlDotNet) and says what it should; the Dockerfile pins its images,
/// runs as non-root and health-checks through probe mode; the publish output runs as the ENTRYPOINT would, configured by
/// the compose file's environment, and the HEALTHCHECK command answers 0.
/// </summary>
public class DockerTests
{
    static string DockerFile(string name) => Path.Combine(Repository.Root(), "docker", name);

    static Dictionary<object, object> Compose() =>
        new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(File.ReadAllText(DockerFile("compose.yaml")));

    static Dictionary<object, object> Map(object node) => Assert.IsType<Dictionary<object, object>>(node);

    static List<string> List(object node) => Assert.IsType<List<object>>(node).Select(o => (string)o).ToList();

    [Fact]
    public void Compose_file_parses_and_describes_service_postgres_and_volumes()
    {
        var compose = Compose();
        var services = Map(compose["services"]);
        Assert.Equal(["destinations", "postgres"], services.Keys.Cast<string>().Order());

        var service = Map(services["destinations"]);
        Assert.Equal("docker/Dockerfile", Map(service["build"])["dockerfile"]);
        Assert.Equal(["CMD", "dotnet", "/app/Destinations.Host.dll", "--probe"], List(Map(service["healthcheck"])["test"]));
        Assert.Equal(["destinations-data:/app/data"], List(service["volumes"]));
        var env = Map(service["environment"]);
        Assert.Equal("Postgres", env["Storage__Provider"]);
        Assert.Equal("Host=postgres;Port=5432;Database=destinations;Username=destinations;Password=${POSTGRES_PASSWORD:-change-me}",
            env["Storage__ConnectionString"]);
        Assert.Equal("service_healthy", Map(Map(service["depends_on"])["postgres"])["condition"]);
        Assert.Equal("${DESTINATIONS_WRITE_KEY:?set DESTINATIONS_WRITE_KEY}", env["Sources__0__WriteKey"]); // secrets only from the environment

        var postgres = Map(services["postgres"]);
        Assert.Equal("postgres:17", postgres["image"]);
        Assert.Equal(["postgres-data:/var/lib/postgresql/data"], List(postgres["volumes"]));
        Assert.Equal(["CMD-SHELL", "pg_isready -U destinations -d destinations"], List(Map(postgres["healthcheck"])["test"]));
        Assert.Equal(["destinations-data", "postgres-data"], Map(compose["volumes"]).Keys.Cast<string>().Order());
    }

    [Fact]
    public void Dockerfile_pins_images_runs_non_root_and_health_checks_with_probe_mode()
    {
        var lines = File.ReadAllLines(DockerFile("Dockerfile")).Where(l => !l.TrimStart().StartsWith('#')).ToList();
        Assert.Equal(["FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build", "FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime"],
            lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)));
        Assert.Equal("USER $APP_UID", Assert.Single(lines, l => l.StartsWith("USER ", StringComparison.Ordinal)));
        Assert.EndsWith("CMD [\"dotnet\", \"/app/Destinations.Host.dll\", \"--probe\"]", Assert.Single(lines, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal)));
        Assert.Equal("ENTRYPOINT [\"dotnet\", \"/app/Destinations.Host.dll\"]", Assert.Single(lines, l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal)));
        Assert.Contains("**/bin", File.ReadAllLines(Path.Combine(Repository.Root(), ".dockerignore")));
    }

    [Fact]
    public async Task Publish_output_runs_like_the_entrypoint_with_the_compose_environment()
    {
        var output = Directory.CreateTempSubdirectory("destinations-publish-").FullName;
        try
        {
            var project = Path.Combine(Repository.Root(), "src", "Destinations.Host", "Destinations.Host.csproj");
            var (code, log) = await RunAsync("dotnet", ["publish", project, "-c", "Release", "-o", output, "--nologo", "-v", "q"], TimeSpan.FromMinutes(5));
            Assert.True(code == 0, log);
            var dll = Path.Combine(output, "Destinations.Host.dll");

            // The compose service's environment with the caller's variables filled in, plus a local port and database path.
            var env = Map(Map(Map(Compose()["services"])["destinations"])["environment"])
                .ToDictionary(kv => (string)kv.Key, kv => Interpolate((string)kv.Value));
            env.Remove("ASPNETCORE_HTTP_PORTS");
            // The compose file's PostgreSQL is the loopback one .ci/run starts (its own schema).
            var postgres = Environment.GetEnvironmentVariable("DESTINATIONS_TEST_POSTGRES");
            Assert.False(string.IsNullOrEmpty(postgres),
                "DESTINATIONS_TEST_POSTGRES is not set: run the suite with `bash .ci/run`, which starts PostgreSQL on loopback and sets it");
            env["Storage__ConnectionString"] = $"{postgres};Search Path=publish_{Guid.NewGuid():N}";
            env["Destinations__0__Settings__BaseUrl"] = $"http://127.0.0.1:{ServiceProcess.FreeLoopbackPort()}";
            await using var host = await ServiceProcess.StartAsync(env, dll: dll);
            Assert.Contains("\"@mt\":", host.Output); // Logging__Json=true: compact JSON lines

            var probe = await ServiceProcess.RunToExitAsync(["--probe", host.BaseAddress.ToString()], dll);
            Assert.Equal((0, "probe: /health/ready answered 200"), probe);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>Compose's <c>${VAR:?msg}</c>, <c>${VAR-default}</c> and <c>${VAR:-default}</c> with test values.</summary>
    static string Interpolate(string value) => System.Text.RegularExpressions.Regex.Replace(value, @"\$\{(\w+)[^}]*\}", m => m.Groups[1].Value switch
    {
        "DESTINATIONS_WRITE_KEY" => IngressApp.WebWriteKey,
        "DESTINATIONS_SHARED_SECRET" => IngressApp.SharedSecret,
        "SALESMACHINE_API_TOKEN" => OperatorApp.ApiToken,
        "SALESMACHINE_API_SECRET" => OperatorApp.ApiSecret,
        "DESTINATIONS_ADMIN_KEY" => OperatorApp.AdminKey,
        "POSTGRES_PASSWORD" => "change-me",
        var other => throw new InvalidOperationException($"compose.yaml uses ${{{other}}}: give it a test value"),
    });

    static async Task<(int, string)> RunAsync(string file, string[] args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw new TimeoutException($"{file} {string.Join(' ', args)} took over {timeout}"); }
        return (process.ExitCode, await stdout + await stderr);
    }
}
