namespace Destinations.Selligent;

/// <summary>
/// One load at a time per SMC list within this process (docs/partners/selligent.md "Serialised loads": our precaution, so concurrent loads never
/// race on one list). A singleton keyed by the list's absolute URL, shared by every worker and instance; entries are
/// reference-counted and dropped when unused, because segment names come from events.
/// </summary>
public sealed class SelligentListLocks
{
    readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    sealed class Entry
    {
        public readonly SemaphoreSlim Semaphore = new(1, 1);
        public int Users;
    }

    public async Task<IDisposable> AcquireAsync(string key, CancellationToken ct)
    {
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out entry!)) _entries[key] = entry = new Entry();
            entry.Users++;
        }
        try
        {
            await entry.Semaphore.WaitAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            Leave(key, entry);
            throw;
        }
        return new Releaser(this, key, entry);
    }

    /// <summary>How many keys are held or awaited (for tests: entries do not leak).</summary>
    public int Count { get { lock (_entries) return _entries.Count; } }

    void Leave(string key, Entry entry)
    {
        lock (_entries)
            if (--entry.Users == 0) _entries.Remove(key);
    }

    sealed class Releaser(SelligentListLocks owner, string key, Entry entry) : IDisposable
    {
        int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            entry.Semaphore.Release();
            owner.Leave(key, entry);
        }
    }
}
