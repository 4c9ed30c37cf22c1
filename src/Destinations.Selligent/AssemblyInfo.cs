using System.Runtime.CompilerServices;

// Tests pin small internal helpers (lock keys, the X-ApiKey value) directly.
[assembly: InternalsVisibleTo("Destinations.Selligent.Tests")]
