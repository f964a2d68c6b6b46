#!/usr/bin/env bash
# Readers through a shared cache: Varnish (docs/varnish.vcl) in front of two carethread processes.
#
#   bench/cache.sh [COMMENTS] [ARTICLES]      defaults: 10000 comments, 1000 articles
#
# Builds the release binary, loads a fresh database as bench/run.sh does (carethread_bench_cache on
# BENCH_SERVER, default postgres://postgres@127.0.0.1:5432), starts two processes and varnishd
# (run by hand on its own port, not as a system service; apt-get install varnish wrk), then:
#
#   1. the hot page (200 comments) through Varnish, wrk -c$CONNECTIONS for $DURATION s;
#   2. random article pages through Varnish;
#   3. for comparison, the hot page straight from one carethread process;
#   4. $APPROVALS times: a moderator approves a comment on the hot page while readers keep reading
#      it through Varnish, and the script polls the page through Varnish every 20 ms until the
#      comment shows. First with pages expiring after s-maxage, then again with
#      CARETHREAD_PURGE_URL pointing at Varnish.
#
# For each reading case it reports requests/s at the edge, the requests that reached carethread
# (its own request counters, from the metrics address of each process) and the cache's hit rate.
# Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

COMMENTS=${1:-10000}
ARTICLES=${2:-1000}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
APPROVALS=${APPROVALS:-5}
SERVER=${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}
DB=carethread_bench_cache
PORTS=(3911 3912)
METRICS=(9911 9912)
EDGE=127.0.0.1:6091
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in wrk varnishd; do
  command -v "$tool" >/dev/null || { echo "$tool is needed: apt-get install -y varnish wrk" >&2; exit 1; }
done

# CARETHREAD_BIN runs a binary already built instead (to try the script quickly).
if [ -z "${CARETHREAD_BIN:-}" ]; then
  echo "Building the release binary…" >&2
  SQLX_OFFLINE=true cargo build --release --quiet
fi
BIN=${CARETHREAD_BIN:-${CARGO_TARGET_DIR:-target}/release/carethread}

psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL=$SERVER/$DB
$BIN migrate >/dev/null
$BIN bench-data --articles "$ARTICLES" --comments "$COMMENTS" >/dev/null
CARETHREAD_PASSWORD="bench lantern orbit velvet" $BIN user add --email bench.midwife@example.org \
  --name "Bench Midwife" --role midwife --verified >/dev/null

