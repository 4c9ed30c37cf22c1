using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;

namespace Destinations.Webhook.Tests;

/// <summary>
/// Request equality with Segment: every case is mapped and built by us (<see cref="WebhookClient.Build"/>, what goes on the wire)
/// and run through Segment's published Webhooks (Actions) <c>send</c> (<see cref="SegmentReference"/>) with the same event(s),
/// mapping and shared secret. URL, method, headers (all but Authorization) and the JSON body must be equal, and our X-Signature
/// must be the HMAC of what we send (of the first element for a batch). Where no number is re-formatted by JavaScript the body
/// bytes, and so the signatures, must be identical too.
/// </summary>
public sealed class ReferenceEqualityTests
{
    const string Secret = "whsec-reference-5e2c";

    /// <param name="ExactBytes">False when JavaScript re-formats a number (12345678901234567890 → 12345678901234567000, 129.90 →
    /// 129.9): we keep the text we received, so the bytes differ while the JSON values are equal (D29).</param>
    /// <param name="SegmentRefuses">Segment's send refuses the event (a schema error): ours must be invalid, with nothing sent.</param>
    public sealed record Case(string Name, string Events, string Fields, bool Batch = false, bool ExactBytes = true, bool SegmentRefuses = false,
        string Trigger = "type = \"track\"")
    {
        public override string ToString() => Name;
    }

    const string Track = """
        {"type":"track","event":"Order Completed","userId":"user-8412","anonymousId":"anon-1","messageId":"m-1",
         "timestamp":"2026-12-07T03:00:00.000Z","properties":{"plan":"pro","count":5,"items":[{"sku":"a-1","qty":2},{"sku":"b-2","qty":1}]},
         "context":{"ip":"198.51.100.23","page":{"url":"https://app.example.com/checkout"},"library":{"name":"analytics-node","version":"3.1.0"}}}
        """;

