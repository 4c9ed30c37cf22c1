using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Segment;
using static Destinations.Salesmachine.SalesmachineApi;
using static Destinations.Salesmachine.SalesmachineMapper;

namespace Destinations.Salesmachine;

/// <summary>
/// page → a pageview event, and for a named page also an event named after it (seed "Page"; D18). Kept apart from
/// <see cref="SalesmachineMapper"/> because it is the only call with precedence rules between properties and context.
/// </summary>
static class SalesmachinePageMapping
{
    public static MappingResult Map(SegmentEvent e, string userId)
    {
        var name = Text(e.Json["name"]);
        var properties = e.Properties;
        var context = e.Context;
        var page = context?["page"] as JsonObject;

        // D18 precedence: the page's own properties win over context.page; absent (or empty) values are left out.
        var pageview = new JsonObject();
        Put(pageview, "visit_url", Text(properties?["url"]) ?? Text(page?["url"]));
        Put(pageview, "visit_ip", Text(context?["ip"]));
        Put(pageview, "visit_agent", Text(context?["userAgent"]));
        Put(pageview, "display_name", name);
        Put(pageview, "referrer", Text(properties?["referrer"]) ?? Text(page?["referrer"]));
        Put(pageview, "title", Text(properties?["title"]) ?? Text(page?["title"]));
        if (properties?["account_uid"] is { } accountUid) pageview["account_uid"] = accountUid.DeepClone();
        else AddAccountUid(e, pageview);

        var pageviewRequest = Event(Steps.Pageview, userId, PageviewEventUid, pageview);
        // A page with only a category is not named (Segment's fullName needs a name), so it is a plain pageview.
        if (name is null) return MappingResult.Send(pageviewRequest);

        var category = Text(e.Json["category"]);
        var eventUid = category is null ? name : $"{category} {name}";
        var parameters = CopyOf(properties);
        AddAccountUid(e, parameters);
        return MappingResult.Send(pageviewRequest, Event(Steps.PageEvent, userId, eventUid, parameters));
    }

    static void Put(JsonObject target, string key, string? value)
    {
        if (value is not null) target[key] = value;
    }
}
