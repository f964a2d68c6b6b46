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
  4. mail: the processes send through a small SMTP server run by this script (`SmtpSink`). Readers
     ask to hear about replies and confirm their addresses; the SMTP server goes away for
     $FAULT_SMTP_DOWN seconds (default 60) while a midwife publishes replies; once it is back every
     reply mail arrives, and none twice. Then a burst of mail sent by both processes' workers at once:
     as many messages arrive as the outbox marks sent, and no message arrives twice;
  5. SIGTERM under load: a request in flight completes, the process exits within 10 s.
Prints PASS or FAIL per check and exits 1 if any failed.
"""

import asyncio
import collections
import email
import email.policy
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
MIDWIFE_EMAIL = "fault.midwife@example.org"
MIDWIFE_PASSWORD = "drill harbour meadow quill"
SMTP_PORT = int(os.environ.get("FAULT_SMTP_PORT", "2599"))
SMTP_DOWN = int(os.environ.get("FAULT_SMTP_DOWN", "60"))
# See mail_outage(): by default the drill waits for the worker's own retries after the SMTP server
# returns; FAULT_SMTP_NUDGE=1 makes every waiting mail due at once instead, to keep the drill short.
SMTP_NUDGE = os.environ.get("FAULT_SMTP_NUDGE", "") not in ("", "0")
MAIL_READERS = int(os.environ.get("FAULT_MAIL_READERS", "10"))
MAIL_BURST = int(os.environ.get("FAULT_MAIL_BURST", "60"))
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
    # The mail worker's "mail sent" lines (info) say which process sent which outbox row.
    env = dict(os.environ, DATABASE_URL=DATABASE_URL, RUST_LOG="warn,carethread::mail::worker=info",
               CARETHREAD_ADDR=f"127.0.0.1:{port}", CARETHREAD_NO_MIGRATE="true",
               # Posting comes from a handful of drill threads: the per-address and per-article
               # limits would otherwise refuse most of it. The drill is about faults, not limits.
               CARETHREAD_RATE_PER_ADDRESS="100000000", CARETHREAD_RATE_PER_ARTICLE="100000000",
               # Every drill reader posts from 127.0.0.1, often with one window's form: on a live
               # site each reader has an address of their own.
               CARETHREAD_COMMENTS_PER_FORM="1000",
               CARETHREAD_MIN_FORM_SECONDS="0",
               # The slow-connections drill waits for this timeout; the default (10 s) works too.
               CARETHREAD_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
               # Mail goes to this script's SMTP server, without TLS (a relay on the same host), and
               # a reply mail goes out as soon as the worker sees the reply, not 15 minutes later.
               CARETHREAD_SMTP_URL=f"smtp://127.0.0.1:{SMTP_PORT}?tls=none",
               CARETHREAD_NOTIFY_BATCH_MINUTES="0")
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
    log.flush()
    raise SystemExit(f"carethread on port {port} did not start:\n" + open(os.path.join(WORK, f"app-{port}.log")).read())


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

    def post(self, body, **extra):
        fields = {"form_stamp": self.stamp, "name": "Drill",
                  "email": "", "body": body, "parent_id": "", "website": "", **extra}
        return request(self.port, "POST", f"/articles/{self.slug}/comments", fields, dict(self.cookies))


def sign_in(port, email_address, password):
    """Signs in through the login form; returns the answer and the session's cookies."""
    cookies = {}
    login = request(port, "GET", "/login", cookies=cookies).body
    answer = request(port, "POST", "/login", {"authenticity_token": hidden(login, "authenticity_token"),
                                              "email": email_address, "password": password, "next": ""}, cookies)
    return answer, cookies


# --- 1. two processes ------------------------------------------------------------------------------


