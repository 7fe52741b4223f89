"""End-to-end tests of Flow I (issue 3): the admin application list (upload, validation, approve /
reject, 払出し), the mail to each new municipal admin (⑦, through a real SMTP server on loopback,
with retry after the SMTP server was down, and as .eml files without SMTP), municipal staff
registration, search, edit, reset, suspend (⑧), the ID・PW notice PDF (⑨) and the scope rule of
SPEC §1 (another municipality's user answers 404 and is audited).

Every class runs once per binary (see nsdbtest.for_each_binary), each with its own server.
The admin application lists are real xlsx files: CSV written here and converted by LibreOffice
(`soffice --headless --convert-to xlsx`) once per module, in one soffice call.

Needs: soffice (LibreOffice Calc), pdftotext (poppler-utils) and, for the SMTP sink, a Python with
aiosmtpd (Debian's python3-aiosmtpd; /usr/bin/python3 unless NSDB_SMTP_PYTHON names another).
"""

import csv
import email
import email.policy
import glob
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import (FONTCONFIG_LSAN_ENV, ROOT, for_each_binary, free_port,  # noqa: E402
                      visible_text)

GOOD_PASSWORD = "しろいくもと青い海を見に行く"
STAFF_PASSWORD = "correct horse battery staple 2026"

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAIL_SUBJECT = "【難病・小慢DB】自治体管理者ユーザIDと初期パスワードのお知らせ"
NOTICE_TITLE = "難病・小慢DB IDPW発行通知書"
SUSPENDED_MESSAGE = "利用停止"
USER_ID = re.compile(r"^[2-9A-HJKMNP-Z]{12}$")
UNAMBIGUOUS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

STATUS_SUBMITTED = "申請中"
STATUS_APPROVED = "承認済（払出し待ち）"
STATUS_ISSUED = "払出し済"
STATUS_REJECTED = "差戻し"
NOTICE_UNISSUED = "未発行"
NOTICE_ISSUED = "発行済（初期パスワード）"
NOTICE_ACTIVE = "利用中"

# (地方公共団体コード, 名称, 郵便番号, 所属先住所)
CHIYODA = ("131016", "千代田区", "100-8511", "東京都千代田区九段南1-2-1")
SAPPORO = ("011002", "札幌市", "060-0001", "北海道札幌市中央区北1条西2丁目")
OSAKA = ("271004", "大阪市", "530-8201", "大阪府大阪市北区中之島1-3-20")
HAKODATE = ("012025", "函館市", "040-8666", "北海道函館市東雲町4-13")

HEADER = ["No", "地方公共団体コード", "地方公共団体名", "難病/小慢", "部署名", "役職", "氏名", "氏名カナ",
          "メールアドレス", "電話番号", "内線", "申請区分", "備考", "郵便番号", "所属先住所"]


def admin_row(no, muni, name, kana, mail, kind="新規", category="難病", department="保健所 健康推進課",
              title="主任", phone="03-1234-5678", extension="", note="", postal=None, address=None):
    code, muni_name, muni_postal, muni_address = muni
    return [str(no), code, muni_name, category, department, title, name, kana, mail, phone, extension,
            kind, note, muni_postal if postal is None else postal,
            muni_address if address is None else address]


# Every fixture is a distinct file (an identical re-upload is recognised as a duplicate), and each
# is used at most once per server, except where a test re-uploads on purpose.
FIXTURES = {
    "issue_two": [
        admin_row(1, CHIYODA, "山田 太郎", "ヤマダ タロウ", "yamada.taro@example.jp"),
        admin_row(2, SAPPORO, "札幌 花子", "サッポロ ハナコ", "hanako.sapporo@example.jp",
                  category="小慢", department="保健福祉局 健康企画課", title="係長", phone="011-211-2111"),
    ],
    "upload_one": [admin_row(1, OSAKA, "大阪 一郎", "オオサカ イチロウ", "ichiro.osaka@example.jp",
                             category="両方")],
    "to_reject": [admin_row(1, OSAKA, "差戻 次郎", "サシモドシ ジロウ", "jiro@example.jp")],
    "to_approve": [admin_row(1, OSAKA, "承認 三郎", "ショウニン サブロウ", "saburo@example.jp")],
    "roles": [admin_row(1, OSAKA, "権限 四郎", "ケンゲン シロウ", "shiro@example.jp")],
    "csrf": [admin_row(1, OSAKA, "検証 五郎", "ケンショウ ゴロウ", "goro@example.jp")],
    "cd_new": [
        admin_row(1, OSAKA, "変更 前子", "ヘンコウ マエコ", "change.me@example.jp"),
        admin_row(2, OSAKA, "削除 六郎", "サクジョ ロクロウ", "delete.me@example.jp"),
    ],
    "cd_second": [
        admin_row(1, OSAKA, "変更 後子", "ヘンコウ アトコ", "change.me@example.jp", kind="変更",
                  department="福祉局 難病対策担当", address="大阪府大阪市北区中之島1-3-20 本庁舎5階"),
        admin_row(2, OSAKA, "削除 六郎", "サクジョ ロクロウ", "delete.me@example.jp", kind="削除",
                  address="大阪府大阪市北区中之島1-3-20 本庁舎5階"),
    ],
    # Issue 12, items 1 and 2: who a 変更 or 削除 row means (AdminListTargetTests).
    "tg_new": [
        admin_row(1, HAKODATE, "対象 一子", "タイショウ イチコ", "ichiko@example.jp"),
        admin_row(2, HAKODATE, "対象 二郎", "タイショウ ジロウ", "jiro.t@example.jp", category="小慢"),
        admin_row(3, HAKODATE, "同名 三子", "ドウメイ ミツコ", "mitsuko1@example.jp"),
        admin_row(4, HAKODATE, "同名 三子", "ドウメイ ミツコ", "mitsuko2@example.jp"),
    ],
    # row 2: nobody; row 3: two admins with that kana; row 4: the e-mail is 一子's but the row is
    # 小慢, so the kana decides (二郎); row 5: a municipality with no admin
    "tg_bad": [
        admin_row(1, HAKODATE, "対象 一子", "タイショウ イチコ", "ichiko@example.jp", kind="変更"),
        admin_row(2, HAKODATE, "誰 でもない", "ダレ デモナイ", "nobody@example.jp", kind="変更"),
        admin_row(3, HAKODATE, "同名 三子", "ドウメイ ミツコ", "mitsuko3@example.jp", kind="削除"),
        admin_row(4, HAKODATE, "対象 二郎", "タイショウ ジロウ", "ichiko@example.jp", kind="変更",
                  category="小慢"),
        admin_row(5, CHIYODA, "居ない 人", "イナイ ヒト", "inai@example.jp", kind="削除"),
    ],
    # 一子's new address, found by her kana
    "tg_email": [admin_row(1, HAKODATE, "対象 一子", "タイショウ イチコ", "ichiko.new@example.jp",
                           kind="変更", department="保健所 新部署")],
    # an admin whose list is approved, then changed twice by other lists before it is issued
    "tg2_new": [admin_row(1, SAPPORO, "消える 四郎", "キエル シロウ", "shiro.k@example.jp")],
    "tg2_pending": [admin_row(1, SAPPORO, "消える 四郎", "キエル シロウ", "shiro.k@example.jp",
                              kind="変更", title="課長")],
    "tg2_mail": [admin_row(1, SAPPORO, "消える 四郎", "キエル シロウ", "shiro.new@example.jp",
                           kind="変更")],
    "tg2_kana": [admin_row(1, SAPPORO, "別 四郎", "ベツ シロウ", "shiro.new@example.jp", kind="変更")],
    "tg2_back": [admin_row(1, SAPPORO, "別 四郎", "ベツ シロウ", "shiro.new@example.jp", kind="変更",
                           title="部長")],
    "tg3_new": [admin_row(1, OSAKA, "戻す 五郎", "モドス ゴロウ", "goro.m@example.jp")],
    "tg3_back": [admin_row(1, OSAKA, "戻す 五郎", "モドス ゴロウ", "goro.m@example.jp", kind="変更",
                           title="課長")],
    "tg3_other": [admin_row(1, OSAKA, "戻す 五郎", "モドス ゴロウ", "goro.m@example.jp", kind="変更",
                            title="部長")],
    # Errors: row 2 B (check digit) and D; row 3 I, L and N; row 4 G and O; row 5 is valid.
    "invalid": [
        admin_row(1, ("131017",) + CHIYODA[1:], "誤り 一", "アヤマリ ハジメ", "ayamari1@example.jp",
                  category="難"),
        admin_row(2, CHIYODA, "誤り 二", "アヤマリ ニ", "ayamari2@", kind="追加", postal="100-851"),
        admin_row(3, CHIYODA, "", "アヤマリ サン", "ayamari3@example.jp", address=""),
        admin_row(4, CHIYODA, "正し 四", "タダシ シ", "tadashi4@example.jp"),
    ],
}
INVALID_ERRORS = {(2, "B", "地方公共団体コード"), (2, "D", "難病/小慢"), (3, "I", "メールアドレス"),
                  (3, "L", "申請区分"), (3, "N", "郵便番号"), (4, "G", "氏名"), (4, "O", "所属先住所")}

_fixture_dir = None
_fixture_tmp = None


