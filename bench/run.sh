#!/usr/bin/env bash
# Benchmarks carethread with wrk on this machine and prints one table.
#
#   bench/run.sh [COMMENTS] [ARTICLES]      defaults: 10000 comments, 1000 articles
#
# Builds a release binary, loads a fresh database ($BENCH_DB, default carethread_bench, on DATABASE_URL's server,
# default postgres://postgres@127.0.0.1:5432), starts the server, runs each case for
# $DURATION seconds (default 20) with 64 connections, and reports requests/s, p50, p99, errors and
# the server's peak resident memory. Posting comes from many reader addresses, each sending the
# form of one window (every reader shown the page within a window gets the same form, and one
# form stores one comment per address). CASES picks cases by number (default 123456); server settings
# such as CARETHREAD_THREAD_CACHE_MB=0 and CARETHREAD_ARTICLE_REFRESH_MS=0 pass through and are named in the output.
# BENCH_BIN=path measures another build of the server (an older commit's, say) against the same
# ceiling. Case 5, the ceiling, serves the hot page's exact bytes from memory with a bare axum
# handler in a process of its own (`carethread bench-ceiling`), and the table ends with the hot
# page as a share of it. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

COMMENTS=${1:-10000}
ARTICLES=${2:-1000}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
CASES=${CASES:-123456}
SERVER=${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}
DB=${BENCH_DB:-carethread_bench}
ADDR=127.0.0.1:3900
BASE=http://$ADDR
WORK=$(mktemp -d)
trap 'kill "${PID:-}" "${CEILING_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

if ! command -v wrk >/dev/null; then
  echo "Installing wrk…" >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi

echo "Building the release binary…" >&2
SQLX_OFFLINE=true cargo build --release --quiet
CEILING_BIN=${CARGO_TARGET_DIR:-target}/release/carethread
BIN=${BENCH_BIN:-$CEILING_BIN}
CEILING_ADDR=127.0.0.1:3901

psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL=$SERVER/$DB
$BIN migrate >/dev/null
$BIN bench-data --articles "$ARTICLES" --comments "$COMMENTS"
CARETHREAD_PASSWORD="bench lantern orbit velvet" $BIN user add --email bench.midwife@example.org \
  --name "Bench Midwife" --role midwife --verified >/dev/null
CARETHREAD_PASSWORD="bench harbour quill meadow" $BIN user add --email bench.admin@example.org \
  --name "Bench Admin" --role admin >/dev/null

# Posting comes from many readers: wrk sends a random X-Forwarded-For, believed from the local
# "proxy", so the per-address limit (5 per 10 minutes) applies as it would live. Tens of thousands
# of comments in 20 s on a thousand articles exceed the per-article limit (60 per 10 minutes), so
# the benchmark lifts that one, and says so.
export CARETHREAD_TRUSTED_PROXIES=127.0.0.1 CARETHREAD_RATE_PER_ARTICLE=100000000
mkdir -p "$WORK/files"
export CARETHREAD_ADDR=$ADDR RUST_LOG=warn CARETHREAD_DB_MAX_CONNECTIONS=${DB_CONNECTIONS:-20}
$BIN serve > "$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done

# The ceiling: the hot page's exact bytes, served from memory by a bare axum handler.
curl -fs "$BASE/articles/bench-hot" -o "$WORK/files/hot.html"
$CEILING_BIN bench-ceiling "$WORK/files/hot.html" --addr $CEILING_ADDR > "$WORK/ceiling.log" 2>&1 &
CEILING_PID=$!
for _ in $(seq 1 100); do curl -fs "http://$CEILING_ADDR/" >/dev/null && break; sleep 0.1; done

# The form is the same for every reader within a window, with no cookie or token: a post needs
# only the window's stamp and, as from a browser on this site's page, an Origin naming it.
field() { grep -o "name=\"$1\" value=\"[^\"]*\"" "${2:-$WORK/form.html}" | head -1 | sed 's/.*value="//; s/"$//' | sed 's/&#43;/+/g; s/&#47;/\//g; s/&#61;/=/g'; }

