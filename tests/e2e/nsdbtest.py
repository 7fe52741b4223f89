"""Helpers for the HTTP end-to-end tests of nsdb (Python 3 standard library only).

A test class derives from ``NsdbTestCase`` (or mixes its tests into it) and is instantiated once
per binary by ``for_each_binary``: by default the release build ``./nsdb`` and the sanitizer build
``build/asan/nsdb``; the environment variable ``NSDB_BIN`` selects one or more binaries instead
(paths separated by ``os.pathsep``, relative to the repository root or absolute; the words
``release`` and ``asan`` name the two usual builds).

Each class gets its own server (``nsdb serve``) on a free loopback port in a fresh data folder.
The server runs with ``ASAN_OPTIONS=detect_leaks=1:abort_on_error=1``; after every test the
server must still be running and its stderr must hold no sanitizer report, and when the class is
done the server is stopped with SIGTERM and must exit 0 without any report (leaks included).
Every CLI run is held to the same rule.

With ``NSDB_DATABASE_URL`` set (a PostgreSQL URL, as scripts/pg-test.sh sets it), each class gets
a new database on that server instead of SQLite (created with psql, dropped when the class is
done), and every ``nsdb`` run with a data folder is given ``--database`` for it.
"""

import base64
import hashlib
import hmac
import html
import io
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
import zipfile
from xml.sax.saxutils import escape as xml_escape

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}

# fontconfig keeps a few hundred bytes from parsing /etc/fonts once per process. `nsdb serve` loads fontconfig's configuration with LeakSanitizer paused (src/main.c,
# fonts_preload), so classes that print PDFs need nothing special; kept for those that opt in.
FONTCONFIG_LSAN_ENV = {}

START_TIMEOUT = 60.0  # seconds; the ASan build starts slower
STOP_TIMEOUT = 60.0
HTTP_TIMEOUT = 60.0
CLI_TIMEOUT = 120.0

# The PostgreSQL server the suite runs against (None: SQLite in the data folder).
DATABASE_URL = os.environ.get("NSDB_DATABASE_URL", "").strip() or None

_NAMED_BINARIES = {"release": "nsdb", "rel": "nsdb", "asan": os.path.join("build", "asan", "nsdb")}


# --------------------------------------------------------------------------------------------
# binaries


def binaries():
    """The binaries the suite runs against, as absolute paths."""
    spec = os.environ.get("NSDB_BIN", "").strip()
    names = [p for p in spec.split(os.pathsep) if p] if spec else ["release", "asan"]
    out = []
    for name in names:
        path = _NAMED_BINARIES.get(name, name)
        if not os.path.isabs(path):
            path = os.path.join(ROOT, path)
        out.append(path)
    return out


def binary_label(path):
    """A short class-name suffix for a binary: Release, Asan or one derived from the path."""
    rel = os.path.relpath(path, ROOT)
    if rel == "nsdb":
        return "Release"
    if rel == os.path.join("build", "asan", "nsdb"):
        return "Asan"
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rel) if part)


def for_each_binary(namespace, *mixins, typed_passwords=()):
    """Creates, in ``namespace`` (a module's globals()), one TestCase per mixin and binary.

    ``class LoginTests:`` (a plain class holding test methods) becomes ``LoginTests_Release``
    and ``LoginTests_Asan``, each a subclass of the mixin and ``NsdbTestCase``.
    ``typed_passwords``: passwords the module's tests type, which no log may contain.
    """
    for mixin in mixins:
        for path in binaries():
            name = "%s_%s" % (mixin.__name__, binary_label(path))
            cls = type(name, (mixin, NsdbTestCase), {
                "BIN": path, "TYPED_PASSWORDS": tuple(typed_passwords),
                "__module__": namespace["__name__"], "__doc__": mixin.__doc__})
            namespace[name] = cls
        namespace.pop(mixin.__name__, None)


def sanitizer_report(text):
    """The first sanitizer marker found in text, or None."""
    for marker in SANITIZER_MARKERS:
        if marker in text:
            return marker
    return None


