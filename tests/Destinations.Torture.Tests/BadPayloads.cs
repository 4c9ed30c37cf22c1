using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Destinations.Torture.Tests;

/// <summary>One hostile request: where it goes, its raw bytes, headers, and what was done to it (for failure messages).</summary>
public sealed record BadRequest(string Path, byte[] Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers, string Description);

/// <summary>
/// Generates hostile requests from the Segment fixtures with a seeded Random: truncated JSON, wrong types, huge strings, deep
/// nesting, invalid UTF-8, wrong content types, oversize bodies, bad gzip, random and malformed headers; and well-formed JSON
/// that is hard to read: escapes of every kind (lone UTF-16 surrogates among them, in values and in keys), numbers at the edges
/// of double and long, duplicate keys at depth, byte order marks, control characters and U+0000 in ids — 1 to 3 mutations each.
/// Text a <see cref="JsonNode"/> cannot hold (a lone surrogate escape, a raw number like 1e309) is spliced into the serialized
/// body in place of a marker string.
/// </summary>
public sealed class BadPayloads(int seed, long maxBodyBytes, string sharedSecret)
{
    static readonly string[] Paths =
        ["/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch", "/v1/import",
         "/v1/webhook/web", "/v1/webhook", "/v1/webhook/nope", "/v1/batch?x=%ff", "/v1/track/../batch"];
    static readonly string?[] ContentTypes =
        ["application/json", "application/json", "application/json; charset=utf-8", null, "text/plain", "application/xml",
         "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json; charset=latin1",
         "garbage", ";;;", "application/json; charset=ebcdic", "text/json"];

    readonly Random _random = new(seed);
    readonly List<JsonNode> _fixtures = LoadFixtures();
    int _counter;

    public BadRequest Next()
    {
        _splices.Clear();
        var path = Paths[_random.Next(Paths.Length)];
        var node = _fixtures[_random.Next(_fixtures.Count)].DeepClone();
        var described = new List<string>();
        if (node is JsonObject o) o["messageId"] = $"bad-{seed}-{_counter++}"; // a few survive: keep them distinct
        byte[]? bytes = null;
        var headers = new List<(string, string)>();
        string? contentType = "application/json";
        var mutations = 1 + _random.Next(3);
        for (var m = 0; m < mutations; m++)
        {
            var kind = _random.Next(19);
            described.Add(kind switch
            {
                0 => WrongType(ref node),
                1 => HugeString(ref node),
                2 => DeepNesting(ref node),
                3 => OddValue(ref node),
                4 => Truncate(ref bytes, node),
                5 => InvalidUtf8(ref bytes, node),
                6 => Oversize(ref bytes),
                7 => RandomBytes(ref bytes),
                8 => (contentType = ContentTypes[_random.Next(ContentTypes.Length)]) is var ct ? $"content-type {ct ?? "(none)"}" : "",
                9 => RandomHeaders(headers),
                10 => Gzip(ref bytes, node, headers),
                11 => Escapes(ref node),
                12 => EscapedKey(node),
                13 => EdgeNumber(ref node),
                14 => DuplicateKeyAtDepth(node),
                15 => ByteOrderMark(ref bytes, node),
                16 => ControlCharacters(ref node),
                17 => NulInId(ref node),
                _ => "unchanged (control)",
            });
        }
        bytes ??= Serialize(node);
        if (path.StartsWith("/v1/webhook", StringComparison.Ordinal) && _random.Next(2) == 0)
            headers.Add(("X-Signature", Convert.ToHexString(HMACSHA1.HashData(Encoding.UTF8.GetBytes(sharedSecret), bytes)).ToLowerInvariant()));
        return new BadRequest(path, bytes, contentType, headers, $"{path} [{string.Join(" + ", described)}] {bytes.Length} bytes");
    }

    string WrongType(ref JsonNode? root)
    {
        JsonNode? replacement = _random.Next(7) switch
        {
            0 => JsonValue.Create(_random.Next()),
            1 => JsonValue.Create("str"),
            2 => new JsonArray(1, "two", null),
            3 => new JsonObject { ["x"] = 1 },
            4 => JsonValue.Create(true),
            5 => null,
            _ => JsonValue.Create(-1.5e300),
        };
        return "wrong type at " + Replace(ref root, replacement);
    }

