using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Destinations.Core.Segment;

/// <summary>Which endpoint a body came to: it decides where the events are in it.</summary>
enum BodyForm
{
    /// <summary><c>/v1/track</c> etc.: the root is the event.</summary>
    TrackingApiEvent,
    /// <summary><c>/v1/batch</c>: the root is the envelope, the events are its <c>batch</c> array.</summary>
    Batch,
    /// <summary><c>/v1/webhook</c>: the root is the event, or an array of events.</summary>
    Webhook,
}

/// <summary>One top-level property of an event: where its name and value lie in the body.</summary>
struct ScannedProperty
{
    public int NameStart, NameLength, ValueStart, ValueLength;
    /// <summary>The <see cref="Fields"/> index of the name, or -1.</summary>
    public int Field;
    /// <summary>The value's first token.</summary>
    public JsonTokenType Kind;
    /// <summary>A container value with whitespace between its tokens (its raw bytes are not what the writer writes).</summary>
    public bool Spaced;
    /// <summary>A string value with a backslash in it.</summary>
    public bool Escaped;
}

/// <summary>Per event, the property (index + 1 into the scan's properties) each <see cref="Fields"/> slot names; 0 = absent
/// or JSON null (null counts as absent, as in <see cref="Fields.Find"/>).</summary>
[InlineArray(Fields.Count)]
struct FieldSlots
{
    int _first;
}

struct ScannedEvent
{
    public int Start, End, FirstProperty, PropertyCount;
    public FieldSlots Slots;
}

/// <summary>
/// The single forward pass of the common case: one <see cref="Utf8JsonReader"/> over the body checks its syntax and depth,
/// checks every object for a key given twice, and records where each event and each of its top-level properties lie — no
/// document, no allocation (the records live in per-thread arrays reused from request to request). It answers only "this
/// body is the usual kind": anything else (a syntax error, an escaped property name, a batch envelope to merge, an event
/// that is not an object, an object with very many keys) makes it return false, and the caller reads the body the long way
/// (<see cref="JsonBody"/> and a document), which finds the exact answer. So the scan never decides an error message.
/// </summary>
sealed class BodyScanner
{
    static readonly JsonReaderOptions Options = new() { MaxDepth = IngressLimits.MaxJsonDepth };

    /// <summary>Above this many keys in one object the duplicate check's linear search would cost more than the document's
    /// hash set: such a body goes the long way.</summary>
    const int MaxKeysPerObject = 64;

    [ThreadStatic] static BodyScanner? t_scanner;

    ScannedProperty[] _properties = new ScannedProperty[64];
    ScannedEvent[] _events = new ScannedEvent[16];
    int[] _names = new int[128]; // (start, length) of the names of the objects open now, innermost last
    int[] _objects = new int[16]; // where each open object's names begin in _names
    int _nameCount, _objectCount;

    public int PropertyCount { get; private set; }
    public int EventCount { get; private set; }
    public string? WriteKey { get; private set; }
    /// <summary>A webhook body that is an array of events.</summary>
    public bool RootIsArray { get; private set; }
    /// <summary>The envelope's <c>sentAt</c> string (raw, with its quotes), or an empty range.</summary>
    public Range EnvelopeSentAt { get; private set; }

    public ref ScannedProperty Property(int i) => ref _properties[i];
    public ref ScannedEvent Event(int i) => ref _events[i];

    public static BodyScanner ForThisThread() => t_scanner ??= new BodyScanner();

    /// <summary>After a read: records grown for a very large body (a 4,000-event webhook array) are let go, so a pool
    /// thread does not keep megabytes for the rare request that needed them.</summary>
    public void Done()
    {
        if (_properties.Length > 4096) _properties = new ScannedProperty[64];
        if (_events.Length > 256) _events = new ScannedEvent[16];
        if (_names.Length > 1024) _names = new int[128];
    }

    /// <summary>Scans a body (without its byte-order mark); false when it is not the usual kind (see the class summary).</summary>
    public bool Scan(ReadOnlySpan<byte> json, BodyForm form)
    {
        PropertyCount = EventCount = _nameCount = _objectCount = 0;
        WriteKey = null;
        RootIsArray = false;
        EnvelopeSentAt = default;
        var r = new Utf8JsonReader(json, Options);
        try
        {
            if (!r.Read()) return false;
            var ok = form switch
            {
                BodyForm.TrackingApiEvent => r.TokenType == JsonTokenType.StartObject && ScanEvent(ref r, json, rootWriteKey: true),
                BodyForm.Webhook => r.TokenType == JsonTokenType.StartObject ? ScanEvent(ref r, json, rootWriteKey: false)
                    : r.TokenType == JsonTokenType.StartArray && (RootIsArray = true) && ScanEvents(ref r, json),
                _ => ScanEnvelope(ref r, json),
            };
            return ok && !r.Read(); // anything but whitespace after the root value throws
        }
        catch (JsonException)
        {
            return false;
        }
    }

