using Serilog.Core;
using Serilog.Events;

namespace Destinations.Host.Startup;

/// <summary>
/// Renders the per-delivery log scope (<c>destination</c>, <c>messageId</c>, set by the dispatcher) as one trailing text
/// property, <c>DeliveryScope</c>, so the plain console format shows which event and destination a line is about. The JSON
/// format carries the scope's properties themselves.
/// </summary>
public sealed class DeliveryScopeEnricher : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        var destination = Text(logEvent, "destination");
        var messageId = Text(logEvent, "messageId");
        if (destination is null && messageId is null) return;
        var text = $"  [destination={destination ?? "-"} messageId={messageId ?? "-"}]";
        logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("DeliveryScope", text));
    }

    static string? Text(LogEvent e, string name) =>
        e.Properties.TryGetValue(name, out var value) && value is ScalarValue { Value: { } v } ? v.ToString() : null;
}
