using System.Buffers;
using System.IO.Compression;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Destinations.Host.Ingress;

/// <summary>A request body read into memory, or the problem that stopped reading it.</summary>
public readonly record struct RequestBody(ReadOnlyMemory<byte> Bytes, ProblemHttpResult? Problem);

/// <summary>
/// Reads a request body under the server's hard cap (D1): JSON, text/plain, form-urlencoded or no Content-Type (else 415); identity or gzip
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
            var buffer = new PooledBody();
            request.HttpContext.Response.RegisterForDispose(buffer);
            var initial = !gzip && request.ContentLength is long length && length > 0 && length <= maxBytes ? (int)length : ChunkBytes;
            var complete = await buffer.ReadBoundedAsync(source ?? request.Body, initial, maxBytes, ct);
            return complete ? new(buffer.Memory, null) : new(default, IngressProblems.TooLarge(maxBytes));
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

    /// <summary>A request body in a pooled array; disposed (array returned) when the response is done.</summary>
    sealed class PooledBody : IDisposable
    {
        byte[] _array = [];
        int _length;

        public ReadOnlyMemory<byte> Memory => new(_array, 0, _length);

        /// <summary>Reads at most <paramref name="maxBytes"/>; false when the stream holds more (without reading the rest).</summary>
        public async Task<bool> ReadBoundedAsync(Stream stream, int initialBytes, long maxBytes, CancellationToken ct)
        {
            _array = ArrayPool<byte>.Shared.Rent(Math.Max(initialBytes + 1, 256)); // +1: the end of the stream is seen without growing
            while (true)
            {
                if (_length == _array.Length) Grow();
                var read = await stream.ReadAsync(_array.AsMemory(_length), ct);
                if (read == 0) return true;
                _length += read;
                if (_length > maxBytes) return false;
            }
        }

        void Grow()
        {
            var bigger = ArrayPool<byte>.Shared.Rent(_array.Length * 2);
            _array.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_array);
            _array = bigger;
        }

        public void Dispose()
        {
            var array = _array;
            _array = [];
            _length = 0;
            if (array.Length > 0) ArrayPool<byte>.Shared.Return(array);
        }
    }

    /// <summary>
    /// D1: application/json, text/plain, application/x-www-form-urlencoded or absent are read as JSON, whatever the charset
    /// parameter says (JSON is UTF-8; a body that is not fails as invalid UTF-8, a 400); anything else → 415.
    /// Form-urlencoded is here because RudderStack's Node SDK posts its gzip JSON batches with the type its HTTP client
    /// (axios) gives a binary body: refusing it would refuse every event from that SDK.
    /// </summary>
    static ProblemHttpResult? ContentTypeProblem(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return null;
        // What nearly every client sends, compared without parsing (the parser allocates on every request); parameters,
        // spaces and the rest take the parser.
        foreach (var readable in ReadAsJson)
            if (contentType.Equals(readable, StringComparison.OrdinalIgnoreCase)) return null;
        const string expected = "Content-Type must be application/json, text/plain, application/x-www-form-urlencoded or absent";
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)) return IngressProblems.UnsupportedMediaType(expected);
        var type = media.MediaType.Value ?? "";
        foreach (var readable in ReadAsJson)
            if (type.Equals(readable, StringComparison.OrdinalIgnoreCase)) return null;
        return IngressProblems.UnsupportedMediaType(expected);
    }

    static readonly string[] ReadAsJson = ["application/json", "text/plain", "application/x-www-form-urlencoded"];
}
