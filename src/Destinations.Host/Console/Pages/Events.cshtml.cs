using Destinations.Core.Delivery;
using Destinations.Core.Routing;
using Destinations.Core.Segment;
using Destinations.Core.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Destinations.Host.OperatorConsole.Pages;

/// <summary>Events: one event's whole story across destinations (by messageId), or a user's recent events (by userId): the stored
/// event, and per instance routed or filtered and why, the fields its property filters remove, each attempt, the next one, dead
/// or delivered.</summary>
public sealed class EventsModel(IEventHistory history, DestinationRegistry registry) : PageModel
{
    readonly Dictionary<(long Seq, string Source, string Instance), IReadOnlyList<RemovedField>> _removed = [];

    /// <summary>A user's events listed at most: the page is a look-up, not an export.</summary>
    public const int UserLimit = 25;

    [BindProperty(SupportsGet = true)] public string? MessageId { get; set; }
    [BindProperty(SupportsGet = true)] public string? UserId { get; set; }
    [BindProperty(SupportsGet = true)] public string? Source { get; set; }

    public IReadOnlyList<EventStory> Stories { get; private set; } = [];

    /// <summary>True when the look-up was by user: the page lists the events, each linking to its story.</summary>
    public bool ByUser { get; private set; }

    public bool Searched { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        MessageId = Clean(MessageId);
        UserId = Clean(UserId);
        Source = Clean(Source);
        if (MessageId is not null)
        {
            Stories = await history.GetAsync(MessageId, Source, ct);
            Searched = true;
        }
        else if (UserId is not null)
        {
            Stories = await history.GetByUserAsync(UserId, UserLimit, ct);
            ByUser = Searched = true;
        }
        return Page();
    }

    /// <summary>
    /// The fields the instance's property filters remove from this event, re-derived by running the filter step of the mapping
    /// path (<see cref="InstanceFilters.Apply"/>, pure) on a copy of the stored event: the store keeps the event whole and no
    /// record of what was removed (D28). The filters are the instance's current ones, which a replay or a delivery not yet
    /// attempted uses; one mapped before a filter change saw the filters of that moment (D8). Paths only, never values.
    /// </summary>
    public IReadOnlyList<RemovedField> RemovedBy(EventStory e, string instanceId)
    {
        var key = (e.Seq, e.SourceId, instanceId);
        if (_removed.TryGetValue(key, out var known)) return known;
        var filters = registry.FiltersOf(instanceId);
        IReadOnlyList<RemovedField> removed = e.Body is { } body && filters.PropertyFilters.Count > 0
            ? filters.Apply(SegmentEvent.FromStored(body).Json).DistinctBy(r => r.Path, StringComparer.Ordinal).ToList()
            : [];
        return _removed[key] = removed;
    }

    readonly Dictionary<(long Seq, string Destination, string Subscription), (IReadOnlyList<DescribedRequest>? Requests, string? Note)> _mapped = [];

    /// <summary>
    /// The request a successful call carried, re-derived: the stored event mapped now through the registry (the pure mapper,
    /// the tester's path) and the step the call made picked from the plan. A success's body is not stored per call (it would
    /// double the storage of every delivered batch); this costs one mapping per delivery shown, and the page labels it as
    /// re-derived because the settings may have changed since the call.
    /// </summary>
    public Rederived Rederive(EventStory e, DeliveryStory d, CallStory call)
    {
        var key = (e.Seq, d.DestinationId, d.Subscription);
        if (!_mapped.TryGetValue(key, out var mapped)) _mapped[key] = mapped = Map(e, d);
        if (mapped.Requests is not { } requests) return new(null, mapped.Note);
        return requests.FirstOrDefault(r => r.Request.Step == call.Step) is { } request
            ? new(request, null)
            : new(null, $"mapped now, the plan has no step '{call.Step}'");
    }

    (IReadOnlyList<DescribedRequest>? Requests, string? Note) Map(EventStory e, DeliveryStory d)
    {
        if (e.Body is not { } body) return (null, "the stored event is not kept");
        if (registry.Find(d.DestinationId) is not { } destination) return (null, "the instance is no longer configured");
        MappingResult mapping;
        try
        {
            mapping = registry.Map(destination, SegmentEvent.FromStored(body), d.Subscription).Result;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException or ArgumentException)
        {
            // The page tells the rest of the story even when this event cannot be mapped again.
            return (null, $"mapping it again failed ({ex.GetType().Name})");
        }
        return mapping.Outcome == MappingOutcome.Send
            ? (mapping.Requests.Select(r => new DescribedRequest(r, destination.Describe(r).ToString())).ToList(), null)
            : (null, $"mapped now it is {mapping.Outcome.ToString().ToLowerInvariant()}: {mapping.Reason}");
    }

    static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    public static string StatusName(DeliveryStoryStatus status) => status switch
    {
        DeliveryStoryStatus.Pending => "pending",
        DeliveryStoryStatus.Delivered => "delivered",
        DeliveryStoryStatus.Filtered => "filtered",
        DeliveryStoryStatus.Invalid => "invalid",
        _ => "dead",
    };

    /// <summary>One line saying where the delivery stands, in the operator's words.</summary>
    public static string Summary(DeliveryStory d)
    {
        var status = d.LastStatus is { } s ? $", HTTP {s}" : "";
        // A delivered row's last status is an earlier failure's; the call that delivered it has its own.
        var callStatus = d.Calls.Count > 0 ? d.Calls[^1].Status is { } cs ? $", HTTP {cs}" : "" : status;
        return d.Status switch
        {
            DeliveryStoryStatus.Delivered when d.DeliveryId is null && d.CallId is { } call =>
                $"delivered at {ConsoleFormat.Time(d.LastCallAt)} in call {call}{callStatus}",
            DeliveryStoryStatus.Delivered when d.CallId is { } call =>
                $"delivered at {ConsoleFormat.Time(d.LastCallAt)} in call {call}{callStatus}{(d.Attempts > 1 ? $" after {Attempts(d.Attempts)}" : "")}",
            DeliveryStoryStatus.Delivered when d.DeliveryId is null => "delivered on its first attempt",
            DeliveryStoryStatus.Delivered => $"delivered at {ConsoleFormat.Time(d.UpdatedAt)} after {Attempts(d.Attempts)}",
            DeliveryStoryStatus.Filtered => $"filtered at mapping: {d.Reason}",
            DeliveryStoryStatus.Invalid => $"invalid, nothing sent: {d.Reason}",
            DeliveryStoryStatus.Dead => $"dead at {ConsoleFormat.Time(d.UpdatedAt)} after {Attempts(d.Attempts)}{status}: {d.Reason}",
            _ when d.NextAttemptAt is { } next && d.Attempts > 0 =>
                $"retrying: {Attempts(d.Attempts)} failed{status}; next attempt at {ConsoleFormat.Time(next)}",
            _ when d.NextAttemptAt is { } next => $"waiting: first attempt due at {ConsoleFormat.Time(next)}",
            _ => "waiting in the log (or in flight): not attempted yet",
        };
    }

    static string Attempts(int n) => n == 1 ? "1 attempt" : $"{n} attempts";
}

/// <summary>A request mapped now (<see cref="Request"/>) with its URL as the destination describes it (secrets stay placeholders).</summary>
public sealed record DescribedRequest(PartnerRequest Request, string Url);

/// <summary>What re-deriving a call's request gave: the request, or why there is none.</summary>
public sealed record Rederived(DescribedRequest? Request, string? Note);
