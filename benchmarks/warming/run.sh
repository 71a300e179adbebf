#!/usr/bin/env bash
# Cache hit rate over time after a restart, with and without warming, under Zipf-distributed GETs (Release build, SQLite).
# Usage: benchmarks/warming/run.sh [keys=1000000] [cache-entries=100000] [exponent=1.2] [seconds=20] [warm-up-seconds=60]
# The store is seeded with SQL (benchmarks/storage/seed-sqlite.sql), then: traffic for warm-up-seconds; a SIGTERM, which
# writes the cached keys' names to cache-hot-keys; a start with warming, traffic for seconds; a SIGTERM; a start with
# Keel:Cache:Warm=false, traffic for seconds. Each second prints the hit rate the server counted in it.
set -euo pipefail

keys=${1:-1000000}
cache=${2:-100000}
exponent=${3:-1.2}
seconds=${4:-20}
warm_up=${5:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=$(mktemp -d)
url="http://127.0.0.1:18082"
token="bench-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
args=(--urls "$url" --data-dir "$data" --Logging:LogLevel:Default=Warning --Logging:LogLevel:Keel.Server.Caching=Information
      --Keel:Cache:MaxEntries="$cache" --Keel:Cache:MaxBytes=4294967296)
server=""

start() {
    KEEL_ADMIN_TOKEN="$token" dotnet "$root/artifacts/bin/Keel.Server/release/Keel.Server.dll" "${args[@]}" "$@" >>"$data/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 120); do curl -sf "$url/readyz" >/dev/null && return; sleep 0.5; done
    echo "server did not start:" >&2; cat "$data/server.log" >&2; exit 1
}

stop() {
    if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi
}

trap 'stop; rm -rf "$data"' EXIT

dotnet build -c Release "$root/src/Keel.Server" -v quiet -nologo >/dev/null
dotnet build -c Release "$root/benchmarks/Keel.Benchmarks" -v quiet -nologo >/dev/null
load() { dotnet "$root/artifacts/bin/Keel.Benchmarks/release/Keel.Benchmarks.dll" zipf-load --url "$url" --token "$token" \
    --keys "$keys" --exponent "$exponent" "$@"; }

start --Keel:Cache:Warm=false   # migrates the empty store
stop
sed "s/__KEYS__/$keys/g" "$root/benchmarks/storage/seed-sqlite.sql" | sqlite3 "$data/keel.db" >/dev/null
echo "# seeded $keys keys; cache of $cache entries"

start
load --seconds "$warm_up" --label "before restart" --seed 1 | tail -n 6
stop
echo "# cache-hot-keys: $(wc -l <"$data/cache-hot-keys") keys"

start
load --seconds "$seconds" --label "restart, warmed" --seed 2
grep -o 'Cache warmed[^"]*' "$data/server.log" | tail -n 1 || true
stop

start --Keel:Cache:Warm=false
load --seconds "$seconds" --label "restart, cold" --seed 2