def sanitizer_excerpt(text, limit=6000):
    """The sanitizer report in text: from the line of the first marker (or the ==PID== banner
    just above it) on, cut to limit characters."""
    positions = [text.find(m) for m in SANITIZER_MARKERS if m in text]
    if not positions:
        return ""
    start = text.rfind("\n", 0, min(positions)) + 1
    banner = text.rfind("=================", 0, start)
    if banner != -1 and start - banner < 200:
        start = text.rfind("\n", 0, banner) + 1
    return text[start:start + limit]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env():
    env = dict(os.environ)
    env.update(SANITIZER_ENV)
    env.setdefault("LANG", "C.UTF-8")
    return env


# --------------------------------------------------------------------------------------------
# PostgreSQL


def using_postgresql():
    return DATABASE_URL is not None


def _psql(url, sql):
    env = dict(os.environ, PGCLIENTENCODING="UTF8")
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=CLI_TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError("psql failed (%d) on %r:\n%s" % (p.returncode, sql[:300],
                                                           p.stderr.decode("utf-8", "replace")))
    return p.stdout.decode("utf-8")


class PgDatabase:
    """A fresh database on the server of NSDB_DATABASE_URL, for one class."""

    def __init__(self):
        self.name = "nsdb_" + secrets.token_hex(8)
        parts = urllib.parse.urlsplit(DATABASE_URL)
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))
        _psql(DATABASE_URL, "CREATE DATABASE %s" % self.name)

    def drop(self):
        _psql(DATABASE_URL, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name)

    def query(self, sql, *args):
        """Rows of a query with ``?`` parameters (SQLite style), as tuples of JSON values."""
        wrapped = "SELECT COALESCE(json_agg(row_to_json(q)), '[]') FROM (%s) q" % _sql_inline(sql, args)
        rows = json.loads(_psql(self.url, wrapped),
                          object_pairs_hook=lambda pairs: tuple(v for _, v in pairs))
        return [tuple(r) for r in rows]


