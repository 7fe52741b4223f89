#!/usr/bin/env python3
"""HTTP helpers for bench/run.sh (standard library only).

  client.py setup URL USER_ID INITIAL_PASSWORD NEW_PASSWORD
      Logs in with the initial password, does the forced password change (so that the stored
      hash is argon2id at the server's default cost), checks that GET / answers the menu, and
      prints the session cookie value (nsdb_session).

  client.py logins URL USER_ID PASSWORD N CONCURRENCY SERVER_PID [MAX_SECONDS]
      Logs in N times (or until MAX_SECONDS have passed, default 10, so that a busy machine does
      not stretch the run) over CONCURRENCY keep-alive connections (one thread each), with one csrf
      token and nsdb_csrf cookie from GET /login, and measures the server process's CPU time
      (utime+stime from /proc/PID/stat, all threads) over the run. Only 303 answers with
      Location "/" count as successes. Prints one JSON object.

  client.py check-menu URL SESSION
      Exits 0 when GET / with the session cookie answers 200 with the menu, else 1.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import struct
import sys
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie


def conn_for(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def cookies_from(resp):
    jar = {}
    for name, value in resp.getheaders():
        if name.lower() == "set-cookie":
            c = SimpleCookie()
            c.load(value)
            for k, m in c.items():
                jar[k] = m.value
    return jar


def cookie_header(jar):
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def csrf_from(html):
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    if not m:
        raise SystemExit("client.py: no csrf field in the page")
    return m.group(1)


def request(conn, method, path, jar, form=None):
    headers = {}
    if jar:
        headers["Cookie"] = cookie_header(jar)
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read().decode("utf-8", "replace")
    jar.update(cookies_from(resp))
    return resp.status, resp.getheader("Location"), data


def first_login(url, user_id, initial, new, who="client.py"):
    """Logs in with the initial password and does the forced password change; returns
    (conn, jar) with the session cookie in jar. who names the script in the failure message."""
    c = conn_for(url)
    jar = {}
    st, _, html = request(c, "GET", "/login", jar)
    assert st == 200, f"GET /login -> {st}"
    st, loc, _ = request(c, "POST", "/login", jar,
                         {"csrf": csrf_from(html), "user_id": user_id, "password": initial})
    if st != 303 or loc != "/account/password":
        raise SystemExit(f"{who}: first login of {user_id} -> {st} {loc} (expected 303 /account/password)")
    st, _, html = request(c, "GET", "/account/password", jar)
    assert st == 200, f"GET /account/password -> {st}"
    st, loc, body = request(c, "POST", "/account/password", jar,
                            {"csrf": csrf_from(html), "current_password": initial,
                             "new_password": new, "new_password_confirm": new})
    if st != 303 or not (loc or "").startswith("/"):
        raise SystemExit(f"{who}: password change of {user_id} -> {st} {loc}\n{body[:2000]}")
    st, loc, _ = request(c, "GET", "/", jar)
    if st == 303 and loc == "/account/totp":  # mhlw, operator, muni_admin: two-factor is due
        enrol_totp(c, jar, who)
    return c, jar


def totp_code(secret_base32, step):
    """RFC 6238 (HMAC-SHA1, 6 digits) of a 30-second time step."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1000000)


def enrol_totp(c, jar, who):
    """Enrols the logged-in user like a person with an authenticator app (the session stays)."""
    st, _, html = request(c, "GET", "/account/totp", jar)
    m = re.search(r"otpauth://totp/nsdb:[A-Z0-9]{12}\?secret=([A-Z2-7]+)", html)
    if st != 200 or not m:
        raise SystemExit(f"{who}: GET /account/totp -> {st}, no otpauth URI")
    code = totp_code(m.group(1), int(time.time()) // 30)
    st, _, _ = request(c, "POST", "/account/totp", jar, {"csrf": csrf_from(html), "code": code})
    if st != 200:
        raise SystemExit(f"{who}: POST /account/totp -> {st}")


def setup(url, user_id, initial, new):
    _, jar = first_login(url, user_id, initial, new)
    if "nsdb_session" not in jar:
        raise SystemExit("client.py: no nsdb_session cookie")
    if not menu_ok(url, jar["nsdb_session"]):
        raise SystemExit("client.py: GET / with the session does not show the menu")
    print(jar["nsdb_session"])


def menu_ok(url, session):
    c = conn_for(url)
    st, _, html = request(c, "GET", "/", {"nsdb_session": session})
    return st == 200 and "<h1>メニュー</h1>" in html


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def logins(url, user_id, password, n, concurrency, pid, max_seconds=10.0):
    c = conn_for(url)
    jar = {}
    st, _, html = request(c, "GET", "/login", jar)
    assert st == 200, f"GET /login -> {st}"
    token = csrf_from(html)
    csrf_jar = {"nsdb_csrf": jar["nsdb_csrf"]}
    c.close()
    form = {"csrf": token, "user_id": user_id, "password": password}

    counts = {"ok": 0, "other": {}}
    lock = threading.Lock()
    per_thread = [n // concurrency + (1 if i < n % concurrency else 0) for i in range(concurrency)]
    latencies = []

    deadline = [0.0]

    def worker(k):
        conn = conn_for(url)
        for _ in range(k):
            if time.monotonic() > deadline[0]:
                break
            t0 = time.monotonic()
            try:
                st, loc, _ = request(conn, "POST", "/login", dict(csrf_jar), form)
            except (http.client.HTTPException, OSError) as e:
                st, loc = type(e).__name__, None
                conn.close()
                conn = conn_for(url)
            dt = time.monotonic() - t0
            with lock:
                latencies.append(dt)
                if st == 303 and loc == "/":
                    counts["ok"] += 1
                else:
                    key = f"{st} {loc}"
                    counts["other"][key] = counts["other"].get(key, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in per_thread]
    cpu0 = proc_cpu_seconds(pid)
    w0 = time.monotonic()
    deadline[0] = w0 + max_seconds
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - w0
    cpu = proc_cpu_seconds(pid) - cpu0
    latencies.sort()
    ok = counts["ok"]
    print(json.dumps({
        "n": len(latencies), "concurrency": concurrency, "ok": ok, "other": counts["other"],
        "server_cpu_s": round(cpu, 3),
        "server_cpu_ms_per_login": round(cpu * 1000 / ok, 3) if ok else None,
        "wall_s": round(wall, 3),
        "logins_per_s": round(ok / wall, 2),
        "latency_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "latency_p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
    }))


def main(argv):
    if len(argv) >= 2 and argv[1] == "setup" and len(argv) == 6:
        setup(*argv[2:])
    elif len(argv) >= 2 and argv[1] == "logins" and len(argv) in (8, 9):
        logins(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]), int(argv[7]),
               float(argv[8]) if len(argv) == 9 else 10.0)
    elif len(argv) >= 2 and argv[1] == "check-menu" and len(argv) == 4:
        sys.exit(0 if menu_ok(argv[2], argv[3]) else 1)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
