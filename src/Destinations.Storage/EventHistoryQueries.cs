using System.Data.Common;
using System.Text.Json;
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
        public string? Body { get; set; }
        public string? UserKey { get; set; }
        public long? AcceptedAt { get; set; }
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
        public string? LastRequest { get; set; }
        public string? LastResponse { get; set; }
        public long? FirstAttemptAt { get; set; }
        public long UpdatedAt { get; set; }
    }

    sealed class CallRow
    {
        public long Id { get; set; }
        public long At { get; set; }
        public long? Status { get; set; }
        public string Step { get; set; } = "";
        public string Seqs { get; set; } = "";
        public string? Method { get; set; }
        public string? Url { get; set; }
        public string? Answer { get; set; }
        public string? Body { get; set; }
    }

    const string RowsOf = """
        SELECT id AS Id, event_seq AS EventSeq, destination_id AS DestinationId, subscription AS Subscription, status AS Status,
               attempts AS Attempts, next_attempt_at AS NextAttemptAt, last_status AS LastStatus, last_error AS LastError,
               reason AS Reason, last_request AS LastRequest, last_response AS LastResponse, first_attempt_at AS FirstAttemptAt,
               updated_at AS UpdatedAt
        FROM deliveries WHERE event_seq = @Seq ORDER BY id
        """;

    const string CallsOf = """
        SELECT id AS Id, at AS At, status AS Status, step AS Step, seqs AS Seqs, method AS Method, url AS Url, answer AS Answer,
               body AS Body
        FROM partner_calls
        WHERE destination_id = @Destination AND first_seq <= @Seq AND last_seq >= @Seq ORDER BY id
        """;

    /// <param name="cursors">The instances' cursors (SQLite's log; empty for a store without one).</param>
    /// <param name="cursorOf">The cursor that decides for an event and instance (PostgreSQL: its partition's), instead of
    /// <paramref name="cursors"/>.</param>
    public static async Task<IReadOnlyList<EventStory>> BuildAsync(DbConnection conn, IReadOnlyList<EventRow> events,
        IReadOnlyDictionary<string, long> cursors, CancellationToken ct, Func<EventRow, string, long?>? cursorOf = null)
    {
        // The partner calls that carried the event to the instance, oldest first (partner_calls, on both stores): a call's range
        // of seqs can span events of other users, so the exact list decides.
        async Task<IReadOnlyList<CallStory>> CallsAsync(string destination, long seq)
        {
            var seqText = seq.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var calls = new List<CallStory>();
            foreach (var c in await conn.QueryAsync<CallRow>(new CommandDefinition(CallsOf,
                         new { Destination = destination, Seq = seq }, cancellationToken: ct)).ConfigureAwait(false))
                if (c.Seqs.Split(',').Contains(seqText))
                    calls.Add(new CallStory(c.Id, DateTimeOffset.FromUnixTimeMilliseconds(c.At), c.Step, (int?)c.Status)
                    {
                        Method = c.Method, Url = c.Url, Answer = c.Answer, Body = c.Body,
                    });
            return calls;
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
                    deliveries.Add(WithCalls(FromRow(row), await CallsAsync(instance, e.Seq).ConfigureAwait(false)));
                    rows.Remove(row);
                }
                else
                {
                    // No row: delivered on its first attempt once the instance's cursor has passed it, else still waiting (or in flight).
                    var delivered = (cursorOf is not null ? cursorOf(e, instance) : cursors.TryGetValue(instance, out var c) ? c : (long?)null) is { } cursor
                        && e.Seq <= cursor;
                    var calls = delivered ? await CallsAsync(instance, e.Seq).ConfigureAwait(false) : [];
                    var call = calls.Count > 0 ? calls[^1] : null;
                    deliveries.Add(new DeliveryStory(instance, subscription, delivered ? DeliveryStoryStatus.Delivered : DeliveryStoryStatus.Pending,
                        delivered ? 1 : 0, null, call?.Status, null, null, null, call?.At, call?.Id) { Calls = calls });
                }
            }
            foreach (var row in rows)
                deliveries.Add(WithCalls(FromRow(row), await CallsAsync(row.DestinationId, e.Seq).ConfigureAwait(false)));
            stories.Add(new EventStory(e.Seq, e.SourceId, e.MessageId, e.Type, deliveries,
                LogRoutes.Decode(e.Filtered).Select(f => new RouterFilterStory(f.Instance, f.Value)).ToList())
            {
                Body = string.IsNullOrEmpty(e.Body) ? null : e.Body,
                UserKey = e.UserKey,
                AcceptedAt = e.AcceptedAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null,
            });
        }
        return stories;
    }

    /// <summary>A row's calls; a delivered row also names the call that delivered it (its last), as a first-pass success on the
    /// log does.</summary>
    static DeliveryStory WithCalls(DeliveryStory d, IReadOnlyList<CallStory> calls) =>
        d.Status == DeliveryStoryStatus.Delivered && calls.Count > 0
            ? d with { Calls = calls, LastCallAt = calls[^1].At, CallId = calls[^1].Id }
            : d with { Calls = calls };

    static DeliveryStory FromRow(Row r) => new(r.DestinationId, r.Subscription, r.Status switch
    {
        "delivered" => DeliveryStoryStatus.Delivered,
        "filtered" => DeliveryStoryStatus.Filtered,
        "invalid" => DeliveryStoryStatus.Invalid,
        "dead" => DeliveryStoryStatus.Dead,
        _ => DeliveryStoryStatus.Pending,
    }, (int)r.Attempts, r.Status == "pending" ? DateTimeOffset.FromUnixTimeMilliseconds(r.NextAttemptAt) : null, (int?)r.LastStatus,
        r.LastError, r.Reason, r.Id)
    {
        LastRequest = r.LastRequest is null ? null : JsonSerializer.Deserialize<RequestDescription>(r.LastRequest),
        LastResponse = r.LastResponse,
        FirstAttemptAt = r.FirstAttemptAt is { } first ? DateTimeOffset.FromUnixTimeMilliseconds(first) : null,
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.UpdatedAt),
    };

    /// <summary>The instance's per-minute outcome counters in [from, to) (<c>outcome_counts</c>, on both stores).</summary>
    public static async Task<IReadOnlyList<OutcomeMinute>> TimelineAsync(DbConnection conn, string destinationId, DateTimeOffset from,
        DateTimeOffset to, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<(long, string, long)>(new CommandDefinition("""
            SELECT minute, outcome, count FROM outcome_counts
            WHERE destination_id = @Destination AND minute >= @From AND minute < @To
            """, new { Destination = destinationId, From = from.ToUnixTimeMilliseconds(), To = to.ToUnixTimeMilliseconds() },
            cancellationToken: ct)).ConfigureAwait(false);
        return Fold(rows);
    }

    /// <summary>Outcome rows (minute, outcome, count) folded into one <see cref="OutcomeMinute"/> per minute, oldest first.</summary>
    public static IReadOnlyList<OutcomeMinute> Fold(IEnumerable<(long Minute, string Outcome, long Count)> rows) =>
        rows.GroupBy(r => r.Minute).OrderBy(g => g.Key).Select(g =>
        {
            long Of(string outcome) => g.Where(r => r.Outcome == outcome).Sum(r => r.Count);
            return new OutcomeMinute(DateTimeOffset.FromUnixTimeMilliseconds(g.Key), Of("delivered"), Of("retried"), Of("dead"),
                Of("filtered"), Of("invalid"));
        }).ToList();
}