    bool ScanEnvelope(ref Utf8JsonReader r, ReadOnlySpan<byte> json)
    {
        if (r.TokenType != JsonTokenType.StartObject) return false;
        var seenBatch = false;
        BeginObject();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (!AddName(ref r, json)) return false;
            var name = r.ValueSpan;
            r.Read();
            if (name.SequenceEqual("batch"u8))
            {
                if (r.TokenType != JsonTokenType.StartArray || !ScanEvents(ref r, json)) return false;
                seenBatch = true;
            }
            else if (name.SequenceEqual("context"u8) || name.SequenceEqual("integrations"u8))
            {
                // Merged into each event (D3): the long way does that. Null or {} merges nothing.
                if (r.TokenType == JsonTokenType.Null) continue;
                if (r.TokenType != JsonTokenType.StartObject || !r.Read() || r.TokenType != JsonTokenType.EndObject) return false;
            }
            else if (name.SequenceEqual("sentAt"u8))
            {
                if (r.TokenType == JsonTokenType.String && !r.ValueIsEscaped)
                    EnvelopeSentAt = new Range((int)r.TokenStartIndex, (int)r.BytesConsumed);
                else if (r.TokenType != JsonTokenType.Null) return false;
            }
            else if (name.SequenceEqual("writeKey"u8))
            {
                if (r.TokenType == JsonTokenType.String) WriteKey = r.GetString();
                else if (r.TokenType != JsonTokenType.Null) return false;
            }
            else if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !SkipChecked(ref r, json, out _)) return false;
        }
        EndObject();
        return seenBatch && EventCount is > 0 and <= IngressLimits.BatchEvents;
    }

    bool ScanEvents(ref Utf8JsonReader r, ReadOnlySpan<byte> json)
    {
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
            if (r.TokenType != JsonTokenType.StartObject || !ScanEvent(ref r, json, rootWriteKey: false)) return false;
        return true;
    }

    /// <summary>On an event's <c>{</c>: reads to its <c>}</c>, recording its top-level properties.</summary>
    bool ScanEvent(ref Utf8JsonReader r, ReadOnlySpan<byte> json, bool rootWriteKey)
    {
        if (EventCount == _events.Length) Array.Resize(ref _events, _events.Length * 2);
        ref var e = ref _events[EventCount];
        e = default;
        e.Start = (int)r.TokenStartIndex;
        e.FirstProperty = PropertyCount;
        BeginObject();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (!AddName(ref r, json)) return false;
            var nameStart = (int)r.TokenStartIndex + 1;
            var field = Fields.IndexOf(r.ValueSpan);
            var nameLength = r.ValueSpan.Length;
            r.Read();
            var p = new ScannedProperty
            {
                NameStart = nameStart, NameLength = nameLength, ValueStart = (int)r.TokenStartIndex, Field = field, Kind = r.TokenType,
            };
            if (p.Kind is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                if (!SkipChecked(ref r, json, out p.Spaced)) return false;
            }
            else if (p.Kind == JsonTokenType.String)
            {
                p.Escaped = r.ValueIsEscaped;
                if (rootWriteKey && field == Fields.WriteKey) WriteKey = r.GetString();
            }
            p.ValueLength = (int)r.BytesConsumed - p.ValueStart;
            if (PropertyCount == _properties.Length) Array.Resize(ref _properties, _properties.Length * 2);
            _properties[PropertyCount++] = p;
            if (field >= 0 && p.Kind != JsonTokenType.Null) e.Slots[field] = PropertyCount;
        }
        EndObject();
        e.End = (int)r.BytesConsumed;
        e.PropertyCount = PropertyCount - e.FirstProperty;
        EventCount++;
        return true;
    }

    /// <summary>
    /// On a <c>{</c> or <c>[</c>: reads to its end, checking the keys of every object in it; <paramref name="spaced"/> tells
    /// whether whitespace lies between its tokens. Compact JSON has nothing between two tokens but one comma (the reader
    /// counts a name's colon, and any whitespace before it, as the name's).
    /// </summary>
    bool SkipChecked(ref Utf8JsonReader r, ReadOnlySpan<byte> json, out bool spaced)
    {
        spaced = false;
        var depth = r.CurrentDepth;
        if (r.TokenType == JsonTokenType.StartObject) BeginObject();
        var end = (int)r.BytesConsumed;
        while (r.Read())
        {
            var gap = (int)r.TokenStartIndex - end;
            if (gap != 0 && (gap > 1 || json[end] != (byte)',')) spaced = true;
            end = (int)r.BytesConsumed;
            switch (r.TokenType)
            {
                case JsonTokenType.PropertyName:
                    if (!AddName(ref r, json)) return false;
                    if (end - ((int)r.TokenStartIndex + r.ValueSpan.Length + 2) != 1) spaced = true; // "name" then only ':'
                    break;
                case JsonTokenType.StartObject:
                    BeginObject();
                    break;
                case JsonTokenType.EndObject:
                    EndObject();
                    if (r.CurrentDepth == depth) return true;
                    break;
                case JsonTokenType.EndArray:
                    if (r.CurrentDepth == depth) return true;
                    break;
            }
        }
        return false;
    }

    void BeginObject()
    {
        if (_objectCount == _objects.Length) Array.Resize(ref _objects, _objects.Length * 2);
        _objects[_objectCount++] = _nameCount;
    }

    void EndObject() => _nameCount = _objects[--_objectCount];

    /// <summary>Records a property name of the innermost open object; false for a key given twice (the long way names the
    /// error), an escaped name (the document compares names unescaped) or an object with very many keys.</summary>
    bool AddName(ref Utf8JsonReader r, ReadOnlySpan<byte> json)
    {
        if (r.ValueIsEscaped) return false;
        var name = r.ValueSpan;
        var first = _objects[_objectCount - 1];
        if (_nameCount - first >= MaxKeysPerObject * 2) return false;
        for (var i = first; i < _nameCount; i += 2)
            if (_names[i + 1] == name.Length && json.Slice(_names[i], name.Length).SequenceEqual(name)) return false;
        if (_nameCount + 2 > _names.Length) Array.Resize(ref _names, _names.Length * 2);
        _names[_nameCount++] = (int)r.TokenStartIndex + 1;
        _names[_nameCount++] = name.Length;
        return true;
    }
}
