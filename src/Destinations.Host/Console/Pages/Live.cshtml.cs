using Destinations.Core.Routing;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Destinations.Host.OperatorConsole.Pages;

/// <summary>The live tail page; the lines come from <c>/console/live/stream</c> (<see cref="LiveEndpoints"/>) through console.js.</summary>
public sealed class LiveModel(DestinationRegistry registry, IOptions<ConsoleOptions> options) : PageModel
{
    public IReadOnlyList<string> Instances => registry.Destinations.Select(d => d.Id).ToList();

    /// <summary>Lines the page keeps (its oldest go first): the same bound as the stream's buffer, <c>Console:LiveBufferLines</c>.</summary>
    public int MaxLines => options.Value.LiveBufferLines;

    public void OnGet() { }
}