    public static readonly Case[] Cases =
    [
        new("the whole event with the default data mapping", $"[{Track}]", """{"url": "https://api.example.com/events"}"""),
        new("unicode, control characters and HTML in strings",
            """[{"type":"track","event":"Zoë’s «order» 😀 مرحبا","userId":"u-1","properties":{"note":"line1\nline2\ttab \u0001 \u001f <b>&amp;</b> 'q' \"dq\" \\ / \u2028 \u00e9","emoji":"👩‍💻"}}]""",
            """{"url": "https://api.example.com/events", "headers": {"X-Source": "destinations"}}"""),
        new("nested data with missing paths",
            $"[{Track}]",
            """
            {"url": "https://api.example.com/contacts", "data": {
                "id": {"@path": "$.userId"}, "missing": {"@path": "$.properties.nope"}, "deep": {"@path": "$.context.page.url"},
                "list": [{"@path": "$.properties.nope"}, {"@path": "$.properties.plan"}, 3],
                "nested": {"a": {"b": {"@path": "$.properties.items[1].sku"}, "gone": {"@path": "$.x.y.z"}}, "nul": null},
                "email": {"@if": {"exists": {"@path": "$.traits.email"}, "then": {"@path": "$.traits.email"}, "else": "none"}},
                "label": {"@template": "{{event}} by {{userId}} ({{properties.missing}})"}}}
            """),
        new("a @template URL and a method",
            """[{"type":"track","event":"Signed Up","userId":"user-8412","properties":{"plan":"pro+"}}]""",
            """{"url": {"@template": "https://api.example.com/users/{{userId}}/events?plan={{properties.plan}}"}, "method": "PUT"}"""),
        new("a @template URL with a space and a non-ASCII character is refused",
            """[{"type":"track","event":"Signed Up","userId":"zoë 7","properties":{"plan":"pro"}}]""",
            """{"url": {"@template": "https://api.example.com/users/{{userId}}/events"}}""", SegmentRefuses: true),
        new("big and fractional numbers",
            """[{"type":"track","event":"Numbers","userId":"u-1","properties":{"big":12345678901234567890,"frac":0.1,"trailing":129.90,"exp":1e21,"small":1E-7,"negzero":-0.0,"int":42,"neg":-17.25}}]""",
            """{"url": "https://api.example.com/events"}""", ExactBytes: false),
        new("headers from the event, numbers as text",
            $"[{Track}]",
            """{"url": "https://api.example.com/events", "method": "PATCH", "headers": {"X-User": {"@path": "$.userId"}, "X-Count": {"@path": "$.properties.count"}, "X-Const": "v1", "User-Agent": "crm-sync/1.0"}}"""),
        new("no data: no body and no signature", $"[{Track}]", """{"url": "https://api.example.com/ping", "data": null}"""),
        new("object keys that look like array indexes",
            """[{"type":"track","event":"Keys","userId":"u-1","properties":{"b":1,"10":2,"2":3,"01":4,"a":5,"0":6}}]""",
            """{"url": "https://api.example.com/events", "data": {"props": {"@path": "$.properties"}, "z": 1, "5": 2}}"""),
        new("mapping-kit directives Segment and we both run",
            $"[{Track}]",
            """
            {"url": "https://api.example.com/events", "data": {
                "upper": {"@case": {"operator": "upper", "value": {"@path": "$.event"}}},
                "replaced": {"@replace": {"pattern": "-", "replacement": "_", "global": true, "value": {"@path": "$.userId"}}},
                "encoded": {"@json": {"mode": "encode", "value": {"@path": "$.properties.items"}}},
                "merged": {"@merge": {"direction": "right", "objects": [{"@path": "$.context.library"}, {"name": "override"}]}},
                "skus": {"@arrayPath": ["$.properties.items", {"id": {"@path": "$.sku"}, "n": {"@path": "$.qty"}}]},
                "literal": {"@literal": {"k": "v"}}}}
            """),
        new("@flatten, @transform, @excludeWhenNull and @json decode as Segment runs them",
            """[{"type":"identify","userId":"u-1","traits":{"name":"Zoë","address":{"city":"Paris","zip":null},"tags":["a","b"],"raw":"{x","json":"{\"k\":[1,2]}","none":null}}]""",
            """
            {"url": "https://api.example.com/contacts", "data": {
                "flat": {"@flatten": {"separator": ".", "value": {"@path": "$.traits"}}},
                "flatNoArrays": {"@flatten": {"separator": "__", "value": {"@path": "$.traits"}, "omitArrays": true}},
                "flatScalar": {"@flatten": {"separator": ".", "value": {"@path": "$.userId"}}},
                "transformed": {"@transform": {"apply": {"who": {"@template": "{{traits.name}} in {{traits.address.city}}"}}, "mapping": {"label": {"@path": "$.who"}}}},
                "noNulls": {"@excludeWhenNull": {"@path": "$.traits"}},
                "nullGone": {"@excludeWhenNull": {"@path": "$.traits.none"}},
                "decoded": {"@json": {"mode": "decode", "value": {"@path": "$.traits.json"}}},
                "notJson": {"@json": {"mode": "decode", "value": {"@path": "$.traits.raw"}}}}}
            """, Trigger: "type = \"identify\""),
        new("templates, conditions and replacements as Segment's mapping-kit runs them",
            """[{"type":"track","event":"Quote <b>&</b> 'it'","userId":"u/1=2","properties":{"blank":"","zero":0,"no":false,"list":[],"obj":{"a":1},"n":42,"text":"Hello World hello","tags":["x","y"],"odd key":{"v":"ok"},"weird[x]":"w"}}]""",
            """
            {"url": "https://api.example.com/events", "data": {
                "escaped": {"@template": "{{event}} by {{userId}}"},
                "raw": {"@template": "{{{event}}} / {{{userId}}}"},
                "number": {"@template": "n={{properties.n}} list={{properties.tags}} obj={{properties.obj}} none={{properties.none}}"},
                "ifBlankText": {"@if": {"blank": {"@path": "$.properties.blank"}, "then": "filled", "else": "blank"}},
                "ifBlankZero": {"@if": {"blank": {"@path": "$.properties.zero"}, "then": "filled", "else": "blank"}},
                "ifBlankFalse": {"@if": {"blank": {"@path": "$.properties.no"}, "then": "filled", "else": "blank"}},
                "ifBlankList": {"@if": {"blank": {"@path": "$.properties.list"}, "then": "filled", "else": "blank"}},
                "ifExistsNo": {"@if": {"exists": {"@path": "$.properties.nope"}, "then": "yes"}},
                "caseNumber": {"@case": {"operator": "upper", "value": {"@path": "$.properties.n"}}},
                "replaced": {"@replace": {"pattern": "hello", "replacement": "bye", "ignorecase": true, "global": true, "pattern2": "World", "replacement2": "All", "value": {"@path": "$.properties.text"}}},
                "replacedOnce": {"@replace": {"pattern": "l", "replacement": "L", "global": false, "value": {"@path": "$.properties.text"}}},
                "mergedLeft": {"@merge": {"direction": "left", "objects": [{"a": 1, "b": 1}, {"@path": "$.properties.obj"}, {"b": 2, "c": 3}]}},
                "arrayFromObject": {"@arrayPath": ["$.properties.obj", {"v": {"@path": "$.a"}}]},
                "arrayPlain": {"@arrayPath": ["$.properties.tags"]},
                "replacementPatterns": {"@replace": {"pattern": "World", "replacement": "[$&|$$|$1]", "value": {"@path": "$.properties.text"}}},
                "replacementSides": {"@replace": {"pattern": " ", "replacement": "<$`>", "global": false, "value": {"@path": "$.properties.text"}}},
                "quotedKey": {"@path": "$.properties['odd key'].v"},
                "indexed": {"@path": "$.properties.tags[1]"},
                "bracketKey": {"@path": "$.properties.weird[x]"},
                "templatePath": {"@template": "{{properties['odd key'].v}}-{{properties.tags[0]}}"}}}
            """),
        new("edge values: merges of non-objects, JSON of strings and numbers, literals, arrays with missing items",
            """[{"type":"track","event":"E","userId":"u-1","properties":{"s":"ab","arr":[1,2],"n":7,"t":true,"o":{"k":"v"},"json":"[1,{\"a\":null}]","num":"12.50"}}]""",
            """
            {"url": "https://api.example.com/events", "data": {
                "mergeMixed": {"@merge": {"direction": "right", "objects": [{"@path": "$.properties.o"}, {"@path": "$.properties.s"}, {"@path": "$.properties.arr"}, {"@path": "$.properties.n"}, {"@path": "$.properties.none"}]}},
                "encodeString": {"@json": {"mode": "encode", "value": {"@path": "$.properties.s"}}},
                "encodeNumber": {"@json": {"mode": "encode", "value": {"@path": "$.properties.n"}}},
                "decodeArray": {"@json": {"mode": "decode", "value": {"@path": "$.properties.json"}}},
                "literalObject": {"@literal": {"x": {"@path": "$.properties.t"}, "y": [null, 1]}},
                "array": [{"@path": "$.properties.none"}, {"@path": "$.properties.n"}, "text", {"nested": {"@path": "$.properties.none"}}],
                "caseObject": {"@case": {"operator": "lower", "value": {"@path": "$.properties.o"}}},
                "replaceObject": {"@replace": {"pattern": "a", "value": {"@path": "$.properties.o"}}},
                "replaceBool": {"@replace": {"pattern": "tr", "replacement": "T", "value": {"@path": "$.properties.t"}}}}}
            """),
        new("a batch: the array of each event's data, signed over the first",
            """
            [{"type":"track","event":"A","userId":"u-1","properties":{"n":1,"name":"Zoë"}},
             {"type":"track","event":"B","userId":"u-2","properties":{"n":2}},
             {"type":"track","event":"C","userId":"u-3"}]
            """,
            """{"url": "https://api.example.com/bulk", "batch_size": 10, "data": {"id": {"@path": "$.userId"}, "event": {"@path": "$.event"}, "props": {"@path": "$.properties"}}}""",
            Batch: true),
        new("a batch of one is still an array", $"[{Track}]", """{"url": "https://api.example.com/bulk", "batch_size": 100}""", Batch: true),
        new("a batch of whole events with big numbers",
            """[{"type":"track","event":"A","userId":"u-1","properties":{"id":9007199254740993}},{"type":"track","event":"B","userId":"u-2","properties":{"price":10.50}}]""",
            """{"url": "https://api.example.com/bulk", "method": "PUT", "batch_size": 2, "headers": {"X-Batch": "yes"}}""",
            Batch: true, ExactBytes: false),
    ];

