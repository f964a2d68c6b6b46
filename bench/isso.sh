#!/usr/bin/env bash
# Posting side by side with Isso 0.14, a peer comment server, in one run on this machine.
#
#   bench/isso.sh [COMMENTS] [ARTICLES]      defaults: 10000 comments, 1000 articles
#
# 1. Isso: installs Isso $ISSO_VERSION and gunicorn from PyPI into a virtualenv kept in
#    ${XDG_CACHE_HOME:-~/.cache}/carethread/isso-venv, writes an isso.cfg (SQLite database in a
#    temporary folder, moderation on), loads it with as many comments on as many threads as
#    carethread gets (ISSO_COMMENTS=0 starts it empty), runs it as its documentation deploys it
#    (gunicorn, 4 workers, --preload isso.run, ISSO_SETTINGS) and posts to it with wrk:
#    POST /new?uri=/bench-N, JSON, a title given, to random threads, each text unique, each post
#    from its own reader address.
# 2. carethread: a fresh database (carethread_bench_isso on BENCH_SERVER, default
#    postgres://postgres@127.0.0.1:5432) loaded by bench-data, started as bench/run.sh starts it,
#    and posted to as readers do: each post follows a page read, and sends a form stamp read from a
#    thread page (one at least CARETHREAD_MIN_FORM_SECONDS old, as a reader's form is by the time
#    they send it), from its own reader address.
#
# Both with wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --timeout ${TIMEOUT}s (30 s, so that slow
# answers count in the latencies), one after the other. Afterwards each server's stored comments
# are counted and compared with the posts it confirmed (Isso: 201/202, carethread: 303). The
# per-address limits of both stay on: every post carries a random X-Forwarded-For, believed from
# 127.0.0.1 as from a proxy in front. synchronous_commit is not touched. BENCH_BIN runs a
# carethread binary already built instead of building one. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

COMMENTS=${1:-10000}
ARTICLES=${2:-1000}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
# wrk's own timeout (2 s by default) would leave slower answers out of its latency figures.
TIMEOUT=${TIMEOUT:-30}
# Isso is loaded with as many comments as carethread unless told otherwise (0: an empty database).
ISSO_COMMENTS=${ISSO_COMMENTS:-$COMMENTS}
SERVER=${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}
DB=carethread_bench_isso
ADDR=127.0.0.1:3921
BASE=http://$ADDR
ISSO_ADDR=127.0.0.1:3922
ISSO_VERSION=0.14.0 # the latest 0.14 release on PyPI
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/carethread/isso-venv
MIN_FORM=${CARETHREAD_MIN_FORM_SECONDS:-3}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
  echo "Installing wrk…" >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi

if [ -n "${BENCH_BIN:-}" ]; then
  BIN=$BENCH_BIN
else
  echo "Building the release binary…" >&2
  SQLX_OFFLINE=true cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/carethread
fi

if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('isso') != '$ISSO_VERSION')" 2>/dev/null \
   || [ ! -x "$VENV/bin/gunicorn" ]; then
  echo "Installing Isso $ISSO_VERSION and gunicorn into $VENV…" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "isso==$ISSO_VERSION" gunicorn
fi
GUNICORN_VERSION=$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('gunicorn'))")

