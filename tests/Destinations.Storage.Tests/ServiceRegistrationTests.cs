using Destinations.Storage.Delivery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Tests;

public sealed class ServiceRegistrationTests
{
    static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        builder.Services.AddSingleton(new DestinationRegistry([], [], []));
        builder.Services.AddSqliteStore(builder.Configuration);
        builder.Services.AddDispatcher(builder.Configuration);
        return builder.Build();
    }

    [Fact]
    public async Task An_unknown_storage_provider_stops_start_up_naming_the_key()
    {
        using var host = BuildHost(new() { ["Storage:Provider"] = "PostgreSQL" });

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal("Storage:Provider: 'PostgreSQL' is not available in this build (available: Sqlite; PostgreSQL comes in a later issue)",
            Assert.Single(ex.Failures));
    }

    [Fact]
    public void Delivery_options_are_validated_with_messages_naming_the_key()
    {
        var result = new DeliveryOptionsValidator().Validate(null, new DeliveryOptions { Workers = 0, BaseDelay = TimeSpan.Zero });

        Assert.Equal(["Delivery:Workers: must be positive (was 0)", "Delivery:BaseDelay: must be positive (was 00:00:00)"], result.Failures);
    }

    [Fact]
    public async Task The_host_starts_migrates_binds_settings_and_stores_an_event()
    {
        var folder = Path.Combine(Path.GetTempPath(), "dest-storage-tests", Guid.NewGuid().ToString("N"));
        try
        {
            using var host = BuildHost(new()
            {
                ["Storage:ConnectionString"] = $"Data Source={Path.Combine(folder, "data", "d.db")}",
                ["Storage:DedupeWindow"] = "00:10:00",
                ["Delivery:Workers"] = "1",
            });
            await host.StartAsync();

            Assert.True(File.Exists(Path.Combine(folder, "data", "d.db")));
            Assert.Equal(TimeSpan.FromMinutes(10), host.Services.GetRequiredService<IOptions<StorageOptions>>().Value.DedupeWindow);
            Assert.Same(host.Services.GetRequiredService<IEventStore>(), host.Services.GetRequiredService<SqliteEventStore>());
            var store = host.Services.GetRequiredService<IEventStore>();
            Assert.Equal([AcceptStatus.Stored], await store.AcceptAsync([TestEvents.To("m-1", "gone")], CancellationToken.None));
            Assert.True(await store.IsReadyAsync(CancellationToken.None));
            // The operator surface and the dispatcher's parts resolve without a metrics registration (it is optional).
            // (The running dispatcher may already have dead-lettered the delivery to the unconfigured instance "gone".)
            var dead = await host.Services.GetRequiredService<IDeliveryAdmin>().ListDeadLettersAsync(new DeadLetterFilter(), CancellationToken.None);
            Assert.All(dead.Items, d => Assert.Equal("destination instance 'gone' is no longer configured", d.Reason));
            Assert.NotNull(host.Services.GetRequiredService<DeliveryRunner>());

            await host.StopAsync();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }
}
