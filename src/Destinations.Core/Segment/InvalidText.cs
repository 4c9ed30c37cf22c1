using System.Text.Json;

namespace Destinations.Core.Segment;

/// <summary>
/// A JSON string (a value, or a property name) whose escapes decode to invalid UTF-16: a lone <c>\ud800</c>, a lone
/// <c>\udc00</c>, or a high surrogate followed by anything but a low one. The JSON is well-formed, so the parser accepts it,
/// but the text cannot be read as a string (System.Text.Json throws <see cref="InvalidOperationException"/>) and must not be
/// passed on altered (as U+FFFD): the event carrying it is rejected.
/// </summary>
/// <param name="Offset">The token's first byte, counted from the start of the body as received.</param>
/// <param name="Field">The value's path (<c>batch[3].properties.note</c>); for a property name, the path of the object holding it.</param>
/// <param name="IsPropertyName">Whether the bad text is a property name.</param>
public sealed record InvalidText(int Offset, string Field, bool IsPropertyName)
{
    /// <summary>The 400's field error: the path from the body's root, as every other field error names it.</summary>
    public FieldError ToError()
    {
        var field = Field.Length == 0 ? FieldError.Body : Field;
        return new FieldError(field, IsPropertyName
            ? $"a property name in {(field == FieldError.Body ? "the event" : field)} is not valid Unicode: it has an unpaired UTF-16 surrogate escape (such as \\ud800)"
            : $"{field} is not valid Unicode: it has an unpaired UTF-16 surrogate escape (such as \\ud800)");
    }

    /// <summary>
    /// Whether a string token's raw (still escaped) bytes hold a <c>\u</c> escape that is not valid UTF-16. The reader has
    /// already checked the escapes' syntax, so every backslash is followed by a valid escape.
    /// </summary>
    public static bool HasInvalidEscape(ReadOnlySpan<byte> raw)
    {
        for (var i = raw.IndexOf((byte)'\\'); i >= 0 && i < raw.Length; i++)
        {
            if (raw[i] != (byte)'\\') continue;
            i++;
            if (raw[i] != (byte)'u') continue;
            var unit = Hex4(raw.Slice(i + 1, 4));
            i += 4;
            if (unit is >= 0xDC00 and <= 0xDFFF) return true;
            if (unit is < 0xD800 or > 0xDBFF) continue;
            if (i + 6 >= raw.Length || raw[i + 1] != (byte)'\\' || raw[i + 2] != (byte)'u') return true;
            if (Hex4(raw.Slice(i + 3, 4)) is < 0xDC00 or > 0xDFFF) return true;
            i += 6;
        }
        return false;
    }

    static int Hex4(ReadOnlySpan<byte> hex)
    {
        var value = 0;
        foreach (var b in hex) value = value << 4 | (b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10);
        return value;
    }

    /// <summary>
    /// The slow path, taken only for a body that has invalid text: every invalid string with its path, and whether an object
    /// has a key twice (checked here because the document's own duplicate check cannot compare names that are not text).
    /// </summary>
    internal static List<InvalidText> Locate(ReadOnlySpan<byte> json, int bodyOffset, JsonReaderOptions options, out bool duplicateKey)
    {
        duplicateKey = false;
        var found = new List<InvalidText>();
        var frames = new List<Frame>();
        string? name = null; // the current object's pending property name; null after an invalid one
        var reader = new Utf8JsonReader(json, options);
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    var holder = frames[^1];
                    if (reader.ValueIsEscaped && HasInvalidEscape(reader.ValueSpan))
                    {
                        found.Add(new InvalidText(bodyOffset + (int)reader.TokenStartIndex, holder.Path, true));
                        name = null;
                    }
                    else
                    {
                        name = reader.GetString()!;
                        if (!(holder.Names ??= new HashSet<string>(StringComparer.Ordinal)).Add(name)) duplicateKey = true;
                    }
                    break;
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    frames.Add(new Frame(ChildPath(frames, name), reader.TokenType == JsonTokenType.StartArray));
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    frames.RemoveAt(frames.Count - 1);
                    ValueDone(frames);
                    break;
                case JsonTokenType.String:
                    if (reader.ValueIsEscaped && HasInvalidEscape(reader.ValueSpan))
                        found.Add(new InvalidText(bodyOffset + (int)reader.TokenStartIndex, ChildPath(frames, name), false));
                    ValueDone(frames);
                    break;
                default:
                    ValueDone(frames);
                    break;
            }
        }
        return found;
    }

    static string ChildPath(List<Frame> frames, string? name)
    {
        if (frames.Count == 0) return "";
        var parent = frames[^1];
        if (parent.IsArray) return $"{parent.Path}[{parent.Index}]";
        if (name is null) return parent.Path; // under an invalid name: the holding object is all that can be named
        return parent.Path.Length == 0 ? name : parent.Path + "." + name;
    }

    static void ValueDone(List<Frame> frames)
    {
        if (frames.Count > 0 && frames[^1].IsArray) frames[^1].Index++;
    }

    sealed class Frame(string path, bool isArray)
    {
        public string Path { get; } = path;
        public bool IsArray { get; } = isArray;
        public int Index { get; set; }
        public HashSet<string>? Names { get; set; }
    }
}
