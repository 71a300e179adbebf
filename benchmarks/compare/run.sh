#!/usr/bin/env bash
# Cached GET and write throughput of two commits of Keel, measured in one sitting: both servers run side by side (Release,
# SQLite in temporary folders) and short wrk runs alternate between them, so that the drift of a shared machine falls on
# both alike; the order within a pair alternates, so that neither commit always runs after the other's writes (a WAL
# checkpoint or disk flush left by one run falls on the next). Prints each pair's ratio (second / first) and the medians.
# Usage: benchmarks/compare/run.sh <base-commit> [commit=HEAD] [pairs=5] [duration=10s] [keys=20000] [writers=16] [measure=both]
# measure is both (cached GETs and PUTs) or put (PUTs alone).
# With KEEL_BENCH_POSTGRES set (a connection string to a server where the user may create a database), both servers run on
# PostgreSQL instead, each on a database of its own (keel_compare_a, keel_compare_b), dropped at the end.
# Needs wrk (apt-get install -y wrk). Builds each commit in a temporary git worktree; stops only the servers it started.
set -euo pipefail

base=${1:?base commit}
head=${2:-HEAD}
pairs=${3:-5}
duration=${4:-10s}
keys=${5:-20000}
writers=${6:-16}
measure=${7:-both}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
    for side in a b; do
        git -C "$root" worktree remove --force "$work/$side" 2>/dev/null || true
        # The servers are gone by now; their connections may take a moment to close.
        if [ -n "${psql_admin:-}" ]; then
            for _ in 1 2 3 4 5; do psql "$psql_admin" -qc "DROP DATABASE IF EXISTS keel_compare_$side;" 2>/dev/null && break; sleep 1; done
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT

psql_admin=
if [ -n "${KEEL_BENCH_POSTGRES:-}" ]; then
    psql_admin=$(echo "$KEEL_BENCH_POSTGRES" | sed -E 's/Host=([^;]*)/host=\1/I; s/Username=([^;]*)/user=\1/I; s/Password=([^;]*)/password=\1/I; s/Database=([^;]*)/dbname=\1/I; s/Port=([^;]*)/port=\1/I; s/;/ /g')
fi

start() { # side commit port
    local side=$1 commit=$2 port=$3
    local store=()
    if [ -n "$psql_admin" ]; then
        psql "$psql_admin" -qc "DROP DATABASE IF EXISTS keel_compare_$side WITH (FORCE);" -c "CREATE DATABASE keel_compare_$side;"
        store=(--Keel:Storage:Provider=postgres
            "--Keel:Storage:Postgres:ConnectionString=$(echo "$KEEL_BENCH_POSTGRES" | sed -E "s/Database=[^;]*/Database=keel_compare_$side/I");Maximum Pool Size=100"
            "--Keel:Encryption:MasterKey=$(head -c 32 /dev/urandom | base64)")
    fi
    git -C "$root" worktree add -q --detach "$work/$side" "$commit"
    dotnet build -c Release "$work/$side/src/Keel.Server" -v quiet -nologo >/dev/null
    dotnet build -c Release "$work/$side/benchmarks/Keel.Benchmarks" -v quiet -nologo >/dev/null
    mkdir -p "$work/$side-data"
    KEEL_ADMIN_TOKEN="$token" dotnet "$work/$side/artifacts/bin/Keel.Server/release/Keel.Server.dll" \
        --urls "http://127.0.0.1:$port" --data-dir "$work/$side-data" "${store[@]}" --Logging:LogLevel:Default=Warning >"$work/$side.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.5; done
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/$side.log" >&2; exit 1; }
    dotnet "$work/$side/artifacts/bin/Keel.Benchmarks/release/Keel.Benchmarks.dll" load --url "http://127.0.0.1:$port" --keys "$keys" --token "$token" >/dev/null
    wrk -t2 -c64 -d5s -s "$root/benchmarks/wrk/get-random-key.lua" "http://127.0.0.1:$port" -- bench prod "$keys" "$token" >/dev/null
}

rate() { awk '/^Requests\/sec/ { print $2 }'; }

token="bench-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
echo "first: $(git -C "$root" rev-parse --short "$base"), second: $(git -C "$root" rev-parse --short "$head"); $pairs pairs of $duration runs, $writers writers; $([ -n "$psql_admin" ] && echo PostgreSQL || echo SQLite)"
start a "$base" 18091
start b "$head" 18092

declare -a get_ratios put_ratios
for i in $(seq 1 "$pairs"); do
    get() {
        if [ "$measure" = put ]; then echo 1; return; fi
        wrk -t2 -c64 -d"$duration" -s "$root/benchmarks/wrk/get-random-key.lua" "http://127.0.0.1:$1" -- bench prod "$keys" "$token" | rate
    }
    # Prints the write rate, then the p50 and p99 in ms.
    put() {
        wrk -t"$(( writers < 2 ? writers : 2 ))" -c"$writers" -d"$duration" -s "$root/benchmarks/storage/put-random-key.lua" "http://127.0.0.1:$1" -- "$keys" "$token" |
            awk '/^Requests\/sec/ { r = $2 } /^p50 / { gsub(",", ""); p50 = $2; p99 = $8 } END { print r, p50, p99 }'
    }
    if (( i % 2 )); then
        ga=$(get 18091); gb=$(get 18092); read -r pa la qa < <(put 18091); read -r pb lb qb < <(put 18092)
    else
        gb=$(get 18092); ga=$(get 18091); read -r pb lb qb < <(put 18092); read -r pa la qa < <(put 18091)
    fi
    get_ratios+=("$(echo "$gb / $ga" | bc -l)")
    put_ratios+=("$(echo "$pb / $pa" | bc -l)")
    gets=
    [ "$measure" = put ] || gets=$(printf 'cached GET %8.0f vs %8.0f req/s (%.3f); ' "$ga" "$gb" "${get_ratios[-1]}")
    printf 'pair %d: %sPUT %6.0f vs %6.0f writes/s (%.3f), p50 %s vs %s ms, p99 %s vs %s ms\n' \
        "$i" "$gets" "$pa" "$pb" "${put_ratios[-1]}" "$la" "$lb" "$qa" "$qb"
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
gets=
[ "$measure" = put ] || gets=$(printf 'cached GET %.3f, ' "$(median "${get_ratios[@]}")")
printf 'median ratio, second / first: %sPUT %.3f\n' "$gets" "$(median "${put_ratios[@]}")"
