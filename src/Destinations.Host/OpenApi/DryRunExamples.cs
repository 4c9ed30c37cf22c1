namespace Destinations.Host.OpenApi;

/// <summary>Examples of the event tester: a Spec event in; per instance routing, the mapped plan and (send=true) the answers.</summary>
public static class DryRunExamples
{
    public static readonly RequestExamples Request = new(new Dictionary<string, string>
    {
        ["track"] = """
            { "type": "track", "userId": "user_8412", "event": "Order Completed", "messageId": "dry-run-01",
              "properties": { "order_id": "ord_1009", "revenue": 119.9 }, "timestamp": "2026-11-20T10:15:30.622Z" }
            """,
        ["switched off by the Integrations object"] = """
            { "type": "identify", "userId": "user_8412", "traits": { "email": "ada@example.com" }, "messageId": "dry-run-02",
              "integrations": { "All": true, "Salesmachine": false } }
            """,
    });

    public static readonly ResponseExample Response = new(200, """
        { "source": "web", "messageId": "dry-run-01", "type": "track", "sent": true,
          "destinations": [
            { "destination": "salesmachine-prod", "integration": "Salesmachine", "routed": true,
              "settings": { "ApiToken": "********", "ApiSecret": "********", "BaseUrl": "https://api.salesmachine.io/", "AliasPath": null },
              "deliveries": [ { "subscription": "track", "outcome": "Send", "requests": [
                { "step": "event", "method": "POST", "url": "https://api.salesmachine.io/v1/track/event",
                  "body": { "contact_uid": "user_8412", "event_uid": "Order Completed", "params": { "order_id": "ord_1009", "revenue": 119.9 } },
                  "result": { "outcome": "Succeeded", "statusCode": 200 } } ] } ] },
            { "destination": "um", "integration": "UserMotion (Actions)", "routed": false,
              "reason": "source_not_linked", "sentence": "The event's source is not linked to this destination instance.",
              "settings": { "ApiKey": "********" }, "deliveries": [] },
            { "destination": "crm", "integration": "Salesmachine", "routed": false,
              "reason": "filter_only", "sentence": "An only filter of the instance does not match the event.",
              "detail": "Filters[0] only: type = \"identify\"",
              "settings": { "ApiToken": "********", "ApiSecret": "********", "BaseUrl": "https://api.salesmachine.io/", "AliasPath": null },
              "deliveries": [], "filter": { "index": 0, "kind": "only", "condition": "type = \"identify\"" } } ] }
        """);
}
