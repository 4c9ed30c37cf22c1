using System.Runtime.InteropServices;

namespace Destinations.Profiling;

/// <summary>
/// CPU time rather than wall time: the machine is shared, and a stage's wall time grows with everyone else's load while
/// its CPU time does not. Thread CPU for a stage run synchronously on one thread; process CPU for whole requests, whose
/// continuations hop between pool threads.
/// </summary>
static partial class CpuClock
{
    const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID (Linux)

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static long ThreadNanoseconds()
    {
        if (ClockGetTime(ClockThreadCpuTime, out var t) != 0) throw new InvalidOperationException("clock_gettime failed");
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }

    public static TimeSpan Process()
    {
        using var p = System.Diagnostics.Process.GetCurrentProcess();
        return p.TotalProcessorTime;
    }
}
