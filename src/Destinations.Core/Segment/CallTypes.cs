namespace Destinations.Core.Segment;

/// <summary>Segment Spec call types, lower-case as stored (docs/ingress.md "The event").</summary>
public static class CallTypes
{
    public const string Identify = "identify";
    public const string Track = "track";
    public const string Page = "page";
    public const string Screen = "screen";
    public const string Group = "group";
    public const string Alias = "alias";
    /// <summary>A user-deletion request: accepted everywhere and recorded as filtered (D4).</summary>
    public const string Delete = "delete";

    public static readonly IReadOnlySet<string> All =
        new HashSet<string>(StringComparer.Ordinal) { Identify, Track, Page, Screen, Group, Alias, Delete };

    /// <summary>The type as a person reads it in a reason's detail: an empty type is "untyped".</summary>
    public static string Describe(string type) => type.Length == 0 ? "untyped" : type;
}