def setUpModule():
    """Writes every fixture as CSV and converts them all to xlsx in one soffice run."""
    global _fixture_dir, _fixture_tmp
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("soffice (LibreOffice) is needed to make the xlsx fixtures")
    if shutil.which("pdftotext") is None:
        raise RuntimeError("pdftotext (poppler-utils) is needed to read the notices")
    _fixture_tmp = tempfile.TemporaryDirectory(prefix="nsdb-flow1-")
    csv_dir = os.path.join(_fixture_tmp.name, "csv")
    _fixture_dir = os.path.join(_fixture_tmp.name, "xlsx")
    os.makedirs(csv_dir)
    os.makedirs(_fixture_dir)
    paths = []
    for name, rows in sorted(FIXTURES.items()):
        path = os.path.join(csv_dir, name + ".csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\r\n").writerows([HEADER] + rows)
        paths.append(path)
    # A private profile: another soffice running at the same time would hold the default one.
    profile = "file://" + os.path.join(_fixture_tmp.name, "lo-profile")
    argv = [soffice, "-env:UserInstallation=" + profile, "--headless", "--norestore",
            "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx", "--outdir", _fixture_dir] + paths
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=180)
    missing = [n for n in FIXTURES if not os.path.isfile(os.path.join(_fixture_dir, n + ".xlsx"))]
    if missing:
        raise RuntimeError("soffice did not convert %s (exit %d):\n%s\n%s" % (
            missing, p.returncode, p.stdout.decode("utf-8", "replace")[-2000:],
            p.stderr.decode("utf-8", "replace")[-2000:]))


def tearDownModule():
    if _fixture_tmp is not None:
        _fixture_tmp.cleanup()


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def fixture(name):
    return read_bytes(os.path.join(_fixture_dir, name + ".xlsx"))


# --------------------------------------------------------------------------------------------
# page, mail and PDF readers


def table_rows(page):
    """The body rows of the page's tables, each a list of cell texts."""
    out = []
    for body in re.findall(r"(?is)<tbody\b[^>]*>(.*?)</tbody>", page):
        for tr in re.findall(r"(?is)<tr\b[^>]*>(.*?)</tr>", body):
            cells = re.findall(r"(?is)<td\b[^>]*>(.*?)</td>", tr)
            if cells:
                out.append([visible_text(c) for c in cells])
    return out


def input_value(page, name):
    """The value attribute of the text input named name, or None."""
    for tag in re.findall(r"<input\b[^>]*>", page):
        if re.search(r'\bname="%s"' % re.escape(name), tag) and 'type="radio"' not in tag:
            m = re.search(r'\bvalue="([^"]*)"', tag)
            return visible_text(m.group(1)) if m else ""
    return None


def checked_value(page, name):
    """The value of the checked radio button named name, or None."""
    for tag in re.findall(r"<input\b[^>]*>", page):
        if re.search(r'\bname="%s"' % re.escape(name), tag) and re.search(r"\bchecked\b", tag):
            m = re.search(r'\bvalue="([^"]*)"', tag)
            return m.group(1) if m else None
    return None


def field_error(page, field):
    """The text of the error shown next to a form field (id="FIELD-error"), or None."""
    m = re.search(r'id="%s-error"[^>]*>(.*?)</' % re.escape(field), page, re.S)
    return visible_text(m.group(1)) if m else None


def parse_mail(raw):
    """(message, decoded subject, decoded body text) of an RFC 5322 message."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg, str(msg["Subject"]), msg.get_content()


def mailed_password(body):
    m = re.search(r"初期パスワード\s*[:：]?\s*([A-Za-z0-9]{12})(?![A-Za-z0-9])", body)
    return m.group(1) if m else None


def pdf_text(data):
    p = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise AssertionError("pdftotext failed: %s" % p.stderr.decode("utf-8", "replace"))
    return p.stdout.decode("utf-8")


def notice_password(text):
    m = re.search(r"初期パスワード\s+([A-Z0-9]{12})(?![A-Z0-9])", text)
    return m.group(1) if m else None


def unknown_user_id():
    import secrets
    return "".join(secrets.choice(UNAMBIGUOUS) for _ in range(12))


def wait_until(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# the SMTP sink (tests/unit/smtp_sink.py)

SINK_SCRIPT = os.path.join(ROOT, "tests", "unit", "smtp_sink.py")
SINK_PYTHON = os.environ.get("NSDB_SMTP_PYTHON", "/usr/bin/python3")


class SmtpSink:
    """tests/unit/smtp_sink.py on 127.0.0.1:port, writing msg-NNNN.eml / .json into outdir."""

    def __init__(self, port, outdir):
        self.port = port
        self.outdir = outdir
        self.proc = None
        self._log_path = outdir.rstrip("/") + ".log"

    @property
    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def start(self, timeout=30.0):
        os.makedirs(self.outdir, exist_ok=True)
        with open(self._log_path, "wb") as log:
            self.proc = subprocess.Popen([SINK_PYTHON, SINK_SCRIPT, str(self.port), self.outdir],
                                         cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        ready = os.path.join(self.outdir, ".ready")
        if not wait_until(lambda: os.path.exists(ready) or self.proc.poll() is not None, timeout) \
                or not os.path.exists(ready):
            self.stop()
            raise RuntimeError("the SMTP sink did not start on port %d:\n%s" % (self.port, self.log()))
        return self

    def log(self):
        try:
            with open(self._log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def messages(self):
        """[(envelope dict, raw message bytes)] in arrival order."""
        import json
        out = []
        for meta_path in sorted(glob.glob(os.path.join(self.outdir, "msg-*.json"))):
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
            with open(meta_path[:-5] + ".eml", "rb") as f:
                out.append((meta, f.read()))
        return out

    def wait_for(self, count, timeout=30.0):
        wait_until(lambda: len(self.messages()) >= count, timeout)
        return self.messages()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# --------------------------------------------------------------------------------------------
# helpers shared by the test classes


class FlowHelpers:
    """Helpers for the Flow I tests (mixed into every class below)."""

    # ---- people

    def _cached(self, key, make):
        cls = type(self)
        if key not in cls.__dict__:
            setattr(cls, key, make())
        return getattr(cls, key)

    def mhlw(self):
        """A logged-in mhlw client (one per class) with its password changed."""
        def make():
            c, user_id, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD, name="厚労 花子")
            type(self)._mhlw_id = user_id
            return c
        return self._cached("_mhlw_client", make)

    def operator(self):
        return self._cached("_operator_client", lambda: self.logged_in(
            "operator", new_password=GOOD_PASSWORD, name="運用 次郎")[0])

    def add_muni_user(self, muni, role="muni_admin", name="自治体 管理者"):
        """A user of municipality muni (created by the CLI when missing); (user_id, password)."""
        code, muni_name, postal, address = muni
        made = type(self).__dict__.get("_munis_made")
        if made is None:
            made = set()
            type(self)._munis_made = made
        if code not in made:
            r = self.cli("municipality", "add", "--code", code, "--name", muni_name,
                         "--postal", postal, "--address", address)
            self.assertEqual(r.code, 0, r)
            made.add(code)
        r = self.cli("user", "add", "--role", role, "--name", name, "--municipality", code, "--json")
        self.assertEqual(r.code, 0, r)
        out = r.json()
        self.remember(out["initial_password"])
        return out["user_id"], out["initial_password"]

    def login_changed(self, user_id, password, new_password=GOOD_PASSWORD):
        """A client logged in as user_id after the forced first password change."""
        c = self.client()
        self.assertRedirect(c.login(user_id, password), "/account/password")
        self.remember(password, new_password)
        self.assertRedirect(c.change_password(password, new_password), "/?done=password")
        return c

    # ---- admin lists

    def upload(self, client, data, filename="管理者権限のユーザID申請リスト.xlsx", csrf=True):
        fields = {}
        if csrf:
            fields["csrf"] = client.page_csrf("/admin-lists")
        return client.post_multipart("/admin-lists", fields, {"file": (filename, data, XLSX_TYPE)})

    def upload_ok(self, client, name):
        """Uploads fixture name; returns the list's path /admin-lists/N."""
        r = self.upload(client, fixture(name), filename=name + ".xlsx")
        self.assertEqual(r.status, 303, r)
        self.assertRegex(r.location or "", r"^/admin-lists/\d+$")
        return r.location

    def list_action(self, client, path, action, csrf=True, **fields):
        if csrf:
            fields["csrf"] = client.page_csrf(path)
        return client.post(path + "/" + action, fields)

    def list_status(self, client, path):
        r = client.get(path)
        self.assertStatus(r, 200)
        m = re.search(r"<h1>申請リスト\s*\d+\s*：\s*(.*?)</h1>", r.text, re.S)
        self.assertIsNotNone(m, r)
        return visible_text(m.group(1))

    def list_ids(self, client):
        r = client.get("/admin-lists")
        self.assertStatus(r, 200)
        return set(re.findall(r'href="/admin-lists/(\d+)"', r.text))

    def list_rows(self, client, path):
        """{e-mail: (申請区分, 払出し結果 text, user ID or None)} of a list's detail page."""
        r = client.get(path)
        self.assertStatus(r, 200)
        out = {}
        for cells in table_rows(r.text):
            if len(cells) < 9:
                continue
            m = re.search(r"ユーザID\s*([A-Z0-9]{12})", cells[8])
            out[cells[5]] = (cells[6], cells[8], m.group(1) if m else None)
        return out

    def approve_and_issue(self, name):
        """Uploads, approves and issues fixture name; returns (path, rows as list_rows)."""
        path = self.upload_ok(self.mhlw(), name)
        self.assertRedirect(self.list_action(self.mhlw(), path, "approve"), path + "?notice=approved")
        self.assertRedirect(self.list_action(self.operator(), path, "issue"), path + "?notice=issued")
        return path, self.list_rows(self.operator(), path)

    # ---- database (read only)

    def query(self, sql, *args):
        return self.db_query(sql, *args)  # SQLite file or PostgreSQL (NSDB_DATABASE_URL)

    def outbox_count(self):
        return self.query("SELECT count(*) FROM mail_outbox")[0][0]

    def audit_count(self, action, target=None, result=None):
        """Audit records of action (read from the database: quicker than `nsdb audit`)."""
        sql = "SELECT count(*) FROM audit_log WHERE action = ?"
        args = [action]
        if target is not None:
            sql += " AND target = ?"
            args.append(target)
        if result is not None:
            sql += " AND result = ?"
            args.append(result)
        return self.query(sql, *args)[0][0]

    def cli_audit(self, action, **match):
        """The records of `nsdb audit --json` with action and the given fields."""
        return [a for a in self.audit() if a["action"] == action
                and all(a.get(k) == v for k, v in match.items())]

    # ---- mail

    def eml_files(self):
        return sorted(glob.glob(os.path.join(self.data_dir, "mail", "*.eml")))

    def check_issued_mail(self, raw, to, user_id):
        """Checks one account_issued message; returns the initial password it carries."""
        self.assertTrue(raw.isascii(), "the message has raw 8-bit bytes (headers must be encoded)")
        msg, subject, body = parse_mail(raw)
        self.assertEqual(subject, MAIL_SUBJECT)
        self.assertEqual([a.addr_spec for a in msg["To"].addresses], [to])
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual((msg.get_content_charset() or "").lower(), "utf-8")
        self.assertEqual((msg["Content-Transfer-Encoding"] or "").strip().lower(), "base64")
        self.assertIn(user_id, body)
        self.assertIn("/login", body)
        password = mailed_password(body)
        self.assertIsNotNone(password, "no 12-character initial password in the mail:\n%s" % body)
        self.assertRegex(password, r"^[2-9A-HJKMNP-Z]{12}$")
        self.remember(password)
        return password

    def mails_by_recipient(self, raws):
        out = {}
        for raw in raws:
            msg, _, _ = parse_mail(raw)
            for a in msg["To"].addresses:
                out.setdefault(a.addr_spec, []).append(raw)
        return out

    # ---- municipal users

    def register(self, client, expect=303, **fields):
        form = {"name": "職員 太郎", "name_kana": "ショクイン タロウ", "email": "staff@example.jp",
                "department": "健康推進課", "category": "nanbyo", "role": "muni_staff"}
        form.update(fields)
        form["csrf"] = client.page_csrf("/muni-users/new")
        r = client.post("/muni-users/new", form)
        if expect != 303:
            self.assertStatus(r, expect)
            return r
        self.assertEqual(r.status, 303, r)
        m = re.match(r"^/muni-users\?registered=([A-Z0-9]+)$", r.location or "")
        self.assertIsNotNone(m, r)
        self.assertRegex(m.group(1), USER_ID)
        return m.group(1)

    def search(self, client, q=None, status=None):
        """{user ID: cells} of /muni-users?q=&status= (cells: ID, 氏名+カナ, 部署名, 権限, 難病/小慢,
        通知書, 操作)."""
        params = {}
        if q is not None:
            params["q"] = q
        if status is not None:
            params["status"] = status
        r = client.get("/muni-users" + ("?" + urllib.parse.urlencode(params) if params else ""))
        self.assertStatus(r, 200)
        return {cells[0]: cells for cells in table_rows(r.text) if len(cells) >= 7}

    def notice(self, client, user_id):
        """GETs the notice; for a PDF returns (response, text, password), else (response, None, None)."""
        r = client.get("/users/%s/notice.pdf" % user_id)
        if r.status != 200:
            return r, None, None
        self.assertEqual(r.content_type, "application/pdf", r)
        self.assertTrue(r.body.startswith(b"%PDF-"), r.body[:20])
        text = pdf_text(r.body)
        password = notice_password(text)
        if password:
            self.remember(password)
        return r, text, password

    def user_action(self, client, user_id, action, csrf=True, **fields):
        if csrf:
            fields["csrf"] = client.page_csrf("/muni-users")
        return client.post("/muni-users/%s/%s" % (user_id, action), fields)