# Signed-in staff: a midwife for the queue, an admin for the overview.
sign_in() { # email, password, cookie file
  curl -fs -c "$3" "$BASE/login" -o "$WORK/login.html"
  local token
  token=$(grep -o 'name="authenticity_token" value="[^"]*"' "$WORK/login.html" | sed 's/.*value="//; s/"$//' | sed 's/&#43;/+/g; s/&#47;/\//g; s/&#61;/=/g')
  curl -fs -b "$3" -c "$3" -o /dev/null \
    --data-urlencode "authenticity_token=$token" --data-urlencode "email=$1" \
    --data-urlencode "password=$2" "$BASE/login"
  awk '$6 ~ /^carethread_/ { printf "%s=%s; ", $6, $7 }' "$3"
}
STAFF_COOKIE=$(sign_in bench.midwife@example.org "bench lantern orbit velvet" "$WORK/staff.txt")
ADMIN_COOKIE=$(sign_in bench.admin@example.org "bench harbour quill meadow" "$WORK/admin.txt")

urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
cat > "$WORK/random.lua" <<LUA
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/articles/bench-" .. math.random(1, $((ARTICLES - 1))))
end
LUA
# The form for posting: one window's stamp, fetched before the timed run, then a wait so that it
# is older than CARETHREAD_MIN_FORM_SECONDS (default 3): a form used sooner is filed as spam.
prefetch_stamp() {
  curl -fs "$BASE/articles/bench-1" -o "$WORK/form.html"
  STAMP=$(field form_stamp)
  echo "$STAMP" > "$WORK/stamp.txt"
  sleep $(( ${CARETHREAD_MIN_FORM_SECONDS:-3} + 1 ))
}
cat > "$WORK/post.lua" <<LUA
init = function()
  counter = 0
  math.randomseed(os.time() * 1000 + math.random(1, 1000000))
  stamp = io.open("$WORK/stamp.txt"):read("*l")
end
request = function()
  counter = counter + 1
  local body = "form_stamp=" .. stamp
    .. "&name=Bench&email=&body=Comment+" .. counter .. "+" .. math.random(1, 1000000000)
  local reader = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format("POST", "/articles/bench-" .. math.random(1, $((ARTICLES - 1))) .. "/comments",
    {["Content-Type"] = "application/x-www-form-urlencoded", ["Origin"] = "$BASE",
     ["X-Forwarded-For"] = reader}, body)
end
LUA

before=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM comments")
last_id=$(psql "$DATABASE_URL" -Atc "SELECT coalesce(max(id), 0) FROM comments")
selected() { case "$CASES" in *"$1"*) return 0 ;; *) return 1 ;; esac; }
run_case() { # name, wrk args…
  local name=$1; shift
  selected "${name%%.*}" || return 0
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" > "$WORK/out.txt" 2>&1 || true
  local rps p50 p99 errors non2xx
  rps=$(awk '/Requests\/sec/ { print $2 }' "$WORK/out.txt")
  p50=$(awk '$1 == "50%" { print $2 }' "$WORK/out.txt")
  p99=$(awk '$1 == "99%" { print $2 }' "$WORK/out.txt")
  errors=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$WORK/out.txt")
  non2xx=$(awk '/Non-2xx or 3xx/ { print $5 }' "$WORK/out.txt")
  printf '| %-44s | %10s | %8s | %8s | %6s |\n' "$name" "${rps:-?}" "${p50:-?}" "${p99:-?}" "$(( ${errors:-0} + ${non2xx:-0} ))"
  echo "${name%%.*} ${rps:-0}" >> "$WORK/rates.txt"
  # What the errors were (wrk's own words), kept for the notes under the table.
  grep -E "Socket errors|Non-2xx" "$WORK/out.txt" | sed "s/^ */  ${name%%.*}: /" >> "$WORK/errors.txt" || true
}

