#!/usr/bin/env bash
# Sourced by the benchmark scripts: builds the server and the benchmark tool in Release, starts the server on
# 127.0.0.1:$port over a temporary data folder with a random admin token, waits until it is ready, and stops it (only it)
# when the calling script exits. Sets: root, data, url, token, server.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=$(mktemp -d)
url="http://127.0.0.1:${port:?set port before sourcing}"
token="bench-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"

dotnet build -c Release "$root/src/Keel.Server" -v quiet -nologo >/dev/null
dotnet build -c Release "$root/benchmarks/Keel.Benchmarks" -v quiet -nologo >/dev/null

KEEL_ADMIN_TOKEN="$token" dotnet "$root/artifacts/bin/Keel.Server/release/Keel.Server.dll" --urls "$url" --data-dir "$data" \
    --Logging:LogLevel:Default=Warning >"$data/server.log" 2>&1 &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data"' EXIT

for _ in $(seq 1 60); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.5; done
curl -sf "$url/readyz" >/dev/null || { echo "server did not start:" >&2; cat "$data/server.log" >&2; exit 1; }
