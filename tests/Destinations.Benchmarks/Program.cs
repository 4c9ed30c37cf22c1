using Destinations.Benchmarks;

// Destinations.Benchmarks all [options]            — the whole run, prints the table (bench/run.sh builds Release and calls this)
// Destinations.Benchmarks baseline --urls URL      — bare Kestrel: parse the JSON body, answer 200
// Destinations.Benchmarks reference --urls URL --db FILE — the naive durable reference: parse, one row per event in SQLite, 200
// Destinations.Benchmarks fake-partner --urls URL  — loopback Salesmachine that counts deliveries (GET /stats)
// Destinations.Benchmarks mapcost [--events N] [--warm N] [--partner smc|um|wh|all] — CPU and allocation per event of mapping stored events (Salesmachine, then the others; --partner: only those)
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchOptions.Help);
    return 0;
}
return args.FirstOrDefault() switch
{
    "baseline" => await Baseline.RunAsync(BenchOptions.Url(args)),
    "reference" => await Reference.RunAsync(BenchOptions.Url(args), BenchOptions.Argument(args, "--db")),
    "fake-partner" => await CountingPartner.RunAsync(BenchOptions.Url(args)),
    "mapcost" => MapCost.Run(args),
    "all" => await Harness.RunAsync(BenchOptions.Parse(args.Skip(1).ToArray())),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine(BenchOptions.Help);
    return 2;
}
