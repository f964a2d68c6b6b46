#!/usr/bin/env python3
"""The cluster drill, driven by bench/cluster.sh (which builds the binary and makes the folder).
Uses only Python's standard library, and bench/fault.py's HTTP helpers.

A PostgreSQL primary and a streaming standby (pg_basebackup), three carethread processes reading
public pages from the standby, Varnish in front. See bench/cluster.sh for the checks.
"""

import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault import Reader, hidden, request, sign_in  # noqa: E402  (HTTP helpers only)

BIN = os.environ["CARETHREAD_BIN"]
PG_BIN = os.environ["PG_BIN"]
WORK = os.environ["WORK"]
PRIMARY_PORT = int(os.environ.get("CLUSTER_PRIMARY_PORT", "55432"))
STANDBY_PORT = int(os.environ.get("CLUSTER_STANDBY_PORT", "55433"))
PORTS = [3921, 3922, 3923]
METRICS = [9921, 9922, 9923]
EDGE = 6093
DB = "carethread_cluster"
PRIMARY_URL = f"postgres://postgres@127.0.0.1:{PRIMARY_PORT}/{DB}"
STANDBY_URL = f"postgres://postgres@127.0.0.1:{STANDBY_PORT}/{DB}"
PRIMARY, STANDBY = os.path.join(WORK, "primary"), os.path.join(WORK, "standby")
RUN_AS = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
STAFF_EMAIL, STAFF_PASSWORD = "cluster.moderator@example.org", "cluster lantern orbit velvet"
RUN = f"{random.randrange(16**6):06x}"
OUTAGE_SECONDS = 10
# What the README states: a process shows an approval within its memo's quarter second plus the
# standby's lag; a shared cache is told once every replica in use must show it (the memo, the lag
# allowed, a probe interval and a probe's timeout) and the worker's next tick.
PROCESS_LIMIT = 1.0
EDGE_LIMIT = 5.0
INTERNALS = ["sqlx", "PoolTimedOut", "Connection refused", "error returned", "panicked", "SQLSTATE"]

failures = 0
processes = []


def check(name, ok, detail=""):
    global failures
    failures += 0 if ok else 1
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""), flush=True)


def say(message):
    print(f"--    {message}", file=sys.stderr, flush=True)


# --- PostgreSQL --------------------------------------------------------------------------------


def pg_ctl(data, *args):
    subprocess.run(RUN_AS + [f"{PG_BIN}/pg_ctl", *args, "-D", data], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start(data):
    pg_ctl(data, "start", "-w", "-t", "60", "-l", os.path.join(data, "log.txt"))


def stop(data, mode):
    pg_ctl(data, "stop", "-m", mode, "-w")


def psql(port, sql, database=DB):
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database,
                          "-AtXq", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def create_clusters():
    os.chmod(WORK, 0o755)
    os.makedirs(PRIMARY)
    if RUN_AS:
        shutil.chown(PRIMARY, "postgres", "postgres")
    subprocess.run(RUN_AS + [f"{PG_BIN}/initdb", "-D", PRIMARY, "-U", "postgres", "--auth", "trust",
                             "-E", "UTF8", "--locale", "C"], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(PRIMARY, "postgresql.conf"), "a") as conf:
        conf.write(f"\nport = {PRIMARY_PORT}\nlisten_addresses = '127.0.0.1'\n"
                   f"unix_socket_directories = '{PRIMARY}'\nmax_connections = 100\n"
                   "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n")
    start(PRIMARY)
    psql(PRIMARY_PORT, f"CREATE DATABASE {DB}", database="postgres")


def create_standby():
    """A copy of the primary streaming from it, made the usual way (-R writes its connection)."""
    os.makedirs(STANDBY, mode=0o700)
    if RUN_AS:
        shutil.chown(STANDBY, "postgres", "postgres")
    subprocess.run(RUN_AS + [f"{PG_BIN}/pg_basebackup", "-h", "127.0.0.1", "-p", str(PRIMARY_PORT), "-U", "postgres",
                             "-D", STANDBY, "-R", "-X", "stream", "-c", "fast"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(STANDBY, "postgresql.conf"), "a") as conf:
        conf.write(f"\nport = {STANDBY_PORT}\nunix_socket_directories = '{STANDBY}'\n")
    start(STANDBY)


# --- carethread, Varnish, wrk --------------------------------------------------------------------


def carethread(*args, **extra_env):
    env = dict(os.environ, DATABASE_URL=PRIMARY_URL, RUST_LOG="warn", **extra_env)
    subprocess.run([BIN, *args], check=True, env=env, stdout=subprocess.DEVNULL)


def start_app(index):
    port = PORTS[index]
    env = dict(os.environ, DATABASE_URL=PRIMARY_URL, CARETHREAD_REPLICA_URLS=STANDBY_URL,
               RUST_LOG="warn,carethread::db::replicas=info", CARETHREAD_NO_MIGRATE="true",
               CARETHREAD_ADDR=f"127.0.0.1:{port}", CARETHREAD_METRICS_ADDR=f"127.0.0.1:{METRICS[index]}",
               CARETHREAD_TRUSTED_PROXIES="127.0.0.1", CARETHREAD_PURGE_URL=f"http://127.0.0.1:{EDGE}/",
               # The drill posts from a handful of threads on one address: limits have drills of their own.
               CARETHREAD_RATE_PER_ADDRESS="100000000", CARETHREAD_RATE_PER_ARTICLE="100000000",
               CARETHREAD_COMMENTS_PER_FORM="1000", CARETHREAD_MIN_FORM_SECONDS="0")
    log = open(os.path.join(WORK, f"app-{port}.log"), "w")
    process = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=log)
    processes.append(process)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if request(port, "GET", "/healthz").status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"carethread on port {port} did not start; see {WORK}/app-{port}.log")


