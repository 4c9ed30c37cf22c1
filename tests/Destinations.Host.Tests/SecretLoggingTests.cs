using System.Collections.Concurrent;
using System.Text;
using Destinations.Host.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace Destinations.Host.Tests;

/// <summary>Write keys, shared secrets and signatures never reach the logs or the answers (D22's forms).</summary>
public class SecretLoggingTests
{
    sealed class CapturingSink : ILogEventSink
    {
        public ConcurrentQueue<string> Lines { get; } = new();
        public void Emit(LogEvent e)
        {
            var w = new StringWriter();
            e.RenderMessage(w);
            foreach (var p in e.Properties) w.Write($" {p.Key}={p.Value}");
            w.Write(e.Exception?.ToString());
            Lines.Enqueue(w.ToString());
        }
    }

    static IEnumerable<string> Forms(string secret) =>
    [
        secret,
        Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)),
        Convert.ToBase64String(Encoding.UTF8.GetBytes(secret + ":")),
    ];

    [Fact]
    public async Task Secrets_do_not_appear_in_logs_or_answers()
    {
        var sink = new CapturingSink();
        using var app = new IngressApp();
        using var withSink = app.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<ILogEventSink>(sink)));
        const string wrongKey = "wk-wrong-but-secret-looking";
        const string signature = "1111111111111111111111111111111111111111";

        var answers = new List<string>();
        async Task Send(Func<HttpClient, Task<HttpResponseMessage>> send)
        {
            var response = await send(withSink.CreateClient());
            answers.Add(await response.Content.ReadAsStringAsync());
        }

        HttpRequestMessage Post(string path, string body, string? key = null, string? sig = null)
        {
            var r = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (key is not null) r.Headers.Authorization = IngressApp.Basic(key);
            if (sig is not null) r.Headers.Add("X-Signature", sig);
            return r;
        }

        await Send(c => c.SendAsync(Post("/v1/track", """{"userId":"u","event":"E"}""", IngressApp.WebWriteKey)));
        await Send(c => c.SendAsync(Post("/v1/track", """{"userId":"u","event":"E"}""", wrongKey)));
        await Send(c => c.SendAsync(Post("/v1/track", $$"""{"userId":"u","event":"E","writeKey":"{{wrongKey}}"}""")));
        await Send(c => c.SendAsync(Post("/v1/batch", $$"""{"writeKey":"{{IngressApp.DevWriteKey}}","batch":[{"type":"track"}]}""")));
        await Send(c => c.SendAsync(Post("/v1/webhook/web", """{"type":"track","userId":"u","event":"E"}""", sig: signature)));
        app.Store.Unavailable = true;
        await Send(c => c.SendAsync(Post("/v1/track", """{"userId":"u","event":"E"}""", IngressApp.WebWriteKey)));

        Assert.NotEmpty(sink.Lines);
        var everything = string.Join("\n", sink.Lines) + "\n" + string.Join("\n", answers);
        foreach (var secret in new[] { IngressApp.WebWriteKey, IngressApp.DevWriteKey, IngressApp.SharedSecret, wrongKey, signature })
            foreach (var form in Forms(secret))
                Assert.DoesNotContain(form, everything);
    }
}
