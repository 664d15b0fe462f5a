#!/usr/bin/env bash
# Runs the cargo-fuzz targets (nightly toolchain), each for SECONDS (default 60), seeded from
# fuzz/seeds/TARGET. Prints each target's executions and findings; exits non-zero on a crash.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(rules reports cron duration)
status=0
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    log=$(mktemp)
    if cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result=CRASH
        status=1
    fi
    runs=$(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz $t: ${secs}s, ${runs:-?} executions, $result"
    if [ "$result" = CRASH ]; then
        grep -E "panicked|ERROR|SUMMARY|artifact" "$log" | head -20
    fi
    rm -f "$log"
done
exit $status
