using System.Text;
using System.Text.Json.Nodes;
using Destinations.Core.Segment;
using Destinations.Host.DryRun;
using Destinations.Host.Ingress;
using Destinations.Host.OpenApi;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Destinations.Host.OperatorConsole.Pages;

/// <summary>
/// The event tester: the dry-run endpoint's two modes called in-process. <b>Run</b> routes and maps the event per instance
/// and shows the exact partner requests and the fields the instance's property filters removed; <b>Send</b> sends them now
/// and shows the answers (audited). Nothing is stored.
/// </summary>
public sealed class TesterModel(IngressServices ingress, DryRunner runner, ConsoleAudit audit) : PageModel
{
    public static readonly string[] Types = [CallTypes.Identify, CallTypes.Track, CallTypes.Page, CallTypes.Screen, CallTypes.Group, CallTypes.Alias];

    [BindProperty(SupportsGet = true)] public string Type { get; set; } = CallTypes.Identify;
    [BindProperty] public string? Source { get; set; }
    [BindProperty] public string Body { get; set; } = "";

    public IReadOnlyList<string> Sources => ingress.Registry.Sources.Select(s => s.Id).ToList();
    public DryRunAnswer? Answer { get; private set; }
    public IReadOnlyList<string> Errors { get; private set; } = [];

    public void OnGet()
    {
        if (!Types.Contains(Type)) Type = CallTypes.Identify;
        Body = Example(Type);
        Source = Sources.FirstOrDefault();
    }

    public Task OnPostRunAsync(CancellationToken ct) => RunAsync(send: false, ct);

    public Task OnPostSendAsync(CancellationToken ct) => RunAsync(send: true, ct);

    async Task RunAsync(bool send, CancellationToken ct)
    {
        if (Source is null || ingress.Registry.FindSource(Source) is null)
        {
            Errors = [$"source: pick one of {string.Join(", ", Sources)}"];
            return;
        }
        var payload = ingress.Reader.ReadWebhook(Encoding.UTF8.GetBytes(Body));
        var errors = payload.EnvelopeErrors.ToList();
        if (payload.EnvelopeIsValid && payload.Shape != PayloadShape.Single)
            errors.Add(new FieldError(FieldError.Body, "the event tester takes one event object, not an array"));
        else if (payload.EnvelopeIsValid && !payload.Events[0].IsValid) errors.AddRange(payload.Events[0].Errors);
        if (errors.Count > 0)
        {
            Errors = errors.Select(e => $"{e.Field}: {e.Message}").ToList();
            return;
        }
        var e = payload.Events[0].Event!;
        Answer = await runner.RunAsync(Source, e, send, ct);
        if (send)
        {
            var sent = Answer.Destinations.SelectMany(d => d.Deliveries).SelectMany(d => d.Requests).Where(r => r.Result is { Outcome: not DryRunResult.NotSent }).ToList();
            var failed = sent.Count(r => r.Result!.Outcome != "Succeeded");
            await audit.WriteAsync(HttpContext, "send", $"{e.Type} {e.MessageId} from {Source}", sent.Count,
                $"{sent.Count} requests sent, {failed} failed", ct);
        }
    }

    /// <summary>
    /// The fields the instance's property filters removed, each path once in the order removed. Property filters act on the
    /// instance's event before any of its mappings reads it, so every delivery of the instance lists the same fields. Paths
    /// only: a removed value is never shown.
    /// </summary>
    public static IReadOnlyList<DryRunRemovedField> Removed(DryRunDestination d) =>
        d.Deliveries.SelectMany(x => x.Removed ?? []).DistinctBy(r => r.Path, StringComparer.Ordinal).ToList();

    /// <summary>The Swagger example of this call type, with its type, as a Segment webhook carries it.</summary>
    public static string Example(string type)
    {
        var example = JsonNode.Parse(IngressExamples.ForType(type).Bodies[type])!.AsObject();
        var withType = new JsonObject { ["type"] = type };
        foreach (var (key, value) in example.ToList())
        {
            example.Remove(key);
            withType[key] = value;
        }
        return ConsoleFormat.Pretty(withType);
    }
}
