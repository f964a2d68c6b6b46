#!/usr/bin/env bash
# Times a large WordPress import and its peak memory.
#
#   bench/import.sh [COMMENTS]        default: 1000000 (on COMMENTS / 100 posts)
#
# Generates a synthetic WXR with bench/make_wxr.py, builds a release binary, imports the file into
# a fresh database (carethread_import_bench on DATABASE_URL's server, default
# postgres://postgres@127.0.0.1:5432) and prints the time, comments a second and the peak
# resident memory of the import (GNU time if present, else by polling /proc). Not part of the
# test suite. BENCH_BIN imports with a carethread binary already built (another commit's, say) instead
# of building one; BENCH_FILE reuses a generated file; RUST_LOG=carethread=info shows how long
# reading and staging took, and storing.
set -euo pipefail
cd "$(dirname "$0")/.."

COMMENTS=${1:-1000000}
SERVER=${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}
DB=carethread_import_bench
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ -n "${BENCH_FILE:-}" ]; then
    FILE=$BENCH_FILE
else
    echo "Generating $COMMENTS comments…" >&2
    POSTS=$(( COMMENTS / 100 > 0 ? COMMENTS / 100 : 1 ))
    FILE=$WORK/big.xml
    python3 bench/make_wxr.py "$COMMENTS" "$POSTS" > "$FILE"
fi
SIZE=$(du -h "$FILE" | cut -f1)

if [ -n "${BENCH_BIN:-}" ]; then
    BIN=$BENCH_BIN
else
    cargo build --release --quiet
    BIN=${CARGO_TARGET_DIR:-target}/release/carethread
fi

psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export DATABASE_URL="$SERVER/$DB" RUST_LOG=${RUST_LOG:-off}
"$BIN" migrate >/dev/null

START=$(date +%s.%N)
if [ -x /usr/bin/time ]; then
    /usr/bin/time -v "$BIN" import wordpress "$FILE" >"$WORK/out" 2>"$WORK/time"
    PEAK_KB=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/time")
else
    "$BIN" import wordpress "$FILE" >"$WORK/out" 2>/dev/null &
    PID=$!
    PEAK_KB=0
    while kill -0 "$PID" 2>/dev/null; do
        RSS=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status" 2>/dev/null || echo 0)
        [ "${RSS:-0}" -gt "$PEAK_KB" ] && PEAK_KB=$RSS
        sleep 0.2
    done
    wait "$PID"
fi
END=$(date +%s.%N)
cat "$WORK/out"
grep -h "import:" "$WORK/out" "$WORK/time" 2>/dev/null >&2 || true
IMPORTED=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM comments")
SECONDS_TAKEN=$(echo "$END - $START" | bc)
printf '\nFile: %s, %s comments\nImported: %s comments in %.1f s (%.0f a second)\nPeak RSS: %d MB\n' \
    "$SIZE" "$COMMENTS" "$IMPORTED" "$SECONDS_TAKEN" "$(echo "$IMPORTED / $SECONDS_TAKEN" | bc -l)" "$((PEAK_KB / 1024))"