echo
echo "carethread $(git rev-parse --short HEAD), $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; $COMMENTS comments on $ARTICLES articles; wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on the same machine"
echo "Posting comes from random reader addresses (X-Forwarded-For via a trusted local proxy); the per-article rate limit is lifted."
[ -z "${CARETHREAD_THREAD_CACHE_MB:-}" ] || echo "Thread cache: CARETHREAD_THREAD_CACHE_MB=$CARETHREAD_THREAD_CACHE_MB."
[ -z "${CARETHREAD_ARTICLE_REFRESH_MS:-}" ] || echo "Article memo: CARETHREAD_ARTICLE_REFRESH_MS=$CARETHREAD_ARTICLE_REFRESH_MS."
echo
printf '| %-44s | %10s | %8s | %8s | %6s |\n' "case" "requests/s" "p50" "p99" "errors"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "------------" "----------" "----------" "--------"
run_case "1. hot article page (200 comments)" "$BASE/articles/bench-hot"
run_case "2. random article pages" -s "$WORK/random.lua" "$BASE"
if selected 3; then prefetch_stamp; fi
run_case "3. posting comments" -s "$WORK/post.lua" "$BASE"
run_case "4. moderation queue (signed-in midwife)" -H "Cookie: $STAFF_COOKIE" "$BASE/moderation"
run_case "5. ceiling: hot page bytes from memory" "http://$CEILING_ADDR/articles/bench-hot"
after=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM comments")
# What posting stored, counted before the overview's data below is added. Each post came from its
# own address, so none should be in the spam tab (a form used twice by one address for other
# words, or too soon, is).
by_status=$(psql "$DATABASE_URL" -Atc "SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM
  (SELECT status::text AS status, count(*) AS n FROM comments WHERE id > $last_id GROUP BY 1) AS s")
spam=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM comments WHERE id > $last_id AND status = 'spam'")
# The overview reads the last 12 weeks. Before its run, give the data what a live site has and
# bench-data leaves out (after the other cases, so they measure the same data as before): a
# midwife's answer under a third of the questions, 1 to 72 hours later; one guest comment in 50
# urgent, acted on by staff 5 to 120 minutes later; one in 100 set aside as spam.
if selected 6; then
  psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 <<'SQL'
\set midwife '(SELECT id FROM users WHERE email = ''bench.midwife@example.org'')'
UPDATE comments SET urgent = true, urgent_signs = '{heavy bleeding}' WHERE author_kind = 'guest' AND id % 50 = 0;
UPDATE comments SET status = 'spam', spam_reason = 'bench' WHERE author_kind = 'guest' AND status = 'pending' AND id % 100 = 1;
INSERT INTO comments (article_id, parent_id, author_kind, author_user_id, author_name, body, body_html, disclaimer,
                      status, created_at, published_at)
SELECT article_id, id, 'staff', :midwife, 'Bench Midwife', 'An answer.', '<p>An answer.</p>', 'General information.',
       'published', at, at
  FROM (SELECT article_id, id, least(now(), created_at + (1 + id % 72) * interval '1 hour') AS at
          FROM comments WHERE status = 'published' AND parent_id IS NULL AND author_kind = 'guest' AND id % 3 = 0) q;
INSERT INTO audit_log (actor_id, action, target_type, target_id, at)
SELECT :midwife, 'comment.approved', 'comment', id, least(now(), created_at + (5 + id % 115) * interval '1 minute')
  FROM comments WHERE urgent;
VACUUM (ANALYZE) comments, audit_log;
SQL
fi
run_case "6. admin overview (signed-in admin)" -H "Cookie: $ADMIN_COOKIE" "$BASE/admin"
peak=$(awk '/VmHWM/ { print $2 }' "/proc/$PID/status")
echo
[ ! -f "$WORK/notes.txt" ] || cat "$WORK/notes.txt"
if selected 1 && selected 5; then
  awk '$1 == 1 { hot = $2 } $1 == 5 { ceiling = $2 }
       END { if (ceiling > 0) printf "Hot page: %.0f%% of the same bytes served from memory by a bare axum handler.\n", 100 * hot / ceiling }' "$WORK/rates.txt"
fi
echo "Comments stored while posting: $((after - before)) (${by_status:-none}). Server peak RSS: $((peak / 1024)) MB."
[ ! -s "$WORK/errors.txt" ] || { echo "Errors by case:"; cat "$WORK/errors.txt"; }
if [ "$spam" -gt 0 ]; then
  echo "warning: $spam posted comments were filed as spam; was the form used too soon?" >&2
fi
if [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/staff.txt" "$BASE/moderation")" != 200 ]; then
  echo "warning: the midwife's session did not work; case 4 measured the sign-in redirect" >&2
fi
if [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/admin.txt" "$BASE/admin")" != 200 ]; then
  echo "warning: the admin's session did not work; case 6 measured the sign-in redirect" >&2
fi
