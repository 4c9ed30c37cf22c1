using System.Text.Json.Nodes;

namespace Destinations.Core.Mapping;

/// <summary>
/// The result of resolving a mapping: JavaScript's <c>undefined</c> (<see cref="IsDefined"/> false: the key is left out)
/// is not JSON <c>null</c> (a value that is kept inside objects). Segment's mapping-kit depends on that difference.
/// </summary>
public readonly record struct MappedValue(bool IsDefined, JsonNode? Value)
{
    public static readonly MappedValue Undefined = new(false, null);
    public static MappedValue Of(JsonNode? value) => new(true, value);

    /// <summary>Defined and not null.</summary>
    public bool Exists => IsDefined && Value is not null;
}