# Counts what wrk did, from counters each wrk thread keeps in its Lua state, printed by done() as
# one line: "COUNTS reads=… pages=… posts=… confirmed=… other=… seconds=…".
LUA_COMMON='
local threads = {}
local next_id = 0
setup = function(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end
-- A reader somewhere: a random address in 11.0.0.0-126.255.255.255, so that no two posts share a
-- /24 (Isso counts addresses by /24) except by rare chance.
reader = function()
  return math.random(11, 126) .. "." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
end
done = function(summary, latency, requests)
  local t = { reads = 0, pages = 0, posts = 0, confirmed = 0, other = 0 }
  for _, thread in ipairs(threads) do
    for k in pairs(t) do t[k] = t[k] + thread:get(k) end
  end
  local statuses = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("first_other")
    if s and s ~= "" then table.insert(statuses, s) end
  end
  io.write(string.format("COUNTS reads=%d pages=%d posts=%d confirmed=%d other=%d seconds=%.3f first_other=%s\n",
    t.reads, t.pages, t.posts, t.confirmed, t.other, summary.duration / 1e6, table.concat(statuses, ",")))
end
'

# wrk output → "rps p50 p99 socket_errors" and the counters above.
summarise() { # wrk output file
  local out=$1
  P50=$(awk '$1 == "50%" { print $2 }' "$out")
  P99=$(awk '$1 == "99%" { print $2 }' "$out")
  SOCKET_ERRORS=$(awk '/Socket errors/ { gsub(",", ""); s = $4 + $6 + $8 + $10 } END { print s + 0 }' "$out")
  local line
  line=$(grep '^COUNTS ' "$out" || true)
  if [ -z "$line" ]; then
    echo "wrk did not finish:" >&2
    cat "$out" >&2
    exit 1
  fi
  for kv in ${line#COUNTS }; do
    case "$kv" in
      reads=*) READS=${kv#*=} ;; pages=*) PAGES=${kv#*=} ;; posts=*) POSTS=${kv#*=} ;;
      confirmed=*) CONFIRMED=${kv#*=} ;; other=*) OTHER=${kv#*=} ;; seconds=*) SECONDS_RUN=${kv#*=} ;;
      first_other=*) FIRST_OTHER=${kv#*=} ;;
    esac
  done
  RATE=$(awk -v n="$CONFIRMED" -v s="$SECONDS_RUN" 'BEGIN { printf "%.2f", n / s }')
}

# Waits until a count (a command printing a number first) stops changing: the servers finish the
# posts wrk left them before anything is counted.
settle() {
  local last="" now
  for _ in $(seq 1 60); do
    now=$("$@" | awk '{ print $1 }')
    [ "$now" != "$last" ] || return 0
    last=$now
    sleep 1
  done
}

# ---------------------------------------------------------------------------------------------
# Isso
# ---------------------------------------------------------------------------------------------

# Isso's own default configuration, with: the database in the temporary folder; the site at a
# local origin; moderation on (carethread holds every guest comment for a moderator too); the
# guard (per-address rate limit) left on with its defaults, and 127.0.0.1 named as a trusted
# proxy so that each post's X-Forwarded-For names its reader, as for carethread.
mkdir -p "$WORK/isso"
cat > "$WORK/isso/isso.cfg" <<CFG
[general]
dbpath = $WORK/isso/comments.db
host = $BASE/

[moderation]
enabled = true

[server]
listen = http://$ISSO_ADDR/
trusted-proxies = 127.0.0.1

[guard]
enabled = true
ratelimit = 2
direct-reply = 3
CFG
export ISSO_SETTINGS=$WORK/isso/isso.cfg

# The same amount of data as carethread gets (ISSO_COMMENTS, default COMMENTS, comments on ARTICLES
# threads, a tenth of them waiting for moderation), posted over the past year from many addresses.
# Isso's schema comes from Isso itself.
ISSO_BEFORE=$("$VENV/bin/python" - "$ISSO_COMMENTS" "$ARTICLES" <<'PY'
import os, random, sqlite3, sys, time
import logging
logging.disable(logging.INFO)
from isso import config, db
from isso.utils import Bloomfilter

comments, articles = int(sys.argv[1]), int(sys.argv[2])
conf = config.load(config.default_file(), os.environ["ISSO_SETTINGS"])
path = conf.get("general", "dbpath")
db.SQLite3(path, conf)
rng = random.Random(1)
now = time.time()
words = ("we were told to wait and see how the baby feeds overnight but the midwife said "
         "to ring the ward if anything changes does anyone know how long this usually lasts").split()
con = sqlite3.connect(path)
with con:
    con.executemany("INSERT INTO threads (uri, title) VALUES (?, ?)",
                    [(f"/bench-{n}", f"Bench article {n}") for n in range(1, articles)])
    rows = []
    for i in range(comments):
        addr = f"{rng.randint(11, 126)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0"
        text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 80))).capitalize() + "."
        # Waiting ones from the last fortnight: Isso purges those older than purge-after (30d).
        pending = i % 10 == 0
        rows.append((rng.randint(1, articles - 1), now - rng.uniform(3600, (14 if pending else 365) * 86400),
                     2 if pending else 1, addr, text, "Earlier reader",
                     memoryview(Bloomfilter(iterable=[addr]).array)))
    con.executemany("INSERT INTO comments (tid, created, mode, remote_addr, text, author, voters) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
print(con.execute("SELECT coalesce(max(id), 0) FROM comments").fetchone()[0])
PY
)

