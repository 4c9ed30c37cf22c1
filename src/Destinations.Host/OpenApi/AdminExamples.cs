namespace Destinations.Host.OpenApi;

/// <summary>Example answers of the admin API. Secrets appear only as the mask (<c>********</c>), as the API shows them.</summary>
public static class AdminExamples
{
    const string StatsJson = """
        { "pending": 2, "retrying": 1, "delivered": 1520, "invalid": 0, "dead": 3, "filtered": 41,
          "filteredByReason": { "call_type_not_accepted": 40, "integrations_off": 1 },
          "filterReasonSentences": { "call_type_not_accepted": "The partner does not accept this call type.",
                                     "integrations_off": "The event's Integrations object switches this destination off." },
          "duplicates": 7,
          "state": "active", "heldSince": null, "holdReason": null, "nextProbeAt": null, "held": 0,
          "lastErrors": [ { "deliveryId": 4182, "at": "2026-11-20T10:15:31.410+00:00", "status": 400, "errorClass": "Final: HTTP 400", "error": "HTTP 400" } ] }
        """;

    const string SummaryJson = $$"""
        { "id": "salesmachine-prod", "integration": "Salesmachine", "sources": ["web"],
          "settings": { "ApiToken": "********", "ApiSecret": "********", "BaseUrl": "https://api.salesmachine.io/", "AliasPath": null },
          "supportsConnectionTest": true, "stats": {{StatsJson}} }
        """;

    public static readonly ResponseExample List = new(200, $$"""{ "destinations": [ {{SummaryJson}} ] }""");
    public static readonly ResponseExample One = new(200, SummaryJson);
    public static readonly ResponseExample Stats = new(200, StatsJson);
    public static readonly ResponseExample ConnectionTest = new(200, """
        { "destination": "salesmachine-prod", "ok": false,
          "steps": [ { "name": "credentials (GET /v1/ping)", "ok": false, "statusCode": 401, "detail": "AuthFailure: HTTP 401 — {\"error\":\"invalid token\"}" } ] }
        """);
}
