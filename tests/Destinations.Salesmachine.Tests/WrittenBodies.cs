using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Destinations.Core.Delivery;

namespace Destinations.Salesmachine.Tests;

/// <summary>A mapping as the partner client writes it, for tests that compare two ways of mapping byte for byte.</summary>
static class WrittenBodies
{
    /// <summary>Each request's body written alone, then the <c>/v1/batch</c> body of the ones that can share it; or the outcome.</summary>
    public static string Written(MappingResult result)
    {
        if (result.Outcome != MappingOutcome.Send) return $"{result.Outcome} {result.Reason}";
        var lines = result.Requests.Select(r => $"{r.Step} {Utf8(r.Body!)}").ToList();
        var batchable = result.Requests.Where(r => SalesmachineBatch.MethodOf(r) is not null).ToList();
        if (batchable.Count > 0) lines.Add($"batch {Utf8(SalesmachineBatch.Request(batchable).Body!)}");
        return string.Join(" | ", lines);
    }

    /// <summary>As the partner client writes a body: UTF-8 through a default <see cref="Utf8JsonWriter"/>.</summary>
    public static string Utf8(JsonNode body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) body.WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
