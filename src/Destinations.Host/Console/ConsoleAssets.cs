using System.Reflection;

namespace Destinations.Host.OperatorConsole;

/// <summary>
/// The console's stylesheet and script, embedded in the assembly and served from memory: they work the same from
/// <c>dotnet run</c>, the publish output and the Docker image, whatever the content root, and nothing is fetched from
/// elsewhere (the CSP allows only 'self').
/// </summary>
public static class ConsoleAssets
{
    public const string Css = "/console/assets/console.css";
    public const string Js = "/console/assets/console.js";

    static readonly (string Path, string Resource, string ContentType)[] Files =
    [
        (Css, "console.css", "text/css; charset=utf-8"),
        (Js, "console.js", "text/javascript; charset=utf-8"),
    ];

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var (path, resource, contentType) in Files)
        {
            var bytes = Read(resource);
            var etag = $"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..16]}\"";
            app.MapGet(path, (HttpContext http) =>
            {
                http.Response.Headers.ETag = etag;
                http.Response.Headers.CacheControl = "no-cache";
                return http.Request.Headers.IfNoneMatch == etag ? Results.StatusCode(StatusCodes.Status304NotModified) : Results.Bytes(bytes, contentType);
            }).ExcludeFromDescription();
        }
    }

    static byte[] Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Destinations.Host.Console.Assets.{name}")
            ?? throw new InvalidOperationException($"embedded console asset {name} is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