def _sql_literal(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _sql_inline(sql, args):
    """sql with each ``?`` outside quotes replaced by the next argument as a literal."""
    out, args, quote = [], list(args), None
    for ch in sql:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append(_sql_literal(args.pop(0)))
            continue
        out.append(ch)
    if args:
        raise ValueError("more arguments than ? in %r" % sql)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# command line


class CliResult:
    def __init__(self, args, code, stdout, stderr):
        self.args = args
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return "<nsdb %s: exit %s\nstdout: %s\nstderr: %s>" % (
            " ".join(self.args), self.code, self.stdout[-2000:], self.stderr[-4000:])


def run_cli(binary, args, data_dir=None, cwd=None, database_url=None):
    """Runs ``nsdb ARGS [--data DIR] [--database URL]`` and returns a CliResult (no assertion)."""
    argv = [binary] + list(args)
    if data_dir is not None:
        argv += ["--data", data_dir]
    if database_url is not None:
        argv += ["--database", database_url]
    p = subprocess.run(argv, cwd=cwd or ROOT, env=child_env(), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=CLI_TIMEOUT)
    return CliResult(list(args), p.returncode, p.stdout.decode("utf-8", "replace"),
                     p.stderr.decode("utf-8", "replace"))


# --------------------------------------------------------------------------------------------
# server


class Server:
    """One ``nsdb serve`` process in its own data folder on a free loopback port."""

    def __init__(self, binary, data_dir, threads=4, extra_args=(), env=None, database_url=None,
                 listen_host="127.0.0.1"):
        self.binary = binary
        self.listen_host = listen_host  # "0.0.0.0" to be reached from a non-loopback address
        self.data_dir = data_dir
        self.database_url = database_url  # None: SQLite in the data folder
        self.threads = threads
        self.extra_args = list(extra_args)  # more `nsdb serve` options, e.g. ["--smtp", URL]
        self.env = dict(env or {})  # more environment variables, over child_env()
        self.port = None
        self.proc = None
        self.exit_code = None
        self._stderr_path = os.path.join(os.path.dirname(data_dir), "server.stderr")
        self._stdout_path = os.path.join(os.path.dirname(data_dir), "server.stdout")

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        last_error = None
        for _ in range(3):  # a free port can be taken between bind() and the server's listen()
            self.port = free_port()
            argv = [self.binary, "serve", "--data", self.data_dir, "--listen",
                    "%s:%d" % (self.listen_host, self.port), "--threads", str(self.threads)] + self.extra_args
            if self.database_url is not None:
                argv += ["--database", self.database_url]
            with open(self._stdout_path, "wb") as out, open(self._stderr_path, "wb") as err:
                self.proc = subprocess.Popen(argv, cwd=ROOT, env=dict(child_env(), **self.env),
                                             stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            try:
                self._wait_healthy()
                return self
            except RuntimeError as e:
                last_error = e
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
                if "待ち受けできません" not in self.stderr():
                    break
        raise RuntimeError("nsdb serve did not start: %s\nstderr:\n%s" % (last_error, self.stderr()))

    def _wait_healthy(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("exited with status %d" % self.proc.returncode)
            try:
                r = Client(self.base_url, timeout=2).get("/healthz")
                if r.status == 200 and r.text.strip() == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("no 200 ok from /healthz within %.0f s" % START_TIMEOUT)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, wait; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit_code = None
                self.proc = None
                return None
        self.exit_code = self.proc.returncode
        self.proc = None
        return self.exit_code

    def stderr(self):
        try:
            with open(self._stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stdout(self):
        try:
            with open(self._stdout_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


# --------------------------------------------------------------------------------------------
# HTTP client


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name)

    def header_all(self, name):
        return self.headers.get_all(name) or []

    @property
    def location(self):
        """The Location header as a path (+ query), whether the server sent it absolute or not."""
        loc = self.headers.get("Location")
        if loc is None:
            return None
        parts = urllib.parse.urlsplit(loc)
        path = parts.path or "/"
        return path + ("?" + parts.query if parts.query else "")

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def csrf(self):
        return extract_csrf(self.text)

    def __repr__(self):
        return "<HTTP %d Location=%r %s>" % (self.status, self.headers.get("Location"),
                                             self.text[:1500])


_CSRF_INPUT = re.compile(r"<input\b[^>]*>", re.I)


def extract_csrf(page):
    """The value of the hidden ``csrf`` input of a page (the first one), or None."""
    for tag in _CSRF_INPUT.findall(page):
        if re.search(r"""\bname\s*=\s*["']?csrf["'\s>]""", tag):
            m = re.search(r"""\bvalue\s*=\s*["']([^"']*)["']""", tag)
            if m:
                return html.unescape(m.group(1))
    return None


# ---- two-factor authentication (issue 14). The harness enrols users through the real pages and
# remembers each one's secret, so that its later logins pass /login/totp as a person's would.
TOTP_USERS = {}  # user ID -> {"secret": base32, "last_step": int, "recovery": [unused codes]}
TOTP_SECRETS = set()  # every secret and recovery code seen: never in a log or audit record
_TOTP_URI = re.compile(r"otpauth://totp/nsdb:([A-Z0-9]{12})\?secret=([A-Z2-7]+)&amp;issuer=nsdb")
_RECOVERY_CODE = re.compile(r'<code class="recovery-code">([0-9A-Z]{5}-[0-9A-Z]{5})</code>')


def totp_code(secret_base32, step):
    """RFC 6238 (HMAC-SHA1, 6 digits) of a time step."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1000000)


def totp_step():
    return int(time.time()) // 30


def totp_next_code(user_id):
    """A code the server has not seen for this user: the current step, else the next one (both
    within its ±1 window), else an unused recovery code, else the next step after a wait."""
    state = TOTP_USERS[user_id]
    while True:
        now = totp_step()
        for step in (now, now + 1):
            if step > state["last_step"]:
                state["last_step"] = step
                return totp_code(state["secret"], step)
        if state["recovery"]:
            return state["recovery"].pop()
        time.sleep(1)


def visible_text(page):
    """The text of an HTML page without tags, entities decoded, whitespace collapsed."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<[^>]*>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page)).strip()


class Client:
    """A browser-like client: its own cookie jar, no automatic redirects, no raising on 4xx."""

    def __init__(self, base_url, timeout=HTTP_TIMEOUT, server=None):
        self.base_url = base_url
        self.timeout = timeout
        self.server = server  # for the server log in connection errors
        self.jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.OpenerDirector()
        # No HTTPRedirectHandler and no HTTPErrorProcessor: every response comes back as is.
        self._opener.add_handler(urllib.request.HTTPHandler())
        self._opener.add_handler(urllib.request.HTTPCookieProcessor(self.jar))
        self.last = None

    def request(self, method, path, data=None, headers=None, cookie=None):
        """One request. ``data``: dict or list of pairs (form-encoded), bytes, or None.
        ``cookie``: a raw Cookie header that replaces the jar's cookies for this request."""
        body = None
        hdrs = {}
        if isinstance(data, (dict, list, tuple)):
            body = urllib.parse.urlencode(data).encode("ascii")
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = data
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if cookie is not None:
            hdrs["Cookie"] = cookie  # the jar adds its cookies only when there is no Cookie header
        hdrs.update(headers or {})
        req = urllib.request.Request(self.base_url + path, data=body, headers=hdrs, method=method)
        try:
            resp = self._opener.open(req, timeout=self.timeout)
            try:
                payload = resp.read()
            finally:
                resp.close()
        except (OSError, http.client.HTTPException) as e:
            if self.server is None:
                raise
            tail = "\n".join(self.server.stderr().splitlines()[-12:])
            raise ConnectionError("%s %s: no HTTP response (%r); server alive: %s; end of its log:\n%s"
                                  % (method, path, e, self.server.alive(), tail)) from e
        self.last = Response(resp.status, resp.headers, payload)
        return self.last

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, data=None, **kw):
        return self.request("POST", path, data=data if data is not None else {}, **kw)

    def page_csrf(self, path):
        """GETs path (expecting 200) and returns its csrf token."""
        r = self.get(path)
        if r.status != 200:
            raise AssertionError("GET %s: expected 200, got %r" % (path, r))
        token = r.csrf()
        if not token:
            raise AssertionError("GET %s: no csrf input in the page" % path)
        return token

    def post_multipart(self, path, fields=None, files=None, **kw):
        """POST multipart/form-data. ``fields``: dict or pairs of text fields; ``files``: dict or
        pairs of name -> (filename, bytes[, content type])."""
        body, content_type = encode_multipart(fields, files)
        headers = dict(kw.pop("headers", None) or {})
        headers["Content-Type"] = content_type
        return self.request("POST", path, data=body, headers=headers, **kw)

    def login(self, user_id, password):
        """GET /login, then POST /login with the page's csrf token; returns the POST response.
        A user the harness enrolled in two-factor authentication is taken through /login/totp
        with a fresh code, and the response of that step is returned instead."""
        token = self.page_csrf("/login")
        r = self.post("/login", {"user_id": user_id, "password": password, "csrf": token})
        known = (user_id or "").strip().upper()
        if r.status == 303 and r.location == "/login/totp" and known in TOTP_USERS:
            return self.login_totp(totp_next_code(known))
        return r

    def login_totp(self, code):
        """The second step of a login: POST /login/totp with a code or a recovery code."""
        return self.post("/login/totp", {"code": code, "csrf": self.page_csrf("/login/totp")})

    def change_password(self, current, new, confirm=None, csrf=None):
        """POST /account/password. When the server then demands two-factor enrolment (roles
        mhlw, operator, muni_admin), enrols through /account/totp; returns the POST response."""
        token = csrf if csrf is not None else self.page_csrf("/account/password")
        r = self.post("/account/password", {
            "current_password": current, "new_password": new,
            "new_password_confirm": new if confirm is None else confirm, "csrf": token})
        if r.status == 303 and r.location == "/?done=password":
            due = self.get("/")
            if due.status == 303 and due.location == "/account/totp":
                self.enrol_totp()
            self.last = r
        return r

    def enrol_totp(self):
        """Enrols the logged-in user through GET/POST /account/totp like a person with an
        authenticator app; remembers the secret and recovery codes. Returns (user ID, secret,
        recovery codes)."""
        page = self.get("/account/totp")
        if page.status != 200:
            raise AssertionError("GET /account/totp: expected 200, got %r" % page)
        m = _TOTP_URI.search(page.text)
        if not m:
            raise AssertionError("GET /account/totp: no otpauth URI in the page")
        user_id, secret = m.group(1), m.group(2)
        TOTP_SECRETS.add(secret)
        step = totp_step()
        r = self.post("/account/totp", {"code": totp_code(secret, step), "csrf": page.csrf()})
        if r.status != 200:
            raise AssertionError("POST /account/totp: expected 200, got %r" % r)
        codes = _RECOVERY_CODE.findall(r.text)
        if len(codes) != 10:
            raise AssertionError("POST /account/totp: expected 10 recovery codes, got %r" % codes)
        TOTP_SECRETS.update(codes)
        TOTP_USERS[user_id] = {"secret": secret, "last_step": step, "recovery": list(codes)}
        return user_id, secret, codes

    def logout(self):
        token = self.page_csrf("/account/password")
        return self.post("/logout", {"csrf": token})

    def cookie_header(self):
        """The jar's cookies as a raw Cookie header value (to replay them elsewhere)."""
        return "; ".join("%s=%s" % (c.name, c.value) for c in self.jar)

    def cookie_names(self):
        return {c.name for c in self.jar}


def encode_multipart(fields=None, files=None):
    """A multipart/form-data body and its Content-Type header value (RFC 7578)."""
    boundary = "----nsdb-e2e-" + secrets.token_hex(16)
    parts = []

    def items(x):
        return list(x.items()) if isinstance(x, dict) else list(x or ())

    for name, value in items(fields):
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                      % (boundary, name)).encode("utf-8")
                     + (value if isinstance(value, bytes) else str(value).encode("utf-8")) + b"\r\n")
    for name, spec in items(files):
        filename, payload = spec[0], spec[1]
        ctype = spec[2] if len(spec) > 2 else "application/octet-stream"
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                      "Content-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode("utf-8")
                     + payload + b"\r\n")
    body = b"".join(parts) + ("--%s--\r\n" % boundary).encode("ascii")
    return body, "multipart/form-data; boundary=" + boundary