# --------------------------------------------------------------------------------------------
# tests


class AdminListTests(FlowHelpers):
    """/admin-lists: upload and validation, approve / reject, 払出し, roles and CSRF; mail as .eml
    files (no --smtp)."""

    MUNICIPALITY = HAKODATE  # for add_user(muni_admin): not one the lists create

    def test_list_page_and_template_download(self):
        mhlw, op = self.mhlw(), self.operator()
        r = mhlw.get("/admin-lists")
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        self.assertIn("管理者権限のユーザID申請リスト", visible_text(r.text))
        self.assertRegex(r.text, r'<form[^>]*action="/admin-lists"[^>]*enctype="multipart/form-data"')
        self.assertRegex(r.text, r'<input[^>]*name="file"[^>]*type="file"')
        r = op.get("/admin-lists")
        self.assertStatus(r, 200)
        self.assertNotRegex(r.text, r'<input[^>]*type="file"', "the operator cannot upload")
        for who, c in (("mhlw", mhlw), ("operator", op)):
            with self.subTest(role=who):
                t = c.get("/admin-lists/template.xlsx")
                self.assertStatus(t, 200)
                self.assertEqual(t.content_type, XLSX_TYPE)
                self.assertIn("attachment", t.header("Content-Disposition") or "")
                with zipfile.ZipFile(io.BytesIO(t.body)) as z:
                    names = z.namelist()
                    self.assertIn("xl/workbook.xml", names)
                    xml = "".join(z.read(n).decode("utf-8", "replace") for n in names
                                  if n.startswith("xl/") and n.endswith(".xml"))
                for title in HEADER[1:]:
                    self.assertIn(title, xml)
        # The blank template itself holds no application: refused, nothing stored.
        before = self.list_ids(mhlw)
        r = self.upload(mhlw, t.body, filename="template.xlsx")
        self.assertStatus(r, 400)
        self.assertIn("申請する行がありません", visible_text(r.text))
        self.assertEqual(self.list_ids(mhlw), before)

    def test_valid_upload_shows_rows_and_a_second_upload_is_recognised(self):
        mhlw = self.mhlw()
        path = self.upload_ok(mhlw, "upload_one")
        list_id = path.rsplit("/", 1)[1]
        self.assertIn(list_id, self.list_ids(mhlw))
        r = mhlw.get(path)
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        self.assertEqual(self.list_status(mhlw, path), STATUS_SUBMITTED)
        text = visible_text(r.text)
        for expected in ("271004", "大阪市", "大阪 一郎", "オオサカ イチロウ", "ichiro.osaka@example.jp",
                         "新規", "530-8201", "大阪府大阪市北区中之島1-3-20", "upload_one.xlsx"):
            self.assertIn(expected, text)
        # the list overview names it with its status
        overview = [cells for cells in table_rows(mhlw.get("/admin-lists").text) if cells[0] == list_id]
        self.assertEqual(len(overview), 1)
        self.assertIn(STATUS_SUBMITTED, overview[0])
        # the original file is kept
        f = mhlw.get(path + "/file")
        self.assertStatus(f, 200)
        self.assertEqual(f.body, fixture("upload_one"))
        # the same bytes again (under another name): the existing list, nothing new
        before = self.list_ids(mhlw)
        r = self.upload(mhlw, fixture("upload_one"), filename="again.xlsx")
        self.assertRedirect(r, path + "?notice=duplicate")
        self.assertEqual(self.list_ids(mhlw), before)
        self.assertIn("既にアップロード", visible_text(mhlw.get(r.location).text))

    def test_invalid_upload_is_400_with_row_errors_and_nothing_stored(self):
        mhlw = self.mhlw()
        before = self.list_ids(mhlw)
        failed_before = len(self.cli_audit("admin_list_upload", result="failed"))
        r = self.upload(mhlw, fixture("invalid"), filename="invalid.xlsx")
        self.assertStatus(r, 400)
        self.assertJapanesePage(r)
        errors = {(int(c[0]), c[1], c[2]) for c in table_rows(r.text)
                  if len(c) == 4 and c[0].isdigit()}
        self.assertEqual(errors, INVALID_ERRORS)
        for cells in table_rows(r.text):
            if len(cells) == 4 and cells[0].isdigit():
                self.assertRegex(cells[3], r"[\u3040-\u30ff\u4e00-\u9fff]", cells)
        self.assertIn("何も登録していません", visible_text(r.text))
        self.assertEqual(self.list_ids(mhlw), before, "an invalid list was stored")
        self.assertEqual(self.query("SELECT count(*) FROM admin_list_rows r WHERE r.email = ?",
                                    "tadashi4@example.jp")[0][0], 0)
        failed = self.cli_audit("admin_list_upload", result="failed")
        self.assertEqual(len(failed), failed_before + 1)
        self.assertEqual(failed[0]["actor"], type(self)._mhlw_id)

    def test_upload_of_a_non_xlsx_or_of_no_file_is_400(self):
        mhlw = self.mhlw()
        before = self.list_ids(mhlw)
        for label, data in (("text", "No,地方公共団体コード\n1,131016\n".encode("utf-8")),
                            ("broken zip", b"PK\x03\x04" + b"\x00" * 200),
                            ("truncated xlsx", fixture("upload_one")[:1500])):
            with self.subTest(file=label):
                r = self.upload(mhlw, data, filename="list.xlsx")
                self.assertStatus(r, 400)
                self.assertJapanesePage(r)
                self.assertIsNotNone(field_error(r.text, "file"), r)
        token = mhlw.page_csrf("/admin-lists")
        r = mhlw.post_multipart("/admin-lists", {"csrf": token}, {})
        self.assertStatus(r, 400)
        self.assertIsNotNone(field_error(r.text, "file"), r)
        self.assertEqual(self.list_ids(mhlw), before)

    def test_reject_needs_a_reason_and_shows_it(self):
        mhlw, op = self.mhlw(), self.operator()
        path = self.upload_ok(mhlw, "to_reject")
        for reason in ("", "   \n "):
            with self.subTest(reason=reason):
                r = self.list_action(mhlw, path, "reject", reason=reason)
                self.assertStatus(r, 400)
                self.assertIsNotNone(field_error(r.text, "reason"), r)
                self.assertEqual(self.list_status(mhlw, path), STATUS_SUBMITTED)
        reason = "郵便番号が所属先住所と一致しません。確認のうえ再提出してください。"
        self.assertRedirect(self.list_action(mhlw, path, "reject", reason=reason),
                            path + "?notice=rejected")
        self.assertEqual(self.list_status(mhlw, path), STATUS_REJECTED)
        self.assertIn(reason, visible_text(mhlw.get(path).text))
        self.assertIn(reason, visible_text(op.get(path).text))
        # decided: no second decision, and no 払出し of a rejected list
        self.assertStatus(self.list_action(mhlw, path, "approve"), 409)
        self.assertStatus(self.list_action(mhlw, path, "reject", reason="再度"), 409)
        self.assertStatus(self.list_action(op, path, "issue"), 409)
        self.assertEqual(self.list_status(mhlw, path), STATUS_REJECTED)
        self.assertEqual(self.query("SELECT count(*) FROM users WHERE email = ?", "jiro@example.jp"),
                         [(0,)])

    def test_approve_once_and_issue_only_after_approval(self):
        mhlw, op = self.mhlw(), self.operator()
        path = self.upload_ok(mhlw, "to_approve")
        self.assertStatus(self.list_action(op, path, "issue"), 409)
        self.assertEqual(self.list_status(mhlw, path), STATUS_SUBMITTED)
        self.assertRedirect(self.list_action(mhlw, path, "approve"), path + "?notice=approved")
        self.assertEqual(self.list_status(mhlw, path), STATUS_APPROVED)
        self.assertStatus(self.list_action(mhlw, path, "approve"), 409)
        self.assertEqual(self.list_status(op, path), STATUS_APPROVED)
        target = "admin_list:" + path.rsplit("/", 1)[1]
        self.assertEqual(self.audit_count("admin_list_approve", target=target), 1)
        # before 払出し the Ministry can still send it back (issue 12); then it is decided for good
        self.assertRedirect(self.list_action(mhlw, path, "reject", reason="やはり差戻し"),
                            path + "?notice=rejected")
        self.assertStatus(self.list_action(mhlw, path, "reject", reason="もう一度"), 409)
        self.assertStatus(self.list_action(op, path, "issue"), 409)
        self.assertEqual(self.list_status(op, path), STATUS_REJECTED)
        # unknown lists
        self.assertStatus(mhlw.post("/admin-lists/999999/approve", {"csrf": mhlw.page_csrf(path)}), 404)
        self.assertStatus(mhlw.get("/admin-lists/999999"), 404)

    def test_issue_creates_admins_mails_them_and_a_second_issue_changes_nothing(self):
        mails_before = len(self.eml_files())
        path, rows = self.approve_and_issue("issue_two")
        self.assertEqual(self.list_status(self.operator(), path), STATUS_ISSUED)
        self.assertEqual(set(rows), {"yamada.taro@example.jp", "hanako.sapporo@example.jp"})
        ids = {}
        for mail_address, (kind, outcome, user_id) in rows.items():
            self.assertEqual(kind, "新規")
            self.assertIn("作成しました", outcome)
            self.assertIsNotNone(user_id, outcome)
            self.assertRegex(user_id, USER_ID)
            ids[mail_address] = user_id
        self.assertEqual(len(set(ids.values())), 2)
        # the municipalities, with 郵便番号 and 所属先住所 from columns N and O
        munis = {code: (name, postal, address) for code, name, postal, address in self.query(
            "SELECT code, name, postal, address FROM municipalities WHERE code IN (?, ?)",
            CHIYODA[0], SAPPORO[0])}
        self.assertEqual(munis, {CHIYODA[0]: CHIYODA[1:], SAPPORO[0]: SAPPORO[1:]})
        created = {a["target"]: a for a in self.cli_audit("municipality_create")}
        self.assertIn(CHIYODA[0], created)
        self.assertIn(SAPPORO[0], created)
        self.assertEqual(self.query("SELECT count(*) FROM users WHERE user_id IN (?, ?) AND role = "
                                    "'muni_admin'", *ids.values()), [(2,)])
        # one mail each, written as DATA/mail/NNNNNN.eml (no --smtp)
        files = wait_until(lambda: len(self.eml_files()) >= mails_before + 2 and self.eml_files(), 30)
        self.assertTrue(files, "no .eml files under DATA/mail/")
        for f in files:
            self.assertRegex(os.path.basename(f), r"^\d{6}\.eml$")
        by_to = self.mails_by_recipient(read_bytes(f) for f in files)
        passwords = {}
        for mail_address, user_id in ids.items():
            self.assertEqual(len(by_to.get(mail_address, [])), 1, by_to.keys())
            passwords[mail_address] = self.check_issued_mail(by_to[mail_address][0], mail_address,
                                                             user_id)
        outbox = self.outbox_count()
        # 払出し again: nothing changes
        self.assertRedirect(self.list_action(self.operator(), path, "issue"), path + "?notice=already")
        self.assertEqual(self.list_rows(self.operator(), path), rows)
        self.assertEqual(self.outbox_count(), outbox)
        self.assertEqual(self.query("SELECT count(*) FROM users WHERE email IN (?, ?)", *ids), [(2,)])
        time.sleep(0.5)
        self.assertEqual(len(self.eml_files()), len(files))
        # the mailed password logs the admin in (forced change first); its header names the city
        c = self.client()
        yamada = ids["yamada.taro@example.jp"]
        self.assertRedirect(c.login(yamada, passwords["yamada.taro@example.jp"]), "/account/password")
        page = visible_text(c.get("/account/password").text)
        self.assertIn("千代田区", page)
        self.assertIn(yamada, page)

    def test_change_and_delete_rows_update_and_suspend_admins(self):
        mails_before = len(self.eml_files())
        path1, rows1 = self.approve_and_issue("cd_new")
        change_id = rows1["change.me@example.jp"][2]
        delete_id = rows1["delete.me@example.jp"][2]
        self.assertRegex(change_id or "", USER_ID)
        self.assertRegex(delete_id or "", USER_ID)
        files = wait_until(lambda: len(self.eml_files()) >= mails_before + 2 and self.eml_files(), 30)
        by_to = self.mails_by_recipient(read_bytes(f) for f in files)
        change_pw = self.check_issued_mail(by_to["change.me@example.jp"][0], "change.me@example.jp",
                                           change_id)
        delete_pw = self.check_issued_mail(by_to["delete.me@example.jp"][0], "delete.me@example.jp",
                                           delete_id)
        deleted = self.client()
        self.assertRedirect(deleted.login(delete_id, delete_pw), "/account/password")

        path2, rows2 = self.approve_and_issue("cd_second")
        self.assertEqual(rows2["change.me@example.jp"][0], "変更")
        self.assertIn("変更しました", rows2["change.me@example.jp"][1])
        self.assertEqual(rows2["change.me@example.jp"][2], change_id)
        self.assertEqual(rows2["delete.me@example.jp"][0], "削除")
        self.assertIn("利用停止しました", rows2["delete.me@example.jp"][1])
        self.assertEqual(rows2["delete.me@example.jp"][2], delete_id)
        # the 削除 admin: its session ended, and it can no longer log in
        self.assertRedirect(deleted.get("/account/password"), "/login")
        r = self.client().login(delete_id, delete_pw)
        self.assertStatus(r, 401)  # as a wrong password: the form confirms nothing (issue 14)
        self.assertNotIn(SUSPENDED_MESSAGE, visible_text(r.text))
        # the 変更 admin: same ID and password, new name and department
        c = self.client()
        self.assertRedirect(c.login(change_id, change_pw), "/account/password")
        self.assertIn("変更 後子", visible_text(c.get("/account/password").text))
        self.assertEqual(self.query("SELECT name, name_kana, department, status FROM users "
                                    "WHERE user_id = ?", change_id),
                         [("変更 後子", "ヘンコウ アトコ", "福祉局 難病対策担当", "active")])
        # the row's department (難病) took the new address (issue 12, item 3); no other admin
        self.assertEqual(self.query("SELECT d.category, d.postal, d.address FROM municipality_departments d "
                                    "JOIN municipalities m ON m.id = d.municipality_id WHERE m.code = ?",
                                    OSAKA[0]), [("nanbyo", "530-8201", "大阪府大阪市北区中之島1-3-20 本庁舎5階")])
        self.assertEqual(self.query("SELECT count(*) FROM users WHERE email IN (?, ?)",
                                    "change.me@example.jp", "delete.me@example.jp"), [(2,)])
        self.assertGreaterEqual(self.audit_count("municipality_update", target=OSAKA[0]), 1)
        self.assertEqual(self.audit_count("user_suspend", target=delete_id), 1)

    def test_roles(self):
        mhlw, op = self.mhlw(), self.operator()
        path = self.upload_ok(mhlw, "roles")
        for role in ("muni_admin", "muni_staff"):
            with self.subTest(role=role):
                user_id, initial = self.add_user(role, name="自治体 職員")
                muni = self.login_changed(user_id, initial)
                for p in ("/admin-lists", "/admin-lists/template.xlsx", path, path + "/file"):
                    self.assertStatus(muni.get(p), 403)
                token = muni.page_csrf("/account/password")
                r = muni.post_multipart("/admin-lists", {"csrf": token},
                                        {"file": ("x.xlsx", fixture("csrf"), XLSX_TYPE)})
                self.assertStatus(r, 403)
                for action in ("approve", "reject", "issue"):
                    self.assertStatus(muni.post(path + "/" + action, {"csrf": token, "reason": "x"}), 403)
        # the operator neither uploads nor decides
        before = self.list_ids(mhlw)
        token = op.page_csrf("/admin-lists")
        r = op.post_multipart("/admin-lists", {"csrf": token},
                              {"file": ("x.xlsx", fixture("csrf"), XLSX_TYPE)})
        self.assertStatus(r, 403)
        self.assertEqual(self.list_ids(mhlw), before)
        self.assertStatus(op.post(path + "/approve", {"csrf": token}), 403)
        self.assertStatus(op.post(path + "/reject", {"csrf": token, "reason": "理由"}), 403)
        self.assertEqual(self.list_status(mhlw, path), STATUS_SUBMITTED)
        # the Ministry does not issue
        self.assertRedirect(self.list_action(mhlw, path, "approve"), path + "?notice=approved")
        self.assertStatus(self.list_action(mhlw, path, "issue"), 403)
        self.assertEqual(self.list_status(mhlw, path), STATUS_APPROVED)
        self.assertEqual(self.query("SELECT count(*) FROM users WHERE email = ?", "shiro@example.jp"),
                         [(0,)])
        # anonymous: to the login page
        anon = self.client()
        self.assertRedirect(anon.get("/admin-lists"), "/login")
        self.assertRedirect(anon.get(path), "/login")

    def test_posts_without_csrf_are_403(self):
        mhlw, op = self.mhlw(), self.operator()
        before = self.list_ids(mhlw)
        r = self.upload(mhlw, fixture("csrf"), filename="csrf.xlsx", csrf=False)
        self.assertStatus(r, 403)
        r = mhlw.post_multipart("/admin-lists", {"csrf": "0" * 64},
                                {"file": ("csrf.xlsx", fixture("csrf"), XLSX_TYPE)})
        self.assertStatus(r, 403)
        self.assertEqual(self.list_ids(mhlw), before)
        path = self.upload_ok(mhlw, "csrf")
        self.assertStatus(self.list_action(mhlw, path, "reject", csrf=False, reason="理由"), 403)
        self.assertStatus(self.list_action(mhlw, path, "approve", csrf=False), 403)
        self.assertEqual(self.list_status(mhlw, path), STATUS_SUBMITTED)
        # a token of another session is no better
        self.assertStatus(mhlw.post(path + "/approve", {"csrf": op.page_csrf(path)}), 403)
        self.assertEqual(self.list_status(mhlw, path), STATUS_SUBMITTED)
        self.assertRedirect(self.list_action(mhlw, path, "approve"), path + "?notice=approved")
        self.assertStatus(self.list_action(op, path, "issue", csrf=False), 403)
        self.assertEqual(self.list_status(op, path), STATUS_APPROVED)
        self.assertEqual(self.query("SELECT count(*) FROM users WHERE email = ?", "goro@example.jp"),
                         [(0,)])


