using Destinations.Delivery;
using Destinations.Host.Admin;
using Destinations.Host.DryRun;
using Destinations.Host.Endpoints;
using Destinations.Host.Health;
using Destinations.Host.Ingress;
using Destinations.Host.Metrics;
using Destinations.Host.OpenApi;
using Destinations.Host.OperatorConsole;
using Destinations.Host.Startup;
using Destinations.Salesmachine;
using Destinations.Selligent;
using Destinations.Storage;
using Destinations.UserMotion;
using Destinations.Webhook;

// Probe mode (Docker HEALTHCHECK, D23): check a running instance and exit, without building a host.
if (ProbeMode.IsRequested(args)) return await ProbeMode.RunAsync(args);

// Settings are read once: they are validated at start and the destination registry is built once, so nothing would pick up
// an edited appsettings file anyway. Watching it is not free: the watcher covers the whole content root, and with the SQLite
// file under it (data/ by default) every commit woke it — ~3-4% of the CPU under load (docs/benchmarks.md).
var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);

builder.Services.AddDestinationsLogging();
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<IngressExceptionHandler>();
builder.Services.AddDestinationsSwagger();
builder.Services.AddDestinationsHealth();
builder.Services.AddDestinationsMetrics();

builder.Services.AddDestinationRouting();
builder.Services.AddIngress();
builder.Services.AddAdmin();

builder.Services.AddSqliteStore(builder.Configuration);
builder.Services.AddDelivery(builder.Configuration);
// The operator console (after the store: its live tail watches the store's delivery outcomes).
builder.Services.AddConsole(builder.Configuration);
builder.Services.AddKnownProxies();

// Partners: each registers its IDestinationFactory; `Destinations:n:Type` picks one.
builder.Services.AddSalesmachine(builder.Configuration);
builder.Services.AddUserMotion(builder.Configuration);
builder.Services.AddSelligent(builder.Configuration);
builder.Services.AddWebhook(builder.Configuration);

var app = builder.Build();

// A bad configuration is printed once, plainly, and the process exits non-zero.
if (!app.ConfigurationIsValid()) return 1;
app.UseKnownProxies();
app.UseSecurityHeaders();
app.UseIngressRequestMetrics();
// Outside the exception handler, so each request is logged with the status the client really got (a client-caused exception
// is answered 4xx by the handler; inside it, request logging would report such a request as a 500 error).
app.UseDestinationsRequestLogging();
app.UseExceptionHandler();
app.UseDestinationsSwagger();
app.UseConsole();

app.MapHealth();
app.MapDestinationsMetrics();
app.MapIngress();
app.MapDryRun();
app.MapAdmin();
app.MapConsole();

app.Run();
return 0;

public partial class Program;
