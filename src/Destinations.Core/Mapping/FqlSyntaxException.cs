namespace Destinations.Core.Mapping;

/// <summary>A trigger that does not parse. <see cref="Position"/> is 1-based, counted in characters of the trigger text.</summary>
public sealed class FqlSyntaxException(string message, int position) : Exception($"{message} at {position}")
{
    public int Position { get; } = position;
}
