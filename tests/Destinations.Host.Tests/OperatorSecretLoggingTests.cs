using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Destinations.Host.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Destinations.Host.Tests;

/// <summary>
/// D22 over the whole operator surface: after ingress, a delivery, dry-run (with send), the admin listing and
/// test-connection, no configured secret appears in the captured logs (compact JSON, as containers emit them) or answers —
/// raw, base64, <c>token:secret</c>, base64(<c>token:secret</c>), base64(<c>key:</c>).
/// </summary>
public class OperatorSecretLoggingTests
{
    sealed class JsonSink : ILogEventSink
    {
        readonly CompactJsonFormatter _formatter = new();
        public ConcurrentQueue<string> Lines { get; } = new();
        public void Emit(LogEvent e)
        {
            var w = new StringWriter();
            _formatter.Format(e, w);
            Lines.Enqueue(w.ToString());
        }
    }

    static IEnumerable<string> Forms(string secret) =>
    [
        secret,
        B64(secret),
        B64(secret + ":"),
    ];

    static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public async Task No_configured_secret_appears_in_logs_or_answers_D22()
    {
        var sink = new JsonSink();
        // Debug: a successful delivery is logged at Debug (failures at Warning), and its line is checked too.
        using var app = new OperatorApp(new Dictionary<string, string?> { ["Serilog:MinimumLevel:Default"] = "Debug" });
        using var withSink = app.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<ILogEventSink>(sink)));
        app.Partner.Given(Request.Create().WithPath("/v1/track/event")).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        app.Partner.Given(Request.Create().WithPath("/v1/contact")).RespondWith(Response.Create().WithStatusCode(500).WithBody("down"));
        app.Partner.Given(Request.Create().WithPath("/v1/ping")).RespondWith(Response.Create().WithStatusCode(401).WithBody("invalid token"));

        var answers = new List<string>();
        async Task Send(HttpRequestMessage request, string? bearer = null)
        {
            if (bearer is not null) request.Headers.Authorization = new("Bearer", bearer);
            answers.Add(await (await withSink.CreateClient().SendAsync(request)).Content.ReadAsStringAsync());
        }
        HttpRequestMessage Post(string path, string body, string? writeKey = null)
        {
            var r = new HttpRequestMessage(HttpMethod.Post, path) { Content = OperatorApp.JsonBody(body) };
            if (writeKey is not null) r.Headers.Authorization = IngressApp.Basic(writeKey);
            return r;
        }

        const string track = """{"userId":"u1","event":"Signed Up","messageId":"sec-1"}""";
        await Send(Post("/v1/track", track, IngressApp.WebWriteKey));
        await Send(Post("/v1/identify", """{"userId":"u1","traits":{"plan":"pro"}}""", IngressApp.DevWriteKey));
        var webhook = """{"type":"identify","userId":"u2","messageId":"sec-2"}""";
        var signed = Post("/v1/webhook/web", webhook);
        signed.Headers.Add("X-Signature", Convert.ToHexStringLower(HMACSHA1.HashData(Encoding.UTF8.GetBytes(IngressApp.SharedSecret), Encoding.UTF8.GetBytes(webhook))));
        await Send(signed);
        await Send(Post("/v1/track", track, OperatorApp.AdminKey));                       // a secret in the wrong place
        await Send(Post("/v1/dry-run?source=web&send=true", $"{{\"type\":\"track\",{track[1..]}"), OperatorApp.AdminKey);
        await Send(Post("/v1/dry-run?source=web&send=true", """{"type":"identify","userId":"u3"}"""), OperatorApp.AdminKey);
        await Send(new HttpRequestMessage(HttpMethod.Get, "/admin/destinations"), OperatorApp.AdminKey);
        await Send(new HttpRequestMessage(HttpMethod.Get, "/admin/destinations"), OperatorApp.ApiToken); // wrong admin key
        await Send(new HttpRequestMessage(HttpMethod.Post, "/admin/destinations/sm/test-connection"), OperatorApp.AdminKey);

        // The track delivery (sec-1) goes to the partner through the dispatcher.
        for (var i = 0; i < 100 && !sink.Lines.Any(l => l.Contains("delivered", StringComparison.Ordinal)); i++) await Task.Delay(100);
        Assert.Contains(sink.Lines, l => l.Contains("delivered", StringComparison.Ordinal));
        Assert.Contains(app.Partner.LogEntries, e => e.RequestMessage!.Headers!["Authorization"].Single() == $"Basic {B64($"{OperatorApp.ApiToken}:{OperatorApp.ApiSecret}")}");

        var everything = string.Join("\n", sink.Lines) + "\n" + string.Join("\n", answers);
        var secrets = new[] { IngressApp.WebWriteKey, IngressApp.DevWriteKey, IngressApp.SharedSecret, OperatorApp.ApiToken, OperatorApp.ApiSecret, OperatorApp.AdminKey };
        var forms = secrets.SelectMany(Forms)
            .Concat([$"{OperatorApp.ApiToken}:{OperatorApp.ApiSecret}", B64($"{OperatorApp.ApiToken}:{OperatorApp.ApiSecret}")]);
        foreach (var form in forms) Assert.DoesNotContain(form, everything);
    }
}
