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
        return builder.Build();
    }

    [Fact]
    public async Task An_unknown_storage_provider_stops_start_up_naming_the_key()
    {
        using var host = BuildHost(new() { ["Storage:Provider"] = "Oracle" });

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal("Storage:Provider: 'Oracle' is not a store (available: Sqlite, Postgres)", Assert.Single(ex.Failures));
    }

    [Fact]
    public void A_postgres_connection_string_is_checked_without_repeating_it()
    {
        var validator = new StorageOptionsValidator();
        var sqliteString = validator.Validate(null, new StorageOptions { Provider = "postgres", ConnectionString = "Data Source=data/d.db;Password=hunter2" });
        var garbage = validator.Validate(null, new StorageOptions { Provider = "Postgres", ConnectionString = "Nonsense=1;Password=hunter2" });

        Assert.StartsWith("Storage:ConnectionString: ", Assert.Single(sqliteString.Failures!));
        Assert.StartsWith("Storage:ConnectionString: ", Assert.Single(garbage.Failures!));
        Assert.DoesNotContain("hunter2", string.Join(" ", sqliteString.Failures!.Concat(garbage.Failures!)));
        Assert.True(validator.Validate(null, new StorageOptions { Provider = "POSTGRES", ConnectionString = "Host=db;Database=d" }).Succeeded);
    }

    [Fact]
    public async Task With_provider_Postgres_the_host_migrates_at_start_and_uses_the_postgres_store()
    {
        var connectionString = PostgresTestDatabase.NewSchema(out var schema);
        using var host = BuildHost(new()
        {
            ["Storage:Provider"] = "postgres",
            ["Storage:ConnectionString"] = connectionString,
        });
        await host.StartAsync();
        try
        {
            Assert.IsType<Postgres.PostgresEventStore>(host.Services.GetRequiredService<IEventStore>());
            Assert.IsType<Postgres.PostgresDeliveryQueue>(host.Services.GetRequiredService<IDeliveryQueue>());
            Assert.IsType<Postgres.PostgresDeliveryAdmin>(host.Services.GetRequiredService<IDeliveryAdmin>());
            Assert.IsType<Postgres.PostgresEventHistory>(host.Services.GetRequiredService<IEventHistory>());
            var store = host.Services.GetRequiredService<IEventStore>();
            Assert.Equal([AcceptStatus.Stored], await store.AcceptAsync([TestEvents.To("m-1", "gone")], CancellationToken.None));
            Assert.True(await store.IsReadyAsync(CancellationToken.None));
            Assert.True(await host.Services.GetRequiredService<IDeliveryQueue>().IsReadyAsync(CancellationToken.None));
        }
        finally
        {
            await host.StopAsync();
            await using var conn = new Npgsql.NpgsqlConnection(PostgresTestDatabase.ConnectionString);
            await conn.OpenAsync();
            await using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", conn);
            await drop.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task The_host_starts_migrates_binds_settings_and_stores_an_event()
    {
        var folder = Directory.CreateTempSubdirectory("dest-storage-").FullName; // per test and owned by whoever runs it
        try
        {
            using var host = BuildHost(new()
            {
                ["Storage:ConnectionString"] = $"Data Source={Path.Combine(folder, "data", "d.db")}",
                ["Storage:DedupeWindow"] = "00:10:00",
            });
            await host.StartAsync();

            Assert.True(File.Exists(Path.Combine(folder, "data", "d.db")));
            Assert.Equal(TimeSpan.FromMinutes(10), host.Services.GetRequiredService<IOptions<StorageOptions>>().Value.DedupeWindow);
            Assert.Same(host.Services.GetRequiredService<IEventStore>(), host.Services.GetRequiredService<SqliteEventStore>());
            Assert.IsType<SqliteEventHistory>(host.Services.GetRequiredService<IEventHistory>());
            var store = host.Services.GetRequiredService<IEventStore>();
            Assert.Equal([AcceptStatus.Stored], await store.AcceptAsync([TestEvents.To("m-1", "gone")], CancellationToken.None));
            Assert.True(await store.IsReadyAsync(CancellationToken.None));
            // The operator surface resolves without a metrics registration (it is optional).
            var dead = await host.Services.GetRequiredService<IDeliveryAdmin>().ListDeadLettersAsync(new DeadLetterFilter(), CancellationToken.None);
            Assert.Empty(dead.Items);

            await host.StopAsync();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }
}