    string HugeString(ref JsonNode? root)
    {
        var length = _random.Next(10_000, 600_000);
        return $"string of {length} at " + Replace(ref root, JsonValue.Create(new string((char)_random.Next('a', 'z'), length)));
    }

    string DeepNesting(ref JsonNode? root)
    {
        var depth = _random.Next(50, 20_000);
        var open = _random.Next(2) == 0 ? "[" : "{\"a\":";
        var close = open == "[" ? "]" : "}";
        var text = string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
        // JsonNode refuses depth > 64 itself, so the deep text is spliced into the serialized body.
        return $"nesting {depth} at {Replace(ref root, Splice(text))}";
    }

    /// <summary>Raw JSON text to put in place of a marker string when the body is serialized.</summary>
    readonly List<(string Marker, string Raw)> _splices = [];

    /// <summary>A marker string value (or key) that <see cref="Serialize"/> replaces, quotes included, with <paramref name="raw"/>.</summary>
    JsonValue Splice(string raw) => JsonValue.Create(SpliceMarker(raw));

    string SpliceMarker(string raw)
    {
        var marker = $"__splice{_random.Next()}_{_splices.Count}";
        _splices.Add(($"\"{marker}\"", raw));
        return marker;
    }

    static readonly string[] EscapedTexts =
    [
        @"\ud800", @"\udc00", @"x\uD800y", @"\ud800\u0041", @"\ud800\ud800", @"\udbff\n", @"\udfff\ud800", @"end\uDBFF",
        @"\ud83d\ude00", @"\uD83D\uDE00", @"\uDbFf\uDfFf", @"\/", @"a\/b", @"\b\f\n\r\t", @"\u00e9\u00E9", @"\u0041\u0062",
        @"\u0000", @"\\u0000", @"\\ud800", @"\u001f\u0001", @"\""\\", @"\uFEFF", @"\uffff", @"\u2028\u2029", @"\u007f",
    ];

    string Escapes(ref JsonNode? root)
    {
        var pick = EscapedTexts[_random.Next(EscapedTexts.Length)];
        return $"escape \"{pick}\" at " + Replace(ref root, Splice("\"" + pick + "\""));
    }

    string EscapedKey(JsonNode? root)
    {
        string[] keys =
        [
            @"\ud800", @"\udc00x", @"k\ud800\u0041", @"\u0075serId", @"tr\u0061its", @"\u0065vent", @"\u0000", @"a\/b",
            @"\uD83D\uDE00", @"\u0063ontext", @"\n", @"\u0074ype",
        ];
        var objects = Objects(root);
        if (objects.Count == 0) return "escaped key (no object)";
        var o = objects[_random.Next(objects.Count)];
        var key = keys[_random.Next(keys.Length)];
        o[SpliceMarker("\"" + key + "\"")] = _random.Next(2) == 0 ? JsonValue.Create("v") : new JsonObject { ["x"] = "\u00e9" };
        return $"escaped key \"{key}\" in {o.GetPath()}";
    }

    string EdgeNumber(ref JsonNode? root)
    {
        string[] numbers =
        [
            "1e308", "-1e308", "1e309", "-1e309", "1.7976931348623157e308", "1.7976931348623159e308", "5e-324", "4.9e-324", "1e-400",
            "-0", "-0.0", "0e0", "-0e-0", "1E+99999", "-1e-99999999", "9223372036854775807", "9223372036854775808",
            "-9223372036854775808", "-9223372036854775809", "18446744073709551616", "123456789012345678901234567890", "0.30000000000000004",
        ];
        var pick = numbers[_random.Next(numbers.Length)];
        // An id is where a number is read (D3: coerced to the text it was written with); elsewhere it is passed through.
        var events = EventObjects(root);
        if (events.Count > 0 && _random.Next(2) == 0)
        {
            var e = events[_random.Next(events.Count)];
            var field = IdFields[_random.Next(IdFields.Length)];
            e[field] = Splice(pick);
            return $"number {pick} as {e.GetPath()}.{field}";
        }
        return $"number {pick} at " + Replace(ref root, Splice(pick));
    }

