#!/usr/bin/env bash
# Soak: a Release Keel server process under mixed load (two readers of cached keys, a writer at about 20 writes/s, ten SSE
# watchers that reconnect every few seconds, and a signed webhook delivery for every write) for a duration, 30 minutes by
# default. Every 5 s it samples the server's resident memory, open files and threads from /proc; it fails on any answer of
# 500 or more, a lost webhook delivery, or growth past the bounds in tests/Keel.Server.Tests/Soak/SoakTests.cs.
# Usage: benchmarks/soak/run.sh [duration=00:30:00] [report=benchmarks/soak/report.md]
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
duration=${1:-00:30:00}
report=${2:-"$root/benchmarks/soak/report.md"}
cd "$root"
rm -f "$report"
status=0
KEEL_SOAK_DURATION="$duration" KEEL_SOAK_REPORT="$report" \
    dotnet test --project tests/Keel.Server.Tests -c Release -- --filter-class Keel.Server.Tests.Soak.SoakTests || status=$?
echo
# The report is written before the bounds are checked, so a failed run still shows its figures.
[ -f "$report" ] && cat "$report"
exit "$status"
