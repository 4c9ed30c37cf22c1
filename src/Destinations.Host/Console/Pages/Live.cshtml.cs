using Destinations.Core.Routing;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Destinations.Host.OperatorConsole.Pages;

/// <summary>The live tail page; the lines come from <c>/console/live/stream</c> (<see cref="LiveEndpoints"/>) through console.js.</summary>
public sealed class LiveModel(DestinationRegistry registry) : PageModel
{
    public IReadOnlyList<string> Instances => registry.Destinations.Select(d => d.Id).ToList();

    public void OnGet() { }
}
