#!/usr/bin/env python3
"""Fault drills for carethread, driven by bench/fault.sh (which builds the binary and sets the
environment). Uses only Python's standard library.

Runs a private PostgreSQL cluster and two carethread processes on it, then checks:
  1. a comment approved through one process is visible through the other within 1 s;
  2. under steady posting and reading, PostgreSQL stopped in immediate mode for 10 s and started
     again: fast 503 pages with Retry-After, no 500, no internals shown, /healthz 503, everything
     back within 10 s without restarting, every post answered 303 stored exactly once and none
     filed as spam (each comment is sent from a freshly shown form), repeated submits stored once;
  3. 500 slow connections (request headers half sent, then nothing or a byte a second) held open
     against one process: readers' pages answered as fast as just before, no request failed, and
     every slow connection closed by the server within the header timeout plus 2 s;
  4. SIGTERM under load: a request in flight completes, the process exits within 10 s.
Prints PASS or FAIL per check and exits 1 if any failed.
"""

import html
import http.client
import os
import random
import re
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

BIN = os.environ["CARETHREAD_BIN"]
PG_BIN = os.environ["PG_BIN"]
WORK = os.environ["WORK"]
PG_PORT = int(os.environ.get("FAULT_PG_PORT", "5499"))
PORTS = [int(p) for p in os.environ.get("FAULT_APP_PORTS", "3911 3912").split()]
OUTAGE_SECONDS = 10
HEADER_TIMEOUT = int(os.environ.get("FAULT_HEADER_TIMEOUT", "5"))
SLOW_CONNECTIONS = 500
RUN = f"{random.randrange(16**6):06x}"
PGDATA = os.path.join(WORK, "pg")
DB = "carethread_fault"
DATABASE_URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/{DB}"
RUN_AS = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
STAFF_EMAIL = "fault.moderator@example.org"
STAFF_PASSWORD = "drill lantern orbit velvet"
INTERNALS = ["sqlx", "PoolTimedOut", "Connection refused", "error returned", "panicked", "SQLSTATE"]

failures = 0


def check(name, ok, detail=""):
    global failures
    failures += 0 if ok else 1
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""), flush=True)


def say(message):
    print(f"--    {message}", file=sys.stderr, flush=True)


# --- PostgreSQL -------------------------------------------------------------------------------


def pg_ctl(*args):
    subprocess.run(RUN_AS + [f"{PG_BIN}/pg_ctl", *args, "-D", PGDATA], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_postgres():
    pg_ctl("start", "-w", "-t", "60", "-l", os.path.join(PGDATA, "log.txt"))


def stop_postgres(mode):
    pg_ctl("stop", "-m", mode, "-w")


def create_cluster():
    os.makedirs(PGDATA)
    if RUN_AS:
        os.chmod(WORK, 0o755)
        shutil.chown(PGDATA, "postgres", "postgres")
    subprocess.run(RUN_AS + [f"{PG_BIN}/initdb", "-D", PGDATA, "-U", "postgres", "--auth", "trust",
                             "-E", "UTF8", "--locale", "C"], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(PGDATA, "postgresql.conf"), "a") as conf:
        conf.write(f"\nport = {PG_PORT}\nlisten_addresses = '127.0.0.1'\n"
                   f"unix_socket_directories = '{PGDATA}'\nmax_connections = 100\n")
    start_postgres()
    psql("postgres", f"CREATE DATABASE {DB}")


def psql(database, sql):
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-d", database,
                          "-AtXq", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout


# --- carethread ---------------------------------------------------------------------------------


def carethread(*args, **extra_env):
    env = dict(os.environ, DATABASE_URL=DATABASE_URL, RUST_LOG="warn", **extra_env)
    subprocess.run([BIN, *args], check=True, env=env, stdout=subprocess.DEVNULL)


def start_app(port):
    env = dict(os.environ, DATABASE_URL=DATABASE_URL, RUST_LOG="warn",
               CARETHREAD_ADDR=f"127.0.0.1:{port}", CARETHREAD_NO_MIGRATE="true",
               # Posting comes from a handful of drill threads: the per-address and per-article
               # limits would otherwise refuse most of it. The drill is about faults, not limits.
               CARETHREAD_RATE_PER_ADDRESS="100000000", CARETHREAD_RATE_PER_ARTICLE="100000000",
               CARETHREAD_MIN_FORM_SECONDS="0",
               # The slow-connections drill waits for this timeout; the default (10 s) works too.
               CARETHREAD_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT))
    log = open(os.path.join(WORK, f"app-{port}.log"), "w")
    process = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if request(port, "GET", "/healthz").status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"carethread on port {port} did not start; see {WORK}/app-{port}.log")