# As Isso's documentation deploys it: gunicorn, 4 (sync) workers, the application preloaded.
"$VENV/bin/gunicorn" -b "$ISSO_ADDR" -w 4 --preload isso.run > "$WORK/isso/server.log" 2>&1 &
ISSO_PID=$!
PIDS+=("$ISSO_PID")
for _ in $(seq 1 150); do curl -fs "http://$ISSO_ADDR/info" >/dev/null && break; sleep 0.2; done
curl -fs "http://$ISSO_ADDR/info" >/dev/null || { echo "Isso did not start:" >&2; cat "$WORK/isso/server.log" >&2; exit 1; }

cat > "$WORK/isso.lua" <<LUA
$LUA_COMMON
init = function(args)
  math.randomseed(os.time() * 1000 + id * 7919)
  reads, pages, posts, confirmed, other, first_other = 0, 0, 0, 0, 0, ""
end
-- Isso's form has no token: a reader's post is this one request, as its embed.js sends it.
request = function()
  posts = posts + 1
  local n = math.random(1, $((ARTICLES - 1)))
  local body = '{"text": "Comment ' .. id .. '-' .. posts .. ' ' .. math.random(1, 1000000000)
    .. ' from a reader.", "author": "Bench reader", "title": "Bench article ' .. n .. '"}'
  return wrk.format("POST", "/new?uri=%2Fbench-" .. n,
    {["Content-Type"] = "application/json", ["Origin"] = "$BASE", ["X-Forwarded-For"] = reader()}, body)
end
response = function(status, headers, body)
  if status == 201 or status == 202 then
    confirmed = confirmed + 1
  else
    other = other + 1
    if first_other == "" then first_other = tostring(status) end
  end
end
LUA

isso_stored() {
  "$VENV/bin/python" - "$WORK/isso/comments.db" "$ISSO_BEFORE" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
rows = con.execute("SELECT mode, count(*) FROM comments WHERE id > ? GROUP BY mode ORDER BY mode",
                   (int(sys.argv[2]),)).fetchall()
names = {1: "published", 2: "pending", 4: "deleted"}
print(sum(n for _, n in rows), ", ".join(f"{names.get(m, m)} {n}" for m, n in rows) or "none")
PY
}

echo "Posting to Isso $ISSO_VERSION (gunicorn $GUNICORN_VERSION, 4 workers) for ${DURATION}s…" >&2
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout "${TIMEOUT}s" --latency -s "$WORK/isso.lua" "http://$ISSO_ADDR" \
  > "$WORK/isso-wrk.txt" 2>&1 || true
settle isso_stored
summarise "$WORK/isso-wrk.txt"
I_RATE=$RATE I_P50=$P50 I_P99=$P99 I_ERR=$((SOCKET_ERRORS + OTHER)) I_POSTS=$POSTS I_CONFIRMED=$CONFIRMED
I_OTHER=$OTHER I_FIRST_OTHER=$FIRST_OTHER
read -r I_STORED I_BY_MODE <<< "$(isso_stored)"
kill "$ISSO_PID" 2>/dev/null || true
wait "$ISSO_PID" 2>/dev/null || true

# ---------------------------------------------------------------------------------------------
# carethread
# ---------------------------------------------------------------------------------------------

psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL=$SERVER/$DB
"$BIN" migrate >/dev/null
"$BIN" bench-data --articles "$ARTICLES" --comments "$COMMENTS" >/dev/null