class IssuanceMailTests(FlowHelpers):
    """⑦ through a real SMTP server on loopback: one mail per new admin, which logs in with it."""

    @classmethod
    def setUpClass(cls):
        cls._sink_tmp = tempfile.TemporaryDirectory(prefix="nsdb-smtp-")
        cls.sink = None
        try:
            for attempt in range(3):  # a free port can be taken before the sink binds it
                try:
                    cls.sink = SmtpSink(free_port(), os.path.join(cls._sink_tmp.name,
                                                                  "out%d" % attempt)).start()
                    break
                except RuntimeError:
                    if attempt == 2:
                        raise
            cls.SERVE_ARGS = ("--smtp", cls.sink.url)
            super().setUpClass()
        except BaseException:
            if cls.sink is not None:
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

    def test_each_new_admin_gets_one_mail_and_logs_in_with_it(self):
        path, rows = self.approve_and_issue("issue_two")
        ids = {mail_address: row[2] for mail_address, row in rows.items()}
        for user_id in ids.values():
            self.assertRegex(user_id or "", USER_ID)
        messages = self.sink.wait_for(2, timeout=30)
        self.assertEqual(len(messages), 2, "the SMTP server received %d messages; server log:\n%s"
                         % (len(messages), self.server.stderr()[-3000:]))
        passwords = {}
        for meta, raw in messages:
            self.assertEqual(len(meta["rcpt_tos"]), 1, meta)
            to = meta["rcpt_tos"][0]
            self.assertIn(to, ids)
            self.assertTrue(meta["mail_from"], meta)
            passwords[to] = self.check_issued_mail(raw, to, ids[to])
        self.assertEqual(set(passwords), set(ids))
        self.assertEqual(self.query("SELECT status, count(*) FROM mail_outbox GROUP BY status"),
                         [("sent", 2)])
        # 払出し again sends nothing more
        self.assertRedirect(self.list_action(self.operator(), path, "issue"), path + "?notice=already")
        time.sleep(1.0)
        self.assertEqual(len(self.sink.messages()), 2)
        self.assertEqual(self.outbox_count(), 2)
        # the admin of 千代田区 logs in with the mailed ID and password
        yamada = ids["yamada.taro@example.jp"]
        c = self.login_changed(yamada, passwords["yamada.taro@example.jp"])
        menu = c.get("/")
        self.assertStatus(menu, 200)
        text = visible_text(menu.text)
        self.assertIn("自治体ユーザ新規登録", text)
        self.assertIn("自治体ユーザ検索", text)
        self.assertIn("千代田区", text)
        # the initial password no longer works
        self.assertStatus(self.client().login(yamada, passwords["yamada.taro@example.jp"]), 401)
        # the other admin belongs to 札幌市
        c2 = self.client()
        hanako = ids["hanako.sapporo@example.jp"]
        self.assertRedirect(c2.login(hanako, passwords["hanako.sapporo@example.jp"]), "/account/password")
        self.assertIn("札幌市", visible_text(c2.get("/account/password").text))


