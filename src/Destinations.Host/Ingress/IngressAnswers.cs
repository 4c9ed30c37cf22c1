using System.Text.Json;
using System.Text.Json.Serialization;

namespace Destinations.Host.Ingress;

/// <summary>A single event stored (Tracking API form, D2). <c>messageId</c> only when the service generated it.</summary>
public sealed record SingleAccepted(
    bool Success,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? MessageId);

/// <summary>A batch or webhook array with at least one valid event (D2). Duplicates count as accepted (D5).</summary>
public sealed record BatchAccepted(bool Success, int Accepted, IReadOnlyList<RejectedEvent> Rejected, IReadOnlyList<GeneratedMessageId> Generated);

public sealed record RejectedEvent(int Index, string? MessageId, string Message);

public sealed record GeneratedMessageId(int Index, string MessageId);

/// <summary>
/// Source-generated serialisation of the ingress answers (no reflection per request: the answers are written on every ingest call): first in the HTTP JSON
/// options' resolver chain, so minimal APIs write these types with generated code; other types fall through to the default.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SingleAccepted))]
[JsonSerializable(typeof(BatchAccepted))]
internal sealed partial class IngressJsonContext : JsonSerializerContext;
