using System.Text.Json.Nodes;
using Destinations.Host.Startup;
using Destinations.Host.Tests.Support;
using Destinations.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Destinations.Host.Tests;

/// <summary>Exceptions a client can cause map to a 4xx, storage trouble to 503 (D1); bugs are left to the 500 handler.</summary>
public class ExceptionHandlerTests(DefaultIngressApp app) : IClassFixture<DefaultIngressApp>
{
    async Task<(bool Handled, int Status, JsonObject? Body, string RetryAfter)> Handle(Exception ex, bool aborted = false)
    {
        var http = new DefaultHttpContext { RequestServices = app.Services };
        http.Response.Body = new MemoryStream();
        if (aborted)
        {
            var cts = new CancellationTokenSource();
            cts.Cancel();
            http.RequestAborted = cts.Token;
        }
        var handled = await new IngressExceptionHandler(NullLogger<IngressExceptionHandler>.Instance).TryHandleAsync(http, ex, default);
        http.Response.Body.Position = 0;
        var text = await new StreamReader(http.Response.Body).ReadToEndAsync();
        return (handled, http.Response.StatusCode, text.Length > 0 ? (JsonObject)JsonNode.Parse(text)! : null, http.Response.Headers.RetryAfter.ToString());
    }

    [Fact]
    public async Task Kestrel_body_too_large_is_413()
    {
        var r = await Handle(new BadHttpRequestException("Request body too large.", 413));
        Assert.True(r.Handled);
        Assert.Equal(413, r.Status);
        Assert.Equal("the body is over the server's limit", r.Body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Other_bad_requests_keep_a_4xx()
    {
        Assert.Equal(400, (await Handle(new BadHttpRequestException("Unexpected end of request content.", 400))).Status);
        Assert.Equal(408, (await Handle(new BadHttpRequestException("Reading the request body timed out.", 408))).Status);
    }

    [Fact]
    public async Task A_client_abort_is_400()
    {
        // Nobody is listening any more (the body write is cancelled with the request): what matters is that it is not a 500.
        var r = await Handle(new OperationCanceledException(), aborted: true);
        Assert.True(r.Handled);
        Assert.Equal(400, r.Status);
    }

    [Fact]
    public async Task Store_unavailable_is_503_with_Retry_After()
    {
        var r = await Handle(new StoreUnavailableException("down"));
        Assert.Equal(503, r.Status);
        Assert.Equal("5", r.RetryAfter);
    }

    [Fact]
    public async Task A_bug_is_not_handled_here() =>
        Assert.False((await Handle(new NullReferenceException())).Handled);
}

/// <summary>A client that gives up mid-request (wrk at the end of a run, a Segment timeout) is not logged as a server error.</summary>
public sealed class AbortedRequestTests
{
    sealed class LevelSink : Serilog.Core.ILogEventSink
    {
        public System.Collections.Concurrent.ConcurrentQueue<(Serilog.Events.LogEventLevel Level, string Text)> Events { get; } = new();
        // "l" renders string values without quotes: HTTP POST /v1/track responded 400 …
        public void Emit(Serilog.Events.LogEvent e)
        {
            var text = new StringWriter();
            new Serilog.Formatting.Display.MessageTemplateTextFormatter("{Message:l}").Format(e, text);
            Events.Enqueue((e.Level, text.ToString()));
        }
    }

    [Fact]
    public async Task An_aborted_request_is_logged_with_its_4xx_not_as_a_500_error()
    {
        var sink = new LevelSink();
        using var app = new Support.IngressApp();
        app.Store.AcceptDelay = TimeSpan.FromSeconds(10);
        using var withSink = app.WithWebHostBuilder(b => Microsoft.AspNetCore.TestHost.WebHostBuilderExtensions.ConfigureTestServices(b,
            s => Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<Serilog.Core.ILogEventSink>(s, sink)));
        var client = withSink.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/track")
        {
            Content = new StringContent("""{"userId":"u1","event":"E","messageId":"abort-1"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = Support.IngressApp.Basic(Support.IngressApp.WebWriteKey);
        using var gaveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(request, gaveUp.Token));

        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!sink.Events.Any(e => e.Text.Contains("/v1/track", StringComparison.Ordinal)) && DateTime.UtcNow < deadline) await Task.Delay(50);
        var line = Assert.Single(sink.Events, e => e.Text.StartsWith("HTTP POST /v1/track", StringComparison.Ordinal));
        Assert.Equal(Serilog.Events.LogEventLevel.Information, line.Level);
        Assert.Contains("responded 499", line.Text); // ASP.NET Core's "client closed request"
        Assert.DoesNotContain(sink.Events, e => e.Level >= Serilog.Events.LogEventLevel.Error);
    }
}
