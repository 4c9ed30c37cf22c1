using System.Text.Json;

namespace Destinations.Benchmarks;

/// <summary>
/// Loopback Salesmachine for the end-to-end run: answers 200 at once (no rate limits) and counts items — every contact_uid
/// outside "params", so a /v1/batch body counts each item. GET /stats → {"requests":n,"items":n}.
/// </summary>
static class CountingPartner
{
    public static async Task<int> RunAsync(string url)
    {
        long requests = 0, items = 0;
        // No settings-file watcher: its content root is the harness's work folder, which holds the services' SQLite files,
        // and a watcher there (inotify, recursive) is sent an event for every WAL write — measured at 5–6% of the service's
        // group-commit thread.
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false"]);
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        app.MapGet("/stats", () => Results.Json(new { requests = Interlocked.Read(ref requests), items = Interlocked.Read(ref items) }));
        app.MapPost("/v1/{**rest}", async (HttpContext http) =>
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            Interlocked.Increment(ref requests);
            Interlocked.Add(ref items, Count(doc.RootElement));
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync("{}");
        });
        await app.RunAsync();
        return 0;
    }

    static int Count(JsonElement e)
    {
        var n = 0;
        if (e.ValueKind == JsonValueKind.Array)
            foreach (var item in e.EnumerateArray()) n += Count(item);
        else if (e.ValueKind == JsonValueKind.Object)
            foreach (var p in e.EnumerateObject())
                n += p.Name == "contact_uid" ? 1 : p.Name == "params" ? 0 : Count(p.Value);
        return n;
    }
}
