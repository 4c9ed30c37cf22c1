namespace Destinations.Profiling;

// Destinations.Profiling stages [--n N] [--only PREFIX] — each stage of a single /v1/track event timed alone (thread CPU, bytes allocated)
// Destinations.Profiling pipeline [--n N] [--c C] [--sqlite] [--filters] [--allocations]
//                                          — whole requests through the service's middleware and endpoint in memory
//                                            (TestServer, no sockets), C at a time, against the same for a bare
//                                            parse-and-200 app; --sqlite: the service's own store instead of one that
//                                            answers at once; --filters: also routed to the instance, without and with
//                                            the filters scenario's destination filters; --allocations: the types
//                                            each run allocates, sampled (AllocationSampler)
// The event is bench/common.lua's track event (~700 bytes), sent with a Basic write key and routed nowhere (the only
// destination is linked to another source), so the store is asked for nothing but the dedupe decision.
static class Profiler
{
    static async Task<int> Main(string[] args)
    {
        var n = Option(args, "--n", 200_000);
        var concurrency = Option(args, "--c", 1);
        return args.FirstOrDefault() switch
        {
            "stages" => await Stages.RunAsync(n, args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault()),
            "pipeline" => await Pipeline.RunAsync(n, concurrency, args.Contains("--sqlite"), args.Contains("--filters"), args.Contains("--allocations")),
            _ => Usage(),
        };
    }

    static int Option(string[] args, string name, int otherwise) =>
        args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).FirstOrDefault(otherwise);

    static int Usage()
    {
        Console.Error.WriteLine("usage: Destinations.Profiling stages [--n N] [--only STAGE] | pipeline [--n N] [--c CONCURRENT] [--sqlite] [--filters] [--allocations]");
        return 2;
    }
}
