#!/usr/bin/env bash
# Sourced by the benchmark scripts: builds the server and the benchmark tool in Release, starts the server on
# 127.0.0.1:$port over a temporary data folder with a random admin token, waits until it is ready, and stops it (only it)
# when the calling script exits. Sets: root, data, url, token, server. Settings in the array server_extra_args, if the
# caller sets it, are passed to the server too; commands the caller appends to on_exit run first at exit.
# With provider=postgres (and KEEL_BENCH_POSTGRES, a connection string of a user who may create databases), the server
# stores in a new database keel_bench_$port, dropped again on exit; otherwise it uses SQLite in the data folder.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=$(mktemp -d)
url="http://127.0.0.1:${port:?set port before sourcing}"
token="bench-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
server_args=(--urls "$url" --data-dir "$data" --Logging:LogLevel:Default=Warning ${server_extra_args[@]+"${server_extra_args[@]}"})
drop_database=""

if [ "${provider:-sqlite}" = postgres ]; then
    admin=${KEEL_BENCH_POSTGRES:?set KEEL_BENCH_POSTGRES}
    database="keel_bench_$port"
    psql_admin=$(echo "$admin" | sed -E 's/Host=([^;]*)/host=\1/I; s/Username=([^;]*)/user=\1/I; s/Password=([^;]*)/password=\1/I; s/Database=([^;]*)/dbname=\1/I; s/Port=([^;]*)/port=\1/I; s/;/ /g')
    psql "$psql_admin" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE);" -c "CREATE DATABASE $database;"
    drop_database="psql \"\$psql_admin\" -qc \"DROP DATABASE IF EXISTS $database WITH (FORCE);\""
    server_args+=(--Keel:Storage:Provider=postgres "--Keel:Storage:Postgres:ConnectionString=$(echo "$admin" | sed -E "s/Database=[^;]*/Database=$database/I")"
                  "--Keel:Encryption:MasterKey=$(head -c 32 /dev/urandom | base64)")
fi

dotnet build -c Release "$root/src/Keel.Server" -v quiet -nologo >/dev/null
dotnet build -c Release "$root/benchmarks/Keel.Benchmarks" -v quiet -nologo >/dev/null

KEEL_ADMIN_TOKEN="$token" dotnet "$root/artifacts/bin/Keel.Server/release/Keel.Server.dll" "${server_args[@]}" >"$data/server.log" 2>&1 &
server=$!
on_exit=""
trap 'eval "$on_exit"; kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data"; eval "$drop_database"' EXIT

for _ in $(seq 1 60); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.5; done
curl -sf "$url/readyz" >/dev/null || { echo "server did not start:" >&2; cat "$data/server.log" >&2; exit 1; }
