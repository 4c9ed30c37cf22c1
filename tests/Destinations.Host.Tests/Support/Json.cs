using System.Text.Json.Nodes;

namespace Destinations.Host.Tests.Support;

static class Json
{
    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response) =>
        (JsonObject)JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    /// <summary>Asserts the status and the problem+json shape every ingress error has (title, status, detail, message).</summary>
    public static async Task<JsonObject> ProblemAsync(HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (JsonObject)JsonNode.Parse(body)!;
        Assert.Equal(status, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(problem["title"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(problem["message"]?.GetValue<string>()));
        Assert.Equal(problem["detail"]?.GetValue<string>(), problem["message"]!.GetValue<string>());
        return problem;
    }

    /// <summary>The messages of <c>errors[field]</c>.</summary>
    public static string[] Errors(JsonObject problem, string field) =>
        (problem["errors"]?[field] as JsonArray)?.Select(n => n!.GetValue<string>()).ToArray() ?? [];

    public static string Fixture(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "segment", name));

    public static string FixtureTrimmed(string name) => Fixture(name).Trim();
}
