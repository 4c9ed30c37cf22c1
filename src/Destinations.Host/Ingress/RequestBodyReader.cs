using System.IO.Compression;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Destinations.Host.Ingress;

/// <summary>A request body read into memory, or the problem that stopped reading it.</summary>
public readonly record struct RequestBody(ReadOnlyMemory<byte> Bytes, ProblemHttpResult? Problem);

/// <summary>
/// Reads a request body under the server's hard cap (D1): JSON, text/plain or no Content-Type (else 415); identity or gzip
/// Content-Encoding (else 415); the cap applies after decompression, so a decompression bomb stops at the cap (413).
/// </summary>
public static class RequestBodyReader
{
    const int ChunkBytes = 16 * 1024;

    public static async Task<RequestBody> ReadAsync(HttpRequest request, long maxBytes, CancellationToken ct)
    {
        if (ContentTypeProblem(request.ContentType) is { } typeProblem) return new(default, typeProblem);

        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || encoding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
            return new(default, IngressProblems.UnsupportedMediaType("Content-Encoding must be gzip or absent"));
        if (!gzip && request.ContentLength > maxBytes) return new(default, IngressProblems.TooLarge(maxBytes));

        try
        {
            await using var source = gzip ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true) : null;
            var body = await ReadBoundedAsync(source ?? request.Body, maxBytes, ct);
            return body is null ? new(default, IngressProblems.TooLarge(maxBytes)) : new(body.Value, null);
        }
        catch (InvalidDataException)
        {
            return new(default, IngressProblems.Invalid([new(Core.Segment.FieldError.Body, "the body is not valid gzip")]));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new(default, IngressProblems.TooLarge(maxBytes)); // Kestrel's own MaxRequestBodySize
        }
    }

    /// <summary>Reads at most <paramref name="maxBytes"/>; null when the stream holds more (without reading the rest).</summary>
    static async Task<ReadOnlyMemory<byte>?> ReadBoundedAsync(Stream stream, long maxBytes, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[ChunkBytes];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>D1: application/json, text/plain or absent are read as JSON (UTF-8); anything else → 415.</summary>
    static ProblemHttpResult? ContentTypeProblem(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return null;
        const string expected = "Content-Type must be application/json, text/plain or absent";
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)) return IngressProblems.UnsupportedMediaType(expected);
        var type = media.MediaType.Value ?? "";
        if (!type.Equals("application/json", StringComparison.OrdinalIgnoreCase) && !type.Equals("text/plain", StringComparison.OrdinalIgnoreCase))
            return IngressProblems.UnsupportedMediaType(expected);
        var charset = media.Charset.Value;
        if (charset is not null && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            return IngressProblems.UnsupportedMediaType("the body must be UTF-8 JSON (charset=utf-8 or none)");
        return null;
    }
}