    static readonly string[] IdFields = ["userId", "anonymousId", "groupId", "previousId", "messageId"];

    string DuplicateKeyAtDepth(JsonNode? root)
    {
        var objects = Objects(root).Where(o => o.Count > 0).OrderByDescending(o => o.GetPath().Length).ToList();
        if (objects.Count == 0) return "duplicate key (no object)";
        var o = objects[_random.Next(Math.Min(objects.Count, 8))]; // among the deepest
        var name = o.ElementAt(_random.Next(o.Count)).Key;
        var quoted = System.Text.Json.JsonSerializer.Serialize(name);
        // The same key as written, or spelled with an escape (the same key once unescaped).
        if (_random.Next(2) == 0 && name.Length > 0 && char.IsAsciiLetterOrDigit(name[0])) quoted = $"\"\\u{(int)name[0]:x4}{quoted[2..]}";
        o[SpliceMarker(quoted)] = 1;
        return $"duplicate key {quoted} in {o.GetPath()}";
    }

    string ByteOrderMark(ref byte[]? bytes, JsonNode? node)
    {
        bytes ??= Serialize(node);
        var twice = _random.Next(4) == 0;
        bytes = twice ? [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, .. bytes] : [0xEF, 0xBB, 0xBF, .. bytes];
        return twice ? "two byte order marks" : "byte order mark";
    }

    string ControlCharacters(ref JsonNode? root)
    {
        // Raw control characters inside a string are not JSON (a 400); DEL, U+0085 and U+2028 are; escaped ones are.
        string[] raw = ["\"a\u0001b\"", "\"tab\there\"", "\"nl\nhere\"", "\"\u001f\"", "\"\u007f\"", "\"\u0085\"", "\"line\u2028sep\"", "\"\\u0001\\u001F\"", "\"\u0000\""];
        var pick = raw[_random.Next(raw.Length)];
        return $"control characters {System.Text.Json.JsonSerializer.Serialize(pick)} at " + Replace(ref root, Splice(pick));
    }

    string NulInId(ref JsonNode? root)
    {
        // PostgreSQL text cannot hold U+0000: an id carrying it must be that event's 400, never a failed group commit.
        string[] values = [@"u\u0000", @"\u0000", @"a\u0000b\u0000c", @"\u0000\ud83d\ude00"];
        string[] fields = ["userId", "anonymousId", "messageId", "groupId", "previousId", "event", "type", "name", "category"];
        var events = EventObjects(root);
        if (events.Count == 0) return Escapes(ref root);
        var e = events[_random.Next(events.Count)];
        var field = fields[_random.Next(fields.Length)];
        var value = values[_random.Next(values.Length)];
        e[field] = Splice("\"" + value + "\"");
        return $"NUL in {e.GetPath()}.{field}";
    }

    static List<JsonObject> Objects(JsonNode? root)
    {
        var found = new List<JsonObject>();
        void Walk(JsonNode? n)
        {
            if (n is JsonObject o) { found.Add(o); foreach (var (_, v) in o) Walk(v); }
            else if (n is JsonArray a) foreach (var v in a) Walk(v);
        }
        Walk(root);
        return found;
    }

    /// <summary>The objects that are events: the root object, or the elements of a batch or webhook array.</summary>
    static List<JsonObject> EventObjects(JsonNode? root) => root switch
    {
        JsonArray a => a.OfType<JsonObject>().ToList(),
        JsonObject o when o["batch"] is JsonArray batch => batch.OfType<JsonObject>().ToList(),
        JsonObject o => [o],
        _ => [],
    };

    string OddValue(ref JsonNode? root)
    {
        string[] odd = ["\ud800", "\u0000", "\uffff", "1e400", "-0", "123456789012345678901234567890", "\u202e\u0301", ""];
        var pick = odd[_random.Next(odd.Length)];
        return "odd value at " + Replace(ref root, JsonValue.Create(pick));
    }

    string Truncate(ref byte[]? bytes, JsonNode? node)
    {
        bytes ??= Serialize(node);
        var cut = _random.Next(bytes.Length);
        bytes = bytes[..cut];
        return $"truncated at {cut}";
    }