class MailRetryTests(FlowHelpers):
    """⑦ with the SMTP server down at 払出し: nothing is lost; `nsdb mail send` delivers later."""

    @classmethod
    def setUpClass(cls):
        cls._sink_tmp = tempfile.TemporaryDirectory(prefix="nsdb-smtp-")
        cls.smtp_port = free_port()  # nothing listens here yet
        cls.SERVE_ARGS = ("--smtp", "smtp://127.0.0.1:%d" % cls.smtp_port)
        cls.sink = None
        try:
            super().setUpClass()
        except BaseException:
            cls._sink_tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.sink is not None:
                cls.sink.stop()
            cls._sink_tmp.cleanup()

    def retries_logged(self):
        return self.server.stderr().count('"msg":"mail_retry"')

    def test_mail_survives_smtp_down_and_is_sent_by_mail_send(self):
        url = "smtp://127.0.0.1:%d" % self.smtp_port
        path, rows = self.approve_and_issue("issue_two")
        ids = {mail_address: row[2] for mail_address, row in rows.items()}
        # the server's sender was woken, failed, and kept both messages for a retry
        self.assertTrue(wait_until(lambda: self.retries_logged() >= 2, 30),
                        "no mail_retry in the server log:\n%s" % self.server.stderr()[-3000:])
        pending = self.query("SELECT to_address, status, attempts, last_error FROM mail_outbox")
        self.assertEqual(sorted(p[0] for p in pending), sorted(ids))
        for to, status, attempts, last_error in pending:
            self.assertEqual(status, "pending", pending)
            self.assertGreaterEqual(attempts, 1, pending)
            self.assertTrue(last_error, pending)
        # a flush while the server is still down: exit 1, still nothing lost
        r = self.cli("mail", "send", "--smtp", url)
        self.assertEqual(r.code, 1, r)
        self.assertEqual(self.query("SELECT count(*) FROM mail_outbox WHERE status = 'pending'"), [(2,)])
        # the SMTP server comes up: one flush delivers everything, once
        type(self).sink = SmtpSink(self.smtp_port, os.path.join(self._sink_tmp.name, "out")).start()
        r = self.cli("mail", "send", "--smtp", url)
        self.assertEqual(r.code, 0, r)
        messages = self.sink.wait_for(2, timeout=10)
        self.assertEqual(len(messages), 2)
        self.assertEqual(sorted(m["rcpt_tos"][0] for m, _ in messages), sorted(ids))
        self.assertEqual(self.query("SELECT status, count(*) FROM mail_outbox GROUP BY status"),
                         [("sent", 2)])
        passwords = {m["rcpt_tos"][0]: self.check_issued_mail(raw, m["rcpt_tos"][0],
                                                               ids[m["rcpt_tos"][0]])
                     for m, raw in messages}
        # nothing is left to send, and the server does not send again
        r = self.cli("mail", "send", "--smtp", url)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(len(self.sink.messages()), 2)
        # the delivered password works
        hanako = ids["hanako.sapporo@example.jp"]
        self.assertRedirect(self.client().login(hanako, passwords["hanako.sapporo@example.jp"]),
                            "/account/password")


