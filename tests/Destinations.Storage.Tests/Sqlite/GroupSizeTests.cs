using Destinations.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Destinations.Storage.Tests.Sqlite;

/// <summary>
/// SQLite's default group commit takes up to <see cref="StorageOptions.SqliteGroupCommitMaxEvents"/> events: ten 100-event
/// batch requests queued while the writer waits for the write gate go into one commit (with the earlier 256 they took four),
/// and a set limit still splits them without splitting a request.
/// </summary>
public sealed class GroupSizeTests
{
    [Theory]
    [InlineData(null, 1)]
    [InlineData(256, 5)]
    public async Task Requests_queued_behind_the_writer_share_commits_up_to_the_limit(int? limit, int commits)
    {
        var folder = Directory.CreateTempSubdirectory("dest-groups-").FullName;
        try
        {
            var db = new SqliteDatabase($"Data Source={Path.Combine(folder, "test.db")}");
            var options = Microsoft.Extensions.Options.Options.Create(
                new StorageOptions { Provider = "Sqlite", ConnectionString = db.ConnectionString, GroupCommitMaxEvents = limit });
            await using var store = new SqliteEventStore(db, options, new FakeTimeProvider(TestStore.Start), new DispatchSignal(),
                NullLogger<SqliteEventStore>.Instance);
            await db.EnsureMigratedAsync(CancellationToken.None);

            var requests = new List<Task<IReadOnlyList<AcceptStatus>>>();
            using (db.EnterWrite())
            {
                // The gate is held (as the dispatcher holds it): everything posted now waits in the queue for one writer turn.
                for (var r = 0; r < 10; r++)
                    requests.Add(store.AcceptAsync(Enumerable.Range(0, 100).Select(i => TestEvents.To($"m-{r}-{i}", "sm")).ToList(),
                        CancellationToken.None));
                await Task.Delay(200);
                Assert.All(requests, t => Assert.False(t.IsCompleted));
            }
            var results = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.All(results.SelectMany(r => r), s => Assert.Equal(AcceptStatus.Stored, s));
            Assert.Equal(commits, store.CommitCount);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_limit_defaults_per_provider_and_a_set_one_must_be_positive()
    {
        Assert.Equal(1024, StorageOptions.SqliteGroupCommitMaxEvents);
        Assert.Equal(256, StorageOptions.PostgresGroupCommitMaxEvents);
        var validator = new StorageOptionsValidator();
        Assert.True(validator.Validate(null, new StorageOptions()).Succeeded);
        Assert.Equal(["Storage:GroupCommitMaxEvents: must be positive (was 0)"],
            validator.Validate(null, new StorageOptions { GroupCommitMaxEvents = 0 }).Failures);
    }
}
