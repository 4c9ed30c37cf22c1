namespace Destinations.Storage.Sqlite;

/// <summary>
/// A Bloom filter over the <c>id_hash</c> of the event rows in the log, kept by the group commit (<see cref="GroupWriter"/>)
/// so that the D5 look-up runs only for messageIds that may have been accepted before. "No" is certain as long as every
/// row's hash went in: the writer fills the filter from the id_hash index when it starts, then adds each row it inserts
/// itself (it is the only writer of event rows, and it rebuilds the filter when the log's newest row is not its own).
/// "Maybe" is looked up and confirmed on the full messageId as before. Extra members — rows the retention purged since, a
/// group that failed to commit, hashes that collide — only cost a look-up. Fixed memory (<see cref="Bytes"/>); past
/// <see cref="Capacity"/> members the false positives pass a few percent and the writer goes back to looking every
/// event up until a rebuild finds the log smaller.
/// </summary>
sealed class SeenFilter
{
    const int Log2Bits = 25;
    const int Probes = 4;

    /// <summary>The filter's memory: 4 MiB.</summary>
    public const int Bytes = (1 << Log2Bits) / 8;

    /// <summary>Members up to which it is used: about 3% false positives there (4 probes in a 512-bit block, 2^25 bits).</summary>
    public const long Capacity = 4_000_000;

    readonly ulong[] _words = new ulong[(1 << Log2Bits) / 64];

    public long Count { get; private set; }

    public bool IsFull => Count > Capacity;

    public void Add(long hash)
    {
        var z = Mix(hash);
        var block = (int)(z & BlockMask) * WordsPerBlock;
        for (var i = 0; i < Probes; i++)
        {
            var bit = (int)(z >> (BlockBits + 9 * i)) & 511;
            _words[block + (bit >> 6)] |= 1UL << bit;
        }
        Count++;
    }

    public bool MayContain(long hash)
    {
        var z = Mix(hash);
        var block = (int)(z & BlockMask) * WordsPerBlock;
        for (var i = 0; i < Probes; i++)
        {
            var bit = (int)(z >> (BlockBits + 9 * i)) & 511;
            if ((_words[block + (bit >> 6)] & (1UL << bit)) == 0) return false;
        }
        return true;
    }

    // Blocked: a hash's probes all fall in one 512-bit block (a cache line or two), so an add or a test costs one or two
    // cache misses instead of one per probe (the filter is far larger than the CPU caches).
    const int WordsPerBlock = 8;
    const int BlockBits = Log2Bits - 9;
    const ulong BlockMask = (1UL << BlockBits) - 1;

    /// <summary>The 64-bit hash re-mixed (splitmix64's finaliser): FNV-1a's bits alone spread poorly over ids that differ
    /// only in their last characters. The low bits choose the block, the next 36 the four bits in it.</summary>
    static ulong Mix(long hash)
    {
        var z = unchecked((ulong)hash + 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
