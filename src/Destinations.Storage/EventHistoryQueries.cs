using System.Data.Common;
using Dapper;
using Destinations.Storage.Sqlite;

namespace Destinations.Storage;

/// <summary><see cref="IEventHistory"/> for both stores: the event rows, their delivery rows, and (SQLite's log) the routing
/// decision on the event with the instances' cursors for deliveries that have no row.</summary>
static class EventHistoryQueries
{
    public sealed class EventRow
    {
        public long Seq { get; set; }
        public string SourceId { get; set; } = "";
        public string MessageId { get; set; } = "";
        public string Type { get; set; } = "";
        public string? Routes { get; set; }
        public string? Filtered { get; set; }
    }

    sealed class Row
    {
        public long Id { get; set; }
        public long EventSeq { get; set; }
        public string DestinationId { get; set; } = "";
        public string Subscription { get; set; } = "";
        public string Status { get; set; } = "";
        public long Attempts { get; set; }
        public long NextAttemptAt { get; set; }
        public long? LastStatus { get; set; }
        public string? LastError { get; set; }
        public string? Reason { get; set; }
    }

    const string RowsOf = """
        SELECT id AS Id, event_seq AS EventSeq, destination_id AS DestinationId, subscription AS Subscription, status AS Status,
               attempts AS Attempts, next_attempt_at AS NextAttemptAt, last_status AS LastStatus, last_error AS LastError,
               reason AS Reason
        FROM deliveries WHERE event_seq = @Seq ORDER BY id
        """;

    const string CallsOf = """
        SELECT id, at, status, seqs FROM partner_calls
        WHERE destination_id = @Destination AND first_seq <= @Seq AND last_seq >= @Seq ORDER BY id DESC
        """;

    /// <param name="cursors">The instances' cursors (SQLite's log; empty for a store without one).</param>
    public static async Task<IReadOnlyList<EventStory>> BuildAsync(DbConnection conn, IReadOnlyList<EventRow> events,
        IReadOnlyDictionary<string, long> cursors, CancellationToken ct)
    {
        // The last partner call that carried the event to the instance (SQLite's partner_calls).
        async Task<(long Id, long At, long? Status)?> CallAsync(string destination, long seq)
        {
            var seqText = seq.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var c in await conn.QueryAsync<(long Id, long At, long? Status, string Seqs)>(new CommandDefinition(CallsOf,
                         new { Destination = destination, Seq = seq }, cancellationToken: ct)).ConfigureAwait(false))
                if (c.Seqs.Split(',').Contains(seqText)) return (c.Id, c.At, c.Status);
            return null;
        }

        var stories = new List<EventStory>();
        foreach (var e in events.OrderBy(e => e.Seq))
        {
            var rows = (await conn.QueryAsync<Row>(new CommandDefinition(RowsOf, new { e.Seq }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
            var deliveries = new List<DeliveryStory>();
            foreach (var (instance, subscription) in LogRoutes.Decode(e.Routes))
            {
                var row = rows.FirstOrDefault(r => r.DestinationId == instance && r.Subscription == subscription);
                if (row is not null)
                {
                    deliveries.Add(FromRow(row));
                    rows.Remove(row);
                }
                else
                {
                    // No row: delivered on its first attempt once the instance's cursor has passed it, else still waiting (or in flight).
                    var delivered = cursors.TryGetValue(instance, out var cursor) && e.Seq <= cursor;
                    var call = delivered ? await CallAsync(instance, e.Seq).ConfigureAwait(false) : null;
                    deliveries.Add(new DeliveryStory(instance, subscription, delivered ? DeliveryStoryStatus.Delivered : DeliveryStoryStatus.Pending,
                        delivered ? 1 : 0, null, (int?)call?.Status, null, null, null,
                        call is { } c ? DateTimeOffset.FromUnixTimeMilliseconds(c.At) : null, call?.Id));
                }
            }
            deliveries.AddRange(rows.Select(FromRow));
            stories.Add(new EventStory(e.Seq, e.SourceId, e.MessageId, e.Type, deliveries,
                LogRoutes.Decode(e.Filtered).Select(f => new RouterFilterStory(f.Instance, f.Value)).ToList()));
        }
        return stories;
    }

    static DeliveryStory FromRow(Row r) => new(r.DestinationId, r.Subscription, r.Status switch
    {
        "delivered" => DeliveryStoryStatus.Delivered,
        "filtered" => DeliveryStoryStatus.Filtered,
        "invalid" => DeliveryStoryStatus.Invalid,
        "dead" => DeliveryStoryStatus.Dead,
        _ => DeliveryStoryStatus.Pending,
    }, (int)r.Attempts, r.Status == "pending" ? DateTimeOffset.FromUnixTimeMilliseconds(r.NextAttemptAt) : null, (int?)r.LastStatus,
        r.LastError, r.Reason, r.Id);
}