# As bench/run.sh: 127.0.0.1 is a trusted proxy, so each post's random X-Forwarded-For is its
# reader and the per-address limit (5 per 10 minutes) applies as it would live; the per-article
# limit (60 per 10 minutes) is lifted, since tens of thousands of comments in seconds on a
# thousand articles exceed it. Nothing else is changed.
export CARETHREAD_TRUSTED_PROXIES=127.0.0.1 CARETHREAD_RATE_PER_ARTICLE=100000000
mkdir -p "$WORK/files"
export CARETHREAD_ADDR=$ADDR CARETHREAD_FILES_DIR=$WORK/files RUST_LOG=warn CARETHREAD_DB_MAX_CONNECTIONS=${DB_CONNECTIONS:-20}
"$BIN" serve --no-migrate > "$WORK/server.log" 2>&1 &
PID=$!
PIDS+=("$PID")
for _ in $(seq 1 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
curl -fs "$BASE/healthz" >/dev/null || { echo "carethread did not start:" >&2; cat "$WORK/server.log" >&2; exit 1; }

# A reader's form: the page's form_stamp, which names the start of its window (every reader shown
# the page within CARETHREAD_SHARED_CACHE_SECONDS gets the same one). A form sent sooner than
# CARETHREAD_MIN_FORM_SECONDS after that is filed as spam, as a bot's would be, so each post sends
# the newest stamp its wrk thread has read that is old enough (a second of margin): in most of a
# window that is the page just read; in its first seconds, the one read in the window before,
# as a reader who opened the page then would send. Each wrk thread alternates: read a random
# article's page, post to that article.
cat > "$WORK/post.lua" <<LUA
$LUA_COMMON
local min_age = $MIN_FORM + 1
init = function(args)
  math.randomseed(os.time() * 1000 + id * 7919)
  reads, pages, posts, confirmed, other, first_other = 0, 0, 0, 0, 0, ""
  ready, ready_at, young, young_at = nil, 0, nil, 0
  post_next, article = false, 1
end
request = function()
  if young and os.time() - young_at >= min_age then
    ready, ready_at, young = young, young_at, nil
  end
  if post_next and ready then
    post_next = false
    posts = posts + 1
    local body = "form_stamp=" .. ready .. "&name=Bench+reader&email=&body=Comment+" .. id .. "-" .. posts
      .. "+" .. math.random(1, 1000000000) .. "+from+a+reader."
    return wrk.format("POST", "/articles/bench-" .. article .. "/comments",
      {["Content-Type"] = "application/x-www-form-urlencoded", ["Origin"] = "$BASE",
       ["X-Forwarded-For"] = reader()}, body)
  end
  post_next = true
  reads = reads + 1
  article = math.random(1, $((ARTICLES - 1)))
  return wrk.format("GET", "/articles/bench-" .. article, {["X-Forwarded-For"] = reader()})
end
response = function(status, headers, body)
  if status == 200 then
    pages = pages + 1
    local stamp = body:match('name="form_stamp" value="([^"]+)"')
    local at = stamp and tonumber(stamp:match("^(%d+)%."))
    if at then
      if os.time() - at >= min_age then
        if at >= ready_at then ready, ready_at = stamp, at end
      elseif at > young_at then
        young, young_at = stamp, at
      end
    end
  elseif status == 303 then
    confirmed = confirmed + 1
  else
    other = other + 1
    if first_other == "" then first_other = tostring(status) end
  end
end
LUA

# Start when the window's stamp is old enough, so the first page each connection reads gives a
# form it can send.
stamp=$(curl -fs "$BASE/articles/bench-1" | grep -o 'name="form_stamp" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
[ -n "$stamp" ] || { echo "no form_stamp on the thread page" >&2; exit 1; }
while [ $(( $(date +%s) - ${stamp%%.*} )) -lt $((MIN_FORM + 1)) ]; do sleep 0.2; done

last_id=$(psql "$DATABASE_URL" -Atc "SELECT coalesce(max(id), 0) FROM comments")
echo "Reading and posting to carethread for ${DURATION}s…" >&2
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout "${TIMEOUT}s" --latency -s "$WORK/post.lua" "$BASE" \
  > "$WORK/carethread-wrk.txt" 2>&1 || true
settle psql "$DATABASE_URL" -Atc "SELECT count(*) FROM comments"
summarise "$WORK/carethread-wrk.txt"
C_RATE=$RATE C_P50=$P50 C_P99=$P99 C_ERR=$((SOCKET_ERRORS + OTHER)) C_POSTS=$POSTS C_CONFIRMED=$CONFIRMED
C_OTHER=$OTHER C_FIRST_OTHER=$FIRST_OTHER C_READS=$READS C_PAGES=$PAGES C_SECONDS=$SECONDS_RUN
C_STORED=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM comments WHERE id > $last_id")
C_BY_STATUS=$(psql "$DATABASE_URL" -Atc "SELECT coalesce(string_agg(status || ' ' || n, ', ' ORDER BY status), 'none') FROM
  (SELECT status::text AS status, count(*) AS n FROM comments WHERE id > $last_id GROUP BY 1) AS s")
C_SPAM=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM comments WHERE id > $last_id AND status = 'spam'")
SYNC=$(psql "$DATABASE_URL" -Atc "SHOW synchronous_commit")
peak=$(awk '/VmHWM/ { print $2 }' "/proc/$PID/status")

# Every confirmed post must be stored. A post still in flight when wrk stopped may be stored without
# its answer being counted, so stored may exceed confirmed by at most the posts left unanswered.
check() { # confirmed, stored, posts sent, answers other than confirmed, spam
  local unanswered=$(( $3 - $1 - $4 ))
  if [ "$2" -ge "$1" ] && [ "$2" -le $(( $1 + unanswered )) ] && [ "${5:-0}" -eq 0 ]; then echo PASS; else echo FAIL; fi
}
I_CHECK=$(check "$I_CONFIRMED" "$I_STORED" "$I_POSTS" "$I_OTHER" 0)
C_CHECK=$(check "$C_CONFIRMED" "$C_STORED" "$C_POSTS" "$C_OTHER" "$C_SPAM")

echo
echo "carethread $(git rev-parse --short HEAD) ($BIN) vs Isso $ISSO_VERSION (gunicorn $GUNICORN_VERSION, -w 4 --preload isso.run);"
echo "$(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; $ARTICLES articles with $COMMENTS comments (Isso: $ISSO_COMMENTS); wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --timeout ${TIMEOUT}s on the same machine."
echo "Isso: SQLite, moderation on, guard on with its defaults (2 comments a minute per /24, 3 top-level per thread)."
echo "carethread: PostgreSQL, synchronous_commit=$SYNC, per-address limit kept, per-article limit lifted."
echo "Both: every post from its own random reader address in X-Forwarded-For, 127.0.0.1 a trusted proxy."
echo "carethread: every post follows a page read and sends a form stamp read from a page (none younger than ${MIN_FORM}s)."
echo
printf '| %-10s | %9s | %9s | %9s | %6s | %9s | %9s | %10s | %-5s |\n' \
  "server" "posts/s" "p50" "p99" "errors" "confirmed" "stored" "pages read" "check"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' "------------" "-----------" "-----------" "-----------" "--------" \
  "-----------" "-----------" "------------" "-------"
printf '| %-10s | %9s | %9s | %9s | %6s | %9s | %9s | %10s | %-5s |\n' \
  "Isso" "$I_RATE" "${I_P50:-?}" "${I_P99:-?}" "$I_ERR" "$I_CONFIRMED" "$I_STORED" "-" "$I_CHECK"
printf '| %-10s | %9s | %9s | %9s | %6s | %9s | %9s | %10s | %-5s |\n' \
  "carethread" "$C_RATE" "${C_P50:-?}" "${C_P99:-?}" "$C_ERR" "$C_CONFIRMED" "$C_STORED" "$C_PAGES" "$C_CHECK"
echo
echo "Isso: $I_POSTS posts sent, $I_CONFIRMED confirmed (201/202), $I_STORED stored ($I_BY_MODE)${I_FIRST_OTHER:+; other answers, first: $I_FIRST_OTHER}."
echo "carethread: $C_READS page reads sent ($C_PAGES answered 200, $(awk -v n="$C_PAGES" -v s="$C_SECONDS" 'BEGIN { printf "%.0f", n / s }')/s), $C_POSTS posts sent,"
echo "  $C_CONFIRMED confirmed (303), $C_STORED stored ($C_BY_STATUS), $C_SPAM filed as spam${C_FIRST_OTHER:+; other answers, first: $C_FIRST_OTHER}. Server peak RSS: $((peak / 1024)) MB."
echo "p50/p99: Isso's over its posts; carethread's over all its requests, page reads and posts alike."
echo "check: every confirmed post stored, none filed as spam (a post in flight when wrk stopped may be stored unconfirmed)."
echo
echo "ratio carethread/Isso (posts/s): $(awk -v c="$C_RATE" -v i="$I_RATE" 'BEGIN { if (i > 0) printf "%.1f×", c / i; else print "-" }')"
echo "goal: ≥10×"
[ "$I_CHECK" = PASS ] && [ "$C_CHECK" = PASS ]
