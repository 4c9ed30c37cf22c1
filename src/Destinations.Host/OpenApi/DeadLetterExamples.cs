namespace Destinations.Host.OpenApi;

/// <summary>Examples for the dead-letter and resume endpoints.</summary>
public static class DeadLetterExamples
{
    public static readonly ResponseExample Page = new(200, """
        { "items": [ {
            "id": 4182, "destination": "salesmachine-prod", "subscription": "identify", "messageId": "ajs-next-01-identify",
            "reason": "partner answered 400: rejected, not retried", "attempts": 1,
            "createdAt": "2026-11-20T10:15:31.002+00:00", "deadAt": "2026-11-20T10:15:31.410+00:00",
            "lastStatus": 400, "lastError": "HTTP 400", "errorClass": "Final: HTTP 400", "responseExcerpt": "{\"error\":\"invalid contact_uid\"}",
            "lastRequest": { "method": "POST", "url": "https://api.salesmachine.io/v1/contact", "body": "{\"contact_uid\":\"\",\"params\":{}}" },
            "replays": 0,
            "event": { "type": "identify", "messageId": "ajs-next-01-identify", "userId": "user_8412", "traits": { "email": "grace@example.com" } } } ],
          "nextCursor": null }
        """);

    public static readonly RequestExamples ReplayRequests = new(new Dictionary<string, string>
    {
        ["by ids"] = """{ "ids": [4182, 4190] }""",
        ["by destination and time range"] = """{ "destination": "salesmachine-prod", "since": "2026-11-20T00:00:00Z", "until": "2026-11-21T00:00:00Z" }""",
        ["by destination and partner status"] = """{ "destination": "salesmachine-prod", "status": 400 }""",
        ["all"] = """{ "all": true }""",
    });

    public static readonly ResponseExample Replayed = new(200, """{ "replayed": 2 }""");
    public static readonly ResponseExample Resumed = new(200, """{ "destination": "salesmachine-prod", "resumed": true }""");
}
