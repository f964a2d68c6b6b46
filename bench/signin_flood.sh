#!/usr/bin/env bash
# Measures one carethread process's memory under a flood of wrong sign-ins.
#
#   bench/signin_flood.sh
#
# Builds a release binary, creates a fresh database (carethread_flood on BENCH_SERVER's server,
# default postgres://postgres@127.0.0.1:5432; dropped again at the end), starts the server with
# 127.0.0.1 as a trusted proxy so that each attempt can come from its own address, and runs
# bench/signin_flood.py: 200 wrong sign-ins 100 at a time, then 200 at once. Prints the server's
# resident memory before the flood, its peak in each round (VmHWM), the answers by status (401
# checked and wrong, 503 too many checks at once, 429 locked out) and the time taken. Exits
# non-zero if the peak reaches 150 MB. Allocator settings (glibc's MALLOC_*_ variables) pass through
# to the server and are named in the output. Needs psql and python3. Not part of the test suite; takes
# under a minute once built.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER=${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}
DB=carethread_flood
PORT=${FLOOD_PORT:-3901}
WORK=$(mktemp -d)
cleanup() {
  kill "${PID:-}" 2>/dev/null && wait "${PID:-}" 2>/dev/null
  psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "Building the release binary…" >&2
SQLX_OFFLINE=true cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/carethread

PGOPTIONS=--client-min-messages=warning psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL=$SERVER/$DB
$BIN migrate >/dev/null
CARETHREAD_PASSWORD="flood lantern orbit velvet" $BIN user add --email flood.moderator@example.org \
  --name "Flood Moderator" --role moderator >/dev/null

CARETHREAD_ADDR=127.0.0.1:$PORT CARETHREAD_TRUSTED_PROXIES=127.0.0.1 RUST_LOG=warn \
  $BIN serve > "$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

echo
echo "carethread $(git rev-parse --short HEAD), $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; one process," \
  "release build; wrong sign-ins from distinct addresses (X-Forwarded-For via a trusted local proxy) for distinct unknown emails"
env | grep '^MALLOC_' | sed 's/^/Allocator setting passed to the server: /' || true
status=0
FLOOD_PORT=$PORT FLOOD_PID=$PID python3 bench/signin_flood.py || status=$?
# Each 503 is also logged (at error level, by the sign-in layer): count those, show anything else.
busy=$(grep -c 'too many password checks at once' "$WORK/server.log" || true)
echo "Server log: $busy lines \"too many password checks at once\" (one per 503)."
if grep -v 'too many password checks at once' "$WORK/server.log" | grep -qiE 'panic|error'; then
  echo "The server logged other errors:" >&2
  grep -v 'too many password checks at once' "$WORK/server.log" | grep -iE 'panic|error' | head -5 >&2
  status=1
fi
exit $status
