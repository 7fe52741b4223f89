"""End-to-end tests of mail that is never lost (issue 14, finding 6): the operator's screen of
mail not sent (GET /operator/mail), its 再送 (a confirmation page and POST
/operator/mail/{id}/resend with csrf, audited), the outbox gauges of /metrics, and the role and
CSRF rules around them.

The ⑦ mails of a 払出し go to a real SMTP server on loopback (tests/unit/smtp_sink.py), which
first answers 451 to one admin and 550 to another: both mails wait, neither is given up at once.
A day of refusals is simulated by moving the refused mail's first refusal back a day in the
database; the server's own sender then fails it. The sink is restarted accepting everyone, and
the operator resends both mails: each arrives once, and the initial password it carries never
appeared on the operator's pages.

Needs a Python with aiosmtpd for the sink (Debian's python3-aiosmtpd; /usr/bin/python3 unless
NSDB_SMTP_PYTHON names another). The admin list is a small xlsx written here (inline strings).
"""

import email
import email.policy
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import ROOT, _psql, admin_list_xlsx, for_each_binary, free_port, visible_text  # noqa: E402

PASSWORD = "みどりの風と白い灯台を見に行く"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SINK_SCRIPT = os.path.join(ROOT, "tests", "unit", "smtp_sink.py")
SINK_PYTHON = os.environ.get("NSDB_SMTP_PYTHON", "/usr/bin/python3")

OK_TO = "desk.ok@example.jp"
BUSY_TO = "desk.busy@example.jp"  # 451 until the sink is restarted
REFUSED_TO = "desk.refused@example.jp"  # 550 until the sink is restarted

ROWS = [
    ["1", "131016", "千代田区", "難病", "保健所", "主任", "送信 一郎", "ソウシン イチロウ", OK_TO,
     "03-1234-5678", "", "新規", "", "100-8511", "東京都千代田区九段南1-2-1"],
    ["2", "011002", "札幌市", "小慢", "保健福祉局", "係長", "再送 二郎", "サイソウ ジロウ", BUSY_TO,
     "011-211-2111", "", "新規", "", "060-0001", "北海道札幌市中央区北1条西2丁目"],
    ["3", "271004", "大阪市", "両方", "福祉局", "主査", "拒否 三郎", "キョヒ サブロウ", REFUSED_TO,
     "06-6208-8181", "", "新規", "", "530-8201", "大阪府大阪市北区中之島1-3-20"],
]
METRICS = ("nsdb_mail_pending", "nsdb_mail_waiting", "nsdb_mail_failed",
           "nsdb_mail_oldest_pending_age_seconds")


