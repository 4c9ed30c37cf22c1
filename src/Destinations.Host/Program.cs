using Destinations.Host.Endpoints;
using Destinations.Host.Health;
using Destinations.Host.Ingress;
using Destinations.Host.OpenApi;
using Destinations.Host.Startup;
using Destinations.Storage;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddDestinationsLogging();
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<IngressExceptionHandler>();
builder.Services.AddDestinationsSwagger();
builder.Services.AddDestinationsHealth();

builder.Services.AddDestinationRouting();
builder.Services.AddIngress();

// Storage and partners. Integrator: replace the next line with
//   builder.Services.AddSqliteStore(builder.Configuration); builder.Services.AddDispatcher(builder.Configuration);
builder.Services.AddSingleton<IEventStore, UnconfiguredEventStore>(); // TODO(integration): the real store
// builder.Services.AddSalesmachine(builder.Configuration);            // TODO(integration): partners register IDestinationFactory

var app = builder.Build();

app.BuildDestinationRegistryNow();
app.UseExceptionHandler();
app.UseDestinationsRequestLogging();
app.UseDestinationsSwagger();

app.MapHealth();
app.MapIngress();

app.Run();

public partial class Program;