class MuniUserTests(FlowHelpers):
    """⑧⑨ as a municipal admin: 自治体ユーザ新規登録, 検索, 編集, パスワード初期化, 利用停止/再開 and the
    ID・PW発行通知書."""

    MUNICIPALITY = CHIYODA
    SERVE_ENV = FONTCONFIG_LSAN_ENV  # prints notices

    def admin(self):
        """The class's municipal admin of 千代田区, logged in after its password change."""
        def make():
            c, user_id, _ = self.logged_in("muni_admin", new_password=GOOD_PASSWORD, name="千代田 管理")
            type(self)._admin_id = user_id
            return c
        return self._cached("_admin_client", make)

    def test_the_same_person_sent_twice_is_refused_pointing_at_the_account(self):
        """Issue 12, item 4: 自治体ユーザ新規登録 sent twice (a double click, a reload) made two
        accounts; the same name and e-mail in a municipality is refused, naming the existing ID."""
        admin = self.admin()
        first = self.register(admin, name="二重 一郎", name_kana="ニジュウ イチロウ",
                              email="nijuu@example.jp")
        r = self.register(admin, expect=409, name="二重 一郎", name_kana="ニジュウ イチロウ",
                          email="NIJUU@example.jp")
        self.assertIn("既に登録されています", visible_text(r.text))
        self.assertIn(first, visible_text(r.text))
        self.assertEqual(self.query("SELECT count(*) FROM users WHERE name = ?", "二重 一郎"), [(1,)])
        # the command line refuses the same way
        r = self.cli("user", "add", "--role", "muni_staff", "--name", "二重 一郎", "--municipality",
                     self.MUNICIPALITY[0], "--email", "nijuu@example.jp")
        self.assertEqual(r.code, 1, r)
        self.assertIn(first, r.stderr)
        # another person of the same name has another address: registered
        second = self.register(admin, name="二重 一郎", name_kana="ニジュウ イチロウ",
                               email="nijuu.2@example.jp")
        self.assertNotEqual(first, second)

    def test_cli_user_is_found_by_name_and_kana(self):
        """A user made by `nsdb user add` gets the search key the form gives (issue 10)."""
        admin = self.admin()
        code = self.MUNICIPALITY[0]
        r = self.cli("user", "add", "--role", "muni_staff", "--name", "鈴木 次郎",
                     "--name-kana", "すずき じろう", "--municipality", code,
                     "--email", "Suzuki.Jiro@Example.LG.JP", "--json")
        self.assertEqual(r.code, 0, r)
        out = r.json()
        self.remember(out["initial_password"])
        for q in ("鈴木", "スズキ", "ｽｽﾞｷ ｼﾞﾛｳ", "鈴木次郎"):
            self.assertIn(out["user_id"], self.search(admin, q=q), q)
        email = self.query("SELECT email, name_kana FROM users WHERE user_id = ?", out["user_id"])
        self.assertEqual(email[0], ("Suzuki.Jiro@example.lg.jp", "スズキ ジロウ"))

    def test_cli_refuses_what_the_form_refuses(self):
        """The same rules and messages on the command line as on 自治体ユーザ新規登録."""
        admin = self.admin()
        code = self.MUNICIPALITY[0]
        cases = [("name", "長" * 300, ["--name", "長" * 300]),
                 ("name_kana", "Suzuki", ["--name", "鈴木 三郎", "--name-kana", "Suzuki"]),
                 ("email", "not-an-email", ["--name", "鈴木 三郎", "--email", "not-an-email"])]
        for field, value, args in cases:
            r = self.cli("user", "add", "--role", "muni_staff", "--municipality", code, *args)
            self.assertEqual(r.code, 1, r)
            self.assertEqual(r.stdout, "")
            form = {"name": "鈴木 三郎", "name_kana": "スズキ サブロウ", "email": "saburo@example.jp"}
            form[field] = value
            page = self.register(admin, expect=400, **form)
            message = field_error(page.text, field)
            self.assertTrue(message, page.text)
            self.assertIn(message, r.stderr, (field, r.stderr))

    def test_registration_form(self):
        r = self.admin().get("/muni-users/new")
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        self.assertIn("自治体ユーザ新規登録", visible_text(r.text))
        for field in ("name", "name_kana", "email", "department", "csrf"):
            self.assertRegex(r.text, r'<input[^>]*name="%s"' % field)
        for field, value in (("category", "nanbyo"), ("category", "shoman"), ("category", "both"),
                             ("role", "muni_staff"), ("role", "muni_admin")):
            self.assertRegex(r.text, r'<input[^>]*name="%s"[^>]*value="%s"' % (field, value))
        for field in ("name", "name_kana", "email", "department"):
            self.assertRegex(r.text, r'<label[^>]*for="%s"' % field)

    def test_register_staff_and_admin(self):
        admin = self.admin()
        staff = self.register(admin, name="鈴木 一郎", name_kana="ｽｽﾞｷ ｲﾁﾛｳ",
                              email="suzuki.ichiro@example.jp", department="健康推進課 難病係",
                              category="both")
        page = admin.get("/muni-users?registered=" + staff)
        self.assertStatus(page, 200)
        self.assertIn(staff, visible_text(page.text))
        row = self.search(admin, q=staff)[staff]
        self.assertIn("鈴木 一郎", row[1])
        self.assertIn("スズキ イチロウ", row[1], "half-width kana not stored as full-width")
        self.assertNotIn("ｽｽﾞｷ", row[1])
        self.assertEqual(row[2], "健康推進課 難病係")
        self.assertIn("自治体職員", row[3])
        self.assertEqual(row[5], NOTICE_UNISSUED)
        for op in ("IDパスワード通知書ダウンロード", "編集", "パスワード初期化", "利用停止"):
            self.assertIn(op, row[6])
        self.assertEqual(self.query("SELECT role, name_kana, category, m.code FROM users u JOIN "
                                    "municipalities m ON m.id = u.municipality_id WHERE user_id = ?",
                                    staff), [("muni_staff", "スズキ イチロウ", "both", CHIYODA[0])])
        other_admin = self.register(admin, name="佐藤 花子", name_kana="サトウ ハナコ",
                                    email="sato.hanako@example.jp", category="shoman",
                                    role="muni_admin")
        self.assertIn("自治体管理者", self.search(admin, q=other_admin)[other_admin][3])
        self.assertGreaterEqual(self.audit_count("user_create", target=staff), 1)

    def test_invalid_registration_is_400_with_errors_and_input_kept(self):
        admin = self.admin()
        before = self.query("SELECT count(*) FROM users")[0][0]
        r = self.register(admin, expect=400, name="", name_kana="ｶﾀｶﾅ ﾃｽﾄ", email="not-an-address@",
                          department="入力保持課", category="nanbyo", role="muni_staff")
        self.assertJapanesePage(r)
        self.assertIsNotNone(field_error(r.text, "name"), r)
        self.assertIsNotNone(field_error(r.text, "email"), r)
        self.assertIsNone(field_error(r.text, "name_kana"), r)
        self.assertEqual(input_value(r.text, "email"), "not-an-address@")
        self.assertEqual(input_value(r.text, "department"), "入力保持課")
        self.assertIn(input_value(r.text, "name_kana"), ("ｶﾀｶﾅ ﾃｽﾄ", "カタカナ テスト"))
        self.assertEqual(checked_value(r.text, "category"), "nanbyo")
        self.assertIsNotNone(r.csrf())
        r = self.register(admin, expect=400, name="英字 カナ", name_kana="eiji", email="eiji@example.jp",
                          category="all", role="mhlw")
        for field in ("name_kana", "category", "role"):
            self.assertIsNotNone(field_error(r.text, field), field)
        self.assertEqual(input_value(r.text, "name"), "英字 カナ")
        self.assertEqual(input_value(r.text, "name_kana"), "eiji")
        self.assertEqual(self.query("SELECT count(*) FROM users")[0][0], before)

    def test_search_by_name_kana_id_department_and_status(self):
        admin = self.admin()
        u1 = self.register(admin, name="検索 一子", name_kana="ケンサク イチコ", email="k1@example.jp",
                           department="難病対策係")
        u2 = self.register(admin, name="別名 二郎", name_kana="ベツメイ ジロウ", email="k2@example.jp",
                           department="小児慢性特定疾病係")
        u3 = self.register(admin, name="検索 三子", name_kana="ｹﾝｻｸ ﾐﾂｺ", email="k3@example.jp",
                           department="総務課")
        mine = {u1, u2, u3}

        def found(**kw):
            return set(self.search(admin, **kw)) & mine

        self.assertEqual(found(), mine)
        self.assertEqual(found(q="けんさく"), {u1, u3})       # hiragana finds katakana
        self.assertEqual(found(q="ｹﾝｻｸ"), {u1, u3})          # half-width too
        self.assertEqual(found(q="ケンサク　ミツコ"), {u3})
        self.assertEqual(found(q="検索"), {u1, u3})
        self.assertEqual(found(q="別名 二郎"), {u2})
        self.assertEqual(found(q=u2), {u2})
        self.assertEqual(found(q=u2.lower()), {u2})
        self.assertEqual(found(q="小児慢性"), {u2})
        self.assertEqual(found(q="該当者なしの文字列"), set())
        self.assertEqual(found(status="unissued"), mine)
        self.assertStatus(self.notice(admin, u1)[0], 200)
        self.assertEqual(found(status="issued"), {u1})
        self.assertEqual(found(status="unissued"), {u2, u3})
        self.assertEqual(found(q="けんさく", status="unissued"), {u3})
        self.assertEqual(found(status="active"), set())
        self.assertIn(self._admin_id, self.search(admin, status="active"))

    def test_notice_pdf_lifecycle(self):
        admin = self.admin()
        staff = self.register(admin, name="通知 太郎", name_kana="ツウチ タロウ",
                              email="tsuchi@example.jp", department="保健予防課")
        r, text, first = self.notice(admin, staff)
        self.assertStatus(r, 200)
        self.assertIn(NOTICE_TITLE, text)
        self.assertIn(staff, text)
        self.assertRegex(text, r"通知 太郎\s*様")
        self.assertIn("千代田区", text)
        self.assertIn("保健予防課", text)
        self.assertIsNotNone(first, "no 初期パスワード line in the notice:\n%s" % text)
        self.assertRegex(first, r"^[2-9A-HJKMNP-Z]{12}$")
        self.assertEqual(self.search(admin, q=staff)[staff][5], NOTICE_ISSUED)
        self.assertGreaterEqual(self.audit_count("notice_print", target=staff), 1)
        # printing again prints the same initial password
        _, text2, again = self.notice(admin, staff)
        self.assertEqual(again, first)
        self.assertEqual(self.search(admin, q=staff)[staff][5], NOTICE_ISSUED)
        # パスワード初期化: a new password, back to 未発行; the old one no longer logs in
        r = self.user_action(admin, staff, "reset")
        self.assertRedirect(r, "/muni-users?done=reset&user=" + staff)
        self.assertEqual(self.search(admin, q=staff)[staff][5], NOTICE_UNISSUED)
        self.assertStatus(self.client().login(staff, first), 401)
        _, _, second = self.notice(admin, staff)
        self.assertIsNotNone(second)
        self.assertNotEqual(second, first)
        self.assertEqual(self.search(admin, q=staff)[staff][5], NOTICE_ISSUED)
        # the staff member logs in with the notice, must change the password, and is 利用中
        c = self.client()
        self.assertRedirect(c.login(staff, second), "/account/password")
        self.remember(STAFF_PASSWORD)
        self.assertRedirect(c.change_password(second, STAFF_PASSWORD), "/?done=password")
        row = self.search(admin, q=staff)[staff]
        self.assertEqual(row[5], NOTICE_ACTIVE)
        self.assertNotIn("IDパスワード通知書ダウンロード", row[6])
        r, _, _ = self.notice(admin, staff)
        self.assertStatus(r, 409)
        self.assertEqual(self.query("SELECT initial_password_sealed IS NULL FROM users WHERE user_id = ?",
                                    staff), [(1,)])

    def test_suspend_and_resume(self):
        admin = self.admin()
        staff = self.register(admin, name="停止 花子", name_kana="テイシ ハナコ", email="teishi@example.jp")
        _, _, password = self.notice(admin, staff)
        self.assertIsNotNone(password)
        session = self.client()
        self.assertRedirect(session.login(staff, password), "/account/password")
        self.assertRedirect(self.user_action(admin, staff, "suspend"),
                            "/muni-users?done=suspend&user=" + staff)
        self.assertIn("利用停止中", self.search(admin, q=staff)[staff][3])
        self.assertRedirect(session.get("/account/password"), "/login")
        # a suspended account answers its right password as a wrong one (issue 14)
        r = self.client().login(staff, password)
        self.assertStatus(r, 401)
        self.assertNotIn(SUSPENDED_MESSAGE, visible_text(r.text))
        self.assertTrue(self.audit_count("login", target=staff, result="failed"))
        self.assertStatus(self.notice(admin, staff)[0], 409)
        self.assertIn("利用再開", self.search(admin, q=staff)[staff][6])
        self.assertRedirect(self.user_action(admin, staff, "resume"),
                            "/muni-users?done=resume&user=" + staff)
        self.assertNotIn("利用停止中", self.search(admin, q=staff)[staff][3])
        self.assertRedirect(self.client().login(staff, password), "/account/password")
        self.assertEqual(self.audit_count("user_suspend", target=staff), 1)
        self.assertEqual(self.audit_count("user_resume", target=staff), 1)

    def test_edit(self):
        admin = self.admin()
        staff = self.register(admin, name="編集 前男", name_kana="ヘンシュウ マエオ",
                              email="henshu@example.jp", department="旧部署", category="nanbyo")
        r = admin.get("/muni-users/%s/edit" % staff)
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        self.assertEqual(input_value(r.text, "name"), "編集 前男")
        self.assertEqual(input_value(r.text, "name_kana"), "ヘンシュウ マエオ")
        self.assertEqual(input_value(r.text, "email"), "henshu@example.jp")
        self.assertEqual(input_value(r.text, "department"), "旧部署")
        self.assertEqual(checked_value(r.text, "category"), "nanbyo")
        form = {"name": "編集 後男", "name_kana": "ﾍﾝｼｭｳ ｱﾄｵ", "email": "henshu.new@example.jp",
                "department": "新部署", "category": "shoman", "csrf": r.csrf()}
        self.assertRedirect(admin.post("/muni-users/%s/edit" % staff, form),
                            "/muni-users?done=edit&user=" + staff)
        row = self.search(admin, q=staff)[staff]
        self.assertIn("編集 後男", row[1])
        self.assertIn("ヘンシュウ アトオ", row[1])
        self.assertEqual(row[2], "新部署")
        self.assertEqual(row[4], "小慢")
        self.assertIn(staff, self.search(admin, q="へんしゅう"))
        # an invalid edit: 400, input kept, nothing changed
        bad = dict(form, email="broken", name="編集 失敗")
        r = admin.post("/muni-users/%s/edit" % staff, bad)
        self.assertStatus(r, 400)
        self.assertIsNotNone(field_error(r.text, "email"))
        self.assertEqual(input_value(r.text, "email"), "broken")
        self.assertEqual(input_value(r.text, "name"), "編集 失敗")
        self.assertIn("編集 後男", self.search(admin, q=staff)[staff][1])
        self.assertEqual(self.audit_count("user_update", target=staff), 1)

    def test_posts_without_csrf_are_403(self):
        admin = self.admin()
        staff = self.register(admin, name="防御 一郎", name_kana="ボウギョ イチロウ",
                              email="bougyo@example.jp")
        before = self.query("SELECT count(*) FROM users")[0][0]
        r = admin.post("/muni-users/new", {"name": "偽装 登録", "name_kana": "ギソウ トウロク",
                                           "email": "giso@example.jp", "category": "nanbyo",
                                           "role": "muni_admin"})
        self.assertStatus(r, 403)
        self.assertEqual(self.query("SELECT count(*) FROM users")[0][0], before)
        edit = {"name": "偽装 変更", "name_kana": "ギソウ ヘンコウ", "email": "giso@example.jp",
                "department": "", "category": "nanbyo"}
        self.assertStatus(self.user_action(admin, staff, "edit", csrf=False, **edit), 403)
        self.assertStatus(admin.post("/muni-users/%s/edit" % staff, dict(edit, csrf="f" * 64)), 403)
        for action in ("reset", "suspend", "resume"):
            with self.subTest(action=action):
                self.assertStatus(self.user_action(admin, staff, action, csrf=False), 403)
        row = self.search(admin, q=staff)[staff]
        self.assertIn("防御 一郎", row[1])
        self.assertNotIn("利用停止中", row[3])
        self.assertEqual(self.query("SELECT name, status, notice_status FROM users WHERE user_id = ?",
                                    staff), [("防御 一郎", "active", "unissued")])

    def test_roles_on_municipal_user_screens(self):
        staff_id, staff_pw = self.add_user("muni_staff", name="職員 権限")
        staff = self.login_changed(staff_id, staff_pw)
        admin = self.admin()
        for who, c in (("muni_staff", staff),):
            for p in ("/muni-users", "/muni-users/new", "/muni-users/%s/edit" % self._admin_id):
                with self.subTest(role=who, path=p):
                    self.assertStatus(c.get(p), 403)
            token = c.page_csrf("/account/password")
            self.assertStatus(c.post("/muni-users/new", {"csrf": token, "name": "x"}), 403)
            self.assertStatus(c.post("/muni-users/%s/suspend" % self._admin_id, {"csrf": token}), 403)
        mhlw = self.mhlw()
        for p in ("/muni-users", "/muni-users/new", "/users/%s/notice.pdf" % staff_id):
            with self.subTest(role="mhlw", path=p):
                self.assertStatus(mhlw.get(p), 403)
        anon = self.client()
        self.assertRedirect(anon.get("/muni-users"), "/login")
        self.assertRedirect(anon.get("/users/%s/notice.pdf" % staff_id), "/login")
        # an admin cannot reset or suspend itself (自アカウント管理 is for that)
        for action in ("reset", "suspend"):
            self.assertStatus(self.user_action(admin, self._admin_id, action), 409)
        self.assertStatus(admin.get("/"), 200)


