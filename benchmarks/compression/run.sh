#!/usr/bin/env bash
# What compressing large answers saves and costs, on a real Keel server (Release build, SQLite in a temporary folder): the
# bytes of a listing, an export and a search page as they are, with Brotli and with gzip (the fastest levels, as Keel
# compresses), then wrk's throughput of the listing without and with each encoding, in alternating runs, so that the CPU
# that compression costs shows as the drop in requests per second.
# Usage: benchmarks/compression/run.sh [keys=2000] [duration=10s] [rounds=3]
# Needs wrk (apt-get install -y wrk). Stops only the server it started.
set -euo pipefail

keys=${1:-2000}
duration=${2:-10s}
rounds=${3:-3}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
port=18083
# shellcheck source=../start-server.sh
source "$(dirname "$0")/../start-server.sh"

dotnet "$root/artifacts/bin/Keel.Benchmarks/release/Keel.Benchmarks.dll" load --url "$url" --keys "$keys" --token "$token" >/dev/null
auth="Authorization: Bearer $token"
size() { curl -sf -H "$auth" ${2:+-H "Accept-Encoding: $2"} -o /dev/null -w '%{size_download}' "$url$1"; }

echo "| Answer | Plain bytes | Brotli bytes | gzip bytes |"
echo "| --- | ---: | ---: | ---: |"
for path in "/api/v1/config/bench/prod" "/api/v1/config/bench/prod/export?format=yaml" "/api/v1/search?prefix=key-1&service_name=bench"; do
    plain=$(size "$path"); br=$(size "$path" br); gz=$(size "$path" gzip)
    printf '| `%s` | %s | %s (%.1f %%) | %s (%.1f %%) |\n' "$path" "$plain" "$br" "$(echo "100 * $br / $plain" | bc -l)" "$gz" "$(echo "100 * $gz / $plain" | bc -l)"
done

rate() { wrk -t1 -c8 -d"$duration" -H "$auth" ${1:+-H "Accept-Encoding: $1"} "$url/api/v1/config/bench/prod" | awk '/^Requests\/sec/ { print $2 }'; }
rate "" >/dev/null
echo
echo "| Round | Plain req/s | Brotli req/s | gzip req/s |"
echo "| ---: | ---: | ---: | ---: |"
for i in $(seq 1 "$rounds"); do
    printf '| %d | %s | %s | %s |\n' "$i" "$(rate "")" "$(rate br)" "$(rate gzip)"
done
