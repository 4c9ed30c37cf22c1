#!/usr/bin/env bash
# The benchmark: builds Release, then starts the bare-Kestrel baseline, the fake partner and the service on loopback —
# on SQLite, then on PostgreSQL (a fresh database per scenario) — drives them with wrk after an unmeasured warm-up of each
# process, and prints the table (a column pair per store). Options go to the harness, e.g.:
#   bench/run.sh --duration 10 --warmup 20 --connections 64 --backlog 1000000 --skip backlog
#   bench/run.sh --store sqlite                   # sqlite | postgres | both (default both)
#   bench/run.sh --store sqlite --skip single,batch,rate,e2e,backlog,stages,ceiling,reference
#                                                 # only ingest without and with destination filters
#   bench/run.sh --postgres "Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres"
# PostgreSQL: --postgres CONN, else $DESTINATIONS_TEST_POSTGRES, else this script starts a throw-away cluster on
# 127.0.0.1:${BENCH_PG_PORT:-55433} in a temp dir (stopped and removed on exit) when /usr/lib/postgresql/*/bin exists;
# without the binaries it says so and runs SQLite only. `Destinations.Benchmarks all --help` lists every option.
# Needs wrk (apt-get install -y wrk). Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk" >&2; exit 1; }

args=("$@")
store=both postgres=${DESTINATIONS_TEST_POSTGRES:-}
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --store) store=${args[i + 1]:-} ;;
    --postgres) postgres=${args[i + 1]:-} ;;
  esac
done

if [ "$store" != sqlite ] && [ -z "$postgres" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$pg_bin" ]; then
    echo "PostgreSQL: no server given (--postgres / DESTINATIONS_TEST_POSTGRES) and no binaries in /usr/lib/postgresql/*/bin" \
         "(apt-get install -y postgresql): running SQLite only"
    args+=(--store sqlite)
  else
    pg_port=${BENCH_PG_PORT:-55433}
    pg_dir=$(mktemp -d -t destinations-bench-pg-XXXXXX)
    # initdb refuses to run as root: the cluster belongs to the postgres user then.
    as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sh -c "$1"; fi; }
    if [ "$(id -u)" = 0 ]; then chown postgres "$pg_dir"; fi
    stop_pg() { as_pg "$pg_bin/pg_ctl -D $pg_dir/data -m fast stop" >/dev/null 2>&1 || true; rm -rf "$pg_dir"; }
    trap stop_pg EXIT
    trap 'exit 130' INT TERM
    as_pg "$pg_bin/initdb -D $pg_dir/data -A trust -U postgres" >/dev/null
    if ! as_pg "$pg_bin/pg_ctl -D $pg_dir/data -o '-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1' -l $pg_dir/log -w start" >/dev/null; then
      echo "PostgreSQL: the throw-away cluster did not start on 127.0.0.1:$pg_port (port taken? set BENCH_PG_PORT):" >&2
      tail -5 "$pg_dir/log" >&2 || true
      exit 1
    fi
    echo "PostgreSQL: throw-away cluster $("$pg_bin/postgres" --version) on 127.0.0.1:$pg_port in $pg_dir (stopped on exit)"
    args+=(--postgres "Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres")
  fi
fi

dotnet build tests/Destinations.Benchmarks -c Release -v q -nologo >/dev/null
echo "load before the run: $(uptime)"
# Not exec: the trap above stops the throw-away PostgreSQL when the harness ends.
dotnet tests/Destinations.Benchmarks/bin/Release/net10.0/Destinations.Benchmarks.dll all "${args[@]}"
