namespace Destinations.Storage;

/// <summary>
/// The schema change that turns stored filter reasons from sentences into the stable codes of
/// <see cref="Destinations.Core.Delivery.FilterReason"/>: the router-time counters (<c>filter_counts.reason</c>, merged when
/// several sentences become one code, e.g. "screen calls …" and "page calls …" both <c>call_type_not_accepted</c>) and the
/// mapper-time filtered deliveries (<c>deliveries.reason</c>). The same SQL runs on SQLite and PostgreSQL. Every sentence
/// this service ever stored is listed; a text it does not recognise is kept as it is. Dead-letter and invalid reasons are
/// not filter reasons and are not touched. Applied once: the codes are written out here, not taken from the catalogue, so
/// the migration stays what it was when it ran.
/// </summary>
public static class FilterReasonMigration
{
    public const string Description = "filter reasons stored as stable codes";

    /// <summary>The stored text → code, in match order: exact texts and anchored patterns before the generic ones.
    /// A text that ended in a decision tag is matched by its start.</summary>
    static string Case(string column) => $"""
        CASE
            WHEN {column} = 'disabled by the Integrations object' THEN 'integrations_off'
            WHEN {column} = 'no mapping matches' THEN 'no_trigger_matched'
            WHEN {column} = 'no subscription matches' THEN 'no_subscription_matched'
            WHEN {column} = 'page events are off (SendPageEvents is false)' THEN 'page_events_off'
            WHEN {column} = 'screen events are off (SendScreenEvents is false)' THEN 'screen_events_off'
            WHEN {column} = 'alias events are off (SendAliasEvents is false)' THEN 'alias_events_off'
            WHEN {column} = 'group events are off (SendGroupEvents is false)' THEN 'group_events_off'
            WHEN {column} = 'track without an event name cannot match AllowedEvents' THEN 'event_not_allowed'
            WHEN {column} LIKE 'track event ''%'' not in AllowedEvents%' THEN 'event_not_allowed'
            WHEN {column} LIKE 'the mapping ''%'' is no longer configured for this instance' THEN 'mapping_not_configured'
            WHEN {column} LIKE 'source not linked to this destination%' THEN 'source_not_linked'
            WHEN {column} LIKE 'no userId: %' THEN 'no_user_id'
            WHEN {column} LIKE 'Salesmachine publishes no alias endpoint%' THEN 'no_alias_path'
            WHEN {column} LIKE 'deletion is not supported by %' THEN 'delete_not_supported'
            WHEN {column} LIKE 'events without a type are not accepted by %' THEN 'call_type_not_accepted'
            WHEN {column} LIKE '% calls are not accepted by Salesmachine' THEN 'call_type_not_accepted'
            WHEN {column} LIKE '% calls are not accepted by Selligent Marketing Cloud' THEN 'call_type_not_accepted'
            ELSE {column}
        END
        """;

    public static readonly string Sql = $"""
        -- Counters: one row per (instance, code, day), so sentences that become the same code are added up.
        CREATE TABLE filter_counts_by_code AS
            SELECT destination_id, reason, day, CAST(SUM(count) AS BIGINT) AS count
            FROM (SELECT destination_id, {Case("reason")} AS reason, day, count FROM filter_counts) AS f
            GROUP BY destination_id, reason, day;
        DELETE FROM filter_counts;
        INSERT INTO filter_counts (destination_id, reason, day, count)
            SELECT destination_id, reason, day, count FROM filter_counts_by_code;
        DROP TABLE filter_counts_by_code;

        -- Filtered deliveries (status <> 'pending' spelled out so SQLite may use its partial index of finished rows).
        UPDATE deliveries SET reason = {Case("reason")}
        WHERE status = 'filtered' AND status <> 'pending' AND reason IS NOT NULL;
        """;
}
