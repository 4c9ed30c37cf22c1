using System.Text.Json.Nodes;
using Destinations.Core.Delivery;
using Destinations.Core.Mapping;
using static Destinations.Salesmachine.SalesmachineApi;
using static Destinations.Salesmachine.SalesmachineMapper;

namespace Destinations.Salesmachine;

/// <summary>
/// page → a pageview event, and for a named page also an event named after it (seed "Page"; D18). Kept apart from
/// <see cref="SalesmachineMapper"/> because it is the only call with precedence rules between properties and context.
/// </summary>
static class SalesmachinePageMapping
{
    static readonly byte[][] PropertyMembers = Names("url", "referrer", "title", "account_uid");
    static readonly byte[][] ContextMembers = Names("ip", "userAgent", "page", "groupId");
    static readonly byte[][] PageMembers = Names("url", "referrer", "title");
    const int Url = 0, Referrer = 1, Title = 2, AccountUid = 3;
    const int Ip = 0, UserAgent = 1, Page = 2, GroupId = 3;

    /// <param name="properties">The event's members as written (empty when absent); members of a value that is not an
    /// object read as absent, as they do through the DOM.</param>
    public static MappingResult Map(ReadOnlyMemory<byte> nameJson, ReadOnlyMemory<byte> categoryJson, ReadOnlyMemory<byte> properties,
        ReadOnlyMemory<byte> context, string userId)
    {
        var name = Text(nameJson);
        var props = Utf8Json.Members(properties, PropertyMembers);
        var ctx = Utf8Json.Members(context, ContextMembers);
        var page = Utf8Json.Members(ctx[Page], PageMembers);

        // D18 precedence: the page's own properties win over context.page; absent (or empty) values are left out.
        var pageview = new JsonObject();
        Put(pageview, "visit_url", Text(props[Url]) ?? Text(page[Url]));
        Put(pageview, "visit_ip", Text(ctx[Ip]));
        Put(pageview, "visit_agent", Text(ctx[UserAgent]));
        Put(pageview, "display_name", name);
        Put(pageview, "referrer", Text(props[Referrer]) ?? Text(page[Referrer]));
        Put(pageview, "title", Text(props[Title]) ?? Text(page[Title]));
        if (Utf8Json.IsSet(props[AccountUid])) pageview["account_uid"] = Utf8Json.Node(props[AccountUid]);
        else Put(pageview, "account_uid", Text(ctx[GroupId]));

        var pageviewRequest = Event(Steps.Pageview, userId, PageviewEventUid, pageview);
        // A page with only a category is not named (Segment's fullName needs a name), so it is a plain pageview.
        if (name is null) return MappingResult.Send(pageviewRequest);

        var category = Text(categoryJson);
        var eventUid = category is null ? name : $"{category} {name}";
        return MappingResult.Send(pageviewRequest, Event(Steps.PageEvent, userId, eventUid, ParamsWithAccountUid(properties, props[AccountUid], Text(ctx[GroupId]))));
    }

    static byte[][] Names(params string[] names) => Array.ConvertAll(names, System.Text.Encoding.UTF8.GetBytes);

    static void Put(JsonObject target, string key, string? value)
    {
        if (value is not null) target[key] = value;
    }
}
