using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Destinations.Profiling;

/// <summary>
/// Which types a stretch of work allocates, from the runtime's AllocationTick events (one about every 100 KB allocated,
/// naming the type of the object that crossed the mark): a sample, so shares are estimates, but it names what the exact
/// bytes-per-request figure is made of. All threads count: in memory, the client's side of each request is in it too.
/// </summary>
sealed class AllocationSampler : EventListener
{
    readonly ConcurrentDictionary<string, long> _bytes = new();
    volatile bool _on;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick is verbose
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_on || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a]) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }

    public void Start()
    {
        _bytes.Clear();
        _on = true;
    }

    /// <summary>The top types by sampled bytes, per unit of work (<paramref name="units"/> requests).</summary>
    public void Print(int units, int top = 25)
    {
        _on = false;
        var total = _bytes.Values.Sum();
        Console.WriteLine($"  sampled allocations by type ({total / (double)units:N0} bytes per request sampled):");
        foreach (var (type, bytes) in _bytes.OrderByDescending(kv => kv.Value).Take(top))
            Console.WriteLine($"    {bytes / (double)units,8:N0}  {bytes * 100.0 / total,5:F1}%  {type}");
    }
}
