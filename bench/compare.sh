#!/usr/bin/env bash
# Two servers side by side: the same pages from A and from B, in turns, in one run, so that the
# machine's drift (other work, a warm or cold CPU) falls on both alike.
#
#   A_BIN=old/carethread bench/compare.sh                  # an older build (A) against this one (B)
#   B_ENV="CARETHREAD_METRICS_ADDR=127.0.0.1:3912" SCRAPE=1 bench/compare.sh   # metrics off, on
#
# A_BIN and B_BIN default to this checkout's release build; A_ENV and B_ENV are extra settings
# (VAR=value, space-separated) for each. With SCRAPE=1, whichever server has
# CARETHREAD_METRICS_ADDR set is scraped once a second while it is measured, as Prometheus would
# (every 15 s is usual). Loads a fresh database ($BENCH_DB, default carethread_compare) with
# COMMENTS comments on ARTICLES articles (defaults 10000 and 1000), then runs each case ROUNDS
# times (default 3) for $DURATION seconds (default 15) against A, then B, then A again… and prints
# each run (requests a second, and the server process's CPU time per request, which the other work on
# the machine moves less) and the medians of each side, with B as a share of A. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

COMMENTS=${1:-10000}
ARTICLES=${2:-1000}
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
SERVER=${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}
DB=${BENCH_DB:-carethread_compare}
WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { echo "Installing wrk…" >&2; apt-get install -y -qq wrk >/dev/null; }
if [ -z "${A_BIN:-}" ] || [ -z "${B_BIN:-}" ]; then
  echo "Building the release binary…" >&2
  SQLX_OFFLINE=true cargo build --release --quiet
fi
OWN=${CARGO_TARGET_DIR:-target}/release/carethread
A_BIN=${A_BIN:-$OWN}
B_BIN=${B_BIN:-$OWN}

export RUST_LOG=warn
load() { # binary, database: the same generated data, migrated by that binary
  psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2"
  DATABASE_URL=$SERVER/$2 "$1" migrate >/dev/null
  DATABASE_URL=$SERVER/$2 "$1" bench-data --articles "$ARTICLES" --comments "$COMMENTS" >/dev/null
}
# Two builds of different commits may know different migrations: each gets a database of its own,
# loaded by itself with the same generated data. The same build twice shares one.
A_DB=$DB B_DB=$DB
if ! cmp -s "$A_BIN" "$B_BIN"; then A_DB=${DB}_a B_DB=${DB}_b; load "$A_BIN" "$A_DB"; fi
load "$B_BIN" "$B_DB"

declare -A SERVER_PID
start() { # side, binary, port, extra settings
  local side=$1 bin=$2 port=$3 db
  if [ "$side" = A ]; then db=$A_DB; else db=$B_DB; fi
  # shellcheck disable=SC2086 # the settings are words on purpose
  env DATABASE_URL="$SERVER/$db" CARETHREAD_ADDR=127.0.0.1:$port $4 "$bin" serve > "$WORK/$side.log" 2>&1 &
  PIDS+=($!)
  SERVER_PID[$side]=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "server $side did not start:" >&2; cat "$WORK/$side.log" >&2; exit 1
}
start A "$A_BIN" 3910 "${A_ENV:-}"
start B "$B_BIN" 3911 "${B_ENV:-}"

metrics_of() { # extra settings → the metrics address, if any
  tr ' ' '\n' <<< "$1" | sed -n 's/^CARETHREAD_METRICS_ADDR=//p'
}

cat > "$WORK/random.lua" <<LUA
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/articles/bench-" .. math.random(1, $((ARTICLES - 1))))
end
LUA

