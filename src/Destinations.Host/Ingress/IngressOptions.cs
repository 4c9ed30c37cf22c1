namespace Destinations.Host.Ingress;

/// <summary>Section <c>Ingress</c>.</summary>
public sealed class IngressOptions
{
    public const string Section = "Ingress";

    /// <summary>
    /// The server's hard cap on a request body, applied after gzip decompression (D1): above it → 413. Segment's own limits
    /// (32 KB event, 500 KB batch…) are far lower and answered 400; this cap only protects the process.
    /// </summary>
    public long MaxBodyBytes { get; set; } = 20 * 1024 * 1024;
}
