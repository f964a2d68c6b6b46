#!/usr/bin/env python3
"""A flood of wrong sign-ins against one carethread process, driven by bench/signin_flood.sh (which
builds the binary, loads a database and starts the server). Uses only Python's standard library.

Every attempt is a real browser's: it fetches /login for its own form cookie and token, and comes
from its own address (X-Forwarded-For, believed from the local proxy), so the per-address lockout
does not answer it before the password is checked. Each attempt names a different unknown email
address: no account lockout applies either, and every attempt asks for a password hash (an unknown
address is checked against a stand-in hash, at the same cost). Two rounds:
  1. 200 wrong sign-ins, 100 at a time (two waves);
  2. 200 wrong sign-ins at once.
Reports the server's resident memory before the flood and its peak (VmHWM) in each round, the
answers by status and the time taken.
"""

import collections
import html
import http.client
import os
import re
import sys
import threading
import time
import urllib.parse

PORT = int(os.environ["FLOOD_PORT"])
PID = int(os.environ["FLOOD_PID"])
GOAL_MB = 150
ROUNDS = [("200 wrong sign-ins, 100 at a time", [100, 100]), ("200 wrong sign-ins at once", [200])]


def memory():
    """The server's resident memory just now and at its peak, in kB."""
    fields = {}
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


def reset_peak():
    """Starts VmHWM again from the present RSS (Linux 4.0 and later); False if not allowed."""
    try:
        with open(f"/proc/{PID}/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def mb(kb):
    return f"{kb / 1024:.0f} MB"


class Sampler:
    """Reads VmRSS every few milliseconds: the peak seen, in case VmHWM cannot be reset."""

    def __init__(self):
        self.peak, self.stop = 0, threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, memory()[0])
            time.sleep(0.005)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()


def login_form():
    """A browser's visit to /login: its form cookie and the token that goes with it."""
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    try:
        connection.request("GET", "/login", headers={"Connection": "close"})
        response = connection.getresponse()
        page = response.read().decode()
        cookies = [h.split(";", 1)[0] for h in response.headers.get_all("Set-Cookie") or []]
        token = html.unescape(re.search(r'name="authenticity_token" value="([^"]*)"', page).group(1))
        return "; ".join(cookies), token
    finally:
        connection.close()


def attempt(n, form, start, results):
    """One wrong sign-in: connect, wait for the others, send, read the answer."""
    cookie, token = form
    body = urllib.parse.urlencode({"authenticity_token": token, "email": f"nobody.{n}@flood.example.org",
                                   "password": f"wrong guess {n}", "next": ""})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "Connection": "close",
               "X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256 + 1}"}
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    try:
        connection.connect()
        start.wait()
        sent = time.time()
        connection.request("POST", "/login", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        results.append((response.status, sent, time.time()))
    except (OSError, http.client.HTTPException) as error:
        results.append((type(error).__name__, None, time.time()))
    finally:
        connection.close()


def wave(size, forms, first):
    start, results = threading.Barrier(size + 1), []
    threads = [threading.Thread(target=attempt, args=(first + i, forms[first + i], start, results))
               for i in range(size)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.time()
    for thread in threads:
        thread.join()
    return results, began, max(ended for _, _, ended in results)


def main():
    total = sum(sum(sizes) for _, sizes in ROUNDS)
    # Warm the process as a live one would be: pages read, forms shown.
    forms = [login_form() for _ in range(total)]
    rss_before, peak_before = memory()
    print(f"Before the flood: RSS {mb(rss_before)}, peak so far {mb(peak_before)} "
          f"(after {total} sign-in pages shown, no password checked yet).")
    print()
    print(f"| {'round':<36} | {'401':>4} | {'503':>4} | {'429':>4} | {'other':>5} | {'time':>6} | "
          f"{'401 p50':>8} | {'503 p50':>8} | {'RSS at start':>12} | {'peak RSS':>8} |")
    print(f"|{'-' * 38}|------|------|------|-------|--------|----------|----------|--------------|----------|")
    first, peaks, other_seen, resettable = 0, [], [], True
    for name, sizes in ROUNDS:
        if first:
            resettable = reset_peak() and resettable
        answers, took, at_start = [], 0.0, memory()[0]
        with Sampler() as sampler:
            for size in sizes:
                results, began, ended = wave(size, forms, first)
                answers += results
                took += ended - began
                first += size
        peak = memory()[1] if resettable else sampler.peak
        peaks.append(peak)
        by_status = collections.Counter(status for status, _, _ in answers)
        other = {k: v for k, v in by_status.items() if k not in (401, 503, 429)}
        other_seen += other.items()

        def p50(status):
            times = sorted(ended - sent for s, sent, ended in answers if s == status and sent)
            return f"{times[len(times) // 2] * 1000:.0f} ms" if times else "-"

        print(f"| {name:<36} | {by_status[401]:>4} | {by_status[503]:>4} | {by_status[429]:>4} | "
              f"{sum(other.values()):>5} | {took:>4.1f} s | {p50(401):>8} | {p50(503):>8} | {mb(at_start):>12} | "
              f"{mb(peak):>8} |",
              flush=True)
    rss_after = memory()[0]
    print()
    print(f"After the flood: RSS {mb(rss_after)}. Peak in each round is VmHWM"
          + (" started again from the RSS at the round's start." if resettable else
             " (could not be reset: later rounds show the highest of VmHWM and RSS sampled every 5 ms)."))
    if other_seen:
        print(f"Other answers: {dict(other_seen)}")
    met = max(peaks) < GOAL_MB * 1024
    print(f"Goal: peak RSS under {GOAL_MB} MB during 200 concurrent wrong sign-ins: "
          f"{'met' if met else 'NOT met'} ({mb(max(peaks))}, {mb(rss_before)} before the flood).")
    return 0 if met and not other_seen else 1


if __name__ == "__main__":
    sys.exit(main())
