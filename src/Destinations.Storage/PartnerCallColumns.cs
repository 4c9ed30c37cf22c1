namespace Destinations.Storage;

/// <summary>
/// What each <c>partner_calls</c> record keeps beyond when, status and step, on both stores (the console's Events page shows
/// every attempt from it): the request's method and URL (as described, secrets stay placeholders), an excerpt of the answer,
/// and the request body of a failed call only (bounded; a success's body is not kept, it would double the storage of every
/// delivered batch). Nullable: records written before them, and calls without an answer, have none.
/// </summary>
static class PartnerCallColumns
{
    public const string Sql = """
        ALTER TABLE partner_calls ADD COLUMN method text;
        ALTER TABLE partner_calls ADD COLUMN url    text;
        ALTER TABLE partner_calls ADD COLUMN answer text;
        ALTER TABLE partner_calls ADD COLUMN body   text;
        """;
}
