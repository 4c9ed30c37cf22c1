using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests;

public class StoreTests
{
    [Fact]
    public async Task Storage_unavailable_is_503_with_Retry_After_D1()
    {
        using var app = new IngressApp();
        app.Store.Unavailable = true;
        var response = await app.PostAsync("/v1/track", """{"userId":"u","event":"E"}""", IngressApp.WebWriteKey);
        var problem = await Json.ProblemAsync(response, 503);
        Assert.Equal("5", response.Headers.RetryAfter?.ToString());
        Assert.Equal("the event store is unavailable; retry later (nothing was stored)", problem["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Duplicate_single_event_is_answered_200_D5()
    {
        using var app = new IngressApp();
        const string body = """{"userId":"u","event":"E","messageId":"dup-single"}""";
        Assert.Equal(200, (int)(await app.PostAsync("/v1/track", body, IngressApp.WebWriteKey)).StatusCode);
        var again = await app.PostAsync("/v1/track", body, IngressApp.WebWriteKey);
        Assert.Equal(200, (int)again.StatusCode);
        Assert.Equal("""{"success":true}""", await again.Content.ReadAsStringAsync());
        Assert.Single(app.Store.Stored);
    }
}
