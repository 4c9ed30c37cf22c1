namespace Destinations.Host.OpenApi;

/// <summary>Endpoint metadata: named request body examples for handlers that read the raw body themselves.</summary>
public sealed record RequestExamples(IReadOnlyDictionary<string, string> Bodies);

/// <summary>Endpoint metadata: an example JSON answer for one status code, shown by Swagger UI.</summary>
public sealed record ResponseExample(int Status, string Json);
