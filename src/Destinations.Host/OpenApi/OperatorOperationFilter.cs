using System.Globalization;
using System.Text.Json.Nodes;
using Destinations.Host.Admin;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Destinations.Host.OpenApi;

/// <summary>
/// The admin bearer scheme on admin-key endpoints (D21), request body examples for handlers that read the raw body, and
/// example answers (<see cref="ResponseExample"/>) — so every operation can be tried from Swagger UI.
/// </summary>
public sealed class OperatorOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<AdminKeyRequired>().Any())
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(AdminKeyFilter.Scheme, context.Document)] = [] }];

        if (metadata.OfType<RequestExamples>().FirstOrDefault() is { } request)
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "One Segment Spec event (with its type), UTF-8 JSON",
                Content = new Dictionary<string, IOpenApiMediaType>
                {
                    ["application/json"] = new OpenApiMediaType
                    {
                        Schema = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "A Segment Spec event" },
                        Examples = request.Bodies.ToDictionary(b => b.Key,
                            b => (IOpenApiExample)new OpenApiExample { Summary = b.Key, Value = JsonNode.Parse(b.Value) }),
                    },
                },
            };

        foreach (var example in metadata.OfType<ResponseExample>())
        {
            var status = example.Status.ToString(CultureInfo.InvariantCulture);
            operation.Responses ??= new OpenApiResponses();
            if (!operation.Responses.TryGetValue(status, out var response) || response is not OpenApiResponse concrete)
                operation.Responses[status] = concrete = new OpenApiResponse { Description = "OK" };
            concrete.Content ??= new Dictionary<string, IOpenApiMediaType>();
            if (!concrete.Content.TryGetValue("application/json", out var media) || media is not OpenApiMediaType mediaType)
                concrete.Content["application/json"] = mediaType = new OpenApiMediaType();
            mediaType.Example = JsonNode.Parse(example.Json);
        }
    }
}
