#!/usr/bin/env bash
# Bulk import and export of a real Keel server (Release build): a JSON file of many keys (default 100,000, nested like
# appsettings.json, a third each numbers, strings and booleans) imported into a new environment, exported, imported back
# (a no-op), then imported with every value changed. Each step is timed end to end by curl, over `runs` environments.
# Usage: benchmarks/transfer/run.sh [sqlite|postgres] [keys=100000] [runs=3]
# postgres needs KEEL_BENCH_POSTGRES (see ../start-server.sh).
set -euo pipefail

provider=${1:-sqlite}
keys=${2:-100000}
runs=${3:-3}
port=18082
# shellcheck source=../start-server.sh
source "$(dirname "$0")/../start-server.sh"

# file <keys> <value suffix>: {"group-0": {"key-0": 0, "key-1": "value-1", "key-2": true, ...}, "group-1": {...}, ...},
# 100 keys per group.
file() {
    awk -v n="$1" -v s="$2" 'BEGIN {
        printf "{";
        for (i = 0; i < n; i++) {
            if (i % 100 == 0) printf "%s\"group-%d\": {", (i > 0 ? "}, " : ""), i / 100;
            else printf ", ";
            if (i % 3 == 0) v = i * 10 + length(s); else if (i % 3 == 1) v = "\"value-" i s "\""; else v = (s == "" ? "true" : "false");
            printf "\"key-%d\": %s", i, v;
        }
        print "}}";
    }'
}

file "$keys" "" >"$data/initial.json"
file "$keys" "-changed" >"$data/changed.json"
echo "files: $(wc -c <"$data/initial.json") and $(wc -c <"$data/changed.json") bytes, $keys keys each ($provider)"

# step <name> <method> <path> [file]: prints the seconds curl took and the counts of the answer's lists.
step() {
    local name=$1 method=$2 path=$3 body=${4:-}
    local args=(-s -o "$data/answer" -w '%{http_code} %{time_total}' -X "$method" -H "Authorization: Bearer $token")
    if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' --data-binary "@$body"); fi
    local out status seconds
    out=$(curl "${args[@]}" "$url$path")
    status=${out% *} seconds=${out#* }
    [ "$status" = 200 ] || { echo "$name: HTTP $status: $(head -c 500 "$data/answer")" >&2; exit 1; }
    local counts
    counts=$(python3 -c 'import json, sys
a = json.load(open(sys.argv[1]))
print(" ".join(f"{k}={len(a[k]) if isinstance(a[k], list) else a[k]}" for k in ("added", "changed", "removed", "unchanged")))' "$data/answer" 2>/dev/null || echo "$(wc -c <"$data/answer") bytes")
    printf '%-28s %7.2f s  %s\n' "$name" "$seconds" "$counts"
}

for run in $(seq 1 "$runs"); do
    env="bench-$run"
    echo "== run $run (environment $env)"
    step "dry run of a new import" POST "/api/v1/config/import-bench/$env/import?dry_run=true" "$data/initial.json"
    step "import, every key new" POST "/api/v1/config/import-bench/$env/import" "$data/initial.json"
    step "export (json)" GET "/api/v1/config/import-bench/$env/export?format=json"
    cp "$data/answer" "$data/exported.json"
    step "import of the export" POST "/api/v1/config/import-bench/$env/import" "$data/exported.json"
    step "import, every value changed" POST "/api/v1/config/import-bench/$env/import" "$data/changed.json"
done
