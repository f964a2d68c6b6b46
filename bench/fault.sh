#!/usr/bin/env bash
# Fault drills: a database outage under load, two app processes, 500 slow connections, the mail
# server away while replies are published, SIGTERM under load.
#
#   bench/fault.sh
#   FAULT_SMTP_DOWN=20 FAULT_SMTP_NUDGE=1 bench/fault.sh     # a shorter mail drill
#
# Builds a release binary, creates a private PostgreSQL cluster in a temporary folder (port
# $FAULT_PG_PORT, default 5499, so stopping it harms nothing else), runs two carethread processes
# on it (ports $FAULT_APP_PORTS, default "3911 3912") and drives steady posting and reading with
# bench/fault.py while PostgreSQL is stopped in immediate mode for 10 s, holds 500 connections open
# with half-sent request headers while readers keep reading, stops the SMTP server the processes
# send through (run by bench/fault.py on port $FAULT_SMTP_PORT, default 2599) for $FAULT_SMTP_DOWN
# seconds (default 60) while a midwife publishes replies, then SIGTERMs one process. The app
# processes run with CARETHREAD_HEADER_TIMEOUT_SECONDS=5 ($FAULT_HEADER_TIMEOUT) to keep the drill
# short, and CARETHREAD_NOTIFY_BATCH_MINUTES=0. After the SMTP server returns the drill waits for the
# worker's own retries (usually up to a minute more, two for a mail tried again just before the
# server returned); FAULT_SMTP_NUDGE=1 makes the waiting mails due at once.
# Prints each check as PASS or FAIL and exits non-zero when any fails. Needs PostgreSQL's server
# programs (initdb, pg_ctl), psql and python3. Not part of the test suite; takes six to seven minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
  echo "PostgreSQL's server programs were not found; set PG_BIN to the folder holding initdb and pg_ctl." >&2
  exit 2
fi
for tool in psql python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done

echo "Building the release binary…" >&2
SQLX_OFFLINE=true cargo build --release --quiet

WORK=$(mktemp -d)
RUN_AS=()
[ "$(id -u)" -eq 0 ] && RUN_AS=(runuser -u postgres --)
cleanup() {
  [ -f "$WORK/pg/postmaster.pid" ] && "${RUN_AS[@]}" "$PG_BIN/pg_ctl" stop -m immediate -D "$WORK/pg" >/dev/null 2>&1
  [ -n "${KEEP_LOGS:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

TARGET=${CARGO_TARGET_DIR:-target}
case "$TARGET" in /*) ;; *) TARGET=$PWD/$TARGET ;; esac
CARETHREAD_BIN=$TARGET/release/carethread PG_BIN=$PG_BIN WORK=$WORK python3 bench/fault.py
