#!/usr/bin/env bash
# Soak test (not run by CI): feeds the release build a steady stream of good and bad files
# for DURATION seconds (default 1800), samples RSS, open file descriptors and the ledger's
# counts every 10 s, and fails on memory or descriptor growth and on any lost or
# double-counted report. Prints the samples as CSV and a summary.
#
# Usage: scripts/soak.sh [DURATION] [FILES_PER_SECOND]     (cargo build --release first)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-1800}
RATE=${2:-20}
BIN=$(pwd)/target/release/pledgewatch
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/rules" "$WORK/staging"
cp rules/*.toml "$WORK/rules/"
cat > "$WORK/pw.toml" <<CONF
rules_dir = "rules"
inbox_dir = "inbox"
state_dir = "state"
[alerts]
file = "alerts.jsonl"
[log]
level = "warn"
[inbox]
settle = "200ms"
rescan_interval = "5s"
CONF
"$BIN" run --config "$WORK/pw.toml" --log-format json 2>"$WORK/log.jsonl" &
PID=$!
sleep 1
good=0
bad=0
start=$(date +%s)
next_sample=$start
echo "seconds,rss_kib,fds,reports_read,rejected_records,processed_files,rejected_files"
samples=()
while :; do
    now=$(date +%s)
    elapsed=$((now - start))
    [ "$elapsed" -ge "$DURATION" ] && break
    for _ in $(seq "$RATE"); do
        i=$((good + bad))
        if [ $((i % 10)) -eq 9 ]; then
            # a bad file: alternately an unparsable one and one with a bad record among good
            if [ $((bad % 2)) -eq 0 ]; then
                printf '{"date": "2010-13-01", "actors": ["KGZ"], "kind": "meeting", "title": "bad %d"}' "$i" > "$WORK/staging/b$i.json"
            else
                printf 'not json %d\n' "$i" > "$WORK/staging/b$i.jsonl"
            fi
            mv "$WORK"/staging/b$i.* "$WORK/inbox/"
            bad=$((bad + 1))
        else
            printf '{"date": "2010-01-01", "actors": ["KGZ", "TJK"], "kind": "meeting", "title": "soak %d"}' "$i" > "$WORK/staging/g$i.json"
            mv "$WORK/staging/g$i.json" "$WORK/inbox/"
            good=$((good + 1))
        fi
    done
    if [ "$now" -ge "$next_sample" ]; then
        rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
        fds=$(ls /proc/$PID/fd | wc -l)
        counts=$("$BIN" status --config "$WORK/pw.toml" --as-of 2010-12-31 --format json | python3 -c 'import json,sys; r=json.load(sys.stdin)["reports"]; print(r["read"], r["rejected"])')
        read_n=${counts% *}
        rej_n=${counts#* }
        proc=$(find "$WORK/state/processed" -type f ! -name '*.error' | wc -l)
        rejf=$(find "$WORK/state/rejected" -type f ! -name '*.error' | wc -l)
        line="$elapsed,$rss,$fds,$read_n,$rej_n,$proc,$rejf"
        echo "$line"
        samples+=("$line")
        next_sample=$((now + 10))
    fi
    sleep 1
done
# drain
for _ in $(seq 300); do [ -z "$(ls -A "$WORK/inbox")" ] && break; sleep 0.1; done
sleep 1
read_n=$("$BIN" status --config "$WORK/pw.toml" --as-of 2010-12-31 --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["reports"]["read"])')
proc=$(find "$WORK/state/processed" -type f ! -name '*.error' | wc -l)
rejf=$(find "$WORK/state/rejected" -type f ! -name '*.error' | wc -l)
rss_first=$(echo "${samples[2]:-${samples[0]}}" | cut -d, -f2)
rss_last=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
fd_first=$(echo "${samples[2]:-${samples[0]}}" | cut -d, -f3)
fd_last=$(ls /proc/$PID/fd | wc -l)
echo "summary: ${DURATION}s at ${RATE} files/s: $good good files, $bad bad files; reports read $read_n; processed files $proc, rejected files $rejf; RSS ${rss_first} -> ${rss_last} KiB; fds ${fd_first} -> ${fd_last}"
status=0
[ "$read_n" -eq "$good" ] || { echo "FAIL: $good good reports dropped, $read_n counted" >&2; status=1; }
[ $((proc + rejf)) -eq $((good + bad)) ] || { echo "FAIL: $((good + bad)) files dropped, $((proc + rejf)) accounted for" >&2; status=1; }
[ "$rss_last" -le $((rss_first * 3 / 2 + 4096)) ] || { echo "FAIL: RSS grew from $rss_first to $rss_last KiB" >&2; status=1; }
[ "$fd_last" -le $((fd_first + 2)) ] || { echo "FAIL: descriptors grew from $fd_first to $fd_last" >&2; status=1; }
[ $status -eq 0 ] && echo "soak: ok"
exit $status