class ScopeTests(FlowHelpers):
    """SPEC §1: a municipal admin of A cannot read, print, change or even confirm anything of B."""

    SERVE_ENV = FONTCONFIG_LSAN_ENV  # prints notices

    def admins(self):
        def make():
            a_id, a_pw = self.add_muni_user(CHIYODA, name="千代田 管理")
            b_id, b_pw = self.add_muni_user(SAPPORO, name="札幌 管理")
            type(self)._a_id, type(self)._b_id = a_id, b_id
            return self.login_changed(a_id, a_pw), self.login_changed(b_id, b_pw)
        return self._cached("_admins", make)

    def attempts(self, a, target):
        """Every screen, PDF and action on target, as admin a: (label, response)."""
        token = a.page_csrf("/muni-users")
        edit = {"name": "乗っ取り 太郎", "name_kana": "ノットリ タロウ", "email": "evil@example.jp",
                "department": "不正", "category": "nanbyo", "csrf": token}
        yield "GET notice.pdf", lambda: a.get("/users/%s/notice.pdf" % target)
        yield "GET edit", lambda: a.get("/muni-users/%s/edit" % target)
        yield "POST edit", lambda: a.post("/muni-users/%s/edit" % target, edit)
        for action in ("reset", "suspend", "resume"):
            yield "POST " + action, (lambda act: lambda: a.post(
                "/muni-users/%s/%s" % (target, act), {"csrf": token}))(action)

    def test_other_municipality_users_answer_404_and_every_attempt_is_audited(self):
        a, b = self.admins()
        b_staff = self.register(b, name="札幌 職員", name_kana="サッポロ ショクイン",
                                email="sapporo.staff@example.jp", department="札幌保健所")
        for target in (b_staff, self._b_id):
            for label, attempt in self.attempts(a, target):
                with self.subTest(target=target, attempt=label):
                    before = self.audit_count("scope_denied", target=target)
                    r = attempt()
                    self.assertStatus(r, 404)
                    self.assertNotIn("札幌", visible_text(r.text))
                    self.assertEqual(self.audit_count("scope_denied", target=target), before + 1)
        denied = self.cli_audit("scope_denied", target=b_staff)
        self.assertEqual(len(denied), 6, denied)
        self.assertTrue(all(x["actor"] == self._a_id and x["result"] == "denied" for x in denied), denied)
        # B's user is untouched: same name, not suspended, notice not printed, password unchanged
        row = self.search(b, q=b_staff)[b_staff]
        self.assertIn("札幌 職員", row[1])
        self.assertNotIn("利用停止中", row[3])
        self.assertEqual(row[5], NOTICE_UNISSUED)
        r, text, _ = self.notice(b, b_staff)
        self.assertStatus(r, 200)
        self.assertIn("札幌 職員", text)

    def test_unknown_and_foreign_user_ids_get_the_same_answer(self):
        a, b = self.admins()
        b_staff = self.register(b, name="札幌 二郎", name_kana="サッポロ ジロウ",
                                email="sapporo.jiro@example.jp")
        for path in ("/users/%s/notice.pdf", "/muni-users/%s/edit"):
            foreign = a.get(path % b_staff)
            unknown = a.get(path % unknown_user_id())
            self.assertEqual((foreign.status, unknown.status), (404, 404))
            self.assertEqual(visible_text(foreign.text), visible_text(unknown.text))

    def test_search_never_shows_another_municipality(self):
        a, b = self.admins()
        a_staff = self.register(a, name="千代田 職員", name_kana="チヨダ ショクイン",
                                email="chiyoda.staff@example.jp", department="共通部署")
        b_staff = self.register(b, name="他市 職員", name_kana="タシ ショクイン",
                                email="tashi@example.jp", department="共通部署")
        for kw in ({}, {"q": b_staff}, {"q": b_staff.lower()}, {"q": "他市"}, {"q": "たし"},
                   {"q": "共通部署"}, {"status": "unissued"}, {"status": "active"}):
            with self.subTest(search=kw):
                found = self.search(a, **kw)
                self.assertNotIn(b_staff, found)
                self.assertNotIn(self._b_id, found)
        self.assertIn(a_staff, self.search(a, q="共通部署"))
        self.assertEqual(set(self.search(b, q="共通部署")), {b_staff})


