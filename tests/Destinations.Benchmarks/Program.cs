using Destinations.Benchmarks;

// Destinations.Benchmarks all [options]            — the whole run, prints the table (bench/run.sh builds Release and calls this)
// Destinations.Benchmarks baseline --urls URL      — bare Kestrel: parse the JSON body, answer 200
// Destinations.Benchmarks fake-partner --urls URL  — loopback Salesmachine that counts deliveries (GET /stats)
return args.FirstOrDefault() switch
{
    "baseline" => await Baseline.RunAsync(BenchOptions.Url(args)),
    "fake-partner" => await CountingPartner.RunAsync(BenchOptions.Url(args)),
    "all" => await Harness.RunAsync(BenchOptions.Parse(args.Skip(1).ToArray())),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Destinations.Benchmarks all [--duration 10] [--connections 64] [--backlog 1000000] [--e2e-events 50000]" +
        " [--rate 1000] [--skip name,...] [--service-env KEY=VALUE ...]\n       Destinations.Benchmarks baseline|fake-partner --urls http://127.0.0.1:PORT");
    return 2;
}
