using Destinations.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Destinations.Delivery.Tests;

public sealed class DeliveryRegistrationTests
{
    [Fact]
    public void Delivery_options_are_validated_with_messages_naming_the_key()
    {
        var result = new DeliveryOptionsValidator().Validate(null, new DeliveryOptions { Workers = 0, BaseDelay = TimeSpan.Zero });

        Assert.Equal(["Delivery:Workers: must be positive (was 0)", "Delivery:BaseDelay: must be positive (was 00:00:00)"], result.Failures);
    }

    [Fact]
    public async Task The_engine_registered_beside_the_store_runs_without_metrics_and_settles_what_it_claims()
    {
        var folder = Directory.CreateTempSubdirectory("dest-delivery-").FullName; // per test and owned by whoever runs it
        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Storage:ConnectionString"] = $"Data Source={Path.Combine(folder, "d.db")}",
                ["Delivery:Workers"] = "1",
                ["Delivery:PollInterval"] = "00:00:00.050",
            });
            builder.Services.AddLogging();
            var partner = new FakeDestination("fake");
            builder.Services.AddSingleton(new DestinationRegistry([], [(partner, null)], []));
            builder.Services.AddStore(builder.Configuration);
            builder.Services.AddDelivery(builder.Configuration);
            using var host = builder.Build();
            await host.StartAsync();

            await host.Services.GetRequiredService<IEventStore>().AcceptAsync([TestEvents.To("m-1", "fake")], CancellationToken.None);

            // The running dispatcher claims the delivery, sends it and records it as delivered.
            var admin = host.Services.GetRequiredService<IDeliveryAdmin>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while ((await admin.GetStatsAsync("fake", CancellationToken.None)).Delivered == 0 && DateTime.UtcNow < deadline)
                await Task.Delay(20);
            Assert.Equal(1, (await admin.GetStatsAsync("fake", CancellationToken.None)).Delivered);
            Assert.Equal(["event"], partner.SentSteps);

            await host.StopAsync();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }
}
