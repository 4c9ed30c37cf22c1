namespace Destinations.Salesmachine;

/// <summary>Salesmachine's endpoints and the step names of our delivery plans (docs/partners/salesmachine.md "API", D11, D15).</summary>
public static class SalesmachineApi
{
    public const string IntegrationName = "Salesmachine";

    public const string ContactPath = "/v1/contact";
    public const string AccountPath = "/v1/account";
    public const string EventPath = "/v1/track/event";
    public const string PingPath = "/v1/ping";
    /// <summary>A JSON array of contact/account/event bodies, each with <c>"method"</c>; official clients send up to 100.</summary>
    public const string BatchPath = "/v1/batch";
    public const int MaxBatchItems = 100;

    /// <summary>The <c>event_uid</c> Salesmachine reads as a pageview (it opens sessions from them).</summary>
    public const string PageviewEventUid = "pageview";

    /// <summary>Stable step names: stored with the plan, so a retry resends only the unfinished steps (D11). Do not rename.</summary>
    public static class Steps
    {
        public const string Contact = "contact";
        public const string Event = "event";
        public const string Pageview = "pageview";
        public const string PageEvent = "page-event";
        public const string Account = "account";
        public const string ContactLink = "contact-link";
        public const string Alias = "alias";
    }
}
