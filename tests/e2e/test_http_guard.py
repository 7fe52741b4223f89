"""Issue 14, findings 3 and 7 (HTTP): what a client that does not play by the rules can no
longer do to the server.

- A request that cannot be authorised (no session, wrong role) is answered as soon as its
  headers are in, before its body: anonymous half-sent uploads no longer cost memory.
- Bodies being received share one budget of bytes in flight (256 MB): past it, 503 at once.
- A large body is spooled to an unlinked temporary file, not to memory, and imports as before.
- Request headers must be complete within the header deadline, and an upload must keep a
  minimum average rate after it: slow clients are disconnected.
- A per-client connection limit; duplicate Content-Length is refused; the port is not shared
  (no SO_REUSEPORT); behind --trust-proxy the client is the right-most address of
  X-Forwarded-For that is not a proxy hop.
"""
import errno
import os
import re
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nsdbtest import for_each_binary  # noqa: E402
from test_flow2 import Flow2Base, csv_bytes  # noqa: E402

HEADER_TIMEOUT = 2
PER_CLIENT = 12
MB = 1024 * 1024


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


class RawConnection:
    """A TCP connection that sends exactly the bytes it is given."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send(self, data):
        self.sock.sendall(data)

    def answer(self, timeout=3.0):
        """What the server sent until it closed the connection or went quiet for timeout."""
        self.sock.settimeout(timeout)
        out = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and timeout > 1.0:
                    self.sock.settimeout(0.5)  # the rest of a short answer comes at once
        except socket.timeout:
            pass
        except ConnectionResetError:
            pass
        return out

    def closed_by_server(self, within):
        """True when the server closes (EOF or reset) within the given seconds."""
        self.sock.settimeout(within)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self):
        self.sock.close()


def status_of(answer):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return int(m.group(1)) if m else None


def upload_head(path, length, cookie=None, boundary="nsdbguard"):
    lines = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1",
             "Content-Type: multipart/form-data; boundary=%s" % boundary,
             "Content-Length: %d" % length]
    if cookie:
        lines.append("Cookie: " + cookie)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


class UploadGuard(Flow2Base):
    """Bodies are read only for a caller who may send them, within one budget, from a file."""

    SERVE_ARGS = ("--header-timeout", str(HEADER_TIMEOUT),
                  "--max-connections-per-client", str(PER_CLIENT))

    def staff_cookie(self):
        return self.staff().cookie_header()

    def test_anonymous_upload_is_answered_before_its_body(self):
        conn = RawConnection(self.server.port)
        try:
            t0 = time.monotonic()
            conn.send(upload_head("/inst-users/import", 30 * MB))
            answer = conn.answer(timeout=3.0)
            self.assertEqual(status_of(answer), 303, answer[:200])
            self.assertIn(b"Location: /login", answer)
            self.assertLess(time.monotonic() - t0, 2.5)
        finally:
            conn.close()

    def test_forty_anonymous_half_sent_uploads_cost_no_memory(self):
        pid = self.server.proc.pid
        before = rss_kib(pid)
        chunk = b"x" * MB

        def attack():
            try:
                conn = RawConnection(self.server.port)
            except OSError:
                return
            try:
                conn.send(upload_head("/inst-users/import", 30 * MB))
                for _ in range(8):  # 8 MB of the 30 announced, then the attacker waits
                    conn.send(chunk)
                time.sleep(0.5)
            except OSError:
                pass  # answered and closed: what the fix does
            finally:
                conn.close()

        threads = [threading.Thread(target=attack) for _ in range(40)]
        peak = before
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss_kib(pid))
            time.sleep(0.02)
        for t in threads:
            t.join()
        grown_mib = (peak - before) / 1024
        # before the fix the bodies were read into memory: 40 x 8 MB = 320 MB
        self.assertLess(grown_mib, 64, "server grew by %.0f MiB" % grown_mib)
        self.assertEqual(self.client().get("/healthz").status, 200)

    def test_wrong_role_upload_is_refused_before_its_body(self):
        c, _, _ = self.logged_in("mhlw", new_password="mhlw guard staple battery 2026")
        conn = RawConnection(self.server.port)
        try:
            conn.send(upload_head("/inst-users/import", 30 * MB, cookie=c.cookie_header()))
            answer = conn.answer(timeout=3.0)
            self.assertEqual(status_of(answer), 403, answer[:300])
        finally:
            conn.close()
        denied = [a for a in self.audit() if a["action"] == "access_denied"]
        self.assertTrue(any(a["target"] == "/inst-users/import" for a in denied))

    def test_uploads_in_flight_share_one_budget(self):
        cookie = self.staff_cookie()
        held = []
        try:
            # eight uploads of 31 MB announced (248 MB) fit in the 256 MB budget: they wait for
            # their bodies; a ninth does not and is answered 503 at once
            for _ in range(8):
                conn = RawConnection(self.server.port)
                conn.send(upload_head("/inst-users/import", 31 * MB, cookie=cookie))
                held.append(conn)
            for conn in held:
                self.assertFalse(conn.closed_by_server(0.05))
            ninth = RawConnection(self.server.port)
            held.append(ninth)
            ninth.send(upload_head("/inst-users/import", 31 * MB, cookie=cookie))
            answer = ninth.answer(timeout=1.5)
            self.assertEqual(status_of(answer), 503, answer[:300])
            self.assertIn(b"Retry-After: 30", answer)
            self.assertIn("混み合っています", answer.decode("utf-8", "replace"))
        finally:
            for conn in held:
                conn.close()
        # the held uploads sent nothing: the guard drops them and their bytes come back
        time.sleep(HEADER_TIMEOUT + 1.5)
        inst = self.institution()
        batch, ids, page = self.import_ok([("after.csv", csv_bytes([self.row(inst, user_type="責任者")]))])
        self.assertEqual(len(ids), 1)

    def test_a_large_upload_is_spooled_to_a_file_and_imported(self):
        inst = self.institution()
        rows = [self.row(inst, user_type="責任者")] + [self.row(inst) for _ in range(3)]
        c = self.staff()
        token = c.page_csrf("/inst-users/new?tab=bulk")
        # 600 KB of an extra field puts the body past the 256 KB kept in memory
        r = c.post_multipart("/inst-users/import", [("csrf", token), ("note", "あ" * 200000)],
                             [("file", ("big.csv", csv_bytes(rows), "text/csv"))])
        self.assertEqual(r.status, 303, r)
        page = c.get(r.location)
        self.assertStatus(page, 200)
        self.assertIn(rows[1][6], page.text)
        tmp = os.path.join(self.data_dir, "tmp")
        self.assertEqual(os.listdir(tmp), [], "no spooled body is left behind")

    def test_headers_trickled_past_the_deadline_are_cut(self):
        conn = RawConnection(self.server.port)
        t0 = time.monotonic()
        closed_at = None
        try:
            conn.send(b"GET /healthz HTTP/1.1\r\n")
            for i in range(20):  # one header line every 0.4 s: never idle, never complete
                time.sleep(0.4)
                try:
                    conn.send(b"X-Slow-%d: a\r\n" % i)
                except OSError:
                    closed_at = time.monotonic() - t0
                    break
            if closed_at is None and conn.closed_by_server(0.1):
                closed_at = time.monotonic() - t0
        finally:
            conn.close()
        self.assertIsNotNone(closed_at, "a client trickling headers kept its connection 8 s")
        self.assertLess(closed_at, HEADER_TIMEOUT + 3)
        self.assertEqual(self.client().get("/healthz").status, 200)

    def test_an_upload_below_the_minimum_rate_is_cut(self):
        conn = RawConnection(self.server.port)
        t0 = time.monotonic()
        closed_at = None
        try:
            conn.send(upload_head("/inst-users/import", 100000, cookie=self.staff_cookie()))
            for _ in range(20):  # 10 bytes every 0.4 s
                time.sleep(0.4)
                try:
                    conn.send(b"x" * 10)
                except OSError:
                    closed_at = time.monotonic() - t0
                    break
            if closed_at is None and conn.closed_by_server(0.1):
                closed_at = time.monotonic() - t0
        finally:
            conn.close()
        self.assertIsNotNone(closed_at, "a 25 bytes/s upload kept its connection 8 s")
        self.assertLess(closed_at, HEADER_TIMEOUT + 3)

    def test_duplicate_content_length_is_refused(self):
        conn = RawConnection(self.server.port)
        try:
            conn.send(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      b"Content-Length: 7\r\nContent-Length: 30\r\n\r\nuser_id")
            answer = conn.answer(timeout=3.0)
        finally:
            conn.close()
        self.assertEqual(status_of(answer), 400, answer[:300])

    def test_a_form_field_without_equals_sign_is_just_empty(self):
        # "user_id" alone once made the server write into a string literal and crash
        r = self.client().request("POST", "/login", data=b"user_id&password")
        self.assertEqual(r.status, 403, r)  # no csrf: refused like any form without it
        self.assertEqual(self.client().get("/healthz").status, 200)

    def serve_once(self, conn):
        """Sends one keep-alive request; the answer's head, or None when the server closed it."""
        try:
            conn.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            got = b""
            while b"\r\n\r\n" not in got:
                chunk = conn.sock.recv(65536)
                if not chunk:
                    return None
                got += chunk
            return got
        except OSError:
            return None

    def test_one_client_cannot_take_every_connection(self):
        held = []
        try:
            # each held connection is served once (keep-alive), so the server has accepted all of
            # them before the next one comes: a connect only reaches the kernel's backlog. The
            # server may still count connections an earlier test closed until its next turn, so a
            # held connection it refuses is opened again (for at most 3 s)
            deadline = time.monotonic() + 3
            while len(held) < PER_CLIENT:
                conn = RawConnection(self.server.port)
                got = self.serve_once(conn)
                if got is None:
                    conn.close()
                    self.assertLess(time.monotonic(), deadline,
                                    "connection %d of %d was refused" % (len(held) + 1, PER_CLIENT))
                    time.sleep(0.1)
                    continue
                self.assertEqual(status_of(got), 200, got[:200])
                held.append(conn)
            extra = RawConnection(self.server.port)
            try:
                extra.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                answer = extra.answer(timeout=1.0)
            except OSError:
                answer = b""
            finally:
                extra.close()
            self.assertIsNone(status_of(answer), "connection %d was served" % (PER_CLIENT + 1))
        finally:
            for conn in held:
                conn.close()
        deadline = time.monotonic() + 3
        while True:  # the server notices the closed connections on its next turn
            try:
                if self.client().get("/healthz").status == 200:
                    break
            except ConnectionError:
                pass
            self.assertLess(time.monotonic(), deadline, "the server did not free the connections")
            time.sleep(0.1)

    def test_the_port_cannot_be_shared(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            with self.assertRaises(OSError) as ctx:
                s.bind(("127.0.0.1", self.server.port))
            self.assertEqual(ctx.exception.errno, errno.EADDRINUSE)
        finally:
            s.close()


class ForwardedFor:
    """Behind --trust-proxy the client address is the right-most X-Forwarded-For entry that is
    not a proxy hop; what the client wrote to the left of it is ignored."""

    SERVE_ARGS = ("--trust-proxy",)

    def client_ip_of(self, headers):
        probe = "/probe-%d" % time.monotonic_ns()
        lines = ["GET %s HTTP/1.1" % probe, "Host: 127.0.0.1", "Connection: close"]
        lines += ["%s: %s" % h for h in headers]
        conn = RawConnection(self.server.port)
        try:
            conn.send(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
            self.assertEqual(status_of(conn.answer()), 404)
        finally:
            conn.close()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            for line in self.server.stderr().splitlines():
                if '"path":"%s"' % probe in line.replace(" ", ""):
                    m = re.search(r'"ip":\s*"([^"]*)"', line)
                    return m.group(1) if m else None
            time.sleep(0.05)
        self.fail("no access log line for %s" % probe)

    def test_right_most_untrusted_address_is_the_client(self):
        xff = "X-Forwarded-For"
        self.assertEqual(self.client_ip_of([(xff, "203.0.113.7")]), "203.0.113.7")
        # the client wrote a spoofed address; the proxy appended the real one
        self.assertEqual(self.client_ip_of([(xff, "6.6.6.6, 203.0.113.7")]), "203.0.113.7")
        # two headers are one list, in order
        self.assertEqual(self.client_ip_of([(xff, "6.6.6.6"), (xff, "203.0.113.8")]), "203.0.113.8")
        # a loopback proxy hop is skipped
        self.assertEqual(self.client_ip_of([(xff, "6.6.6.6, 198.51.100.4, 127.0.0.1")]),
                         "198.51.100.4")
        self.assertEqual(self.client_ip_of([(xff, "2001:db8::5")]), "2001:db8::5")
        # garbage where the proxy writes falls back to the peer, never to what the client wrote
        self.assertEqual(self.client_ip_of([(xff, "6.6.6.6, not-an-address")]), "127.0.0.1")
        self.assertEqual(self.client_ip_of([]), "127.0.0.1")


for_each_binary(globals(), UploadGuard, ForwardedFor)

if __name__ == "__main__":
    unittest.main()
