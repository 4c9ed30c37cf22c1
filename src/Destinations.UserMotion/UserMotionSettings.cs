using Destinations.Core.Delivery;

namespace Destinations.UserMotion;

/// <summary>One UserMotion instance's <c>Settings</c> (docs/partners/usermotion.md "Settings"). Immutable (D8).</summary>
public sealed class UserMotionSettings
{
    public const string DefaultBaseUrl = "https://api.usermotion.com";

    /// <summary>Sent raw after <c>Basic </c> (not base64). Secret: never logged, never in <see cref="ToString"/> (D22).</summary>
    public required string ApiKey { get; init; }

    /// <summary>Our extension for sandboxes and tests; Segment hard-codes the host.</summary>
    public Uri BaseUrl { get; init; } = new(DefaultBaseUrl);

    public Uri UrlFor(string path) =>
        PartnerCall.Url(BaseUrl, path);

    public override string ToString() => $"UserMotionSettings {{ ApiKey = {SecretMasker.Mask(ApiKey)}, BaseUrl = {BaseUrl} }}";
}
