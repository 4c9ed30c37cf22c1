using System.Text.Json.Nodes;
using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests;

/// <summary>The OpenAPI document: the three auth schemes, and every operation with its scheme and an example answer.</summary>
public class SwaggerDocumentTests
{
    [Fact]
    public async Task Every_operation_has_its_auth_scheme_and_examples()
    {
        using var app = new OperatorApp();
        var doc = JsonNode.Parse(await app.CreateClient().GetStringAsync("/swagger/v1/swagger.json"))!;
        var schemes = doc["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal(["adminKey", "webhookSignature", "writeKey"], schemes.Select(s => s.Key).Order());
        Assert.Equal("bearer", schemes["adminKey"]!["scheme"]!.GetValue<string>());

        var checkedOps = 0;
        foreach (var (path, item) in doc["paths"]!.AsObject())
        {
            if (!path.StartsWith("/v1", StringComparison.Ordinal) && !path.StartsWith("/admin", StringComparison.Ordinal)) continue;
            foreach (var (method, op) in item!.AsObject())
            {
                checkedOps++;
                var expectedScheme = path.StartsWith("/admin", StringComparison.Ordinal) || path == "/v1/dry-run" ? "adminKey"
                    : path.StartsWith("/v1/webhook", StringComparison.Ordinal) ? "webhookSignature" : "writeKey";
                var security = op!["security"]!.AsArray().Single()!.AsObject().Single().Key;
                Assert.True(expectedScheme == security, $"{method} {path}: {security}");
                Assert.True(op["responses"]?["200"]?["content"]?["application/json"]?["example"] is not null, $"{method} {path}: no 200 example");
                // Every POST with a body shows an example; test-connection and resume take none.
                if (method == "post" && !path.EndsWith("/test-connection", StringComparison.Ordinal) && !path.EndsWith("/resume", StringComparison.Ordinal))
                    Assert.True(op["requestBody"]?["content"]?["application/json"]?["examples"]?.AsObject().Count > 0, $"{method} {path}: no request example");
            }
        }
        // 6 Tracking API types, batch, import, 2 webhooks, dry-run, 4 destination admin, resume, dead letters list and replay
        Assert.Equal(18, checkedOps);
    }
}
