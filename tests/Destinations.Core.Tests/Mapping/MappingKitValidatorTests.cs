using System.Text.Json.Nodes;
using Destinations.Core.Mapping;

namespace Destinations.Core.Tests.Mapping;

public sealed class MappingKitValidatorTests
{
    static IReadOnlyList<string> Validate(string mapping) => MappingKitValidator.Validate(JsonNode.Parse(mapping), "fields.x");

    [Theory]
    [InlineData("""{"@path":"$.userId"}""")]
    [InlineData("""{"@if":{"exists":{"@path":"$.a"},"then":{"@path":"$.a"},"else":{"@template":"pageview"}}}""")]
    [InlineData("""{"@case":{"operator":"lower","value":{"@path":"$.a"}}}""")]
    [InlineData("""{"@replace":{"pattern":"a","value":{"@path":"$.a"},"global":false}}""")]
    [InlineData("""{"@json":{"mode":"encode","value":{"@path":"$.a"}}}""")]
    [InlineData("""{"@merge":{"direction":"left","objects":[{"@path":"$.a"},{"b":1}]}}""")]
    [InlineData("""{"@arrayPath":["$.a",{"b":{"@path":"$.c"}}]}""")]
    [InlineData("""{"@flatten":{"separator":".","value":{"@path":"$.a"},"omitArrays":true}}""")]
    [InlineData("""{"@transform":{"apply":{"x":{"@path":"$.a"}},"mapping":{"y":{"@path":"$.x"}}}}""")]
    [InlineData("""{"@excludeWhenNull":{"@path":"$.a"}}""")]
    [InlineData("""{"a":{"@literal":null},"b":[1,{"@path":"$.c"}],"c":"text"}""")]
    [InlineData("null")]
    public void Valid_mappings_have_no_errors(string mapping) => Assert.Empty(Validate(mapping));

    [Theory]
    [InlineData("""{"@foo":"x"}""", "fields.x.@foo: unknown directive '@foo' (supported: @path, @template, @literal, @if, @case, @replace, @json, @merge, @arrayPath, @flatten, @transform, @excludeWhenNull)")]
    [InlineData("""{"a":{"b":{"@pathh":"$.x"}}}""", "fields.x.a.b.@pathh: unknown directive '@pathh' (supported: @path, @template, @literal, @if, @case, @replace, @json, @merge, @arrayPath, @flatten, @transform, @excludeWhenNull)")]
    [InlineData("""{"@liquid":"{{ event | upcase }}"}""", "fields.x.@liquid: the directive '@liquid' is not supported here (supported: @path, @template, @literal, @if, @case, @replace, @json, @merge, @arrayPath, @flatten, @transform, @excludeWhenNull)")]
    [InlineData("""{"@if":{"exists":{"@path":"$.a"},"then":{"@nope":1}}}""", "fields.x.@if.then.@nope: unknown directive '@nope' (supported: @path, @template, @literal, @if, @case, @replace, @json, @merge, @arrayPath, @flatten, @transform, @excludeWhenNull)")]
    [InlineData("""{"@path":5}""", "fields.x.@path: expected a string")]
    [InlineData("""{"@path":"$.a","other":1}""", "fields.x: a directive object holds only its directive; '@path' is next to 'other'")]
    [InlineData("""{"@if":{"then":"x"}}""", "fields.x.@if: needs an \"exists\" or a \"blank\" key")]
    [InlineData("""{"@if":{"exists":"x"}}""", "fields.x.@if: needs a \"then\" or an \"else\" key")]
    [InlineData("""{"@case":{"operator":"title","value":"x"}}""", "fields.x.@case.operator: must be \"lower\" or \"upper\"")]
    [InlineData("""{"@replace":{"value":"x"}}""", "fields.x.@replace.pattern: must be a non-empty string")]
    [InlineData("""{"@replace":{"pattern":"0123456789a","value":"x"}}""", "fields.x.@replace.pattern: at most 10 characters (Segment's limit)")]
    [InlineData("""{"@replace":{"pattern":"a","value":"x","global":"yes"}}""", "fields.x.@replace.global: must be true or false")]
    [InlineData("""{"@json":{"mode":"pretty","value":"x"}}""", "fields.x.@json.mode: must be \"encode\" or \"decode\"")]
    [InlineData("""{"@json":{"mode":"encode"}}""", "fields.x.@json.value: is required")]
    [InlineData("""{"@merge":{"direction":"up","objects":[]}}""", "fields.x.@merge.direction: must be \"left\" or \"right\"")]
    [InlineData("""{"@merge":{"direction":"left","objects":{}}}""", "fields.x.@merge.objects: must be an array of objects or directives")]
    [InlineData("""{"@arrayPath":"$.a"}""", "fields.x.@arrayPath: expected [path] or [path, itemShape]")]
    [InlineData("""{"@arrayPath":["$.a","b"]}""", "fields.x.@arrayPath[1]: the item shape must be an object")]
    [InlineData("""{"@case":{"operator":"lower","value":"x","extra":1}}""", "fields.x.@case.extra: unknown key (known: operator, value)")]
    [InlineData("""{"@flatten":{"value":{"@path":"$.a"}}}""", "fields.x.@flatten.separator: is required: a string such as \".\" (Segment flattens nothing without one)")]
    [InlineData("""{"@transform":{"mapping":{"a":1}}}""", "fields.x.@transform.apply: is required: an object of fields to build first")]
    [InlineData("""{"@transform":{"apply":{"a":1},"mapping":{"@nope":1}}}""", "fields.x.@transform.mapping.@nope: unknown directive '@nope' (supported: @path, @template, @literal, @if, @case, @replace, @json, @merge, @arrayPath, @flatten, @transform, @excludeWhenNull)")]
    public void Invalid_mappings_name_the_path_and_rule(string mapping, string error) =>
        Assert.Equal([error], Validate(mapping));
}
