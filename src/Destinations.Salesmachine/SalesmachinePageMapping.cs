using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using static Destinations.Salesmachine.SalesmachineApi;
using static Destinations.Salesmachine.SalesmachineMapper;

namespace Destinations.Salesmachine;

/// <summary>
/// page → a pageview event, and for a named page also an event named after it (seed "Page"; D18). Kept apart from
/// <see cref="SalesmachineMapper"/> because it is the only call with precedence rules between properties and context.
/// </summary>
static class SalesmachinePageMapping
{
    public static MappingResult Map(JsonElement json, string userId)
    {
        var name = Text(Member(json, "name"));
        // Members of a properties/context that is not an object read as absent, as they do through the DOM.
        var properties = Member(json, "properties");
        var context = Member(json, "context");
        var page = Member(context, "page");

        // D18 precedence: the page's own properties win over context.page; absent (or empty) values are left out.
        var pageview = new JsonObject();
        Put(pageview, "visit_url", Text(Member(properties, "url")) ?? Text(Member(page, "url")));
        Put(pageview, "visit_ip", Text(Member(context, "ip")));
        Put(pageview, "visit_agent", Text(Member(context, "userAgent")));
        Put(pageview, "display_name", name);
        Put(pageview, "referrer", Text(Member(properties, "referrer")) ?? Text(Member(page, "referrer")));
        Put(pageview, "title", Text(Member(properties, "title")) ?? Text(Member(page, "title")));
        if (PartnerValues.Node(Member(properties, "account_uid")) is { } accountUid) pageview["account_uid"] = accountUid;
        else AddAccountUid(json, pageview);

        var pageviewRequest = Event(Steps.Pageview, userId, PageviewEventUid, pageview);
        // A page with only a category is not named (Segment's fullName needs a name), so it is a plain pageview.
        if (name is null) return MappingResult.Send(pageviewRequest);

        var category = Text(Member(json, "category"));
        var eventUid = category is null ? name : $"{category} {name}";
        return MappingResult.Send(pageviewRequest, Event(Steps.PageEvent, userId, eventUid, ParamsWithAccountUid(json, "properties")));
    }

    static JsonElement Member(JsonElement value, string name) => PartnerValues.Member(value, name);

    static void Put(JsonObject target, string key, string? value)
    {
        if (value is not null) target[key] = value;
    }
}
