using Destinations.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Destinations.Profiling;

/// <summary>
/// The service as it starts in production (Production environment, its appsettings.json), in memory: one source with the
/// profile's write key, one Salesmachine instance linked only to another source (so every event is routed nowhere), and
/// an event store that answers "stored" without I/O — what is measured is the request pipeline, not the disk — or, with
/// <c>sqlite</c>, the service's own SQLite store (the dedupe row in a group commit).
/// </summary>
/// <param name="extra">More settings over these (e.g. the instance linked to the profile's source, destination filters).</param>
sealed class ServiceInMemory(string directory, bool sqlite = false, IReadOnlyDictionary<string, string?>? extra = null) : WebApplicationFactory<Program>
{
    // The host's content root is the output folder (its appsettings.json is copied there), wherever the harness runs from.
    static ServiceInMemory() =>
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_DESTINATIONS_HOST", AppContext.BaseDirectory);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "destinations.db")}",
            ["Sources:0:Id"] = "web",
            ["Sources:0:WriteKey"] = TrackEvent.WriteKey,
            ["Sources:1:Id"] = "other",
            ["Sources:1:WriteKey"] = "other-write-key",
            ["Destinations:0:Id"] = "salesmachine-profile",
            ["Destinations:0:Type"] = "Salesmachine",
            ["Destinations:0:Sources:0"] = "other",
            ["Destinations:0:Settings:ApiToken"] = "profile-token",
            ["Destinations:0:Settings:ApiSecret"] = "profile-secret",
            ["Destinations:0:Settings:BaseUrl"] = "http://127.0.0.1:9/",
        }).AddInMemoryCollection(extra ?? new Dictionary<string, string?>()));
        if (sqlite) return;
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<IEventStore>();
            services.AddSingleton<IEventStore, StoredWithoutIo>();
        });
    }

    /// <summary>Answers every event "stored" at once: the dedupe row's commit is the store's cost, measured elsewhere.</summary>
    sealed class StoredWithoutIo : IEventStore
    {
        public Task<IReadOnlyList<AcceptStatus>> AcceptAsync(IReadOnlyList<IncomingEvent> events, CancellationToken ct)
        {
            var statuses = new AcceptStatus[events.Count]; // AcceptStatus.Stored is 0
            return Task.FromResult<IReadOnlyList<AcceptStatus>>(statuses);
        }

        public Task<bool> IsReadyAsync(CancellationToken ct) => Task.FromResult(true);
    }
}
