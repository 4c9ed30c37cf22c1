namespace Destinations.Storage;

/// <summary>A delivery read from the log and not yet settled (or settled into a row that the same claim still writes), on
/// either store (<see cref="Sqlite.SqliteLog"/>, <see cref="Postgres.PostgresLog"/>).</summary>
sealed class LogItem
{
    public long Seq;
    public string Subscription = "";
    public string MessageId = "";
    public string Body = "";
    public string? UserKey;
    public long AcceptedAt;
    public long HeldMs;       // paused time while it waited, up to when it was read (D13 does not count it)
    public long ClosedHeldMs; // the part of it in holds that had ended: what a row starts with (a hold still open is
                              // added to the row's held_ms when it ends, as for every pending row)
    public string? Owner;     // null: given back (released, postponed), claimable again from DueAt
    public long LeaseUntil;
    public long DueAt;
    public long? RowId;       // set once a progress row holds its state (D11): later outcomes update that row
}

/// <summary>
/// The log claims in flight behind one cursor: an instance's on SQLite, a leased partition's on PostgreSQL. The cursor may
/// move to <see cref="Target"/>, the highest seq below which every delivery read is settled.
/// </summary>
abstract class LogWindow
{
    /// <summary>The cursor as stored.</summary>
    public long Persisted;
    /// <summary>The highest seq read from the log so far.</summary>
    public long Read;
    /// <summary>Events up to here may have rows from before this process read them (a restart): skip those.</summary>
    public long RecoverUpTo;
    /// <summary>Seqs read and not yet settled, with how many of their deliveries are still open.</summary>
    public readonly SortedDictionary<long, int> Open = [];
    public readonly Dictionary<(long Seq, string Subscription), LogItem> Items = [];
    /// <summary>The cursor may move: written at the next commit.</summary>
    public bool Dirty;

    public long Target => Open.Count > 0 ? Math.Min(Open.First().Key - 1, Read) : Read;

    public void Close(long seq)
    {
        if (Open.TryGetValue(seq, out var n))
        {
            if (n <= 1) Open.Remove(seq);
            else Open[seq] = n - 1;
        }
        Dirty = true;
    }
}