class Answer:
    def __init__(self, status, headers, body, started, ended):
        self.status, self.headers, self.body = status, headers, body
        self.started, self.ended = started, ended

    @property
    def seconds(self):
        return self.ended - self.started


def request(port, method, path, fields=None, cookies=None, timeout=15):
    """One request on a new connection. Returns an Answer or raises OSError/HTTPException."""
    started = time.time()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Connection": "close"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # As a browser posting from this site's page says: the comment form needs it.
            headers["Origin"] = f"http://127.0.0.1:{port}"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        answer = Answer(response.status, response.headers, text, started, time.time())
        if cookies is not None:
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                cookies[name.strip()] = rest.split(";", 1)[0]
        return answer
    finally:
        connection.close()


def hidden(page, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


class Reader:
    """A browser: cookies, and the comment form it was last shown."""

    def __init__(self, port, slug):
        self.port, self.slug, self.cookies = port, slug, {}
        page = request(port, "GET", f"/articles/{slug}", cookies=self.cookies).body
        self.stamp = hidden(page, "form_stamp")

    def post(self, body):
        fields = {"form_stamp": self.stamp, "name": "Drill",
                  "email": "", "body": body, "parent_id": "", "website": ""}
        return request(self.port, "POST", f"/articles/{self.slug}/comments", fields, dict(self.cookies))


# --- 1. two processes ------------------------------------------------------------------------------


def two_processes():
    carethread("article", "add", "--slug", "fault-two", "--title", "Two processes",
               "--url", "https://example.org/fault-two")
    body = f"Seen through both processes {RUN}"
    answer = Reader(PORTS[1], "fault-two").post(body)
    assert answer.status == 303, answer.status
    comment_id = psql(DB, f"SELECT id FROM comments WHERE body = '{body}'").strip()

    cookies = {}
    login = request(PORTS[0], "GET", "/login", cookies=cookies).body
    request(PORTS[0], "POST", "/login", {"authenticity_token": hidden(login, "authenticity_token"),
                                         "email": STAFF_EMAIL, "password": STAFF_PASSWORD, "next": ""}, cookies)
    queue = request(PORTS[0], "GET", "/moderation", cookies=cookies).body
    before = request(PORTS[1], "GET", "/articles/fault-two").body
    approve = request(PORTS[0], "POST", f"/moderation/comments/{comment_id}/approve",
                      {"authenticity_token": hidden(queue, "authenticity_token"), "back": "/moderation"}, cookies)
    approved_at = time.time()
    seen_after = None
    while time.time() - approved_at < 5:
        if body in request(PORTS[1], "GET", "/articles/fault-two").body:
            seen_after = time.time() - approved_at
            break
        time.sleep(0.02)
    check("a comment approved through one process is visible through the other within 1 s",
          approve.status == 303 and body not in before and seen_after is not None and seen_after <= 1.0,
          f"approve answered {approve.status}, visible after "
          + (f"{seen_after * 1000:.0f} ms" if seen_after is not None else "more than 5 s"))


# --- load -------------------------------------------------------------------------------------------


class Load:
    """Posters and readers spread over the app processes, recording every answer."""

    def __init__(self, ports, posters=6, readers=6):
        self.ports, self.stop = ports, threading.Event()
        self.lock = threading.Lock()
        self.answers = []  # (kind, Answer or None, error, started)
        self.posted = {}  # body -> list of statuses
        self.repeated = set()
        self.threads = [threading.Thread(target=self.poster, args=(i,)) for i in range(posters)]
        self.threads += [threading.Thread(target=self.reader, args=(i,)) for i in range(readers)]
        self.threads.append(threading.Thread(target=self.health))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def record(self, kind, started, call):
        try:
            answer, error = call(), None
        except (OSError, http.client.HTTPException) as e:
            answer, error = None, type(e).__name__
        with self.lock:
            self.answers.append((kind, answer, error, started))
        return answer

    def poster(self, index):
        port = self.ports[index % len(self.ports)]
        reader, n, retry = None, 0, False
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
            body = f"Fault drill {RUN} poster {index} comment {n}"
            sends = 2 if n % 10 == 0 else 1  # every tenth form is sent twice, like a double click
            for _ in range(sends):
                answer = self.record("post", time.time(), lambda: reader.post(body))
                with self.lock:
                    self.posted.setdefault(body, []).append(answer.status if answer else None)
                    if sends == 2:
                        self.repeated.add(body)
            # One shown form stores one comment: the next comment comes from a fresh page, as a
            # reader's would. A reader answered 503 has their words back in the form and sends
            # them again from it.
            retry = answer is not None and answer.status == 503
            if not retry:
                reader = None
            time.sleep(0.01)

    def reader(self, index):
        while not self.stop.is_set():
            port = random.choice(self.ports)
            path = f"/articles/bench-{random.randint(1, 19)}"
            self.record("read", time.time(), lambda: request(port, "GET", path))
            time.sleep(0.005)

    def health(self):
        while not self.stop.is_set():
            self.record("health", time.time(), lambda: request(self.ports[0], "GET", "/healthz"))
            time.sleep(0.2)

    def stored_counts(self):
        """How often each of this drill's texts is stored, and how many of them as spam."""
        rows = psql(DB, f"SELECT body, count(*), string_agg(spam_reason, '; ') FILTER (WHERE status = 'spam') "
                        f"FROM comments WHERE body LIKE 'Fault drill {RUN} %' GROUP BY body")
        counts = [line.rsplit("|", 2) for line in rows.splitlines() if line]
        return {body: int(n) for body, n, _ in counts}, {body: why for body, _, why in counts if why}


def answered_303_stored_once(load, label):
    stored, spam = load.stored_counts()
    spam = {body: why for body, why in spam.items() if body in load.posted}
    confirmed = [body for body, statuses in load.posted.items() if 303 in statuses]
    missing = [b for b in confirmed if stored.get(b, 0) == 0]
    doubled = [b for b, n in stored.items() if n > 1]
    check(f"{label}: every post answered 303 is stored exactly once, none as spam",
          confirmed and not missing and not doubled and not spam,
          f"{len(confirmed)} confirmed, {len(missing)} missing, {len(doubled)} stored twice, {len(spam)} spam"
          + "".join(f"; spam: {body!r} ({why}), answered {load.posted.get(body)}, the comment before it "
                    f"{load.posted.get(previous(body))}, stored {stored.get(previous(body), 0)} time(s)"
                    for body, why in list(spam.items())[:3]))
    repeated = [b for b in load.repeated if 303 in load.posted[b]]
    check(f"{label}: a form sent twice is stored once",
          repeated and all(stored.get(b, 0) == 1 for b in repeated), f"{len(repeated)} forms sent twice")


def previous(body):
    """The text a poster sent before this one."""
    head, _, n = body.rpartition(" ")
    return f"{head} {int(n) - 1}"


# --- 2. database outage --------------------------------------------------------------------------------


def outage():
    with Load(PORTS) as load:
        time.sleep(5)
        say(f"stopping PostgreSQL (immediate) for {OUTAGE_SECONDS} s")
        stop_postgres("immediate")
        down_at = time.time()
        time.sleep(OUTAGE_SECONDS)
        # The database may take requests before pg_ctl sees it ready (seconds later on a busy
        # machine): the outage ends, for the checks, when it is started again.
        restart_at = time.time()
        start_postgres()
        up_at = time.time()
        say(f"PostgreSQL is back after {up_at - down_at:.1f} s (starting took {up_at - restart_at:.1f} s); "
            "load continues for 15 s")
        time.sleep(15)

    answers = load.answers
    done = [(k, a, s) for k, a, e, s in answers if a]
    broken = [(k, e, s) for k, a, e, s in answers if e]
    check("no request failed at the connection level", not broken,
          f"{len(broken)} of {len(answers)}" + (f", first: {broken[0][1]}" if broken else ""))
    server_errors = [a.status for k, a, s in done if a.status >= 500 and a.status != 503]
    check("no 500 (or other 5xx but 503) at any time", not server_errors,
          f"{len(done)} answers, statuses {sorted(set(a.status for _, a, _ in done))}")
    slowest = max(a.seconds for _, a, _ in done)
    check("no request waited 5 s or more", slowest < 5, f"slowest {slowest:.2f} s")

    during = [(k, a) for k, a, s in done if down_at + 0.5 <= s and a.ended <= restart_at]
    unavailable = [a for k, a in during if k != "health"]
    ok_503 = all(a.status == 503 and a.headers.get("Retry-After") for a in unavailable)
    median = sorted(a.seconds for a in unavailable)[len(unavailable) // 2] if unavailable else 0
    check("during the outage readers and posters get 503 with Retry-After", unavailable and ok_503,
          f"{len(unavailable)} answers, median {median * 1000:.1f} ms, statuses "
          f"{sorted(set(a.status for a in unavailable))}")
    shown = [word for word in INTERNALS if any(word in a.body for a in unavailable)]
    kind = all("Please try again" in a.body or "Your comment has not been sent yet" in a.body
               for a in unavailable)
    check("the 503 pages are calm and show nothing internal", unavailable and not shown and kind,
          f"internals shown: {shown}" if shown else "")
    posts_kept = [a for k, a in during if k == "post" and a.status == 503]
    kept = all("Your comment has not been sent yet" in a.body and "Fault drill" in a.body for a in posts_kept)
    check("a poster during the outage gets their words back", posts_kept and kept,
          f"{len(posts_kept)} posts answered 503")
    health = [a for k, a in during if k == "health"]
    check("/healthz says 503 during the outage", health and all(a.status == 503 for a in health),
          f"{len(health)} checks")

    after = sorted(((s, a) for k, a, s in done if s >= up_at), key=lambda x: x[0])
    failing_after = [s for s, a in after if a.status >= 400]
    recovered = (max(failing_after) - up_at) if failing_after else 0.0
    succeeded = [s for s, a in after if a.status < 400]
    check("everything succeeds again within 10 s of the database returning, without a restart",
          succeeded and recovered <= 10 and max(succeeded) > max(failing_after, default=0),
          f"last failure {recovered:.1f} s after the database returned")
    answered_303_stored_once(load, "outage")


# --- 3. slow connections -------------------------------------------------------------------------------


def open_sockets(pid):
    """How many sockets the process holds open just now."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else 0.0


def slow_connections(port, process):
    """Connections that send half a request header and then nothing (half of them) or one byte a
    second (the other half), while readers read through the same process."""
    with Load([port], posters=0, readers=6) as load:
        time.sleep(5)
        say(f"opening {SLOW_CONNECTIONS} slow connections; header timeout {HEADER_TIMEOUT} s")
        opened_at = time.time()
        sockets_before = open_sockets(process.pid)
        selector = selectors.DefaultSelector()
        slow = {}  # socket -> [opened, trickles, closed or None, answer bytes]
        refused = 0
        for n in range(SLOW_CONNECTIONS):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(f"GET /articles/bench-{n % 19 + 1} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode())
            except OSError:
                refused += 1
                continue
            sock.setblocking(False)
            slow[sock] = [time.time(), n % 2 == 1, None, b""]
            selector.register(sock, selectors.EVENT_READ)
        held = 0
        for _ in range(10):  # the server may still be accepting the last few
            held = max(held, open_sockets(process.pid) - sockets_before)
            if held >= len(slow):
                break
            time.sleep(0.1)
        say(f"{len(slow)} slow connections open ({held} more sockets held by the server)")

        deadline = opened_at + HEADER_TIMEOUT + 10
        next_trickle = time.time() + 1
        while time.time() < deadline and any(state[2] is None for state in slow.values()):
            for key, _ in selector.select(timeout=0.05):
                sock, state = key.fileobj, slow[key.fileobj]
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    state[3] += data
                    continue
                state[2] = time.time()
                selector.unregister(sock)
            if time.time() >= next_trickle:
                next_trickle += 1
                for sock, state in slow.items():
                    if state[1] and state[2] is None:
                        try:
                            sock.send(b"x")
                        except OSError:
                            pass
        all_closed_at = time.time()
        for sock in slow:
            sock.close()
        selector.close()
        time.sleep(2)
        sockets_after = open_sockets(process.pid)

    reads = [(a, e, s) for k, a, e, s in load.answers if k == "read"]
    baseline = [a.seconds for a, e, s in reads if a and opened_at - 4 <= s < opened_at]
    during = [(a, e) for a, e, s in reads if opened_at <= s <= all_closed_at]
    failed = [e or a.status for a, e in during if e or a.status != 200]
    slowed = median(a.seconds for a, e in during if a)
    base = median(baseline)
    check(f"slow connections: readers' pages answered as usual while {SLOW_CONNECTIONS} slow connections were open",
          baseline and during and not failed and slowed <= 3 * base + 0.002,
          f"{len(during)} pages during the drill, {len(failed)} failed; median {slowed * 1000:.1f} ms "
          f"against {base * 1000:.1f} ms just before, slowest {max((a.seconds for a, e in during if a), default=0) * 1000:.0f} ms")

    lasted = [state[2] - state[0] for state in slow.values() if state[2] is not None]
    still_open = sum(1 for state in slow.values() if state[2] is None)
    answered = sum(1 for state in slow.values() if state[3])
    check(f"slow connections: every one closed by the server within the header timeout ({HEADER_TIMEOUT} s) plus 2 s",
          not refused and len(slow) == SLOW_CONNECTIONS and not still_open
          and max(lasted, default=HEADER_TIMEOUT + 99) <= HEADER_TIMEOUT + 2,
          f"{len(slow)} opened ({refused} refused; half silent, half sending a byte a second), "
          f"server held {held} more sockets; closed after "
          f"{min(lasted, default=0):.1f}–{max(lasted, default=0):.1f} s, {still_open} still open, "
          f"{answered} answered before closing; server sockets {sockets_before} before, {sockets_after} after")


# --- 4. SIGTERM under load ---------------------------------------------------------------------------


def sigterm(process):
    port = PORTS[0]
    # A request in flight at the signal: headers and half its body sent, the rest after it.
    reader = Reader(port, "bench-1")
    body = f"Fault drill {RUN} in flight at shutdown"
    form = urllib.parse.urlencode({"form_stamp": reader.stamp,
                                   "name": "Drill", "email": "", "body": body, "parent_id": "",
                                   "website": ""}).encode()
    slow = socket.create_connection(("127.0.0.1", port), timeout=20)
    cookie = "; ".join(f"{k}={v}" for k, v in reader.cookies.items())
    slow.sendall((f"POST /articles/bench-1/comments HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  f"Origin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
                  f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n\r\n")
                 .encode() + form[: len(form) // 2])

    with Load([port]) as load:
        time.sleep(3)
        say("sending SIGTERM")
        signalled = time.time()
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        slow.sendall(form[len(form) // 2:])
        reply = b""
        try:
            while b"\r\n\r\n" not in reply:
                chunk = slow.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except OSError:
            pass
        slow.close()
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            code = None
        exited = time.time() - signalled
        load.stop.set()

    status = reply.split(b" ", 2)[1].decode() if reply.startswith(b"HTTP/1.1") else "no answer"
    stored = psql(DB, f"SELECT count(*) FROM comments WHERE body = '{body}'").strip()
    check("SIGTERM: a request in flight completes", status == "303" and stored == "1",
          f"answered {status}, stored {stored} time(s)")
    check("SIGTERM: the process exits within 10 s, cleanly", code == 0 and exited <= 10,
          f"exit code {code} after {exited:.1f} s")
    before = [a for k, a, e, s in load.answers if a and s < signalled]
    check("SIGTERM: no request answered with a server error",
          all(a.status < 500 for a in before), f"{len(before)} answered before the signal")
    answered_303_stored_once(load, "SIGTERM")


def main():
    # The slow-connections drill holds 500 sockets here and in the app processes (which inherit
    # this limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * SLOW_CONNECTIONS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))
    say(f"drill {RUN}: private PostgreSQL on port {PG_PORT}, carethread on ports {PORTS}")
    create_cluster()
    apps = []
    try:
        carethread("migrate")
        carethread("bench-data", "--articles", "20", "--comments", "2000")
        carethread("user", "add", "--email", STAFF_EMAIL, "--name", "Fault Moderator", "--role", "moderator",
                   CARETHREAD_PASSWORD=STAFF_PASSWORD)
        apps = [start_app(port) for port in PORTS]
        two_processes()
        outage()
        slow_connections(PORTS[1], apps[1])
        sigterm(apps[0])
    finally:
        for app in apps:
            if app.poll() is None:
                app.terminate()
                app.wait()
        try:
            stop_postgres("fast")
        except subprocess.CalledProcessError:
            pass
    print(f"\n{'All checks passed.' if failures == 0 else f'{failures} check(s) failed.'} Logs: {WORK}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
