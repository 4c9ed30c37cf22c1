using Destinations.Host.Admin;
using Microsoft.OpenApi;

namespace Destinations.Host.OpenApi;

public static class SwaggerSetup
{
    /// <summary>Swagger (Swashbuckle 11, Microsoft.OpenApi 2+) with the ingress security schemes and examples.</summary>
    public static IServiceCollection AddDestinationsSwagger(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Destinations",
                Version = "v1",
                Description = "Receives Segment events (Webhooks destination, Tracking-API-compatible endpoints), stores them durably and delivers them to partner APIs.",
            });
            o.AddSecurityDefinition(IngressExamples.WriteKeyScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "basic",
                Description = "The source's write key as the HTTP Basic username, with an empty password (or writeKey in the body).",
            });
            o.AddSecurityDefinition(IngressExamples.SignatureScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "X-Signature",
                Description = "Lower-case hex HMAC-SHA1 of the raw body (or of a Webhooks (Actions) array's first element) with the source's SharedSecret.",
            });
            o.AddSecurityDefinition(AdminKeyFilter.Scheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The admin key (Admin:ApiKey) as a bearer token, for /admin/* and /v1/dry-run.",
            });
            o.OperationFilter<IngressOperationFilter>();
            o.OperationFilter<OperatorOperationFilter>();
        });
        return services;
    }

    /// <summary>
    /// The document and the UI under <c>/swagger</c>. Only requests under that path pass through their middleware: on every
    /// other request (each ingested event) the document middleware matched a route template and the UI ran the static-file
    /// middleware, to do nothing.
    /// </summary>
    public static WebApplication UseDestinationsSwagger(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/swagger"), swagger =>
        {
            swagger.UseSwagger();
            swagger.UseSwaggerUI(o => o.SwaggerEndpoint("/swagger/v1/swagger.json", "Destinations v1"));
        });
        return app;
    }
}
