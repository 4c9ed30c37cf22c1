global using Destinations.Core.Routing;
global using Destinations.Storage.Sqlite;
global using Destinations.Core.Storage;
