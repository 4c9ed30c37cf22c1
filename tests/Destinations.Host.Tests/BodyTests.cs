using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using Destinations.Host.Tests.Support;

namespace Destinations.Host.Tests;

/// <summary>Bad bodies are 4xx, never 5xx (D1, docs/ingress.md "Answers"); content types, encodings and the hard cap.</summary>
public class BodyTests(BodyTests.SmallCapApp app) : IClassFixture<BodyTests.SmallCapApp>
{
    const int Cap = 1_000_000;

    public sealed class SmallCapApp() : IngressApp(WithCap());

    static Dictionary<string, string?> WithCap()
    {
        var settings = IngressApp.TwoSources();
        settings["Ingress:MaxBodyBytes"] = Cap.ToString();
        return settings;
    }

    Task<HttpResponseMessage> Track(string body, string? contentType = "application/json") =>
        app.PostAsync("/v1/track", body, IngressApp.WebWriteKey, contentType: contentType);

    [Theory]
    [InlineData("", "the body is empty; send a JSON event")]
    [InlineData("{\"userId\":\"u\",", "the body is not valid JSON (line 1, byte 14)")]
    [InlineData("\"just a string\"", "an event must be a JSON object, not a string")]
    [InlineData("42", "an event must be a JSON object, not a number")]
    [InlineData("[]", "an event must be a JSON object, not an array")]
    public async Task Unreadable_bodies_are_400_with_a_message(string body, string message)
    {
        var problem = await Json.ProblemAsync(await Track(body), 400);
        Assert.Equal([message], Json.Errors(problem, "body"));
    }

    [Fact]
    public async Task Malformed_json_without_a_write_key_is_400_not_401()
    {
        var problem = await Json.ProblemAsync(await app.PostAsync("/v1/batch", "{\"batch\":["), 400);
        Assert.Single(Json.Errors(problem, "body"));
    }

    [Fact]
    public async Task Invalid_utf8_is_400()
    {
        var content = new ByteArrayContent([.. "{\"userId\":\""u8, 0xC3, 0x28, .. "\",\"event\":\"E\"}"u8]);
        var problem = await Json.ProblemAsync(await app.SendAsync("/v1/track", content, IngressApp.WebWriteKey), 400);
        Assert.Equal(["the body is not valid UTF-8"], Json.Errors(problem, "body"));
    }

    [Fact]
    public async Task Deep_nesting_is_400()
    {
        var body = "{\"userId\":\"u\",\"event\":\"E\",\"properties\":" + new string('[', 200) + new string(']', 200) + "}";
        var problem = await Json.ProblemAsync(await Track(body), 400);
        Assert.Equal(["the body is nested deeper than 64 levels"], Json.Errors(problem, "body"));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData(null)]
    public async Task Json_text_plain_or_no_content_type_are_read_as_json(string? contentType)
    {
        var id = "ct-" + (contentType ?? "none").Replace('/', '-').Replace(';', '-').Replace(' ', '-').Replace('=', '-');
        Assert.Equal(200, (int)(await Track($$"""{"userId":"u","event":"E","messageId":"{{id}}"}""", contentType)).StatusCode);
        app.Store.Find(id);
    }

    [Theory]
    [InlineData("application/xml")]
    [InlineData("multipart/form-data; boundary=x")]
    public async Task Other_content_types_are_415(string contentType) =>
        await Json.ProblemAsync(await Track("""{"userId":"u","event":"E"}""", contentType), 415);

    [Fact]
    public async Task Other_content_encodings_are_415()
    {
        var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.ContentEncoding.Add("br");
        var problem = await Json.ProblemAsync(await app.SendAsync("/v1/track", content, IngressApp.WebWriteKey), 415);
        Assert.Equal("Content-Encoding must be gzip or absent", problem["message"]!.GetValue<string>());
    }

    static ByteArrayContent Gzip(byte[] raw)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize)) gzip.Write(raw);
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    [Fact]
    public async Task Gzip_bodies_are_decompressed()
    {
        var body = Encoding.UTF8.GetBytes("""{"batch":[{"type":"track","event":"E","userId":"u","messageId":"gz-1"}]}""");
        Assert.Equal(200, (int)(await app.SendAsync("/v1/batch", Gzip(body), IngressApp.WebWriteKey)).StatusCode);
        app.Store.Find("gz-1");
    }

    [Fact]
    public async Task A_gzip_bomb_stops_at_the_cap_with_413()
    {
        var bomb = new byte[20 * Cap];
        Array.Fill(bomb, (byte)' ');
        var content = Gzip(bomb);
        Assert.True(content.Headers.ContentLength < 100_000);
        var problem = await Json.ProblemAsync(await app.SendAsync("/v1/batch", content, IngressApp.WebWriteKey), 413);
        Assert.Equal("the body is over the server's limit of 1,000,000 bytes (after decompression)", problem["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Corrupt_gzip_is_400()
    {
        var content = new ByteArrayContent([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03]);
        content.Headers.ContentEncoding.Add("gzip");
        await Json.ProblemAsync(await app.SendAsync("/v1/batch", content, IngressApp.WebWriteKey), 400);
    }

    [Fact]
    public async Task A_body_over_the_cap_is_413()
    {
        var body = "[" + new string(' ', Cap) + "]";
        await Json.ProblemAsync(await app.PostAsync("/v1/webhook/dev", body), 413);
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body))); // no Content-Length: the bounded read decides
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await Json.ProblemAsync(await app.SendAsync("/v1/webhook/dev", chunked), 413);
    }
}