    public static TheoryData<Case> All() => new(Cases);

    static readonly Lazy<JsonArray> Reference = new(() => SegmentReference.Run(new JsonArray(Cases.Select(c => (JsonNode?)new JsonObject
    {
        ["events"] = JsonNode.Parse(c.Events),
        ["mapping"] = EffectiveMapping(c),
        ["settings"] = new JsonObject { ["sharedSecret"] = Secret },
        ["batch"] = c.Batch,
    }).ToArray())));

    /// <summary>What Segment runs: the action's defaults with the case's fields over them (a field mapped to null is not mapped, D20).</summary>
    static JsonObject EffectiveMapping(Case c)
    {
        var mapping = WebhookActions.Send.DefaultFields();
        foreach (var (key, value) in JsonNode.Parse(c.Fields)!.AsObject()) mapping[key] = value?.DeepClone();
        foreach (var key in mapping.Where(p => p.Value is null).Select(p => p.Key).ToList()) mapping.Remove(key);
        return mapping;
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Our_request_equals_what_Segments_send_action_makes(Case c)
    {
        var reference = Reference.Value[Array.IndexOf(Cases, c)]!.AsObject();
        if (c.SegmentRefuses)
        {
            Assert.NotNull(reference["error"]);
            Assert.Empty(reference["requests"]!.AsArray());
            var refused = Map(c).Single();
            Assert.Equal(MappingOutcome.Invalid, refused.Outcome);
            return;
        }
        Assert.True(reference["error"] is null, $"the reference failed: {reference["error"]}");
        var theirs = Assert.Single(reference["requests"]!.AsArray())!.AsObject();
        var ours = Ours(c);

        Assert.Equal((string)theirs["method"]!, ours.Method);
        Assert.Equal(new Uri((string)theirs["url"]!).AbsoluteUri, new Uri(ours.Url).AbsoluteUri);

        var theirHeaders = theirs["headers"]!.AsObject().Where(h => h.Key != "authorization")
            .ToDictionary(h => h.Key, h => (string)h.Value!);
        var ourHeaders = ours.Headers.Where(h => !h.Key.Equals("authorization", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value);
        // The signature is compared below: equal where the bytes are, valid for our bytes everywhere.
        Assert.Equal(theirHeaders.Where(h => h.Key != "x-signature").OrderBy(h => h.Key), ourHeaders.Where(h => h.Key != "x-signature").OrderBy(h => h.Key));
        Assert.Equal(theirHeaders.ContainsKey("x-signature"), ourHeaders.ContainsKey("x-signature"));

        var theirBody = (string?)theirs["body"];
        if (theirBody is null)
        {
            Assert.Null(ours.Body);
            Assert.DoesNotContain("x-signature", ourHeaders.Keys);
            return;
        }
        Assert.NotNull(ours.Body);
        var ourBody = Encoding.UTF8.GetString(ours.Body);
        Assert.True(JsonEqual(JsonNode.Parse(theirBody), JsonNode.Parse(ourBody)), $"bodies differ\nSegment: {theirBody}\nours:    {ourBody}");

        // Our signature is the HMAC of what we send: of the body, or of the batch's first element.
        var signed = c.Batch ? JsJson.Utf8(JsonNode.Parse(ourBody)!.AsArray()[0]) : ours.Body;
        if (c.Batch) Assert.StartsWith("[" + Encoding.UTF8.GetString(signed), ourBody);
        Assert.Equal(WebhookSignature.Sign(signed, Secret), ourHeaders["x-signature"]);
        Assert.True(WebhookSignature.IsValid(ours.Body, Secret, ourHeaders["x-signature"]));
        if (c.ExactBytes)
        {
            Assert.Equal(theirBody, ourBody);
            Assert.Equal(theirHeaders["x-signature"], ourHeaders["x-signature"]);
        }
        else Assert.NotEqual(theirBody, ourBody); // the case really exercises number text JavaScript would change
    }

    static WebhookWireRequest Ours(Case c)
    {
        var (d, results) = MapWith(c);
        var requests = results.Select(result =>
        {
            Assert.True(result.Outcome == MappingOutcome.Send, result.Reason);
            return Assert.Single(result.Requests);
        }).ToList();
        Assert.Equal(c.Batch, requests.All(WebhookRequests.IsBatched));
        if (c.Batch) Assert.Single(requests.Select(d.BatchKey).Distinct());
        return WebhookClient.Build(requests, c.Batch, d.Settings, d.SecretUse);
    }

    static List<MappingResult> Map(Case c) => MapWith(c).Results;

    static (WebhookDestination Destination, List<MappingResult> Results) MapWith(Case c)
    {
        var mappings = new JsonArray(new JsonObject
        {
            ["name"] = "m", ["trigger"] = c.Trigger, ["action"] = "send", ["fields"] = JsonNode.Parse(c.Fields),
        });
        using var host = new TestHost(mappings.ToJsonString(), new Dictionary<string, string?>
        {
            ["SharedSecret"] = Secret,
            ["AllowedHosts:0"] = "api.example.com",
        });
        var d = host.Destination();
        return (d, JsonNode.Parse(c.Events)!.AsArray().Select(e => d.Map(new SegmentEvent(e!.DeepClone().AsObject()), "m")).ToList());
    }

    /// <summary>JSON equality as a JavaScript reader sees it: numbers compared as doubles, object key order ignored.</summary>
    static bool JsonEqual(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (null, null) => true,
        (JsonObject x, JsonObject y) => x.Count == y.Count && x.All(p => y.TryGetPropertyValue(p.Key, out var v) && JsonEqual(p.Value, v)),
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => JsonEqual(p.First, p.Second)),
        (JsonValue x, JsonValue y) when x.GetValueKind() == JsonValueKind.Number && y.GetValueKind() == JsonValueKind.Number =>
            double.Parse(x.ToJsonString(), CultureInfo.InvariantCulture) == double.Parse(y.ToJsonString(), CultureInfo.InvariantCulture),
        (JsonValue x, JsonValue y) => JsonNode.DeepEquals(x, y),
        _ => false,
    };
}