def start_varnish():
    """docs/varnish.vcl with its two backends made three, on this drill's ports."""
    vcl = open("docs/varnish.vcl").read()
    vcl = vcl.replace('"3001"', f'"{PORTS[0]}"').replace('"3002"', f'"{PORTS[1]}"')
    third = re.search(r"backend app2 \{.*?\n\}\n", vcl, re.S).group(0)
    vcl = vcl.replace(third, third + "\n" + third.replace("app2", "app3").replace(f'"{PORTS[1]}"', f'"{PORTS[2]}"'))
    vcl = vcl.replace("apps.add_backend(app2);", "apps.add_backend(app2);\n    apps.add_backend(app3);")
    path = os.path.join(WORK, "varnish.vcl")
    open(path, "w").write(vcl)
    log = open(os.path.join(WORK, "varnish.log"), "w")
    process = subprocess.Popen(["varnishd", "-F", "-j", "none", "-n", os.path.join(WORK, "varnish"),
                                "-a", f"127.0.0.1:{EDGE}", "-f", path, "-s", "malloc,128m"], stdout=log, stderr=log)
    processes.append(process)
    for _ in range(100):
        try:
            if request(EDGE, "GET", "/healthz").status == 200:
                break
        except OSError:
            pass
        time.sleep(0.1)
    time.sleep(5)  # the health probes mark the backends healthy
    return process


class Wrk:
    """wrk readers through Varnish: random thread pages and the hot one, with gzip as browsers ask."""

    def __init__(self, seconds, connections=16, path="/articles/bench-hot", spread=True):
        script = os.path.join(WORK, "readers.lua")
        with open(script, "w") as lua:
            lua.write('math.randomseed(os.time())\nrequest = function()\n'
                      + ('  if math.random(1, 4) > 1 then return wrk.format("GET", "/articles/bench-" .. math.random(1, 19)) end\n'
                         if spread else "")
                      + f'  return wrk.format("GET", "{path}")\nend\n')
        self.process = subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script,
                                         "-H", "Accept-Encoding: gzip", f"http://127.0.0.1:{EDGE}"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def result(self):
        """(requests, errors: socket errors and answers other than 2xx/3xx, requests/s)."""
        out, _ = self.process.communicate()
        total = int((re.search(r"(\d+) requests in", out) or [0, 0])[1])
        errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
        errors += int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
        rate = float((re.search(r"Requests/sec:\s+([\d.]+)", out) or [0, 0])[1])
        return total, errors, rate


def metrics(index):
    """The process's metrics as {(name, labels): value}."""
    text = request(METRICS[index], "GET", "/metrics").body
    values = {}
    for line in text.splitlines():
        match = re.match(r"^(\w+)(\{[^}]*\})? ([0-9.eE+-]+|NaN)$", line)
        if match:
            values[(match.group(1), match.group(2) or "")] = float(match.group(3))
    return values


