#!/usr/bin/env bash
# Database-bound reads and writes of a real Keel server (Release build) over a store seeded with many keys.
# Usage: benchmarks/storage/run.sh <sqlite|postgres> [keys=10000000] [duration=20s] [connections=16] [threads=2] [fixed-rate=1000] [search-rate=50]
# postgres needs KEEL_BENCH_POSTGRES, a connection string to a server where the user may create a database; the script
# creates keel_bench there and drops it at the end.
# The server runs with a 3-entry cache, so that every GET reads the database: the "uncached GET". Searches are by a random
# key prefix, across services and then within one service, and by a rare and a common substring (see search.lua).
# Writes are PUTs of new values to random keys, each one committed change.
# Keys are seeded with SQL, the server stopped, then the server restarts.
set -euo pipefail

provider=${1:?sqlite or postgres}
keys=${2:-10000000}
duration=${3:-20s}
connections=${4:-16}
threads=${5:-2}
fixed_rate=${6:-1000}
search_rate=${7:-50}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/benchmarks/storage"
data=$(mktemp -d)
url="http://127.0.0.1:18081"
token="bench-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
args=(--urls "$url" --data-dir "$data" --Logging:LogLevel:Default=Warning --Keel:Cache:MaxEntries=3 --Keel:Cache:MaxBytes=1024)
server=""

if [ "$provider" = postgres ]; then
    admin=${KEEL_BENCH_POSTGRES:?set KEEL_BENCH_POSTGRES}
    psql_admin=$(echo "$admin" | sed -E 's/Host=([^;]*)/host=\1/I; s/Username=([^;]*)/user=\1/I; s/Password=([^;]*)/password=\1/I; s/Database=([^;]*)/dbname=\1/I; s/Port=([^;]*)/port=\1/I; s/;/ /g')
    psql "$psql_admin" -qc "DROP DATABASE IF EXISTS keel_bench WITH (FORCE);" -c "CREATE DATABASE keel_bench;"
    bench_cs=$(echo "$admin" | sed -E 's/Database=[^;]*/Database=keel_bench/I')
    psql_bench=$(echo "$psql_admin" | sed -E 's/dbname=[^ ]*/dbname=keel_bench/')
    args+=(--Keel:Storage:Provider=postgres "--Keel:Storage:Postgres:ConnectionString=$bench_cs;Maximum Pool Size=64"
           "--Keel:Encryption:MasterKey=$(head -c 32 /dev/urandom | base64)")
fi

start() {
    KEEL_ADMIN_TOKEN="$token" dotnet "$root/artifacts/bin/Keel.Server/release/Keel.Server.dll" "${args[@]}" >>"$data/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 120); do curl -sf "$url/readyz" >/dev/null && return; sleep 0.5; done
    echo "server did not start:" >&2; cat "$data/server.log" >&2; exit 1
}

stop() {
    if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi
}

cleanup() {
    stop
    if [ -s "$data/server.log" ]; then
        echo "server log: $(grep -c -E '^(warn|fail|crit)' "$data/server.log" || true) warnings or errors:"
        grep -A2 -E '^(warn|fail|crit)' "$data/server.log" | head -n 30 || true
        echo "the last lines:"
        tail -n 10 "$data/server.log"
    fi
    rm -rf "$data"
    if [ "$provider" = postgres ]; then psql "$psql_admin" -qc "DROP DATABASE IF EXISTS keel_bench WITH (FORCE);" || true; fi
}
trap cleanup EXIT

dotnet build -c Release "$root/src/Keel.Server" -v quiet -nologo >/dev/null
start   # migrates the empty store
stop

echo "== seeding $keys keys ($provider)"
seed_start=$(date +%s)
if [ "$provider" = postgres ]; then
    sed "s/__KEYS__/$keys/g" "$here/seed-postgres.sql" | psql "$psql_bench" -q -v ON_ERROR_STOP=1
else
    sed "s/__KEYS__/$keys/g" "$here/seed-sqlite.sql" | sqlite3 "$data/keel.db" >/dev/null
fi
echo "seeded in $(( $(date +%s) - seed_start )) s"

start
# Unmeasured warm-up of the JIT and the connection pools.
wrk -t"$threads" -c"$connections" -d5s -s "$here/get-uncached.lua" "$url" -- "$keys" "$token" >/dev/null

echo "== uncached GET: $connections connections, $threads threads, $duration"
wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$here/get-uncached.lua" "$url" -- "$keys" "$token" | grep -E "^(p50|requests)"
echo "cache: $(curl -s -H "Authorization: Bearer $token" "$url/api/v1/cache/stats")"

# The same GETs at a fixed rate the server keeps up with, so that the latency is the read's, not the queue's. Each
# connection pauses 10 / rate seconds after each answer, so the rate reached is somewhat below the one asked: wrk prints it.
echo "== uncached GET at a fixed $fixed_rate per second: 10 connections, 1 thread, $duration"
RATE="$fixed_rate" wrk -t1 -c10 -d"$duration" --latency -s "$here/get-uncached.lua" "$url" -- "$keys" "$token" 10 | grep -E "^(p50|requests)"

# A search is checked to find keys before it is measured: a search that matched nothing would be fast for the wrong reason.
sample=$(curl -sf -H "Authorization: Bearer $token" "$url/api/v1/search?limit=50&prefix=KEY-$(( keys / 3 / 1000 ))")
echo "sample search: $(echo "$sample" | grep -o '"config_key"' | wc -l) results"
for mode in prefix service text common; do
    wrk -t"$threads" -c"$connections" -d5s -s "$here/search.lua" "$url" -- "$keys" "$token" "$mode" >/dev/null
    echo "== search ($mode): $connections connections, $threads threads, $duration"
    wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$here/search.lua" "$url" -- "$keys" "$token" "$mode" | grep -E "^(p50|requests)"
done

# The rare substring again at a fixed rate it keeps up with (4 connections), as for the GETs above.
echo "== search (text) at a fixed $search_rate per second: 4 connections, 1 thread, $duration"
RATE="$search_rate" wrk -t1 -c4 -d"$duration" --latency -s "$here/search.lua" "$url" -- "$keys" "$token" text 4 | grep -E "^(p50|requests)"
echo "== PUT (one change each): $connections connections, $threads threads, $duration"
wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$here/put-random-key.lua" "$url" -- "$keys" "$token" | grep -E "^(p50|requests)"