measure() { # side, port, settings, case name, path, wrk arguments…
  local side=$1 port=$2 settings=$3 name=$4 path=$5; shift 5
  local scraper="" address
  address=$(metrics_of "$settings")
  if [ "${SCRAPE:-0}" = 1 ] && [ -n "$address" ]; then
    ( while :; do curl -fs "http://$address/metrics" -o /dev/null || true; sleep 1; done ) &
    scraper=$!
  fi
  local before after
  before=$(cpu_ticks "${SERVER_PID[$side]}")
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "$@" "http://127.0.0.1:$port$path" > "$WORK/out.txt" 2>&1 || true
  after=$(cpu_ticks "${SERVER_PID[$side]}")
  [ -z "$scraper" ] || kill "$scraper" 2>/dev/null || true
  local rps errors requests cpu
  rps=$(awk '/Requests\/sec/ { print $2 }' "$WORK/out.txt")
  requests=$(awk '/requests in/ { print $1 }' "$WORK/out.txt")
  errors=$(awk '/Non-2xx or 3xx/ { n += $5 } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$WORK/out.txt")
  # The server's own CPU time (user and system) for each request answered, in microseconds:
  # what the request cost this process, whatever else the machine was doing.
  cpu=$(awk -v t=$((after - before)) -v n="${requests:-0}" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print 0 }')
  printf '| %-28s | %s | %10s | %8s | %6s |\n' "$name" "$side" "${rps:-?}" "$cpu" "${errors:-0}"
  echo "$name|$side|${rps:-0}|$cpu" >> "$WORK/rates.txt"
}

cpu_ticks() { # pid → user + system clock ticks so far
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

echo
echo "carethread side by side: $(nproc) cores; $COMMENTS comments on $ARTICLES articles; wrk -t2 -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds"
echo "A: $A_BIN ${A_ENV:-}"
echo "B: $B_BIN ${B_ENV:-}"
[ "${SCRAPE:-0}" != 1 ] || echo "A server with a metrics address is scraped once a second while measured."
echo
printf '| %-28s | %s | %10s | %8s | %6s |\n' "case" "-" "requests/s" "CPU µs" "errors"
printf '|%s|---|------------|----------|--------|\n' "$(printf -- '-%.0s' {1..30})"
for round in $(seq 1 "$ROUNDS"); do
  # Alternate which side goes first, so neither always runs on a machine the other warmed.
  if [ $((round % 2)) = 1 ]; then order="A B"; else order="B A"; fi
  for side in $order; do
    if [ "$side" = A ]; then port=3910; settings=${A_ENV:-}; else port=3911; settings=${B_ENV:-}; fi
    measure "$side" "$port" "$settings" "hot article page" /articles/bench-hot
  done
  for side in $order; do
    if [ "$side" = A ]; then port=3910; settings=${A_ENV:-}; else port=3911; settings=${B_ENV:-}; fi
    measure "$side" "$port" "$settings" "random article pages" / -s "$WORK/random.lua"
  done
done
echo
python3 - "$WORK/rates.txt" <<'PY'
import statistics, sys
runs, cpu = {}, {}
for line in open(sys.argv[1]):
    case, side, rps, us = line.strip().split("|")
    runs.setdefault(case, {}).setdefault(side, []).append(float(rps))
    cpu.setdefault(case, {}).setdefault(side, []).append(float(us))
for case, sides in runs.items():
    a, b = statistics.median(sides["A"]), statistics.median(sides["B"])
    pairs = [f"{y / x:.2f}" for x, y in zip(sides["A"], sides["B"])]
    print(f"{case}: median A {a:,.0f}/s, B {b:,.0f}/s; B is {100 * b / a:.0f}% of A (round by round: {', '.join(pairs)})")
    ca, cb = statistics.median(cpu[case]["A"]), statistics.median(cpu[case]["B"])
    if ca > 0:
        pairs = [f"{y / x:.2f}" for x, y in zip(cpu[case]["A"], cpu[case]["B"]) if x > 0]
        print(f"  server CPU a request: median A {ca:.1f} µs, B {cb:.1f} µs; B takes {100 * cb / ca:.0f}% of A's (round by round: {', '.join(pairs)})")
PY
