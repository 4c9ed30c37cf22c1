namespace Destinations.Core.Segment;

/// <summary>A problem with one field of a request, named as a client would find it (e.g. <c>batch[3].userId</c>).</summary>
public sealed record FieldError(string Field, string Message)
{
    /// <summary>The field name used for problems with the body as a whole (malformed JSON, size limits).</summary>
    public const string Body = "body";
}