    string InvalidUtf8(ref byte[]? bytes, JsonNode? node)
    {
        bytes ??= Serialize(node);
        var copy = bytes.ToList();
        byte[][] bad = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x28, 0xa1], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];
        for (var n = 1 + _random.Next(4); n > 0; n--)
            copy.InsertRange(_random.Next(copy.Count + 1), bad[_random.Next(bad.Length)]);
        bytes = [.. copy];
        return "invalid UTF-8";
    }

    string Oversize(ref byte[]? bytes)
    {
        var size = (int)(maxBodyBytes + _random.Next(1, 512 * 1024));
        var b = new byte[size];
        Encoding.ASCII.GetBytes("{\"batch\":[{\"type\":\"track\",\"event\":\"").CopyTo(b, 0);
        Array.Fill(b, (byte)'x', 40, size - 45);
        Encoding.ASCII.GetBytes("\"}]}").CopyTo(b, size - 4);
        bytes = b;
        return $"oversize {size}";
    }

    string RandomBytes(ref byte[]? bytes)
    {
        bytes = new byte[_random.Next(0, 4096)];
        _random.NextBytes(bytes);
        return "random bytes";
    }

    string RandomHeaders(List<(string, string)> headers)
    {
        (string, string)[] choices =
        [
            ("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("wrong-key:"))),
            ("Authorization", "Basic !!!not-base64"), ("Authorization", "Bearer x"), ("Authorization", ""),
            ("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(TortureEnvironment.WriteKey))),
            ("Content-Encoding", "gzip"), ("Content-Encoding", "br"), ("Content-Encoding", "deflate, gzip"), ("Content-Encoding", "x-unknown"),
            ("X-Signature", "zz"), ("X-Signature", new string('a', 40)), ("X-Forwarded-For", "not-an-ip"),
            ("X-" + _random.Next(), new string('v', _random.Next(1, 8000))), ("Accept", "application/xml"), ("Expect", "100-continue"),
        ];
        var pick = choices[_random.Next(choices.Length)];
        headers.Add(pick);
        return $"header {pick.Item1}";
    }

    string Gzip(ref byte[]? bytes, JsonNode? node, List<(string, string)> headers)
    {
        var raw = bytes ?? Serialize(node);
        if (_random.Next(4) == 0) raw = Encoding.ASCII.GetBytes("{\"a\":\"" + new string(' ', (int)maxBodyBytes + 1024) + "\"}"); // a small bomb
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(raw);
        bytes = buffer.ToArray();
        if (_random.Next(3) == 0) bytes = bytes[..(bytes.Length / 2)]; // a broken stream
        headers.Add(("Content-Encoding", "gzip"));
        return $"gzip {raw.Length}→{bytes.Length}";
    }

    byte[] Serialize(JsonNode? node)
    {
        var text = node?.ToJsonString() ?? "null";
        foreach (var (marker, raw) in _splices) text = text.Replace(marker, raw, StringComparison.Ordinal);
        _splices.Clear();
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>Replaces a random node of the tree (possibly the root); returns its path.</summary>
    string Replace(ref JsonNode? root, JsonNode? replacement)
    {
        var candidates = new List<JsonNode>();
        void Walk(JsonNode? n)
        {
            if (n is null) return;
            candidates.Add(n);
            if (n is JsonObject o) foreach (var (_, v) in o) Walk(v);
            else if (n is JsonArray a) foreach (var v in a) Walk(v);
        }
        Walk(root);
        if (candidates.Count == 0 || _random.Next(20) == 0) { root = replacement; return "$"; }
        var target = candidates[_random.Next(candidates.Count)];
        var path = target.GetPath();
        switch (target.Parent)
        {
            case JsonObject parent: parent[target.GetPropertyName()] = replacement; break;
            case JsonArray parent: parent[target.GetElementIndex()] = replacement; break;
            default: root = replacement; break;
        }
        return path;
    }

    static List<JsonNode> LoadFixtures() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*.json")
            .Select(f => JsonNode.Parse(File.ReadAllText(f))).OfType<JsonNode>().ToList();
}
