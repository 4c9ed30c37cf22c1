using System.IO.Compression;
using System.Text;
using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests;

/// <summary>
/// D1 as amended: a body is read as JSON when its Content-Type is application/json, text/plain,
/// application/x-www-form-urlencoded or absent (any charset parameter, any case); any other type is a 415.
/// Form-urlencoded is what RudderStack's Node SDK sends with its gzip JSON batches.
/// </summary>
public class ContentTypeTests(DefaultIngressApp app) : IClassFixture<DefaultIngressApp>
{
    static int _next;

    static string NewId(string prefix) => $"{prefix}-{Interlocked.Increment(ref _next)}";

    [Theory]
    [InlineData("application/json")]
    [InlineData("APPLICATION/JSON; CHARSET=UTF-8")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("text/plain; charset=utf-8")]
    [InlineData("Text/Plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/x-www-form-urlencoded; charset=utf-8")]
    [InlineData("Application/X-WWW-Form-Urlencoded;charset=UTF-8")]
    [InlineData(null)]
    public async Task Readable_types_are_read_as_json(string? contentType)
    {
        var id = NewId("ct");
        var response = await app.PostAsync("/v1/track", $$"""{"userId":"u","event":"E","messageId":"{{id}}"}""", IngressApp.WebWriteKey, contentType: contentType);
        Assert.True(200 == (int)response.StatusCode, await response.Content.ReadAsStringAsync());
        app.Store.Find(id);
    }

    [Theory]
    [InlineData("multipart/form-data; boundary=----x")]
    [InlineData("application/xml")]
    [InlineData("application/octet-stream")]
    [InlineData("text/html; charset=utf-8")]
    [InlineData("application/jsonx")]
    public async Task Other_types_are_415_naming_the_readable_ones(string contentType)
    {
        var id = NewId("ct415");
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/batch",
            $$"""{"batch":[{"type":"track","userId":"u","event":"E","messageId":"{{id}}"}]}""", IngressApp.WebWriteKey, contentType: contentType), 415);
        Assert.Equal("Content-Type must be application/json, text/plain, application/x-www-form-urlencoded or absent", problem["message"]!.GetValue<string>());
        Assert.DoesNotContain(app.Store.Stored, e => e.Event.MessageId == id);
    }

    /// <summary>What @rudderstack/rudder-sdk-node 3.x sends: a gzip JSON batch, form-urlencoded, the write key as Basic user.</summary>
    [Fact]
    public async Task A_gzip_form_urlencoded_batch_is_accepted_and_stored()
    {
        var (a, b) = (NewId("rs"), NewId("rs"));
        var json = $$"""
            {"batch":[
              {"type":"identify","userId":"u-1","traits":{"email":"a@example.com"},"messageId":"{{a}}","timestamp":"2026-12-07T01:00:00.000Z"},
              {"type":"track","userId":"u-1","event":"Signed Up","messageId":"{{b}}"}
            ],"timestamp":"2026-12-07T01:00:00.100Z","sentAt":"2026-12-07T01:00:00.100Z"}
            """;
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest)) gzip.Write(Encoding.UTF8.GetBytes(json));
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentEncoding.Add("gzip");
        var response = await app.SendAsync("/v1/batch", content, IngressApp.WebWriteKey, contentType: "application/x-www-form-urlencoded");
        Assert.Equal("""{"success":true,"accepted":2,"rejected":[],"generated":[]}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("a@example.com", app.Store.Find(a).Event.StringAt("traits.email"));
        Assert.Equal("2026-12-07T01:00:00.100Z", app.Store.Find(b).Event.StringAt("sentAt"));
    }

    [Fact]
    public async Task A_form_urlencoded_webhook_is_read_as_json_too()
    {
        var id = NewId("ctwh");
        var response = await app.PostAsync("/v1/webhook/dev", $$"""{"type":"track","userId":"u","event":"E","messageId":"{{id}}"}""",
            contentType: "application/x-www-form-urlencoded");
        Assert.Equal(200, (int)response.StatusCode);
        app.Store.Find(id);
    }

    [Fact]
    public async Task A_body_that_is_really_form_fields_is_a_400_not_a_5xx()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/track", "userId=u&event=E", IngressApp.WebWriteKey,
            contentType: "application/x-www-form-urlencoded"), 400);
        Assert.Single(Json.Errors(problem, "body"));
    }
}
