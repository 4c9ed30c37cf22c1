using System.Text;
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
}
