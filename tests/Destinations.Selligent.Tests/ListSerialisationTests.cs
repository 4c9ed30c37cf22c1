using Destinations.Core.Delivery;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;

namespace Destinations.Selligent.Tests;

/// <summary>
/// Loads to one list are serialised per process (docs/partners/selligent.md "Serialised loads"), across SendAsync and
/// SendBatchAsync and every caller; loads to different lists still run concurrently.
/// </summary>
public sealed class ListSerialisationTests
{
    /// <summary>Counts requests in flight per list as the fake sees them arrive and answer.</summary>
    sealed class InFlight
    {
        readonly Dictionary<string, int> _now = new(StringComparer.Ordinal);
        public readonly Dictionary<string, int> Max = new(StringComparer.Ordinal);
        public int Total, MaxTotal;

        public void Enter(string list)
        {
            lock (this)
            {
                _now[list] = _now.GetValueOrDefault(list) + 1;
                Max[list] = Math.Max(Max.GetValueOrDefault(list), _now[list]);
                MaxTotal = Math.Max(MaxTotal, ++Total);
            }
        }

        public void Leave(string list)
        {
            lock (this) { _now[list]--; Total--; }
        }
    }

    sealed class CountingHandler(InFlight counter) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var list = SelligentClient.LockKey(request.RequestUri!);
            counter.Enter(list);
            try { return await base.SendAsync(request, ct); }
            finally { counter.Leave(list); }
        }
    }

    [Fact]
    public async Task No_two_loads_to_one_list_overlap_while_two_lists_do()
    {
        var counter = new InFlight();
        using var f = new PartnerFixture(extra: s => s.AddHttpClient<SelligentClient>().AddHttpMessageHandler(() => new CountingHandler(counter)));
        f.Answer(Request.Create().UsingPost(), 200, """{"result_code":"Succeeded"}""", TimeSpan.FromMilliseconds(150));
        var row = f.Plan("identify.json")[0];
        var otherList = row with { Path = row.Path.Replace("/lists/segment_events/", "/lists/other_events/", StringComparison.Ordinal) };

        var calls = new List<Task>();
        for (var i = 0; i < 4; i++)
        {
            calls.Add(Task.Run(() => f.Destination.SendAsync(row, CancellationToken.None)));
            calls.Add(Task.Run(() => f.Destination.SendBatchAsync([row, row], CancellationToken.None)));
            calls.Add(Task.Run(() => f.Destination.SendAsync(otherList, CancellationToken.None)));
        }
        await Task.WhenAll(calls);

        Assert.Equal(12, f.Partner.LogEntries.Count());
        var events = f.Destination.Settings.UrlFor("/Portal/Api/organizations/ACME/lists/segment_events").ToString();
        var other = f.Destination.Settings.UrlFor("/Portal/Api/organizations/ACME/lists/other_events").ToString();
        Assert.Equal(1, counter.Max[events]);
        Assert.Equal(1, counter.Max[other]);
        Assert.Equal(2, counter.MaxTotal); // the two lists did overlap
        Assert.Equal(0, f.Host.Services.GetRequiredService<SelligentListLocks>().Count); // no lock entry leaks
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_the_lock_usable()
    {
        var locks = new SelligentListLocks();
        var held = await locks.AcquireAsync("L", CancellationToken.None);
        using var cts = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => locks.AcquireAsync("L", cts.Token));
        held.Dispose();
        using (await locks.AcquireAsync("L", CancellationToken.None)) Assert.Equal(1, locks.Count);
        Assert.Equal(0, locks.Count);
    }
}
