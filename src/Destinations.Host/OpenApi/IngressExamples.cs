using Destinations.Core.Segment;

namespace Destinations.Host.OpenApi;

/// <summary>Endpoint metadata: the request body examples and the security scheme Swagger shows for an ingress endpoint.</summary>
public sealed record IngressExample(string SecurityScheme, IReadOnlyDictionary<string, string> Bodies);

/// <summary>Realistic Segment payloads (from the Spec samples in the test fixtures) for the Swagger UI's "Try it out".</summary>
public static class IngressExamples
{
    public const string WriteKeyScheme = "writeKey";
    public const string SignatureScheme = "webhookSignature";

    const string Context = """
        "context": { "ip": "198.51.100.23", "locale": "en-US", "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36",
                     "library": { "name": "analytics.js", "version": "next-1.70.0" },
                     "page": { "path": "/pricing", "referrer": "https://www.example.org/", "search": "?plan=pro", "title": "Pricing",
                               "url": "https://app.example.com/pricing?plan=pro" } },
        "timestamp": "2026-11-20T10:15:30.622Z", "sentAt": "2026-11-20T10:15:30.500Z", "integrations": {}
        """;

    static readonly Dictionary<string, string> ByType = new()
    {
        [CallTypes.Track] = $$"""{ "userId": "user_8412", "event": "Order Completed", "messageId": "ajs-next-02-track", "properties": { "order_id": "ord_1009", "revenue": 119.9, "currency": "EUR" }, {{Context}} }""",
        [CallTypes.Identify] = $$"""{ "userId": "user_8412", "messageId": "ajs-next-01-identify", "traits": { "email": "ada@example.com", "name": "Ada Lovelace", "plan": "pro", "account_uid": "acct_77" }, {{Context}} }""",
        [CallTypes.Page] = $$"""{ "userId": "user_8412", "name": "Pricing", "category": "Marketing", "messageId": "ajs-next-03-page", "properties": { "url": "https://app.example.com/pricing?plan=pro", "path": "/pricing", "title": "Pricing" }, {{Context}} }""",
        [CallTypes.Screen] = """{ "userId": "user_8412", "name": "Dashboard", "messageId": "ios-05-screen", "properties": { "variant": "dark" }, "context": { "app": { "name": "Acme", "version": "4.2.0" }, "os": { "name": "iOS", "version": "18.1" } }, "timestamp": "2026-11-20T10:15:30.622Z" }""",
        [CallTypes.Group] = $$"""{ "userId": "user_8412", "groupId": "acct_77", "messageId": "ajs-next-06-group", "traits": { "name": "Acme Inc", "plan": "enterprise", "employees": 120 }, {{Context}} }""",
        [CallTypes.Alias] = """{ "userId": "user_8412", "previousId": "5a6c2e74-0b8e-4f4a-9d2c-7b1c1f0e9a11", "messageId": "ajs-next-07-alias", "timestamp": "2026-11-20T10:15:30.622Z" }""",
    };

    /// <summary>D2: a single event's answer (<c>messageId</c> only when the service generated it).</summary>
    public static readonly ResponseExample SingleAnswer = new(200, """{ "success": true }""");

    /// <summary>D2: a batch with one rejected event and one generated messageId.</summary>
    public static readonly ResponseExample BatchAnswer = new(200, """
        { "success": true, "accepted": 2, "rejected": [ { "index": 2, "messageId": "node-17-c", "message": "event: track needs an event name" } ],
          "generated": [ { "index": 1, "messageId": "3f0c9a52-7d1e-4b8a-9a61-2f5b8c1d0e44" } ] }
        """);

    public static IngressExample ForType(string type) =>
        new(WriteKeyScheme, new Dictionary<string, string> { [type] = ByType[type] });

    public static readonly IngressExample Batch = new(WriteKeyScheme, new Dictionary<string, string>
    {
        ["analytics-node batch"] = """
            { "batch": [
                { "type": "track", "event": "Invoice Paid", "userId": "user_8412", "properties": { "amount": 49 }, "messageId": "node-17-a",
                  "timestamp": "2026-11-20T10:20:00.000Z", "context": { "library": { "name": "@segment/analytics-node", "version": "3.1.0" } } },
                { "type": "identify", "userId": "user_8413", "traits": { "email": "ada@example.com" }, "messageId": "node-17-b",
                  "timestamp": "2026-11-20T10:20:00.010Z" } ],
              "sentAt": "2026-11-20T10:20:00.200Z" }
            """,
        ["envelope merge"] = """
            { "batch": [ { "type": "track", "event": "Export Started", "userId": "user_8412", "messageId": "http-18-a", "context": { "locale": "nl-NL" } },
                         { "type": "page", "name": "Settings", "userId": "user_8412", "messageId": "http-18-b", "integrations": { "Salesmachine": false } } ],
              "context": { "ip": "203.0.113.9", "locale": "en-US", "library": { "name": "http", "version": "1" } },
              "integrations": { "UserMotion (Actions)": false }, "writeKey": "your-write-key" }
            """,
    });

    public static readonly IngressExample Webhook = new(SignatureScheme, new Dictionary<string, string>
    {
        ["classic webhook (one event)"] = $$"""{ "type": "track", {{ByType[CallTypes.Track][1..]}}""",
        ["Webhooks (Actions) batch"] = $$"""
            [ { "type": "track", "userId": "user_8412", "event": "Trial Started", "messageId": "ajs-next-19-a", "properties": { "plan": "pro" }, {{Context}} },
              { "type": "page", "userId": "user_8412", "name": "Welcome", "messageId": "ajs-next-19-b", "properties": { "url": "https://app.example.com/welcome" }, {{Context}} } ]
            """,
    });
}
