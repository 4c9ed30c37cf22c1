global using Destinations.Core.Routing;
global using Destinations.Storage.Sqlite;
