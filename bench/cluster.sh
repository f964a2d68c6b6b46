#!/usr/bin/env bash
# A small cluster on one machine: a PostgreSQL primary and a streaming standby made with
# pg_basebackup, three carethread processes reading public pages from the standby
# (CARETHREAD_REPLICA_URLS), and Varnish in front of them.
#
#   bench/cluster.sh
#
# Builds the release binary, creates both PostgreSQL clusters in a temporary folder with the
# machine's server programs (ports $CLUSTER_PRIMARY_PORT and $CLUSTER_STANDBY_PORT, default 55432
# and 55433, so stopping them harms nothing else; run as the postgres user when this script runs
# as root), starts three processes (ports 3921-3923, metrics on 9921-9923) and varnishd on
# 127.0.0.1:6093 with docs/varnish.vcl turned into three backends, then, while wrk readers read
# through Varnish and drill threads read and post straight to the processes (bench/cluster.py):
#
#   1. the standby is in use by every process (per-replica metrics, and its query counter);
#   2. the standby is stopped: reads fall back to the primary with no error answer;
#   3. the standby is started again: every process uses it again;
#   4. a moderator approves comments: each shows through every process, and through Varnish;
#   5. the primary is stopped for 10 s: the usual outage (503 with Retry-After, back without a
#      restart), and every post answered 303 is stored exactly once.
#
# Prints each check as PASS or FAIL, the replica lag observed, and exits non-zero when any check
# fails. Needs wrk and varnishd (apt-get install -y varnish wrk), psql and python3. Not part of the
# test suite; takes about three minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_basebackup" ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[ -x "$PG_BIN/pg_basebackup" ] || { echo "PostgreSQL's server programs were not found; set PG_BIN" >&2; exit 2; }
for tool in wrk varnishd psql python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed: apt-get install -y varnish wrk postgresql-client python3" >&2; exit 2; }
done

if [ -z "${CARETHREAD_BIN:-}" ]; then
  echo "Building the release binary…" >&2
  SQLX_OFFLINE=true cargo build --release --quiet
fi
TARGET=${CARGO_TARGET_DIR:-target}
case "$TARGET" in /*) ;; *) TARGET=$PWD/$TARGET ;; esac

WORK=$(mktemp -d)
RUN_AS=()
[ "$(id -u)" -eq 0 ] && RUN_AS=(runuser -u postgres --)
cleanup() {
  # The drill's own processes (carethread, varnishd, wrk) are stopped by bench/cluster.py; the
  # PostgreSQL servers here, whatever state the drill left them in.
  for data in "$WORK/standby" "$WORK/primary"; do
    [ -f "$data/postmaster.pid" ] && "${RUN_AS[@]}" "$PG_BIN/pg_ctl" stop -m immediate -D "$data" >/dev/null 2>&1
  done
  [ -n "${KEEP_LOGS:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

CARETHREAD_BIN=${CARETHREAD_BIN:-$TARGET/release/carethread} PG_BIN=$PG_BIN WORK=$WORK python3 bench/cluster.py
