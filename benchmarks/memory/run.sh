#!/usr/bin/env bash
# Memory of a real Keel server (Release build, SQLite in a temporary folder): its RSS at idle over an empty store, then with
# N keys of B-byte values seeded straight into the database and every one of them read into the cache (batch reads of
# 1,000), beside the cache's own statistics.
# Usage: benchmarks/memory/run.sh [keys=1000000] [value-bytes=1024] [cache-max-bytes=4294967296]
# Needs sqlite3 and python3. Stops only the server it started.
set -euo pipefail

keys=${1:-1000000}
value_bytes=${2:-1024}
max_bytes=${3:-4294967296}
port=18084
server_extra_args=(--Keel:Cache:MaxEntries="$keys" --Keel:Cache:MaxBytes="$max_bytes")
# shellcheck source=../start-server.sh
source "$(dirname "$0")/../start-server.sh"

rss() { awk '/^VmRSS/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$server/status"; }
stats() { curl -s -H "Authorization: Bearer $token" "$url/api/v1/cache/stats"; }
sleep 5
echo "idle, empty store: RSS $(rss); cache $(stats)"

# The server is stopped for the seeding, which writes the database directly, and started again over it.
kill -TERM "$server"; wait "$server" || true
sqlite3 "$data/keel.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $keys - 1)
INSERT INTO configs (service_name, environment, config_key, version, value, value_type, is_encrypted, is_deleted,
                     created_at, updated_at, updated_by, revision, search_key)
SELECT 'mem', 'prod', 'key-' || i, 1, substr(printf('%0${value_bytes}d', i), 1, $value_bytes), 'string', 0, 0,
       1767225600000000, 1767225600000000, 'bench', i + 1, 'key-' || i
FROM s;
INSERT INTO config_versions (config_id, version, value, value_type, is_encrypted, change_type, created_at, created_by, revision)
SELECT id, 1, value, 'string', 0, 'create', created_at, 'bench', revision FROM configs;
UPDATE keel_revision SET revision = $keys, compacted_revision = $keys WHERE id = 1;
COMMIT;
SQL
KEEL_ADMIN_TOKEN="$token" dotnet "$root/artifacts/bin/Keel.Server/release/Keel.Server.dll" "${server_args[@]}" >>"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.5; done
echo "restarted over $keys keys of $value_bytes bytes: RSS $(rss)"

python3 - "$url" "$token" "$keys" <<'PY'
import json, sys, urllib.request
url, token, keys = sys.argv[1], sys.argv[2], int(sys.argv[3])
for start in range(0, keys, 1000):
    body = json.dumps({"service_name": "mem", "environment": "prod",
                       "config_keys": [f"key-{i}" for i in range(start, min(keys, start + 1000))]}).encode()
    request = urllib.request.Request(url + "/api/v1/config/batch", body, {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        found = len(json.load(answer)["configs"])
        assert found == min(keys, start + 1000) - start, found
PY
sleep 5
echo "every key read once: RSS $(rss); cache $(stats)"