def replica_up(index):
    return metrics(index).get(("carethread_replica_up", '{replica="0"}'), 0.0) == 1.0


def reads_by(index, where):
    return metrics(index).get(("carethread_replica_reads_total", f'{{replica="{where}"}}'), 0.0)


def all_reads(where):
    return [reads_by(i, where) for i in range(len(PORTS))]


def standby_transactions():
    return int(psql(STANDBY_PORT, f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{DB}'"))


def until(condition, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


# --- load ---------------------------------------------------------------------------------------


class Load:
    """Readers (thread pages and counts) and posters straight to the processes, recording every
    answer; a sampler of the standby's lag as the primary and the processes see it."""

    def __init__(self, posters=2, readers=4):
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers = []  # (kind, Answer or None, error, started)
        self.posted = {}
        self.threads = [threading.Thread(target=self.poster, args=(i,)) for i in range(posters)]
        self.threads += [threading.Thread(target=self.reader) for _ in range(readers)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def record(self, kind, call):
        started = time.time()
        try:
            answer, error = call(), None
        except (OSError, http.client.HTTPException) as e:
            answer, error = None, type(e).__name__
        with self.lock:
            self.answers.append((kind, answer, error, started))
        return answer

    def poster(self, index):
        port, reader, n, retry = PORTS[index % len(PORTS)], None, 0, False
        while not self.stop.is_set():
            if reader is None:
                try:
                    reader = Reader(port, f"bench-{index + 1}")
                except (OSError, http.client.HTTPException, AttributeError):
                    time.sleep(0.2)
                    continue
                if reader.stamp is None:
                    reader = None
                    time.sleep(0.2)
                    continue
            if not retry:
                n += 1
            body = f"Cluster drill {RUN} poster {index} comment {n}"
            answer = self.record("post", lambda: reader.post(body))
            with self.lock:
                self.posted.setdefault(body, []).append(answer.status if answer else None)
            retry = answer is not None and answer.status == 503
            if not retry:
                reader = None
            time.sleep(0.02)

    def reader(self):
        while not self.stop.is_set():
            port, n = random.choice(PORTS), random.randint(1, 19)
            path = random.choice([f"/articles/bench-{n}", f"/api/v1/counts?slug=bench-{n}&slug=bench-hot",
                                  f"/api/v1/articles/bench-{n}/comments"])
            self.record("read", lambda: request(port, "GET", path))
            time.sleep(0.005)

    def between(self, start, end, kinds=("read", "post")):
        return [(k, a, e) for k, a, e, s in self.answers if start <= s and k in kinds
                and (a is None or a.ended <= end)]


class LagSampler(threading.Thread):
    """Every half second: the standby's replay lag as the primary sees it (pg_stat_replication)
    and as the processes measured it (their lag gauges)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.primary, self.processes, self.halt = [], [], threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                row = psql(PRIMARY_PORT, "SELECT coalesce(extract(epoch FROM replay_lag), 0), "
                                         "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication")
                if row:
                    lag, behind = row.split("|")
                    self.primary.append((float(lag), int(float(behind))))
            except (subprocess.CalledProcessError, ValueError):
                pass
            for i in range(len(PORTS)):
                try:
                    value = metrics(i).get(("carethread_replica_lag_seconds", '{replica="0"}'))
                    if value is not None:
                        self.processes.append(value)
                except (OSError, http.client.HTTPException):
                    pass
            self.halt.wait(0.5)


def errors_in(answers, allowed=(200, 303, 304)):
    failed = [e or a.status for k, a, e in answers if e or a.status not in allowed]
    return failed


# --- the checks ---------------------------------------------------------------------------------------


def in_use():
    before, queries = all_reads("0"), standby_transactions()
    with Load(posters=1):
        time.sleep(4)
    after = all_reads("0")
    used = [int(b - a) for a, b in zip(before, after)]
    check("the standby is in use by every process",
          all(replica_up(i) for i in range(len(PORTS))) and all(n > 0 for n in used)
          and standby_transactions() > queries,
          f"replica_up=1 on all 3; public reads on the standby per process {used}; "
          f"{standby_transactions() - queries} transactions on the standby")


def standby_stopped_and_back():
    wrk = Wrk(seconds=24)
    with Load() as load:
        time.sleep(3)
        fallback_before = sum(all_reads("primary"))
        say("stopping the standby (fast) for 8 s")
        stopped_at = time.time()
        stop(STANDBY, "fast")
        time.sleep(8)
        left_out = [not replica_up(i) for i in range(len(PORTS))]
        fallback = int(sum(all_reads("primary")) - fallback_before)
        restart_at = time.time()
        start(STANDBY)
        say("standby started again")
        back = until(lambda: all(replica_up(i) for i in range(len(PORTS))), 15)
        back_at = time.time()
        used_before = all_reads("0")
        queries = standby_transactions()
        time.sleep(4)
        used = [int(b - a) for a, b in zip(used_before, all_reads("0"))]
        queries = standby_transactions() - queries
    total, edge_errors, rate = wrk.result()
    during = load.between(stopped_at, restart_at)
    failed = errors_in(during)
    reads = [a for k, a, e in during if k == "read" and a]
    check("standby stopped: every process leaves it out and reads go to the primary, no error answer",
          all(left_out) and fallback > 0 and reads and not failed,
          f"{len(during)} answers while it was down ({len(reads)} reads), {len(failed)} errors "
          f"{sorted(set(map(str, failed)))[:3]}; {fallback} public reads on the primary; left out by {sum(left_out)} of 3")
    check("standby back: every process uses it again",
          back and all(n > 0 for n in used) and queries > 0,
          f"in use again {back_at - restart_at:.1f} s after it was started; public reads on it per process {used}; "
          f"{queries} transactions on it in 4 s")
    after = load.between(restart_at, time.time())
    check("through Varnish and straight to the processes: no error answer while the standby went and came back",
          edge_errors == 0 and not errors_in(load.between(0, time.time())),
          f"wrk through Varnish: {total} requests ({rate:.0f}/s), {edge_errors} errors; "
          f"{len(load.answers)} drill answers, {len(errors_in(after))} errors after the restart")


def approvals(count=5):
    answer, cookies = sign_in(PORTS[0], STAFF_EMAIL, STAFF_PASSWORD)
    token = hidden(request(PORTS[0], "GET", "/moderation", cookies=cookies).body, "authenticity_token")
    wrk = Wrk(seconds=120, connections=8, spread=False)
    slowest_process, slowest_edge, times = 0.0, 0.0, []
    for n in range(count):
        words = f"Cluster approval {RUN} {n}"
        comment = psql(PRIMARY_PORT, "INSERT INTO comments (article_id, author_kind, author_name, body, status) "
                                     f"SELECT id, 'guest', 'Drill', '{words}', 'pending' FROM articles "
                                     "WHERE slug = 'bench-hot' RETURNING id")
        time.sleep(random.uniform(1, 3))
        started = time.time()
        approved = request(PORTS[0], "POST", f"/moderation/comments/{comment}/approve",
                           {"authenticity_token": token, "back": "/moderation"}, dict(cookies))
        seen = {}
        while len(seen) < len(PORTS) + 1 and time.time() - started < 30:
            for port in PORTS + [EDGE]:
                if port not in seen:
                    page = request(port, "GET", "/articles/bench-hot")
                    if words in page.body:
                        seen[port] = time.time() - started
            time.sleep(0.02)
        process = max((seen.get(p, 99) for p in PORTS))
        edge = seen.get(EDGE, 99)
        times.append((approved.status, process, edge))
        slowest_process, slowest_edge = max(slowest_process, process), max(slowest_edge, edge)
    wrk.process.send_signal(signal.SIGINT)  # wrk prints what it measured so far
    _, edge_errors, _ = wrk.result()
    detail = "; ".join(f"{p:.2f} s / {e:.2f} s" for _, p, e in times)
    check(f"approvals show through every process within {PROCESS_LIMIT:.0f} s, and through Varnish within {EDGE_LIMIT:.0f} s",
          all(s == 303 for s, _, _ in times) and slowest_process <= PROCESS_LIMIT and slowest_edge <= EDGE_LIMIT
          and edge_errors == 0,
          f"{count} approvals, slowest process / Varnish: {detail}; {edge_errors} errors through Varnish")


def primary_outage():
    with Load(posters=4) as load:
        time.sleep(4)
        say(f"stopping the primary (immediate) for {OUTAGE_SECONDS} s")
        down_at = time.time()
        stop(PRIMARY, "immediate")
        time.sleep(OUTAGE_SECONDS)
        restart_at = time.time()
        start(PRIMARY)
        up_at = time.time()
        say(f"primary back after {up_at - down_at:.1f} s; load continues for 12 s")
        time.sleep(12)
    done = [(k, a, s) for k, a, e, s in load.answers if a]
    broken = [e for k, a, e, s in load.answers if e]
    server_errors = [a.status for k, a, s in done if a.status >= 500 and a.status != 503]
    check("primary outage: no connection failed, no 5xx but 503",
          not broken and not server_errors,
          f"{len(load.answers)} answers, statuses {sorted(set(a.status for _, a, _ in done))}")
    during = [(k, a) for k, a, s in done if down_at + 0.5 <= s and a.ended <= restart_at]
    ok_503 = during and all(a.status == 503 and a.headers.get("Retry-After") for k, a in during)
    shown = [w for w in INTERNALS if any(w in a.body for _, a in during)]
    check("primary outage: the site is down (503 with Retry-After, nothing internal shown), as without replicas",
          ok_503 and not shown, f"{len(during)} answers during the outage")
    after = [(s, a) for k, a, s in done if s >= up_at]
    failing = [s for s, a in after if a.status >= 400]
    recovered = (max(failing) - up_at) if failing else 0.0
    check("primary outage: everything succeeds again within 10 s, without a restart",
          after and recovered <= 10, f"last failure {recovered:.1f} s after the primary returned")
    rows = psql(PRIMARY_PORT, f"SELECT body, count(*) FROM comments WHERE body LIKE 'Cluster drill {RUN} %' GROUP BY body")
    stored = {line.rsplit("|", 1)[0]: int(line.rsplit("|", 1)[1]) for line in rows.splitlines() if line}
    confirmed = [b for b, statuses in load.posted.items() if 303 in statuses]
    missing = [b for b in confirmed if stored.get(b, 0) == 0]
    doubled = [b for b, n in stored.items() if n > 1]
    check("primary outage: every post answered 303 is stored exactly once",
          confirmed and not missing and not doubled,
          f"{len(confirmed)} confirmed, {len(missing)} missing, {len(doubled)} stored twice")
    followed = until(lambda: all(replica_up(i) for i in range(len(PORTS))), 20)
    check("after the outage the standby follows the primary again and is in use",
          followed and psql(STANDBY_PORT, "SELECT pg_is_in_recovery()") == "t",
          "replica_up=1 on all 3" if followed else "not back within 20 s")


def main():
    say(f"drill {RUN}: primary on {PRIMARY_PORT}, standby on {STANDBY_PORT}, carethread on {PORTS}, Varnish on {EDGE}")
    create_clusters()
    sampler = LagSampler()
    try:
        carethread("migrate")
        carethread("bench-data", "--articles", "20", "--comments", "2000")
        carethread("user", "add", "--email", STAFF_EMAIL, "--name", "Cluster Moderator", "--role", "moderator",
                   CARETHREAD_PASSWORD=STAFF_PASSWORD)
        create_standby()
        for index in range(len(PORTS)):
            start_app(index)
        start_varnish()
        until(lambda: all(replica_up(i) for i in range(len(PORTS))), 10)
        sampler.start()
        in_use()
        standby_stopped_and_back()
        approvals()
        primary_outage()
    finally:
        sampler.halt.set()
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
    lags = [lag for lag, _ in sampler.primary]
    behind = [b for _, b in sampler.primary]
    if lags:
        print(f"\nStandby replay lag seen by the primary (pg_stat_replication, {len(lags)} samples every 0.5 s): "
              f"median {statistics.median(lags) * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms; "
              f"WAL not yet replayed: median {statistics.median(behind)} bytes, max {max(behind)} bytes.")
    if sampler.processes:
        print(f"Lag the processes measured (carethread_replica_lag_seconds, {len(sampler.processes)} samples): "
              f"median {statistics.median(sampler.processes) * 1000:.1f} ms, max {max(sampler.processes) * 1000:.1f} ms.")
    print(f"\n{'All checks passed.' if failures == 0 else f'{failures} check(s) failed.'} Logs: {WORK}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
