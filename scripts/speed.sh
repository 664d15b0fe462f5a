#!/usr/bin/env bash
# Replay beside ripgrep (and, on GDELT, DuckDB), in the same run, best of N runs each
# (issue 18): the hit-dense corpus (1,000,000 JSON-lines reports x 1,000 broad commitments)
# and 5,000,000 GDELT rows x 1,000 commitments (and x the shipped KGZ-TJK rules). The data are the benchmarks' own
# (`cargo bench --bench replay -- --reports 1000000 --commitments 1000 --dense` and
# `cargo bench --bench gdelt -- --rows 5` write them into target/bench-data/ the first
# time). Needs rg (apt install ripgrep); DuckDB comes from PyPI (pip install duckdb).
#
# Usage: scripts/speed.sh [RUNS]   (default 3; PLEDGEWATCH=BINARY to time another build)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
BIN=${PLEDGEWATCH:-target/release/pledgewatch}
DATA=target/bench-data
[ -x "$BIN" ] || cargo build --release
command -v rg >/dev/null || { echo "speed.sh: needs rg (apt install ripgrep)" >&2; exit 1; }
python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb

# the best wall time of RUNS runs of a command (seconds), and its peak RSS (MiB)
best() {
    local best=999999 rss=0 t
    for _ in $(seq "$RUNS"); do
        if ! /usr/bin/time -o "$DATA/time.out" -f "%e %M" "$@" >/dev/null 2>"$DATA/time.err"; then
            echo "speed.sh: $* failed:" >&2
            cat "$DATA/time.err" >&2
            exit 1
        fi
        read -r wall kib < <(tail -1 "$DATA/time.out")
        if awk "BEGIN {exit !($wall < $best)}"; then best=$wall; rss=$((kib / 1024)); fi
    done
    echo "$best $rss"
}

# every phrase of a rules folder, one per line, for rg -f
phrases() {
    python3 - "$1" <<'PY'
import glob, sys, tomllib
seen = set()
for f in glob.glob(sys.argv[1] + "/*.toml"):
    for c in tomllib.load(open(f, "rb")).get("commitment", []):
        for block in ("evidence", "breach"):
            for alt in c.get(block, []):
                for key in ("keywords", "all_keywords", "not_keywords"):
                    seen.update(alt.get(key, []))
print("\n".join(sorted(seen)))
PY
}

corpus() { # NAME RULES FILES...
    local name=$1 rules=$2; shift 2
    phrases "$rules" > "$DATA/$name.phrases"
    read -r rg_wall _ <<<"$(best rg -c -i -w -F -f "$DATA/$name.phrases" "$@")"
    read -r replay_wall replay_rss <<<"$(best "$BIN" replay --rules "$rules" --reports "$@" --format json --as-of 2026-11-27)"
    read -r history_wall history_rss <<<"$(best "$BIN" history --rules "$rules" --reports "$@" --format json --as-of 2026-11-27)"
    echo "$name: rg $rg_wall s; replay $replay_wall s (peak RSS $replay_rss MiB, $(awk "BEGIN {printf \"%.1f\", $replay_wall / $rg_wall}")x rg); history $history_wall s (peak RSS $history_rss MiB, $(awk "BEGIN {printf \"%.2f\", $history_wall / $replay_wall}")x replay)"
}

corpus dense "$DATA/rules-dense-1000" "$DATA/reports-1000000.jsonl"
GDELT=$(ls "$DATA"/gdelt/part-00[0-4].export.CSV)
# shellcheck disable=SC2086
corpus gdelt-5m "$DATA/gdelt/rules" $GDELT
# the same rows against the shipped KGZ-TJK rules: few parties, as an analyst replays GDELT
# shellcheck disable=SC2086
corpus gdelt-5m-kgz-tjk rules $GDELT

# DuckDB (two threads): the structural half of the question only — parse the 5M rows and
# group them by actor countries and event root; no phrases
cat > "$DATA/group_by_actors.py" <<PY
import duckdb, sys
con = duckdb.connect()
con.execute("SET threads = 2")
cols = {f"c{i}": "VARCHAR" for i in range(61)}
con.execute("""SELECT c7, c17, c28, count(*) FROM read_csv(?, delim='\t', header=false,
    quote='', escape='', all_varchar=true, columns=?) GROUP BY ALL""", [sys.argv[1:], cols]).fetchall()
PY
# shellcheck disable=SC2086
read -r duck_wall _ <<<"$(best python3 "$DATA/group_by_actors.py" $GDELT)"
echo "gdelt-5m: DuckDB parse and group by actors and event root: $duck_wall s"
