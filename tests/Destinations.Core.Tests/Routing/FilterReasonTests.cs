using System.Text.RegularExpressions;
using Destinations.Core.Delivery;

namespace Destinations.Core.Tests.Routing;

public sealed partial class FilterReasonTests
{
    [GeneratedRegex("^[a-z]+(_[a-z]+)*$")]
    private static partial Regex SnakeCase();

    [Fact]
    public void Codes_are_unique_snake_case_and_each_has_a_sentence_without_a_decision_tag()
    {
        Assert.Equal(FilterReason.All.Count, FilterReason.All.Select(r => r.Code).Distinct(StringComparer.Ordinal).Count());
        Assert.All(FilterReason.All, r =>
        {
            Assert.Matches(SnakeCase(), r.Code);
            Assert.EndsWith(".", r.Sentence, StringComparison.Ordinal);
            Assert.DoesNotMatch(@"\bD[0-9]+\b", r.Sentence);
        });
    }

    [Fact]
    public void A_stored_code_finds_its_entry_and_an_unknown_text_finds_none()
    {
        Assert.Same(FilterReason.SourceNotLinked, FilterReason.Find("source_not_linked"));
        Assert.Same(FilterReason.NoUserId, FilterReason.Find("no_user_id"));
        Assert.Null(FilterReason.Find("source not linked to this destination"));
        Assert.Null(FilterReason.Find("Source_Not_Linked"));
    }

    [Fact]
    public void A_filtered_mapping_result_stores_the_code_and_keeps_the_detail_beside_it()
    {
        var result = MappingResult.Filtered(FilterReason.EventNotAllowed, "'Order Completed'");
        Assert.Equal((MappingOutcome.Filtered, "event_not_allowed", "'Order Completed'"), (result.Outcome, result.Reason, result.Detail));
        Assert.Same(FilterReason.EventNotAllowed, result.Filter);
        Assert.Empty(result.Requests);
    }

    [Fact]
    public void Docs_operations_lists_every_code_with_its_sentence()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Destinations.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        var rows = File.ReadAllLines(Path.Combine(dir.FullName, "docs", "operations.md"))
            .Select(l => Regex.Match(l, @"^\| `([a-z_]+)` \| [a-z, ]+ \| (.+) \|$")).Where(m => m.Success)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        Assert.Equal(FilterReason.All.Select(r => (r.Code, r.Sentence)), rows);
    }
}
