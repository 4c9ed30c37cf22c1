using System.Globalization;
using System.Text.Json;
using Destinations.Core.Delivery;

namespace Destinations.Storage;

/// <summary>A settlement's value for one parameter of its statement (see <see cref="SettlementStatements"/>).</summary>
enum SettlementParameter { Id, Owner, Now, Steps, Plan, At, Status, Reason, Counted, LastStatus, LastError, LastResponse, LastRequest, ErrorClass }

/// <summary>One fixed row update: the same SQL text every time (so a store can keep it prepared) and its parameters, in order.</summary>
sealed class SettlementStatement(string sql, SettlementParameter[] parameters)
{
    public string Sql { get; } = sql;
    public SettlementParameter[] Parameters { get; } = parameters;
    /// <summary>The <c>@name</c> of each parameter, in order (SQLite).</summary>
    public string[] Names { get; } = Array.ConvertAll(parameters, p => "@" + p);

    /// <summary>True for <see cref="SettlementParameter"/>s holding a number (bigint), false for text.</summary>
    public static bool IsNumber(SettlementParameter p) =>
        p is SettlementParameter.Id or SettlementParameter.Now or SettlementParameter.Steps or SettlementParameter.At
            or SettlementParameter.Counted or SettlementParameter.LastStatus;
}

/// <summary>
/// The row updates behind <see cref="IDeliveryQueue.SettleAsync"/>, one statement per <see cref="SettlementKind"/>, for both
/// stores (same tables and columns; times as Unix ms). Every update checks the lease: it changes the row only while the
/// caller still owns it and it is pending, so a worker whose lease was taken over cannot overwrite the new owner's outcome.
/// </summary>
sealed class SettlementStatements
{
    const string ClearLease = "lease_owner = NULL, lease_until = NULL";
    const string WhereLeased = "WHERE id = @Id AND lease_owner = @Owner AND status = 'pending'";
    // D11: the plan mapped at the first attempt goes with the first write after its send (null: stored already).
    const string KeepPlan = "plan = COALESCE(@Plan, plan), first_attempt_at = COALESCE(first_attempt_at, @Now)";
    const string SetLastFailure = """
        last_status = COALESCE(@LastStatus, last_status), last_error = COALESCE(@LastError, last_error),
        last_response = COALESCE(@LastResponse, last_response), last_request = COALESCE(@LastRequest, last_request),
        error_class = COALESCE(@ErrorClass, error_class)
        """;

    public static readonly SettlementStatements Sqlite = new(postgres: false);
    public static readonly SettlementStatements Postgres = new(postgres: true);

    readonly SettlementStatement[] _byKind;

    SettlementStatements(bool postgres)
    {
        var greatest = postgres ? "GREATEST" : "MAX";
        _byKind = new SettlementStatement[Enum.GetValues<SettlementKind>().Length];
        void Add(SettlementKind kind, string sql) => _byKind[(int)kind] = Build(sql, postgres);
        Add(SettlementKind.Progress, $"UPDATE deliveries SET steps_done = @Steps, {KeepPlan}, updated_at = @Now {WhereLeased}");
        Add(SettlementKind.Delivered, $"""
            UPDATE deliveries SET status = 'delivered', steps_done = @Steps, attempts = attempts + 1, {KeepPlan},
                updated_at = @Now, {ClearLease} {WhereLeased}
            """);
        var final = $"""
            UPDATE deliveries SET status = @Status, reason = @Reason,
                first_attempt_at = COALESCE(first_attempt_at, @Now), updated_at = @Now, {ClearLease} {WhereLeased}
            """;
        Add(SettlementKind.Filtered, final);
        Add(SettlementKind.Invalid, final);
        Add(SettlementKind.RetryScheduled, $"""
            UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = @At, {SetLastFailure}, {KeepPlan},
                updated_at = @Now, {ClearLease} {WhereLeased}
            """);
        Add(SettlementKind.Held, $"UPDATE deliveries SET {SetLastFailure}, {KeepPlan}, updated_at = @Now, {ClearLease} {WhereLeased}");
        Add(SettlementKind.Dead, $"""
            UPDATE deliveries SET status = 'dead', reason = @Reason, attempts = attempts + @Counted, {SetLastFailure},
                plan = COALESCE(@Plan, plan), first_attempt_at = COALESCE(first_attempt_at, CASE WHEN @Counted = 1 THEN @Now END),
                updated_at = @Now, {ClearLease} {WhereLeased}
            """);
        Add(SettlementKind.Released, $"UPDATE deliveries SET updated_at = @Now, {ClearLease} {WhereLeased}");
        Add(SettlementKind.Postponed, $"""
            UPDATE deliveries SET next_attempt_at = {greatest}(next_attempt_at, @At), updated_at = @Now, {ClearLease} {WhereLeased}
            """);
    }

    public SettlementStatement For(SettlementKind kind) => _byKind[(int)kind];

    /// <summary>SQLite keeps the <c>@Name</c> parameters; PostgreSQL gets positional <c>$n</c> ones (no SQL rewriting by Npgsql).</summary>
    static SettlementStatement Build(string sql, bool positional)
    {
        var parameters = new List<SettlementParameter>();
        var text = System.Text.RegularExpressions.Regex.Replace(sql, "@([A-Za-z]+)", m =>
        {
            var p = Enum.Parse<SettlementParameter>(m.Groups[1].Value);
            var index = parameters.IndexOf(p);
            if (index < 0)
            {
                parameters.Add(p);
                index = parameters.Count - 1;
            }
            return positional ? "$" + (index + 1).ToString(CultureInfo.InvariantCulture) : m.Value;
        });
        return new SettlementStatement(text, [.. parameters]);
    }

    /// <summary>The value of <paramref name="p"/> for <paramref name="s"/> (null for SQL NULL).</summary>
    public static object? Value(SettlementParameter p, Settlement s, long nowMs) => p switch
    {
        SettlementParameter.Id => s.Delivery.Id,
        SettlementParameter.Owner => s.Delivery.LeaseOwner,
        SettlementParameter.Now => nowMs,
        SettlementParameter.Steps => (long)s.StepsDone,
        SettlementParameter.Plan => s.Plan,
        SettlementParameter.At => s.At.ToUnixTimeMilliseconds(),
        SettlementParameter.Status => s.Kind == SettlementKind.Invalid ? "invalid" : "filtered",
        SettlementParameter.Reason => s.Reason ?? s.Kind.ToString().ToLowerInvariant(),
        SettlementParameter.Counted => s.Failure is null ? 0L : 1L,
        SettlementParameter.LastStatus => (long?)s.Failure?.StatusCode,
        SettlementParameter.LastError => s.Failure?.Error,
        SettlementParameter.LastResponse => s.Failure?.ResponseExcerpt,
        SettlementParameter.LastRequest => s.Request is null ? null : JsonSerializer.Serialize(s.Request),
        SettlementParameter.ErrorClass => s.Failure is null ? null : ErrorClass(s.Failure),
        _ => throw new ArgumentOutOfRangeException(nameof(p), p, null),
    };

    /// <summary>A short, stable class for a failure: the outcome and the HTTP status, or the kind of network error.</summary>
    public static string ErrorClass(AttemptResult r) =>
        $"{r.Outcome}: " + (r.StatusCode is { } s ? $"HTTP {s.ToString(CultureInfo.InvariantCulture)}"
                                                 : r.Error?.Split(':')[0] ?? "no answer");
}
