#!/usr/bin/env bash
# Cached GET throughput and latency of a real Keel server (Release build, SQLite in a temporary data folder).
# Usage: benchmarks/wrk/run.sh [keys=100000] [duration=30s] [connections="2 8 64"] [threads=2]
# Each connection count in the list gets its own measured run, one after the other, on the same loaded server.
# Needs wrk (apt-get install -y wrk). Starts the server on 127.0.0.1:18080, loads the keys, warms the cache,
# measures, prints the cache statistics, and stops the server it started.
set -euo pipefail

keys=${1:-100000}
duration=${2:-30s}
connections=${3:-"2 8 64"}
threads=${4:-2}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
port=18080
# shellcheck source=../start-server.sh
source "$(dirname "$0")/../start-server.sh"

dotnet "$root/artifacts/bin/Keel.Benchmarks/release/Keel.Benchmarks.dll" load --url "$url" --keys "$keys" --token "$token"

# The loader also reads every key once (in batches), so the measured run starts with a warm cache; a short
# unmeasured run warms the JIT and the connection pool.
wrk -t"$threads" -c64 -d5s -s "$root/benchmarks/wrk/get-random-key.lua" "$url" -- bench prod "$keys" "$token" >/dev/null
echo "cache after warm-up: $(curl -s -H "Authorization: Bearer $token" "$url/api/v1/cache/stats")"

for c in $connections; do
    t=$(( c < threads ? c : threads ))
    echo "== $c connections, $t threads, $duration"
    wrk -t"$t" -c"$c" -d"$duration" --latency -s "$root/benchmarks/wrk/get-random-key.lua" "$url" -- bench prod "$keys" "$token"
    echo "cache after the run: $(curl -s -H "Authorization: Bearer $token" "$url/api/v1/cache/stats")"
done
