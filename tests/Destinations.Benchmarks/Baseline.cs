using System.Text.Json;

namespace Destinations.Benchmarks;

/// <summary>The yardstick: bare Kestrel that parses the same JSON body and answers 200 — no auth, validation or storage.</summary>
static class Baseline
{
    public static readonly byte[] Ok = """{"success":true}"""u8.ToArray();

    public static async Task<int> RunAsync(string url)
    {
        var app = Build(url);
        app.MapPost("/v1/{**rest}", async (HttpContext http) =>
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(Ok, http.RequestAborted);
        });
        await app.RunAsync();
        return 0;
    }

    /// <summary>The Kestrel host both yardsticks run on (<see cref="Reference"/> too), so they differ only in what the handler
    /// does.</summary>
    public static WebApplication Build(string url)
    {
        // No settings-file watcher: its content root is the harness's work folder, which holds the services' SQLite files,
        // and a watcher there (inotify, recursive) is sent an event for every WAL write — measured at 5–6% of the service's
        // group-commit thread.
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false"]);
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        return builder.Build();
    }
}