# Varnish is the trusted proxy: rate limits count readers, not the cache.
export CARETHREAD_TRUSTED_PROXIES=127.0.0.1 RUST_LOG=warn CARETHREAD_DB_MAX_CONNECTIONS=${DB_CONNECTIONS:-10}
start_apps() { # extra environment, e.g. CARETHREAD_PURGE_URL=…
  APP_PIDS=()
  for i in 0 1; do
    env "$@" CARETHREAD_ADDR=127.0.0.1:${PORTS[$i]} CARETHREAD_METRICS_ADDR=127.0.0.1:${METRICS[$i]} \
      "$BIN" serve --no-migrate > "$WORK/app-$i.log" 2>&1 &
    APP_PIDS+=($!)
    PIDS+=($!)
  done
  for port in "${PORTS[@]}"; do
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  done
}
stop_apps() {
  for pid in "${APP_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}

sed -e "s/\"3001\"/\"${PORTS[0]}\"/; s/\"3002\"/\"${PORTS[1]}\"/" docs/varnish.vcl > "$WORK/varnish.vcl"
start_varnish() {
  varnishd -F -j none -n "$WORK/varnish" -a "$EDGE" -f "$WORK/varnish.vcl" -s malloc,256m \
    > "$WORK/varnish.log" 2>&1 &
  VARNISH_PID=$!
  PIDS+=($!)
  for _ in $(seq 1 100); do curl -fs "http://$EDGE/healthz" >/dev/null && break; sleep 0.1; done
  sleep 3 # the health probes mark both backends healthy
}
stop_varnish() { kill "$VARNISH_PID" 2>/dev/null || true; wait "$VARNISH_PID" 2>/dev/null || true; }

# Thread pages carethread answered, summed over both processes (from their own counters; the
# cache's health probes are not counted).
answered() {
  local total=0 n
  for port in "${METRICS[@]}"; do
    n=$(curl -fs "http://127.0.0.1:$port/metrics" | awk '/^carethread_http_requests_total\{/ && /articles\/\{slug\}/ { s += $2 } END { printf "%d", s }')
    total=$((total + n))
  done
  echo "$total"
}
hits() { varnishstat -n "$WORK/varnish" -1 -f MAIN.cache_hit -f MAIN.cache_miss -f MAIN.cache_hitpass -f MAIN.s_pass \
  | awk '{ v[$1] = $2 } END { printf "%d %d", v["MAIN.cache_hit"], v["MAIN.cache_miss"] + v["MAIN.s_pass"] + v["MAIN.cache_hitpass"] }'; }

cat > "$WORK/random.lua" <<LUA
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/articles/bench-" .. math.random(1, $((ARTICLES - 1))))
end
LUA

run_case() { # name, url, wrk args…
  local name=$1 url=$2; shift 2
  local before after h0 m0 h1 m1
  before=$(answered); read -r h0 m0 <<< "$(hits)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url" > "$WORK/out.txt" 2>&1 || true
  after=$(answered); read -r h1 m1 <<< "$(hits)"
  local rps p50 p99 total errors
  rps=$(awk '/Requests\/sec/ { print $2 }' "$WORK/out.txt")
  p50=$(awk '$1 == "50%" { print $2 }' "$WORK/out.txt")
  p99=$(awk '$1 == "99%" { print $2 }' "$WORK/out.txt")
  total=$(awk '/requests in/ { print $1 }' "$WORK/out.txt")
  errors=$(awk '/Socket errors/ { gsub(",", ""); s = $4 + $6 + $8 + $10 } /Non-2xx or 3xx/ { s += $5 } END { print s + 0 }' "$WORK/out.txt")
  local reached=$((after - before)) hit=$((h1 - h0)) miss=$((m1 - m0))
  local rate="-"
  [ $((hit + miss)) -eq 0 ] || rate=$(awk -v h="$hit" -v m="$miss" 'BEGIN { printf "%.2f%%", 100 * h / (h + m) }')
  printf '| %-40s | %10s | %8s | %8s | %9s | %8s | %8s | %6s |\n' "$name" "${rps:-?}" "${p50:-?}" "${p99:-?}" \
    "${total:-?}" "$reached" "$rate" "$errors"
}

# A signed-in moderator (a verified midwife), on process 1.
APP1=http://127.0.0.1:${PORTS[0]}
sign_in() {
  rm -f "$WORK/staff.txt"
  curl -fs --retry 5 --retry-all-errors -c "$WORK/staff.txt" "$APP1/login" -o "$WORK/login.html"
  local token
  token=$(grep -o 'name="authenticity_token" value="[^"]*"' "$WORK/login.html" | sed 's/.*value="//; s/"$//' | sed 's/&#43;/+/g; s/&#47;/\//g; s/&#61;/=/g')
  curl -fs -b "$WORK/staff.txt" -c "$WORK/staff.txt" -o /dev/null \
    --data-urlencode "authenticity_token=$token" --data-urlencode "email=bench.midwife@example.org" \
    --data-urlencode "password=bench lantern orbit velvet" "$APP1/login"
  curl -fs -b "$WORK/staff.txt" "$APP1/moderation" -o "$WORK/queue.html"
  STAFF_TOKEN=$(grep -o 'name="authenticity_token" value="[^"]*"' "$WORK/queue.html" | head -1 | sed 's/.*value="//; s/"$//' | sed 's/&#43;/+/g; s/&#47;/\//g; s/&#61;/=/g')
}

# Seconds from a moderator's approval to the comment showing through the cache, while readers keep
# reading the page through it.
visibility() { # label
  local label=$1 times=()
  wrk -t1 -c8 -d600s "http://$EDGE/articles/bench-hot" > /dev/null 2>&1 &
  local readers=$!
  for n in $(seq 1 "$APPROVALS"); do
    local words="Visibility check $label $n $RANDOM$RANDOM"
    local id
    id=$(psql "$DATABASE_URL" -Atqc "INSERT INTO comments (article_id, author_kind, author_name, body, status)
      SELECT id, 'guest', 'Bench', '$words', 'pending' FROM articles WHERE slug = 'bench-hot' RETURNING id")
    # Let the cache settle on the page as it is, at some point in its lifetime.
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 1 + (r % 1000) / 100 }')"
    local started
    started=$(date +%s.%N)
    curl -fs -o /dev/null -b "$WORK/staff.txt" --data-urlencode "authenticity_token=$STAFF_TOKEN" \
      --data-urlencode "back=/moderation" "$APP1/moderation/comments/$id/approve"
    while ! curl -fs "http://$EDGE/articles/bench-hot" | grep -q "$words"; do
      sleep 0.02
      if awk -v s="$started" -v n="$(date +%s.%N)" 'BEGIN { exit !(n - s > 60) }'; then echo "never showed" >&2; break; fi
    done
    times+=("$(awk -v s="$started" -v n="$(date +%s.%N)" 'BEGIN { printf "%.2f", n - s }')")
  done
  kill "$readers" 2>/dev/null || true
  wait "$readers" 2>/dev/null || true
  printf '%s' "${times[*]}" | tr ' ' '\n' | sort -n > "$WORK/times.txt"
  echo "$label: approval to visible through the cache, seconds: $(paste -sd' ' "$WORK/times.txt")" \
    "(median $(awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' "$WORK/times.txt"))"
}

start_apps
start_varnish
cache_control=$(curl -fsI "http://$EDGE/articles/bench-hot" | tr -d '\r' | awk -F': ' 'tolower($1) == "cache-control" { print $2 }')

echo
echo "carethread $(git rev-parse --short HEAD), $(nproc) cores; $COMMENTS comments on $ARTICLES articles; $(varnishd -V 2>&1 | head -1 | cut -d' ' -f1-2);"
echo "two carethread processes behind it; wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, everything on the same machine."
echo "Thread pages: Cache-Control: $cache_control"
echo
printf '| %-40s | %10s | %8s | %8s | %9s | %8s | %8s | %6s |\n' "case" "requests/s" "p50" "p99" "requests" "reached" "hit rate" "errors"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..42})" "------------" "----------" "----------" "-----------" "----------" "----------" "--------"
# As browsers do: they all accept gzip (Varnish keeps pages compressed and would otherwise unpack
# each one for wrk).
GZIP=(-H "Accept-Encoding: gzip")
run_case "1. hot page through Varnish" "http://$EDGE/articles/bench-hot" "${GZIP[@]}"
run_case "2. random pages through Varnish" "http://$EDGE" -s "$WORK/random.lua" "${GZIP[@]}"
run_case "3. hot page from one process, no cache" "$APP1/articles/bench-hot" "${GZIP[@]}"
echo

sleep 5 # let process 1 finish what wrk left it
sign_in
visibility "expiry (s-maxage)"
stop_varnish
stop_apps
start_apps CARETHREAD_PURGE_URL="http://$EDGE/"
start_varnish
sign_in
visibility "with CARETHREAD_PURGE_URL"
