using System.Diagnostics;
using System.Diagnostics.Metrics;
using Destinations.Core.Delivery;

namespace Destinations.Core.Diagnostics;

/// <summary>
/// The service's own instruments (System.Diagnostics.Metrics, meter <see cref="MeterName"/>), exported by OpenTelemetry at
/// <c>/metrics</c>. One place for names and tags so dashboards stay stable. Tags never carry a secret or an event body:
/// only destination instance ids, call types, outcomes and reasons.
/// </summary>
public sealed class DestinationsMetrics : IDisposable
{
    public const string MeterName = "Destinations";

    readonly Meter _meter;
    readonly Counter<long> _ingressRequests;
    readonly Counter<long> _eventsAccepted;
    readonly Counter<long> _eventsFiltered;
    readonly Counter<long> _deliveries;
    readonly Histogram<double> _attemptDuration;

    public DestinationsMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _ingressRequests = _meter.CreateCounter<long>("destinations.ingress.requests", "{request}", "Ingress requests by endpoint and status code");
        _eventsAccepted = _meter.CreateCounter<long>("destinations.events.accepted", "{event}", "Events durably accepted (or duplicates acknowledged) by source");
        _eventsFiltered = _meter.CreateCounter<long>("destinations.events.filtered", "{event}", "Events not delivered to an instance, by reason code");
        _deliveries = _meter.CreateCounter<long>("destinations.deliveries", "{delivery}", "Delivery outcomes by destination instance and outcome");
        _attemptDuration = _meter.CreateHistogram<double>("destinations.delivery.attempt.duration", "s", "Duration of one partner call by destination instance and result");
    }

    /// <summary>The meter, for observable instruments registered elsewhere (queue depth, oldest due age).</summary>
    public Meter Meter => _meter;

    public void IngressRequest(string endpoint, int statusCode) =>
        _ingressRequests.Add(1, new TagList { { "endpoint", endpoint }, { "status_code", statusCode } });

    /// <param name="status">"stored" or "duplicate".</param>
    public void EventAccepted(string sourceId, string status, int count = 1) =>
        _eventsAccepted.Add(count, new TagList { { "source", sourceId }, { "status", status } });

    /// <summary>The <c>reason</c> tag is the reason's stable code (e.g. <c>source_not_linked</c>), never its sentence or
    /// detail, so the label has a small fixed set of values.</summary>
    public void EventFiltered(string destinationId, FilterReason reason, int count = 1) =>
        _eventsFiltered.Add(count, new TagList { { "destination", destinationId }, { "reason", reason.Code } });

    /// <param name="outcome">delivered, filtered, invalid, retry, dead, paused.</param>
    public void Delivery(string destinationId, string outcome) =>
        _deliveries.Add(1, new TagList { { "destination", destinationId }, { "outcome", outcome } });

    /// <param name="result">The AttemptOutcome name (Succeeded, Retry, AuthFailure, Final).</param>
    public void AttemptDuration(string destinationId, string result, TimeSpan duration) =>
        _attemptDuration.Record(duration.TotalSeconds, new TagList { { "destination", destinationId }, { "result", result } });

    public void Dispose() => _meter.Dispose();
}
