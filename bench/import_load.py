#!/usr/bin/env python3
"""Logins and registrations of one municipality while another imports (issue 11, item 4;
bench/import_load.sh; standard library only).

  import_load.py URL A_SESSION CSV B_LOGIN_USER B_LOGIN_PASSWORD B_SESSION

While municipality A's staff (A_SESSION) imports CSV through inst_bench.run_import (the one
place that knows when an import has ended, synchronous or in the background), two clients of
municipality B run until the import has ended:
  - logins: POST /login of B_LOGIN_USER (csrf token and nsdb_csrf cookie from one GET /login),
    a new connection each time, one after another with 0.25 s between them; a success is a 303
    to "/" (the password is right, so anything else is a failure);
  - registrations: 個別登録 of one 指定医 at a time (GET /inst-users/new for the csrf token, then
    POST /inst-users/new) with B_SESSION, 0.25 s between them, each at a new institution (codes
    271xxxxxxx, Luhn); a success is a 303 to /inst-users?registered=ID.
A failure is any other answer or a connection error (timeout 30 s). The latency of a request
is from its connect to the end of its answer. Prints one JSON object: the import's result
(inst_bench.py import), and for logins and registrations: n, ok, failures (by kind), max_ms,
p99_ms, p50_ms.

  import_load.py report JSON
      The summary lines of such a JSON object for run.sh, then "goal: met" or "goal: MISSED"
      (met: no failed login, registration or form page, and every login under 1000 ms).
"""
import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inst_bench  # noqa: E402

PAUSE_SECONDS = 0.25
TIMEOUT_SECONDS = 30


def conn_for(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT_SECONDS)


def csrf_of(html):
    m = re.search(rb'name="csrf" value="([^"]+)"', html)
    return m.group(1).decode() if m else None


class Series:
    """Latencies and failures of one client."""

    def __init__(self):
        self.ms = []
        self.failures = {}

    def fail(self, kind):
        self.failures[kind] = self.failures.get(kind, 0) + 1

    def summary(self):
        ms = sorted(self.ms)
        n = len(ms)
        pct = lambda p: round(ms[min(n - 1, int(p * n))], 1) if n else None  # noqa: E731
        return {"n": n, "ok": n - sum(self.failures.values()), "failures": self.failures,
                "max_ms": round(ms[-1], 1) if n else None, "p99_ms": pct(0.99), "p50_ms": pct(0.50)}


def timed(series, url, method, path, body, headers, expect):
    """One request on a new connection; records its latency and whether expect(status, location)."""
    t0 = time.perf_counter()
    try:
        c = conn_for(url)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        c.close()
    except (OSError, http.client.HTTPException) as e:
        series.ms.append(1000 * (time.perf_counter() - t0))
        series.fail(type(e).__name__)
        return
    series.ms.append(1000 * (time.perf_counter() - t0))
    if not expect(r.status, r.getheader("Location") or ""):
        series.fail(str(r.status))


def login_loop(url, user_id, password, stop, series):
    c = conn_for(url)
    c.request("GET", "/login")
    r = c.getresponse()
    html = r.read()
    cookie = "; ".join(v.split(";", 1)[0] for k, v in r.getheaders() if k.lower() == "set-cookie")
    token = csrf_of(html)
    if r.status != 200 or not token:
        raise SystemExit(f"import_load.py: GET /login -> {r.status}, no csrf")
    body = urllib.parse.urlencode({"csrf": token, "user_id": user_id, "password": password})
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    while not stop.is_set():
        timed(series, url, "POST", "/login", body, headers, lambda st, loc: st == 303 and loc == "/")
        stop.wait(PAUSE_SECONDS)


def register_loop(url, session, stop, series, page_series):
    k = 0
    cookie = {"Cookie": f"nsdb_session={session}"}
    while not stop.is_set():
        k += 1
        token = None
        t0 = time.perf_counter()
        try:  # the form's csrf token: a GET counted as a request of its own
            c = conn_for(url)
            c.request("GET", "/inst-users/new", headers=cookie)
            r = c.getresponse()
            token = csrf_of(r.read()) if r.status == 200 else None
            c.close()
            page_series.ms.append(1000 * (time.perf_counter() - t0))
            if token is None:
                page_series.fail(str(r.status))
        except (OSError, http.client.HTTPException) as e:
            page_series.ms.append(1000 * (time.perf_counter() - t0))
            page_series.fail(type(e).__name__)
        if token:
            code = inst_bench.luhn_code(f"271{k:06d}")
            f = inst_bench.FAMILY[k % len(inst_bench.FAMILY)]
            g = inst_bench.GIVEN[(k * 7) % len(inst_bench.GIVEN)]
            form = {"inst_code": code, "inst_name": f"大阪ベンチ診療所 第{k}", "inst_postal": "530-0001",
                    "inst_address": f"大阪府大阪市北区梅田{k % 3 + 1}丁目{k % 50 + 1}番1号",
                    "inst_phone": f"06-6{k // 10000:03d}-{k % 10000:04d}", "user_type": "doctor",
                    "name": f"{f[0]} {g[0]}", "name_kana": f"{f[1]} {g[1]}", "category": "nanbyo",
                    "doctor_number": f"O{k:06d}", "specialty": "内科", "email": "", "csrf": token}
            timed(series, url, "POST", "/inst-users/new", urllib.parse.urlencode(form),
                  dict(cookie, **{"Content-Type": "application/x-www-form-urlencoded"}),
                  lambda st, loc: st == 303 and loc.startswith("/inst-users?registered="))
        stop.wait(PAUSE_SECONDS)


def report(j):
    def line(label, s):
        f = ", ".join(f"{k}: {v}" for k, v in sorted(s["failures"].items())) or "none"
        return (f"   {label:<35}{s['n']} ({s['ok']} ok), failures {f}; max {s['max_ms']} ms, "
                f"p99 {s['p99_ms']} ms, p50 {s['p50_ms']} ms")
    i = j["import"]
    print(f"   {'A imports 100,000 rows':<35}{i['seconds']} s (the POST answered after "
          f"{i['post_seconds']} s; {i['polls']} progress polls)")
    print(line("B logs in (POST /login)", j["logins"]))
    print(line("B registers (POST /inst-users/new)", j["registrations"]))
    print(line("B opens the form (GET)", j["form_pages"]))
    logins = j["logins"]
    met = (logins["n"] and not logins["failures"] and logins["max_ms"] < 1000
           and not j["registrations"]["failures"] and not j["form_pages"]["failures"])
    print("goal: " + ("met" if met else "MISSED"))


def main(argv):
    if len(argv) == 3 and argv[1] == "report":
        report(json.loads(argv[2]))
        return 0
    if len(argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    url, a_session, csv_path, b_user, b_password, b_session = argv[1:]
    stop = threading.Event()
    logins, registrations, form_pages = Series(), Series(), Series()
    threads = [threading.Thread(target=login_loop, args=(url, b_user, b_password, stop, logins)),
               threading.Thread(target=register_loop, args=(url, b_session, stop, registrations, form_pages))]
    for t in threads:
        t.start()
    try:
        result = inst_bench.run_import(url, a_session, csv_path)
    finally:
        stop.set()
        for t in threads:
            t.join()
    print(json.dumps({"import": result, "logins": logins.summary(), "registrations": registrations.summary(),
                      "form_pages": form_pages.summary()}, ensure_ascii=False))
    return 0 if result["batch"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