def random_session_token():
    """A well-formed but unknown 256-bit token (base64url without padding)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


def set_cookie_names(response):
    return [h.split("=", 1)[0].strip() for h in response.header_all("Set-Cookie")]


# --------------------------------------------------------------------------------------------
# test case base


class NsdbTestCase(unittest.TestCase):
    """Base for e2e tests: one server per class (per binary), sanitizer checks around it."""

    BIN = None  # set by for_each_binary
    TYPED_PASSWORDS = ()
    SERVE_ARGS = ()  # more `nsdb serve` options (a subclass may set them before setUpClass)
    SERVE_ENV = {}  # more environment variables for the server, e.g. FONTCONFIG_LSAN_ENV
    LISTEN_HOST = "127.0.0.1"  # the address `nsdb serve --listen` binds (tests connect to loopback)
    MUNICIPALITY = ("131016", "千代田区", "100-8511", "東京都千代田区九段南1-2-1")
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.BIN is None:
            raise unittest.SkipTest("abstract e2e class")
        if not os.access(cls.BIN, os.X_OK):
            raise AssertionError("binary %s is missing: run `make -j2 nsdb build/asan/nsdb`" % cls.BIN)
        cls._tmp = tempfile.TemporaryDirectory(prefix="nsdb-e2e-")
        cls.data_dir = os.path.join(cls._tmp.name, "data")
        # every password the class types: never in logs or audit records
        cls.secrets = set(cls.TYPED_PASSWORDS)
        cls.municipality_added = False
        cls.pg = None
        try:
            cls.pg = PgDatabase() if using_postgresql() else None
            cls.server = Server(cls.BIN, cls.data_dir, extra_args=cls.SERVE_ARGS, env=cls.SERVE_ENV,
                                database_url=cls.pg.url if cls.pg else None,
                                listen_host=cls.LISTEN_HOST).start()
        except Exception:
            if cls.pg is not None:
                cls.pg.drop()
            cls._tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.server.stop()
            err = cls.server.stderr()
            marker = sanitizer_report(err)
            if marker is not None:
                raise AssertionError("%s: server stderr has a sanitizer report (%s):\n%s"
                                     % (cls.__name__, marker, sanitizer_excerpt(err)))
            if code != 0:
                raise AssertionError("%s: server exited with status %r after SIGTERM (expected 0):\n%s"
                                     % (cls.__name__, code, err[-4000:]))
            leaked = [s for s in cls.secrets | TOTP_SECRETS if s and s in err]
            if leaked:
                raise AssertionError("%s: a password typed in the tests appears in the server log"
                                     % cls.__name__)
        finally:
            if cls.pg is not None:
                cls.pg.drop()
            cls._tmp.cleanup()
            super().tearDownClass()

    def tearDown(self):
        # A sanitizer report aborts the server: name the test that triggered it.
        err = self.server.stderr()
        marker = sanitizer_report(err)
        if marker is not None:
            self.fail("sanitizer report (%s) in server stderr:\n%s" % (marker, sanitizer_excerpt(err)))
        if not self.server.alive():
            why = ("it was sent a stop signal by a process outside this test"
                   if '"server_stopping"' in err else "exit status %s" % self.server.proc.returncode)
            self.fail("the server stopped during this test (%s):\n%s" % (why, err[-4000:]))
        super().tearDown()

    # ---- helpers for tests

    def client(self):
        return Client(self.server.base_url, server=self.server)

    def cli(self, *args, data=True, cwd=None):
        """Runs the CLI (with --data of this class's server unless data=False); fails on a
        sanitizer report."""
        r = run_cli(self.BIN, args, self.data_dir if data else None, cwd=cwd or self._tmp.name,
                    database_url=self.pg.url if data and self.pg else None)
        marker = sanitizer_report(r.stderr)
        if marker is not None:
            self.fail("sanitizer report (%s) from nsdb %s:\n%s"
                      % (marker, " ".join(args), sanitizer_excerpt(r.stderr)))
        return r

    def db_query(self, sql, *args):
        """Rows of a read-only query with ``?`` parameters on the class's database, SQLite or
        PostgreSQL (there booleans come back as True/False, equal to SQLite's 1/0)."""
        if self.pg is not None:
            return self.pg.query(sql, *args)
        db = sqlite3.connect("file:%s?mode=ro" % self.database_file(), uri=True, timeout=30)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def db_exec(self, sql, *args):
        """One write with ``?`` parameters on the class's database, SQLite or PostgreSQL: what the
        server cannot be asked for (a token's expiry in the past, a batch handed to another
        server)."""
        if self.pg is not None:
            _psql(self.pg.url, _sql_inline(sql, args))
            return
        db = sqlite3.connect(self.database_file(), timeout=30)
        try:
            db.execute(sql, args)
            db.commit()
        finally:
            db.close()

    def skip_on_postgresql(self, why):
        if self.pg is not None:
            self.skipTest("PostgreSQL: " + why)

    def database_file(self):
        """The SQLite database in the data folder (found by its file header)."""
        for name in sorted(os.listdir(self.data_dir)):
            path = os.path.join(self.data_dir, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    if f.read(16) == b"SQLite format 3\x00":
                        return path
        self.fail("no SQLite database in %s: %s" % (self.data_dir, os.listdir(self.data_dir)))

    def audit(self):
        r = self.cli("audit", "--json", "--limit", "100000")
        self.assertEqual(r.code, 0, r)
        rows = r.json()
        self.assertIsInstance(rows, list)
        return rows

    def ensure_municipality(self):
        cls = type(self)
        if not cls.municipality_added:
            code, name, postal, address = self.MUNICIPALITY
            r = self.cli("municipality", "add", "--code", code, "--name", name,
                         "--postal", postal, "--address", address)
            self.assertEqual(r.code, 0, r)
            cls.municipality_added = True
        return self.MUNICIPALITY[0]

    def add_user(self, role="mhlw", name="試験 太郎"):
        """`nsdb user add --json`; returns (user_id, initial_password)."""
        args = ["user", "add", "--role", role, "--name", name, "--json"]
        if role in ("muni_admin", "muni_staff"):
            args += ["--municipality", self.ensure_municipality()]
        r = self.cli(*args)
        self.assertEqual(r.code, 0, r)
        out = r.json()
        self.assertRegex(out["user_id"], r"^[A-Z0-9]{12}$")
        self.assertEqual(len(out["initial_password"]), 12)
        self.secrets.add(out["initial_password"])
        return out["user_id"], out["initial_password"]

    def remember(self, *passwords):
        """Declares passwords typed by a test (they must never reach a log)."""
        self.secrets.update(p for p in passwords if p)

    def logged_in(self, role="mhlw", new_password=None, name="試験 太郎"):
        """A new user of the role, logged in; with new_password, its first change done.
        Returns (client, user_id, current_password)."""
        user_id, initial = self.add_user(role, name)
        c = self.client()
        r = c.login(user_id, initial)
        self.assertEqual((r.status, r.location), (303, "/account/password"), r)
        if new_password is None:
            return c, user_id, initial
        self.remember(new_password)
        r = c.change_password(initial, new_password)
        self.assertEqual((r.status, r.location), (303, "/?done=password"), r)
        return c, user_id, new_password

    # ---- assertions

    def assertRedirect(self, response, location, status=303):
        self.assertEqual((response.status, response.location), (status, location), response)

    def assertStatus(self, response, status):
        self.assertEqual(response.status, status, response)

    def assertJapanesePage(self, response):
        self.assertEqual(response.content_type, "text/html", response)
        self.assertRegex(response.text, r'<html[^>]*\blang="ja"', response)
        self.assertRegex(visible_text(response.text), r"[\u3040-\u30ff\u4e00-\u9fff]", response)

    def assertNoSecrets(self, text, what):
        for s in self.secrets:
            if s and s in text:
                self.fail("a password typed in the tests appears in %s" % what)


# --------------------------------------------------------------------------------------------
# files


ADMIN_LIST_HEADER = ["No", "地方公共団体コード", "地方公共団体名", "難病/小慢", "部署名", "役職", "氏名",
                     "氏名カナ", "メールアドレス", "電話番号", "内線", "申請区分", "備考", "郵便番号",
                     "所属先住所"]


def admin_list_xlsx(rows, header=ADMIN_LIST_HEADER):
    """A minimal 管理者権限のユーザID申請リスト without LibreOffice: one sheet of the header and
    rows as inline strings (empty cells left out)."""
    ns = "http://schemas.openxmlformats.org/"

    def cell(col, row, text):
        ref = "%s%d" % (chr(ord("A") + col), row)
        return '<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref, xml_escape(text))

    sheet_rows = "".join(
        '<row r="%d">%s</row>' % (r + 1, "".join(cell(c, r + 1, v) for c, v in enumerate(values) if v))
        for r, values in enumerate([header] + rows))
    parts = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="%spackage/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '</Types>' % ns,
        "_rels/.rels":
            '<Relationships xmlns="%spackage/2006/relationships"><Relationship Id="rId1" '
            'Type="%sofficeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>' % (ns, ns),
        "xl/workbook.xml":
            '<workbook xmlns="%sspreadsheetml/2006/main" xmlns:r="%sofficeDocument/2006/'
            'relationships"><sheets><sheet name="申請リスト" sheetId="1" r:id="rId1"/></sheets>'
            '</workbook>' % (ns, ns),
        "xl/_rels/workbook.xml.rels":
            '<Relationships xmlns="%spackage/2006/relationships">'
            '<Relationship Id="rId1" Type="%sofficeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>' % (ns, ns),
        "xl/worksheets/sheet1.xml":
            '<worksheet xmlns="%sspreadsheetml/2006/main"><sheetData>%s</sheetData></worksheet>'
            % (ns, sheet_rows),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text.encode("utf-8"))
    return out.getvalue()
