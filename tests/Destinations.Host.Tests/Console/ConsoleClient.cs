using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Destinations.Host.Tests.OperatorConsole;

/// <summary>A cookie-keeping HTTP client for the console: reads the antiforgery token from a page and posts forms with it.</summary>
public sealed partial class ConsoleClient(HttpClient http)
{
    public HttpClient Http => http;

    public static ConsoleClient For<T>(WebApplicationFactory<T> app) where T : class =>
        new(app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));

    public async Task<string> TokenAsync(string page)
    {
        var html = await http.GetStringAsync(page);
        return TokenField().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value)
            : throw new InvalidOperationException($"no antiforgery field on {page}:\n{html}");
    }

    public async Task<HttpResponseMessage> PostFormAsync(string path, string tokenFrom, params (string Key, string Value)[] fields)
    {
        var token = await TokenAsync(tokenFrom);
        return await http.PostAsync(path, new FormUrlEncodedContent([.. fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)),
            new KeyValuePair<string, string>("__af", token)]));
    }

    public Task<HttpResponseMessage> SignInAsync(string key) => PostFormAsync("/console/sign-in", "/console/sign-in", ("key", key));

    [GeneratedRegex("name=\"__af\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
