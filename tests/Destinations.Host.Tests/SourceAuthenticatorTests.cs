using System.Text;
using Destinations.Core.Configuration;
using Destinations.Core.Routing;
using Destinations.Host.Ingress;
using Microsoft.AspNetCore.Http;

namespace Destinations.Host.Tests;

/// <summary>The Basic header's write key: the common form is decoded on a fast path that must agree with the general parser.</summary>
public class SourceAuthenticatorTests
{
    static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    static string? KeyFrom(string? header)
    {
        var http = new DefaultHttpContext();
        if (header is not null) http.Request.Headers.Authorization = header;
        return SourceAuthenticator.WriteKeyFromHeader(http.Request);
    }

    public static TheoryData<string?, string?> Headers() => new()
    {
        { "Basic " + B64("wk-web:"), "wk-web" },
        { "basic " + B64("wk-web:"), "wk-web" },
        { "BASIC " + B64("wk-web:secret:more"), "wk-web" },
        { "Basic " + B64("no-colon"), "no-colon" },
        { "Basic " + B64("clé-ü:"), "clé-ü" },
        { "Basic " + B64(":password"), "" },
        { "Basic  " + B64("wk-web:"), "wk-web" }, // two spaces: the general parser
        { "  Basic " + B64("wk-web:") + "  ", "wk-web" },
        { "Basic " + B64("wk-web:").TrimEnd('='), "" }, // padding missing: not base64
        { "Basic !!!", "" },
        { "Basic =abc", "" },
        { "Basic " + B64("a:") + ", Basic " + B64("b:"), null },
        { "Basic", "" },
        { "Bearer " + B64("wk-web:"), null },
        { "", null },
        { null, null },
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public void The_write_key_is_the_basic_username(string? header, string? expected) => Assert.Equal(expected, KeyFrom(header));

    static readonly SourceAuthenticator Authenticator = new(new DestinationRegistry(
        [new SourceOptions { Id = "web", WriteKey = "wk-web" }, new SourceOptions { Id = "intl", WriteKey = "clé-ü" },
         new SourceOptions { Id = "odd", WriteKey = "\uFFFD" }], [], []));

    public static TheoryData<string?> HeadersAndKeys()
    {
        var data = new TheoryData<string?>();
        foreach (var row in Headers()) data.Add((string?)row[0]);
        data.Add("Basic " + B64("wk-other:"));
        data.Add("Basic " + B64("wk-web"));
        data.Add("Basic " + Convert.ToBase64String([0xC3, 0x28, (byte)':'])); // invalid UTF-8: U+FFFD after decoding
        data.Add("Basic " + Convert.ToBase64String([0xFF])); // invalid UTF-8 alone
        return data;
    }

    /// <summary>The header lookup without a string agrees with the key as a string, looked up.</summary>
    [Theory]
    [MemberData(nameof(HeadersAndKeys))]
    public void The_source_of_a_header_is_the_source_of_its_write_key(string? header)
    {
        var http = new DefaultHttpContext();
        if (header is not null) http.Request.Headers.Authorization = header;
        var key = SourceAuthenticator.WriteKeyFromHeader(http.Request);

        var source = Authenticator.FindByHeader(http.Request, out var present);

        Assert.Equal(key is not null, present);
        Assert.Same(Authenticator.FindByWriteKey(key), source);
    }

    [Fact]
    public void A_header_with_a_known_key_finds_its_source()
    {
        var http = new DefaultHttpContext();
        http.Request.Headers.Authorization = "Basic " + B64("clé-ü:");
        Assert.Equal("intl", Authenticator.FindByHeader(http.Request, out var present)?.Id);
        Assert.True(present);
    }
}
