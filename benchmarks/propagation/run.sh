#!/usr/bin/env bash
# Propagation latency of a real Keel server (Release build, SQLite in a temporary data folder): the time from a PUT's
# acknowledgement to the change event's arrival at N concurrent Server-Sent-Events watchers of the key, as p50/p90/p99/p99.9/max.
# Usage: benchmarks/propagation/run.sh [watchers="1 1000 10000"] [changes=50] [interval-ms=200] [services=1]
# With services above 1, the watchers are spread over that many services and only those of the written one hear the changes.
# Each watcher count in the list gets its own run, one after the other, on the same server. Starts the server on
# 127.0.0.1:18081, measures, prints a markdown table of the runs, and stops the server it started. Watchers and writer run
# in one client process on the same machine as the server; 10,000 watchers need about 10,000 open files in each process.
set -euo pipefail

watchers=${1:-"1 1000 10000"}
changes=${2:-50}
interval=${3:-200}
services=${4:-1}
# Both processes inherit the raised limit; stay with the soft limit if it cannot be raised.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
port=18081
# Every watcher is one client with one token from one address, which the per-token and per-address watcher caps exist to
# stop; lifting them lets a run measure the fan-out of any number of watchers.
server_extra_args=(--Keel:Watch:MaxWatchersPerToken=0 --Keel:Watch:MaxWatchersPerClientAddress=0)
# shellcheck source=../start-server.sh
source "$(dirname "$0")/../start-server.sh"

status=0
for w in $watchers; do
    echo "== $w watchers over $services service(s), $changes changes, ${interval} ms apart (open files: $(ulimit -n))"
    dotnet "$root/artifacts/bin/Keel.Benchmarks/release/Keel.Benchmarks.dll" propagation --url "$url" --token "$token" \
        --watchers "$w" --changes "$changes" --interval-ms "$interval" --services "$services" --server-pid "$server" | tee "$data/run-$w.txt" || status=1
    kill -0 "$server" 2>/dev/null || { echo "the server exited:" >&2; cat "$data/server.log" >&2; exit 1; }
done

echo
echo "| Watchers | Changes | Samples | Missed | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | PUT p50 (ms) | PUT p99 (ms) | client CPU (s) | server CPU (s) |"
echo "|---------:|--------:|--------:|-------:|---------:|---------:|---------:|-----------:|---------:|-------------:|-------------:|---------------:|---------------:|"
for w in $watchers; do grep -h '^| ' "$data/run-$w.txt" || true; done
if [ -s "$data/server.log" ]; then echo "server log (last 20 lines):"; tail -n 20 "$data/server.log"; fi
exit "$status"