def wait_until(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class Sink:
    """tests/unit/smtp_sink.py on 127.0.0.1:port writing into outdir, with its refusals."""

    def __init__(self, port, outdir, args=()):
        self.port, self.outdir, self.args, self.proc = port, outdir, list(args), None
        self.runs = 0

    def restart(self, args):
        """The same port, other refusals; each run writes a folder of its own (the sink numbers
        its files from 1)."""
        self.stop()
        self.args = list(args)
        return self.start()

    def run_dir(self, n):
        return os.path.join(self.outdir, "run%d" % n)

    def start(self):
        self.runs += 1
        os.makedirs(self.run_dir(self.runs))
        ready = os.path.join(self.run_dir(self.runs), ".ready")
        self.proc = subprocess.Popen([SINK_PYTHON, SINK_SCRIPT, str(self.port), self.run_dir(self.runs)] + self.args,
                                     cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_until(lambda: os.path.exists(ready) or self.proc.poll() is not None, 30) \
                or not os.path.exists(ready):
            self.stop()
            raise RuntimeError("the SMTP sink did not start on port %d" % self.port)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def messages(self):
        """{recipient: [raw message, …]} of everything accepted so far (every run)."""
        import json
        out = {}
        for run in range(1, self.runs + 1):
            folder = self.run_dir(run)
            for name in sorted(os.listdir(folder)):
                if re.fullmatch(r"msg-\d+\.json", name):
                    with open(os.path.join(folder, name), encoding="utf-8") as f:
                        meta = json.load(f)
                    with open(os.path.join(folder, name[:-5] + ".eml"), "rb") as f:
                        raw = f.read()
                    for to in meta["rcpt_tos"]:
                        out.setdefault(to, []).append(raw)
        return out


def mailed_password(raw):
    body = email.message_from_bytes(raw, policy=email.policy.default).get_content()
    m = re.search(r"初期パスワード\s*[:：]?\s*([A-Za-z0-9]{12})(?![A-Za-z0-9])", body)
    return m.group(1) if m else None


def table_rows(page):
    out = []
    for body in re.findall(r"(?is)<tbody\b[^>]*>(.*?)</tbody>", page):
        for tr in re.findall(r"(?is)<tr\b[^>]*>(.*?)</tr>", body):
            cells = re.findall(r"(?is)<td\b[^>]*>(.*?)</td>", tr)
            if cells:
                out.append([visible_text(c) for c in cells])
    return out


class MailDeskTests:
    """The operator's screen of mail not sent, its resend, /metrics, roles and CSRF."""

    # the municipality of the test users: not one the admin list creates
    MUNICIPALITY = ("012025", "函館市", "040-8666", "北海道函館市東雲町4-13")

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls._sink_tmp = tempfile.TemporaryDirectory(prefix="nsdb-desk-smtp-")
        cls.smtp_port = free_port()
        cls.sink = Sink(cls.smtp_port, os.path.join(cls._sink_tmp.name, "out"),
                        ["--tempfail", BUSY_TO, "--refuse", REFUSED_TO]).start()
        cls.SERVE_ARGS = ("--smtp", "smtp://127.0.0.1:%d" % cls.smtp_port)
        try:
            super().setUpClass()
        except BaseException:
            cls.sink.stop()
            cls._sink_tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.sink.stop()
            cls._sink_tmp.cleanup()

    # ---- helpers

    def logged_in_as(self, role):
        key = "_client_" + role
        if key not in type(self).__dict__:
            setattr(type(self), key, self.logged_in(role, new_password=PASSWORD)[0])
        return getattr(type(self), key)

    def mail(self, to):
        rows = self.db_query("SELECT id, status, attempts, last_error FROM mail_outbox "
                             "WHERE to_address = ?", to)
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def execute(self, sql):
        """A write to the class's database, standing in for the passing of time."""
        if self.pg is not None:
            _psql(self.pg.url, sql)
            return
        db = sqlite3.connect(self.database_file(), timeout=30)
        try:
            db.execute(sql)
            db.commit()
        finally:
            db.close()

    def issued(self):
        """Issues the three admins once per class; waits for the first attempt of each mail."""
        cls = type(self)
        if "_issued" not in cls.__dict__:
            mhlw, operator = self.logged_in_as("mhlw"), self.logged_in_as("operator")
            r = mhlw.post_multipart("/admin-lists", {"csrf": mhlw.page_csrf("/admin-lists")},
                                    {"file": ("申請リスト.xlsx", admin_list_xlsx(ROWS), XLSX_TYPE)})
            self.assertEqual(r.status, 303, visible_text(r.text)[:2000])
            path = r.location
            r = mhlw.post(path + "/approve", {"csrf": mhlw.page_csrf(path)})
            self.assertRedirect(r, path + "?notice=approved")
            r = operator.post(path + "/issue", {"csrf": operator.page_csrf(path)})
            self.assertRedirect(r, path + "?notice=issued")
            tried = wait_until(lambda: all(self.mail(to)[2] >= 1 for to in (OK_TO, BUSY_TO, REFUSED_TO)), 30)
            self.assertTrue(tried, [self.mail(to) for to in (OK_TO, BUSY_TO, REFUSED_TO)])
            cls._issued = {to: self.mail(to)[0] for to in (OK_TO, BUSY_TO, REFUSED_TO)}
        return cls._issued

    def metrics(self):
        r = self.client().get("/metrics")
        self.assertStatus(r, 200)
        values = {}
        for name in METRICS:
            m = re.search(r"(?m)^%s (\d+)$" % name, r.text)
            self.assertIsNotNone(m, "%s missing from /metrics:\n%s" % (name, r.text[-1500:]))
            values[name] = int(m.group(1))
        return values

    # ---- tests

    def test_desk_lists_waiting_and_failed_mail_and_resend_delivers_it_once(self):
        ids = self.issued()
        operator = self.logged_in_as("operator")
        self.assertEqual(self.mail(OK_TO)[1], "sent")
        # neither a 451 nor a single 550 gives a mail up
        for to, code in ((BUSY_TO, "451"), (REFUSED_TO, "550")):
            _, status, attempts, last_error = self.mail(to)
            self.assertEqual(status, "pending", to)
            self.assertIn(code, last_error)
        pages = []
        r = operator.get("/operator/mail")
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        pages.append(r.text)
        rows = {row[3]: row for row in table_rows(r.text) if len(row) >= 8}
        self.assertEqual(set(rows), {BUSY_TO, REFUSED_TO}, rows)
        self.assertIn("451", rows[BUSY_TO][7])
        self.assertIn("550", rows[REFUSED_TO][7])
        self.assertTrue(rows[BUSY_TO][1].startswith("再送待ち"), rows[BUSY_TO])
        self.assertIn('href="/operator/mail/%d/resend"' % ids[BUSY_TO], r.text)

        # a day of refusals (its first refusal moved back a day): the server's sender fails it
        self.execute("UPDATE mail_outbox SET refused_since = refused_since - 90000, "
                     "next_attempt_at = 0 WHERE id = %d" % ids[REFUSED_TO])
        self.assertTrue(wait_until(lambda: self.mail(REFUSED_TO)[1] == "failed", 40),
                        self.mail(REFUSED_TO))
        r = operator.get("/operator/mail")
        pages.append(r.text)
        rows = {row[3]: row for row in table_rows(r.text) if len(row) >= 8}
        self.assertEqual(rows[REFUSED_TO][1], "送信不能")
        self.assertEqual(table_rows(r.text)[0][3], REFUSED_TO)  # failed mail first
        m = self.metrics()
        self.assertEqual((m["nsdb_mail_pending"], m["nsdb_mail_waiting"], m["nsdb_mail_failed"]),
                         (1, 1, 1), m)
        queued = self.db_query("SELECT created_at FROM mail_outbox WHERE id = ?", ids[BUSY_TO])[0][0]
        self.assertLessEqual(abs(m["nsdb_mail_oldest_pending_age_seconds"] - (time.time() - queued)), 5, m)

        # the confirmation page; a POST without csrf changes nothing
        path = "/operator/mail/%d/resend" % ids[REFUSED_TO]
        r = operator.get(path)
        self.assertStatus(r, 200)
        pages.append(r.text)
        self.assertIn(REFUSED_TO, visible_text(r.text))
        self.assertIn('action="%s"' % path, r.text)
        self.assertStatus(operator.post(path, {}), 403)
        self.assertStatus(operator.post(path, {"csrf": "x" * 43}), 403)
        self.assertEqual(self.mail(REFUSED_TO)[1], "failed")
        resends_before = len(self.audit_rows("mail_resend"))

        # the SMTP server is mended; the operator resends both, each arrives once (the waiting
        # mail's own retry is an hour away, as after a long outage)
        self.execute("UPDATE mail_outbox SET next_attempt_at = next_attempt_at + 3600 "
                     "WHERE id = %d" % ids[BUSY_TO])
        self.sink.restart([])
        r = operator.post(path, {"csrf": operator.page_csrf(path)})
        self.assertRedirect(r, "/operator/mail?done=resent")
        busy_path = "/operator/mail/%d/resend" % ids[BUSY_TO]
        page = operator.get(busy_path)
        pages.append(page.text)
        r = operator.post(busy_path, {"csrf": page.csrf()})
        self.assertRedirect(r, "/operator/mail?done=resent")
        delivered = wait_until(lambda: all(self.mail(to)[1] == "sent" for to in (BUSY_TO, REFUSED_TO)), 30)
        self.assertTrue(delivered, [self.mail(to) for to in (BUSY_TO, REFUSED_TO)])
        mails = self.sink.messages()
        for to in (OK_TO, BUSY_TO, REFUSED_TO):
            self.assertEqual(len(mails.get(to, [])), 1, to)
        # the message (its initial password) was never on the operator's pages
        for to in (BUSY_TO, REFUSED_TO):
            password = mailed_password(mails[to][0])
            self.assertIsNotNone(password)
            self.remember(password)
            for text in pages:
                self.assertNotIn(password, text)
        # audited: who resent which mail
        resends = self.audit_rows("mail_resend")  # newest first
        audit = resends[:len(resends) - resends_before]
        self.assertEqual(sorted(a["target"] for a in audit),
                         sorted("mail:%d" % ids[to] for to in (BUSY_TO, REFUSED_TO)))
        for a in audit:
            self.assertEqual(a["result"], "ok")
        # nothing left: the list is empty, the gauges are zero, a sent mail cannot be resent
        r = operator.get("/operator/mail?done=resent")
        self.assertIn("再送の順番に戻しました", visible_text(r.text))
        self.assertIn("送信できていないメールはありません", visible_text(r.text))
        self.assertEqual(self.metrics(), dict.fromkeys(METRICS, 0))
        self.assertStatus(operator.get(path), 409)
        self.assertStatus(operator.post(path, {"csrf": operator.page_csrf("/operator/mail")}), 409)

    def audit_rows(self, action):
        return [a for a in self.audit() if a["action"] == action]

    def test_other_roles_are_refused_the_desk_and_the_resend(self):
        ids = self.issued()
        target = "/operator/mail/%d/resend" % ids[BUSY_TO]
        resends_before = len(self.audit_rows("mail_resend"))
        for role in ("mhlw", "muni_admin"):
            c = self.logged_in_as(role)
            for path in ("/operator/mail", target):
                r = c.get(path)
                self.assertStatus(r, 403)
                self.assertNotIn(BUSY_TO, r.text)
            r = c.post(target, {"csrf": c.page_csrf("/")})
            self.assertStatus(r, 403)
        self.assertRedirect(self.client().get("/operator/mail"), "/login")
        self.assertRedirect(self.client().post(target, {}), "/login")
        self.assertEqual(len(self.audit_rows("mail_resend")), resends_before)
        # the menu links the screen for the operator only
        self.assertIn('href="/operator/mail"', self.logged_in_as("operator").get("/").text)
        self.assertNotIn('href="/operator/mail"', self.logged_in_as("mhlw").get("/").text)

    def test_unknown_mail_is_404(self):
        operator = self.logged_in_as("operator")
        token = operator.page_csrf("/operator/mail")
        for path in ("/operator/mail/999999/resend", "/operator/mail/abc/resend",
                     "/operator/mail/0/resend", "/operator/mail/1e3/resend"):
            self.assertStatus(operator.get(path), 404)
            self.assertStatus(operator.post(path, {"csrf": token}), 404)


for_each_binary(globals(), MailDeskTests, typed_passwords=(PASSWORD,))