class AdminListTargetTests(FlowHelpers):
    """Issue 12, items 1 and 2: a 変更 or 削除 row means one existing admin of its municipality
    and category, found by e-mail or else by 氏名カナ; a row that means nobody or two people is a
    row error at upload, and a row whose admin changed after approval is skipped at 払出し with the
    reason instead of failing the whole list (it once failed with 503 for good)."""

    def upload_errors(self, r):
        return {(int(c[0]), c[1]): c[3] for c in table_rows(r.text)
                if len(c) == 4 and c[0].isdigit()}

    def test_change_and_delete_rows_are_matched_at_upload(self):
        _, rows = self.approve_and_issue("tg_new")
        ichiko = rows["ichiko@example.jp"][2]
        self.assertRegex(ichiko or "", USER_ID)
        mhlw = self.mhlw()
        before = self.list_ids(mhlw)
        r = self.upload(mhlw, fixture("tg_bad"), filename="tg_bad.xlsx")
        self.assertStatus(r, 400)
        errors = self.upload_errors(r)
        self.assertEqual(set(errors), {(3, "I"), (4, "I"), (6, "I")}, errors)
        self.assertIn("変更の対象になる自治体管理者が見つかりません", errors[(3, "I")])
        self.assertIn("nobody@example.jp", errors[(3, "I")])
        self.assertIn("2人以上", errors[(4, "I")])
        self.assertIn("削除の対象になる自治体管理者が見つかりません", errors[(6, "I")])
        self.assertIn("何も登録していません", visible_text(r.text))
        self.assertEqual(self.list_ids(mhlw), before)

        # an admin's e-mail address can change: the row is found by its 氏名カナ
        path, rows = self.approve_and_issue("tg_email")
        self.assertIn("変更しました", rows["ichiko.new@example.jp"][1])
        self.assertEqual(rows["ichiko.new@example.jp"][2], ichiko)
        self.assertEqual(self.query("SELECT email, department FROM users WHERE user_id = ?", ichiko),
                         [("ichiko.new@example.jp", "保健所 新部署")])

    def test_a_row_whose_admin_changed_after_approval_is_skipped_not_fatal(self):
        _, rows = self.approve_and_issue("tg2_new")
        shiro = rows["shiro.k@example.jp"][2]
        mhlw, operator = self.mhlw(), self.operator()
        pending = self.upload_ok(mhlw, "tg2_pending")
        self.assertRedirect(self.list_action(mhlw, pending, "approve"), pending + "?notice=approved")
        # two other lists change the admin's e-mail, then its kana: the pending row means nobody now
        self.approve_and_issue("tg2_mail")
        self.approve_and_issue("tg2_kana")
        self.assertEqual(self.query("SELECT email, name_kana FROM users WHERE user_id = ?", shiro),
                         [("shiro.new@example.jp", "ベツ シロウ")])
        r = self.list_action(operator, pending, "issue")
        self.assertRedirect(r, pending + "?notice=issued")
        self.assertEqual(self.list_status(operator, pending), STATUS_ISSUED)
        outcome = self.list_rows(operator, pending)["shiro.k@example.jp"]
        self.assertIn("処理しませんでした", outcome[1])
        self.assertIn("見つかりません", outcome[1])
        self.assertIsNone(outcome[2])
        self.assertEqual(self.query("SELECT title FROM users WHERE user_id = ?", shiro), [("主任",)])

    def test_an_approved_list_can_be_sent_back_before_issue(self):
        mhlw, operator = self.mhlw(), self.operator()
        self.approve_and_issue("tg3_new")
        path = self.upload_ok(mhlw, "tg3_back")
        self.assertRedirect(self.list_action(mhlw, path, "approve"), path + "?notice=approved")
        page = mhlw.get(path)
        self.assertIn("差戻し（払出し前）", visible_text(page.text))
        self.assertIn("払出しを実行する", visible_text(operator.get(path).text))
        r = self.list_action(mhlw, path, "reject", reason="払出し前に誤りが見つかったため")
        self.assertRedirect(r, path + "?notice=rejected")
        self.assertEqual(self.list_status(mhlw, path), STATUS_REJECTED)
        self.assertIn("払出し前に誤りが見つかったため", visible_text(mhlw.get(path).text))
        self.assertStatus(self.list_action(operator, path, "issue"), 409)
        self.assertEqual(self.audit_count("admin_list_reject"), 1)
        # the operator cannot send a list back: that is the Ministry's decision
        other = self.upload_ok(mhlw, "tg3_other")
        self.assertRedirect(self.list_action(mhlw, other, "approve"), other + "?notice=approved")
        self.assertStatus(self.list_action(operator, other, "reject", csrf=False, reason="x"), 403)


for_each_binary(globals(), AdminListTargetTests, AdminListTests, IssuanceMailTests, MailRetryTests, MuniUserTests, ScopeTests,
                typed_passwords=(GOOD_PASSWORD, STAFF_PASSWORD))
