using System.Text.Json;

namespace Destinations.Benchmarks;

/// <summary>The yardstick: bare Kestrel that parses the same JSON body and answers 200 — no auth, validation or storage.</summary>
static class Baseline
{
    static readonly byte[] Ok = """{"success":true}"""u8.ToArray();

    public static async Task<int> RunAsync(string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        app.MapPost("/v1/{**rest}", async (HttpContext http) =>
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(Ok, http.RequestAborted);
        });
        await app.RunAsync();
        return 0;
    }
}
