namespace Destinations.Selligent;

/// <summary>SMC's endpoints and the step names of our delivery plans (docs/partners/selligent.md "API", D11, D19).</summary>
public static class SelligentApi
{
    public const string IntegrationName = "Selligent Marketing Cloud";
    public const string Type = "SelligentMarketingCloud";

    public const string StatusPath = "/Portal/Api/status";

    /// <summary>Stable step names: stored with the plan, so a retry resends only the unfinished steps (D11). Do not rename.</summary>
    public static class Steps
    {
        public const string EventRow = "event-row";
        public const string SegmentAdd = "segment-add";
        public const string SegmentRemove = "segment-remove";
    }

    /// <summary><c>/Portal/Api/organizations/{org}/lists/{list}</c>, every segment escaped (names come from config and events).</summary>
    public static string ListPath(string organization, string list) =>
        $"/Portal/Api/organizations/{Uri.EscapeDataString(organization)}/lists/{Uri.EscapeDataString(list)}";

    /// <summary>Bulk upsert of event rows keyed on the message id column: a re-delivery updates the same row.</summary>
    public static string LoadPath(string organization, string list, string keyField) =>
        $"{ListPath(organization, list)}/data/load?keyFields={Uri.EscapeDataString(keyField)}";

    public static string FieldsPath(string organization, string list) => $"{ListPath(organization, list)}/fields";

    /// <summary>The segments of a list, with their types (docs/partners/selligent.md "Health").</summary>
    public static string SegmentsPath(string organization, string list) => $"{ListPath(organization, list)}/segments";

    public static string SegmentPath(string organization, string userList, string segment) =>
        $"{ListPath(organization, userList)}/segments/{Uri.EscapeDataString(segment)}";

    public static string SegmentAddPath(string organization, string userList, string segment, string matchKey) =>
        $"{SegmentPath(organization, userList, segment)}/data/load?keyFields={Uri.EscapeDataString(matchKey)}";

    public static string SegmentRemovePath(string organization, string userList, string segment, string matchKey) =>
        $"{SegmentPath(organization, userList, segment)}/data?keyFields={Uri.EscapeDataString(matchKey)}";
}
