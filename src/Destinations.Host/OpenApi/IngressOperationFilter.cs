using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Destinations.Host.OpenApi;

/// <summary>
/// The ingress handlers read the raw body themselves (limits and signatures need the bytes as sent), so the API explorer
/// sees no request body: this filter describes it, with the <see cref="IngressExample"/> attached to each endpoint.
/// </summary>
public sealed class IngressOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var example = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IngressExample>().FirstOrDefault();
        if (example is null) return;

        var media = new OpenApiMediaType
        {
            Schema = new OpenApiSchema { Type = JsonSchemaType.Object | JsonSchemaType.Array, Description = "A Segment Spec event (or batch / array)" },
            Examples = example.Bodies.ToDictionary(b => b.Key, b => (IOpenApiExample)new OpenApiExample { Summary = b.Key, Value = JsonNode.Parse(b.Value) }),
        };
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "UTF-8 JSON; Content-Type application/json, text/plain, application/x-www-form-urlencoded or none; Content-Encoding gzip allowed",
            Content = new Dictionary<string, IOpenApiMediaType> { ["application/json"] = media },
        };
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(example.SecurityScheme, context.Document)] = [] }];
    }
}