def two_processes():
    carethread("article", "add", "--slug", "fault-two", "--title", "Two processes",
               "--url", "https://example.org/fault-two")
    body = f"Seen through both processes {RUN}"
    answer = Reader(PORTS[1], "fault-two").post(body)
    assert answer.status == 303, answer.status
    comment_id = psql(DB, f"SELECT id FROM comments WHERE body = '{body}'").strip()

    _, cookies = sign_in(PORTS[0], STAFF_EMAIL, STAFF_PASSWORD)
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


# --- 4. mail ----------------------------------------------------------------------------------------


class SmtpSink:
    """A small SMTP server in its own thread: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT, no
    TLS and no authentication (carethread's `?tls=none`, a relay on the same host). It accepts
    every message and records it. `stop()` stops listening (a new connection is refused) and ends
    the open sessions, as a mail server going away would; `start()` listens on the same port again."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.messages = []  # dicts: n, at, sender, recipients, subject, text
        self.server = None
        self.sessions = {}  # writer -> True while a message is being received
        self.closing = False
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def call(self, coroutine, timeout=60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self):
        self.call(self._start())

    def stop(self):
        self.call(self._stop())

    def received(self):
        with self.lock:
            return list(self.messages)

    async def _start(self):
        self.closing = False
        self.server = await asyncio.start_server(self._session, "127.0.0.1", self.port,
                                                 reuse_address=True, limit=1 << 20)

    async def _stop(self):
        self.closing = True
        self.server.close()
        await self.server.wait_closed()
        # Sessions waiting for a command end now; one receiving a message ends once it is stored
        # and answered, so a message is never half accepted (see _session).
        for writer, busy in list(self.sessions.items()):
            if not busy:
                writer.close()
        for _ in range(300):
            if not self.sessions:
                break
            await asyncio.sleep(0.1)

    async def _session(self, reader, writer):
        self.sessions[writer] = False

        async def say(line):
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        try:
            await say("220 fault-sink ESMTP")
            sender, recipients = None, []
            while not self.closing:
                line = await reader.readline()
                if not line:
                    break
                command = line.decode("utf-8", "replace").rstrip("\r\n")
                verb, _, argument = command.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    await say("250-fault-sink\r\n250 8BITMIME")
                elif verb == "HELO":
                    await say("250 fault-sink")
                elif verb == "MAIL" and argument.upper().startswith("FROM:"):
                    sender, recipients = address(argument[5:]), []
                    await say("250 OK")
                elif verb == "RCPT" and argument.upper().startswith("TO:"):
                    if sender is None:
                        await say("503 MAIL first")
                        continue
                    recipients.append(address(argument[3:]))
                    await say("250 OK")
                elif verb == "DATA":
                    if not recipients:
                        await say("503 RCPT first")
                        continue
                    self.sessions[writer] = True
                    await say("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        line = await reader.readline()
                        if not line:
                            raise ConnectionResetError("closed during DATA")
                        if line in (b".\r\n", b".\n"):
                            break
                        lines.append(line[1:] if line.startswith(b"..") else line)
                    n = self.store(sender, recipients, b"".join(lines))
                    await say(f"250 OK queued as {n}")
                    self.sessions[writer] = False
                    sender, recipients = None, []
                elif verb == "RSET":
                    sender, recipients = None, []
                    await say("250 OK")
                elif verb == "NOOP":
                    await say("250 OK")
                elif verb == "QUIT":
                    await say("221 Bye")
                    break
                else:
                    await say("502 Command not implemented")
            if self.closing:
                await say("421 fault-sink closing")
        except (ConnectionError, OSError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self.sessions.pop(writer, None)
            writer.close()

    def store(self, sender, recipients, data):
        message = email.message_from_bytes(data, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        with self.lock:
            n = len(self.messages) + 1
            self.messages.append({"n": n, "at": time.time(), "sender": sender, "recipients": recipients,
                                  "subject": str(message.get("Subject", "")),
                                  "text": body.get_content() if body is not None else ""})
        return n


def address(argument):
    """The address in `<...>` of a MAIL FROM or RCPT TO argument (parameters after it ignored)."""
    match = re.match(r"\s*<([^>]*)>", argument)
    return (match.group(1) if match else argument.split()[0] if argument.split() else "").lower()


def wait_until(condition, seconds, step=0.25):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def outbox():
    """The outbox by status: {status: (rows, attempts)}."""
    rows = psql(DB, "SELECT status, count(*), coalesce(sum(attempts), 0) FROM outbox GROUP BY status")
    return {status: (int(n), int(attempts)) for status, n, attempts in
            (line.split("|") for line in rows.splitlines() if line)}


def queued_due_in():
    """How many mails wait to be sent, and in how many seconds the last of them is due."""
    n, last = psql(DB, "SELECT count(*), coalesce(extract(epoch FROM max(send_after) - now()), 0) "
                       "FROM outbox WHERE status = 'queued'").strip().split("|")
    return int(n), float(last)


def ask_for_replies(readers, label, ports):
    """Each reader posts a comment from a fresh form, ticking "Email me when someone replies" with an
    address of their own. Returns {comment id: address}."""
    emails = [f"{label}.{i}.{RUN}@example.org" for i in range(readers)]
    statuses = []

    def post(i):
        reader = Reader(ports[i % len(ports)], "fault-mail")
        answer = reader.post(f"Mail drill {RUN} {label} question {i}: is this normal at six weeks?",
                             name=f"Reader {i}", email=emails[i], notify="1")
        statuses.append(answer.status)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = psql(DB, f"SELECT id, author_email FROM comments WHERE body LIKE 'Mail drill {RUN} {label} question %'")
    comments = {int(i): mail for i, mail in (line.split("|") for line in rows.splitlines() if line)}
    assert len(comments) == readers and statuses.count(303) == readers, (statuses, comments)
    return comments


def confirmations(sink, addresses):
    return [m for m in sink.received() if m["subject"].startswith("Please confirm")
            and m["recipients"] and m["recipients"][0] in addresses]


def reply_links(sink, addresses):
    """(address, reply id) for every reply link in every reply mail received for `addresses`."""
    links = []
    for m in sink.received():
        if m["subject"].startswith("You have a reply") and m["recipients"] and m["recipients"][0] in addresses:
            links += [(m["recipients"][0], int(i)) for i in re.findall(r"#comment-(\d+)", m["text"])]
    return links


class Midwife:
    """A verified midwife signed in over HTTP, publishing replies through the reply form."""

    def __init__(self, ports):
        self.ports = ports
        answer, self.cookies = sign_in(ports[0], MIDWIFE_EMAIL, MIDWIFE_PASSWORD)
        assert answer.status == 303, f"the midwife's sign-in answered {answer.status}"
        self.sent = 0

    def reply(self, comment_id, body):
        port = self.ports[self.sent % len(self.ports)]  # the session works through either process
        self.sent += 1
        page = request(port, "GET", f"/moderation/comments/{comment_id}", cookies=self.cookies).body
        return request(port, "POST", f"/moderation/comments/{comment_id}/reply",
                       {"authenticity_token": hidden(page, "authenticity_token"), "back": "", "body": body},
                       self.cookies)


def mail_outage(sink):
    """Readers ask for reply mails and confirm; the SMTP server goes away for SMTP_DOWN seconds
    while replies are published; when it is back every reply mail arrives exactly once."""
    carethread("article", "add", "--slug", "fault-mail", "--title", "Mail drill",
               "--url", "https://example.org/fault-mail")
    comments = ask_for_replies(MAIL_READERS, "outage", PORTS)
    addresses = set(comments.values())
    wait_until(lambda: len(confirmations(sink, addresses)) >= len(addresses), 30)
    confirmed = confirmations(sink, addresses)
    answers = []
    for m in confirmed:
        path = re.search(r"/mail/confirm/\d+/[A-Za-z0-9_-]+", m["text"]).group(0)
        answers.append(request(PORTS[len(answers) % 2], "POST", path, {}).status)
    each_once = collections.Counter(m["recipients"][0] for m in confirmed)
    check("mail: each reader who asks for replies gets one confirmation, and confirms through its link",
          set(each_once) == addresses and set(each_once.values()) == {1} and answers.count(200) == len(addresses),
          f"{len(addresses)} readers, {len(confirmed)} confirmation mails, confirm links answered "
          f"{sorted(collections.Counter(answers).items())}")

    midwife = Midwife(PORTS)
    say(f"stopping the SMTP server for {SMTP_DOWN} s while replies are published")
    sink.stop()
    down_at = time.time()
    # Two replies to every reader's comment, spread over the first two thirds of the outage.
    published = []
    rounds = 2
    gap = SMTP_DOWN * 2 / 3 / (rounds * len(comments))
    for r in range(rounds):
        for comment_id in comments:
            answer = midwife.reply(comment_id, f"Mail drill {RUN} reply {r} to {comment_id}: yes, "
                                               "and please ask your midwife at the next visit.")
            published.append(answer.status)
            time.sleep(gap)
    rows = psql(DB, f"SELECT id, parent_id FROM comments WHERE body LIKE 'Mail drill {RUN} reply %' "
                    f"AND status = 'published'")
    replies = {int(i): int(parent) for i, parent in (line.split("|") for line in rows.splitlines() if line)}
    expected = {(comments[parent], reply) for reply, parent in replies.items()}
    time.sleep(max(0.0, down_at + SMTP_DOWN - time.time()))
    waiting = outbox().get("queued", (0, 0))
    received_while_down = [m for m in sink.received() if m["at"] >= down_at]
    if SMTP_NUDGE:
        psql(DB, "UPDATE outbox SET send_after = now() WHERE status = 'queued'")
    sink.start()
    up_at = time.time()
    say(f"the SMTP server is back after {up_at - down_at:.0f} s; {waiting[0]} mails waiting, "
        f"{waiting[1]} failed attempts so far")

    # Wait for the worker's own retries rather than moving send_after: that is what happens on a
    # live site, so the drill checks that the retry schedule alone delivers everything, with nobody
    # touching the outbox. A mail that fails is tried again 1, 2, 4 … minutes after each failure;
    # with the server away for 60 s each reply mail published while it was away has usually failed
    # once and is due at most a minute after the server returns; one whose second try came just
    # before the server returned waits two minutes more. The wait follows the latest time at which a
    # waiting mail is due.
    # FAULT_SMTP_NUDGE=1 (above) made them all due at once instead: a short drill, which still
    # checks that nothing is lost or sent twice but no longer exercises the schedule. Then a few
    # more worker rounds, in case anything comes twice.
    deadline = up_at + 2 * SMTP_DOWN + 120
    while time.time() < deadline:
        n, due_in = queued_due_in()
        if n == 0:
            break
        time.sleep(min(2.0, max(0.5, due_in)))
    time.sleep(5)
    links = reply_links(sink, addresses)
    counts = collections.Counter(links)
    missing = expected - set(counts)
    twice = [pair for pair, n in counts.items() if n > 1]
    unexpected = set(counts) - expected
    arrivals = [m["at"] for m in sink.received() if m["at"] >= up_at and m["subject"].startswith("You have a reply")]
    mails = len(arrivals)
    status = outbox()
    check(f"mail: SMTP server down for {SMTP_DOWN} s while replies are published; after it returns every "
          "reply mail arrives exactly once",
          published.count(303) == len(published) == len(replies) and expected and not missing and not twice
          and not unexpected and not received_while_down and waiting[0] > 0 and "failed" not in status
          and status.get("queued", (0, 0))[0] == 0,
          f"{len(replies)} replies to {len(comments)} readers published while it was down (answered "
          f"{sorted(set(published))}); {waiting[0]} mails waiting after {waiting[1]} failed attempts when it "
          f"returned; {len(expected)} reply links expected, {len(set(counts) & expected)} received in {mails} "
          f"mails, {len(missing)} missing, {len(twice)} twice, {len(unexpected)} unexpected; last one "
          + (f"{max(arrivals) - up_at:.0f} s after it returned" if arrivals else "never")
          + ("; waiting mails made due at once (FAULT_SMTP_NUDGE)" if SMTP_NUDGE else "; retries as scheduled")
          + "; outbox: " + ", ".join(f"{n} {state} ({attempts} attempts)" for state, (n, attempts) in sorted(status.items())))
    return comments, midwife


def sent_by_process():
    """{port: [outbox ids]} from each process's "mail sent" log lines."""
    sent = {}
    for port in PORTS:
        with open(os.path.join(WORK, f"app-{port}.log"), errors="replace") as log:
            sent[port] = [int(i) for i in re.findall(r"mail sent mail\.id=(\d+)", log.read())]
    return sent


