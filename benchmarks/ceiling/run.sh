#!/usr/bin/env bash
# Keel's cached GET against the framework's ceiling, in one sitting: a Release Keel server (SQLite in a temporary folder)
# and a minimal ASP.NET Core app serving one of Keel's own answers as fixed bytes on the same route (Keel.Benchmarks
# `ceiling`) run side by side, and short wrk runs alternate between them with identical settings, so that the drift of a
# shared machine falls on both alike; the order within a pair alternates too. Prints each pair's ratio (Keel / ceiling) of
# throughput at saturation, then of p99 latency at a fixed request rate, and the medians.
# Usage: benchmarks/ceiling/run.sh [pairs=6] [duration=10s] [connections=64] [threads=1] [keys=10000] [rate=1000] [rate-pairs=3]
# Needs wrk (apt-get install -y wrk). Stops only the servers it started.
set -euo pipefail

pairs=${1:-6}
duration=${2:-10s}
connections=${3:-64}
threads=${4:-1}
keys=${5:-10000}
rate=${6:-1000}
rate_pairs=${7:-3}
rate_connections=10
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
port=18080
# shellcheck source=../start-server.sh
source "$(dirname "$0")/../start-server.sh"
ceiling_url="http://127.0.0.1:18082"

dotnet "$root/artifacts/bin/Keel.Benchmarks/release/Keel.Benchmarks.dll" load --url "$url" --keys "$keys" --token "$token"
curl -sf -H "Authorization: Bearer $token" "$url/api/v1/config/bench/prod/key-1" >"$data/answer.json"
dotnet "$root/artifacts/bin/Keel.Benchmarks/release/Keel.Benchmarks.dll" ceiling --url "$ceiling_url" --body-file "$data/answer.json" \
    >"$data/ceiling.log" 2>&1 &
ceiling=$!
on_exit='kill -TERM "$ceiling" 2>/dev/null; wait "$ceiling" 2>/dev/null || true'
for _ in $(seq 1 60); do curl -sf "$ceiling_url/api/v1/config/bench/prod/key-1" >/dev/null && break; sleep 0.5; done
echo "answer: $(wc -c <"$data/answer.json") bytes; Keel: $(git -C "$root" rev-parse --short HEAD); wrk -t$threads -c$connections -d$duration"

saturate() { wrk -t"$threads" -c"$connections" -d"$1" -s "$root/benchmarks/wrk/get-random-key.lua" "$2" -- bench prod "$keys" "$token"; }
at_rate() { wrk -t1 -c"$rate_connections" -d15s --latency -s "$root/benchmarks/ceiling/rate.lua" "$1" -- bench prod "$keys" "$token" "$rate" "$rate_connections"; }
rps() { awk '/^Requests\/sec/ { print $2 }'; }
p99() { awk '/^p50 / { print $8 }'; }
errors() { awk '/^requests / { sub(/,/, "", $4); print $4 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Warms the JIT, tiered compilation and both connection pools; not measured.
saturate 5s "$url" >/dev/null
saturate 5s "$ceiling_url" >/dev/null

declare -a ratios
for i in $(seq 1 "$pairs"); do
    if (( i % 2 )); then
        c=$(saturate "$duration" "$ceiling_url"); k=$(saturate "$duration" "$url")
    else
        k=$(saturate "$duration" "$url"); c=$(saturate "$duration" "$ceiling_url")
    fi
    [ "$(echo "$k" | errors)" = 0 ] || { echo "Keel answered errors:" >&2; echo "$k" >&2; exit 1; }
    ratios+=("$(echo "$(echo "$k" | rps) / $(echo "$c" | rps)" | bc -l)")
    printf 'pair %d: ceiling %8.0f req/s, Keel %8.0f req/s, ratio %.3f\n' "$i" "$(echo "$c" | rps)" "$(echo "$k" | rps)" "${ratios[-1]}"
done
printf 'median ratio of throughput, Keel / ceiling: %.3f\n' "$(median "${ratios[@]}")"

declare -a tails
for i in $(seq 1 "$rate_pairs"); do
    if (( i % 2 )); then
        c=$(at_rate "$ceiling_url"); k=$(at_rate "$url")
    else
        k=$(at_rate "$url"); c=$(at_rate "$ceiling_url")
    fi
    tails+=("$(echo "$(echo "$k" | p99) / $(echo "$c" | p99)" | bc -l)")
    printf 'at %d req/s, pair %d: ceiling %s | Keel %s | p99 ratio %.3f\n' "$rate" "$i" \
        "$(echo "$c" | grep '^p50 ')" "$(echo "$k" | grep '^p50 ')" "${tails[-1]}"
done
printf 'median ratio of p99 at %d req/s, Keel / ceiling: %.3f\n' "$rate" "$(median "${tails[@]}")"
echo "cache: $(curl -s -H "Authorization: Bearer $token" "$url/api/v1/cache/stats")"
