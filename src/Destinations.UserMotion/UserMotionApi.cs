namespace Destinations.UserMotion;

/// <summary>UserMotion's endpoints and names (docs/partners/usermotion.md "API"; Segment's actions-usermotion).</summary>
public static class UserMotionApi
{
    /// <summary>The configuration value of <c>Destinations:n:Type</c>.</summary>
    public const string Type = "UserMotion";

    /// <summary>The destination's name in the Integrations object (D9).</summary>
    public const string IntegrationName = "UserMotion (Actions)";

    public const string IdentifyPath = "/v1/identify";
    public const string GroupPath = "/v1/group";
    public const string TrackPath = "/v1/track";
    public const string VerifyPath = "/v1/verify";

    /// <summary>The seed: "Individual destination instances have support a maximum of 50 mappings."</summary>
    public const int MaxMappings = 50;
}
