#!/usr/bin/env bash
# Issue 8 benchmark: builds Release, then starts the bare-Kestrel baseline, the fake partner and the service (SQLite) on
# loopback, drives them with wrk and prints the table. Options go to the harness, e.g.:
#   bench/run.sh --duration 10 --connections 64 --backlog 1000000 --skip backlog
# Needs wrk (apt-get install -y wrk). Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk" >&2; exit 1; }
dotnet build tests/Destinations.Benchmarks -c Release -v q -nologo >/dev/null
echo "load before the run: $(uptime)"
exec dotnet tests/Destinations.Benchmarks/bin/Release/net10.0/Destinations.Benchmarks.dll all "$@"