def two_workers(sink, comments, midwife):
    """A burst of mail with both processes' workers sending from one outbox: as many messages reach
    the SMTP server as the outbox has marked sent, and no message arrives twice."""
    # New readers' confirmations (one mail each) and more replies to the confirmed readers, all at
    # once through both processes, so both workers find mail due in the same rounds.
    before = int(psql(DB, "SELECT coalesce(max(id), 0) FROM outbox").strip())
    burst_at = time.time()
    threads = [threading.Thread(target=ask_for_replies, args=(MAIL_BURST, "burst", PORTS))]
    threads.append(threading.Thread(target=lambda: [midwife.reply(c, f"Mail drill {RUN} burst reply to {c}.")
                                                    for c in comments]))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_until(lambda: queued_due_in()[0] == 0, 60, step=0.5)
    time.sleep(5)
    received = sink.received()
    sent_rows = int(psql(DB, "SELECT count(*) FROM outbox WHERE status = 'sent'").strip())
    same = collections.Counter((tuple(m["recipients"]), m["subject"], m["text"]) for m in received)
    twice = sum(1 for n in same.values() if n > 1)
    by_process = sent_by_process()
    logged = collections.Counter(i for ids in by_process.values() for i in ids)
    both = [i for i, n in logged.items() if n > 1]
    burst = [m for m in received if m["at"] >= burst_at]
    check("mail: two processes sending from one outbox: messages received = outbox rows sent, none twice",
          received and len(received) == sent_rows and not twice and not both,
          f"{len(received)} messages received, {sent_rows} outbox rows sent; {twice} (recipient, subject, body) "
          f"received more than once, {len(both)} outbox rows logged as sent by both processes or twice; "
          f"the burst ({MAIL_BURST} new readers' confirmations, {len(comments)} more replies): {len(burst)} "
          "messages, sent by " + " and ".join(f"{port}: {sum(1 for i in ids if i > before)}"
                                              for port, ids in by_process.items())
          + "; whole run: " + " and ".join(f"{port}: {len(ids)}" for port, ids in by_process.items()))


# --- 5. SIGTERM under load ---------------------------------------------------------------------------


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
    say(f"drill {RUN}: private PostgreSQL on port {PG_PORT}, carethread on ports {PORTS}, "
        f"SMTP server on port {SMTP_PORT}")
    create_cluster()
    sink = SmtpSink(SMTP_PORT)
    apps = []
    try:
        carethread("migrate")
        carethread("bench-data", "--articles", "20", "--comments", "2000")
        carethread("user", "add", "--email", STAFF_EMAIL, "--name", "Fault Moderator", "--role", "moderator",
                   CARETHREAD_PASSWORD=STAFF_PASSWORD)
        carethread("user", "add", "--email", MIDWIFE_EMAIL, "--name", "Fault Midwife", "--role", "midwife",
                   "--verified", CARETHREAD_PASSWORD=MIDWIFE_PASSWORD)
        sink.start()
        apps = [start_app(port) for port in PORTS]
        two_processes()
        outage()
        slow_connections(PORTS[1], apps[1])
        comments, midwife = mail_outage(sink)
        two_workers(sink, comments, midwife)
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
