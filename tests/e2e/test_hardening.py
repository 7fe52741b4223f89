"""End-to-end tests of issue 14, finding 7 (the smaller holes): API tokens that expire and can be
revoked, /metrics only for loopback or a token, paging links that keep an awkward search, the
notice's login URL never taken from the Host header, registration refusals that name nothing of
another municipality, and an upload whose file name is CP932.

Every class runs once per binary (nsdbtest.for_each_binary). Needs pdftotext (poppler-utils).
"""

import html
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import Client, admin_list_xlsx, for_each_binary, visible_text  # noqa: E402

GOOD_PASSWORD = "しろいくもと青い海を見に行く"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHIYODA = ("131016", "千代田区")
SAPPORO = ("011002", "札幌市")
PAGE_SIZE = 50
# a search with every character a query string treats specially, spaces and Japanese
AWKWARD_Q = "鈴木 &#+%= 試験"


def luhn_complete(nine):
    """The 10-digit 医療機関コード: nine digits and their Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(nine)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return nine + str((10 - total % 10) % 10)


def pdf_text(data):
    p = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise AssertionError("pdftotext failed: %s" % p.stderr.decode("utf-8", "replace"))
    return p.stdout.decode("utf-8")


def non_loopback_address():
    """An IPv4 address of this machine that is not loopback, or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # a UDP connect picks the route; nothing is sent
            addr = s.getsockname()[0]
            if not addr.startswith("127."):
                return addr
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            if not info[4][0].startswith("127."):
                return info[4][0]
    except OSError:
        pass
    return None


def href_query(page, label):
    """The query of the link whose text is label, as {name: value} (after HTML unescaping)."""
    m = re.search(r'<a href="([^"]*)">%s</a>' % re.escape(label), page)
    if m is None:
        return None, None
    href = html.unescape(m.group(1))
    query = urllib.parse.urlsplit(href).query
    return href, dict(urllib.parse.parse_qsl(query, keep_blank_values=True))


def input_raw_value(page, name):
    """The value attribute of the input named name, unescaped but otherwise as sent."""
    for tag in re.findall(r"<input\b[^>]*>", page):
        if re.search(r'\bname="%s"' % re.escape(name), tag):
            m = re.search(r'\bvalue="([^"]*)"', tag)
            return html.unescape(m.group(1)) if m else ""
    return None


def multipart_raw_filename(fields, filename_bytes, payload, ctype):
    """A multipart/form-data body whose file part names its file with raw bytes (as a browser on
    a CP932 system may), and its Content-Type."""
    boundary = "----nsdb-hard-" + secrets.token_hex(12)
    body = b""
    for name, value in fields.items():
        body += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                 % (boundary, name, value)).encode("utf-8")
    body += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" % boundary).encode()
    body += filename_bytes + ("\"\r\nContent-Type: %s\r\n\r\n" % ctype).encode() + payload + b"\r\n"
    body += ("--%s--\r\n" % boundary).encode()
    return body, "multipart/form-data; boundary=" + boundary


class HardeningHelpers:
    """Municipalities and logged-in users, made once per class."""

    def municipality(self, muni):
        made = type(self).__dict__.get("_munis")
        if made is None:
            made = set()
            type(self)._munis = made
        if muni[0] not in made:
            r = self.cli("municipality", "add", "--code", muni[0], "--name", muni[1])
            self.assertEqual(r.code, 0, r)
            made.add(muni[0])
        return muni[0]

    def cli_user(self, role, name, muni=None):
        args = ["user", "add", "--role", role, "--name", name, "--json"]
        if muni is not None:
            args += ["--municipality", self.municipality(muni)]
        r = self.cli(*args)
        self.assertEqual(r.code, 0, r)
        out = r.json()
        self.remember(out["initial_password"])
        return out["user_id"], out["initial_password"]

    def logged_in_as(self, role, muni=None, name="試験 太郎"):
        user_id, initial = self.cli_user(role, name, muni)
        c = self.client()
        self.assertRedirect(c.login(user_id, initial), "/account/password")
        self.remember(GOOD_PASSWORD)
        self.assertRedirect(c.change_password(initial, GOOD_PASSWORD), "/?done=password")
        return c


# --------------------------------------------------------------------------------------------


class TokenTests(HardeningHelpers):
    """API tokens expire (--days, default 90, at most 366) and `nsdb token revoke` ends one at
    once; an expired or revoked token is refused like an unknown one, and audited."""

    def add_token(self, *extra):
        r = self.cli("token", "add", "--name", "運用 監視", "--json", *extra)
        self.assertEqual(r.code, 0, r)
        out = r.json()
        self.remember(out["token"])
        return out

    def api(self, token):
        return self.client().get("/api/v1/registrations",
                                 headers={"Authorization": "Bearer " + token})

    def denied(self):
        return [a for a in self.audit() if a["action"] == "api_denied"]

    def test_days_default_limit_and_usage(self):
        now = int(time.time())
        out = self.add_token()
        self.assertGreater(out["id"], 0)
        self.assertAlmostEqual(out["expires_at"], now + 90 * 86400, delta=120)
        out = self.add_token("--days", "366")
        self.assertAlmostEqual(out["expires_at"], now + 366 * 86400, delta=120)
        for days in ("0", "367"):
            r = self.cli("token", "add", "--name", "x", "--days", days)
            self.assertEqual(r.code, 1, r)
            self.assertIn("1〜366", r.stderr)
        r = self.cli("token", "add", "--name", "x", "--days", "abc")
        self.assertEqual(r.code, 2, r)
        r = self.cli("token", "revoke")
        self.assertEqual(r.code, 2, r)
        r = self.cli("token", "add", "--name", "表示")
        self.assertEqual(r.code, 0, r)
        m = re.search(r"トークン: (\S+)", r.stdout)
        self.remember(m.group(1))
        self.assertRegex(r.stdout, r"ID: \d+")
        self.assertIn("有効期限", r.stdout)

    def test_expired_token_is_refused_like_an_unknown_one(self):
        out = self.add_token("--days", "1")
        self.assertStatus(self.api(out["token"]), 200)
        unknown = self.api(secrets.token_urlsafe(32))
        self.assertStatus(unknown, 401)
        # a day later, as far as the database knows
        self.db_exec("UPDATE api_tokens SET expires_at = ? WHERE id = ?", int(time.time()) - 1,
                     out["id"])
        expired = self.api(out["token"])
        self.assertStatus(expired, 401)
        self.assertEqual(expired.body, unknown.body)
        self.assertEqual(expired.header("WWW-Authenticate"), unknown.header("WWW-Authenticate"))
        details = [a["detail"] for a in self.denied()]
        self.assertIn("expired", details)
        self.assertIn("unknown", details)
        listed = self.cli("token", "list", "--json")
        self.assertEqual(listed.code, 0, listed)
        row = [t for t in listed.json() if t["id"] == out["id"]][0]
        self.assertFalse(row["valid"])
        self.assertNotIn(out["token"], listed.stdout)

    def test_revoked_token_is_refused_at_once(self):
        out = self.add_token()
        keep = self.add_token()
        self.assertStatus(self.api(out["token"]), 200)
        r = self.cli("token", "list")
        self.assertEqual(r.code, 0, r)
        self.assertRegex(r.stdout, r"(?m)^%d\t有効\t" % out["id"])
        r = self.cli("token", "revoke", "--id", str(out["id"]))
        self.assertEqual(r.code, 0, r)
        refused = self.api(out["token"])
        self.assertStatus(refused, 401)
        self.assertIn("invalid token", refused.text)
        self.assertStatus(self.api(keep["token"]), 200)
        self.assertIn("revoked", [a["detail"] for a in self.denied()])
        revokes = [a for a in self.audit() if a["action"] == "api_token_revoke"]
        self.assertEqual([a["target"] for a in revokes], ["api_token:%d" % out["id"]])
        r = self.cli("token", "revoke", "--id", str(out["id"]))
        self.assertEqual(r.code, 1, r)
        self.assertIn("既に失効", r.stderr)
        r = self.cli("token", "revoke", "--id", "999999")
        self.assertEqual(r.code, 1, r)
        r = self.cli("token", "list")
        self.assertRegex(r.stdout, r"(?m)^%d\t失効\t" % out["id"])


class MetricsTests(HardeningHelpers):
    """/metrics answers loopback clients and bearers of a valid API token; anyone else gets 403,
    whatever X-Forwarded-For says under --trust-proxy (the socket's peer decides)."""

    LISTEN_HOST = "0.0.0.0"
    SERVE_ARGS = ("--trust-proxy",)

    def remote(self):
        addr = non_loopback_address()
        if addr is None:
            self.skipTest("this machine has no non-loopback IPv4 address to connect from")
        return Client("http://%s:%d" % (addr, self.server.port), server=self.server)

    def test_loopback_is_answered(self):
        r = self.client().get("/metrics")
        self.assertStatus(r, 200)
        self.assertIn("nsdb_", r.text)

    def test_others_need_a_valid_token(self):
        remote = self.remote()
        self.assertStatus(remote.get("/healthz"), 200)  # the address is reachable at all
        r = remote.get("/metrics")
        self.assertStatus(r, 403)
        self.assertNotIn("nsdb_", r.text)
        # a forwarded loopback address is only a header
        self.assertStatus(remote.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}), 403)
        self.assertStatus(remote.get("/metrics", headers={"X-Forwarded-For": "::1, 127.0.0.1"}), 403)
        self.assertStatus(remote.get("/metrics", headers={
            "Authorization": "Bearer " + secrets.token_urlsafe(32)}), 403)
        out = self.cli("token", "add", "--name", "prometheus", "--json")
        self.assertEqual(out.code, 0, out)
        token = out.json()
        self.remember(token["token"])
        r = remote.get("/metrics", headers={"Authorization": "Bearer " + token["token"]})
        self.assertStatus(r, 200)
        self.assertIn("nsdb_", r.text)
        self.assertEqual(self.cli("token", "revoke", "--id", str(token["id"])).code, 0)
        r = remote.get("/metrics", headers={"Authorization": "Bearer " + token["token"]})
        self.assertStatus(r, 403)


class PagingTests(HardeningHelpers):
    """The next-page link of both user searches keeps a q with &, #, +, %, =, spaces and Japanese
    (and the other filters) exactly."""

    def follow_next(self, client, path, params, expect_rows):
        r = client.get(path + "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote))
        self.assertStatus(r, 200)
        self.assertEqual(input_raw_value(r.text, "q"), params["q"])
        href, query = href_query(r.text, "次のページ")
        self.assertIsNotNone(href, "no next-page link on %s" % path)
        self.assertEqual(query, dict(params, page="2"), href)
        r2 = client.get(href)
        self.assertStatus(r2, 200)
        self.assertEqual(input_raw_value(r2.text, "q"), params["q"])
        self.assertIn("2 / 2 ページ", visible_text(r2.text))
        prev, back = href_query(r2.text, "前のページ")
        self.assertEqual(back, dict(params, page="1"), prev)
        names = re.findall(r"鈴木 &amp;#\+%= 試験\d{3}", r2.text)
        self.assertEqual(len(set(names)), expect_rows, r2.text[:3000])

    def test_municipal_user_search(self):
        admin = self.logged_in_as("muni_admin", CHIYODA, name="千代田 管理者")
        for i in range(PAGE_SIZE + 1):
            self.cli_user("muni_staff", "%s%03d" % (AWKWARD_Q, i), CHIYODA)
        self.follow_next(admin, "/muni-users", {"q": AWKWARD_Q, "status": "unissued"}, 1)

    def test_institution_user_search(self):
        staff = self.logged_in_as("muni_staff", CHIYODA, name="千代田 職員")
        code = luhn_complete("131%06d" % (int(time.time()) % 1000000))
        header = "医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別," \
                 "氏名,氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス"
        lines = [header]
        for i in range(PAGE_SIZE + 1):
            kind = "責任者" if i == 0 else "指定医"
            number = "" if i == 0 else "D-%05d" % i
            kana = "スズキ " + "".join("アイウエオカキクケコ"[int(d)] for d in "%03d" % i)
            lines.append('%s,頁送り病院,100-0001,東京都千代田区千代田1-1,03-1234-5678,%s,"%s%03d",%s,'
                         '難病,%s,内科,' % (code, kind, AWKWARD_Q.replace('"', '""'), i, kana, number))
        data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
        token = staff.page_csrf("/inst-users/new?tab=bulk")
        r = staff.post_multipart("/inst-users/import", {"csrf": token},
                                 [("file", ("paging.csv", data, "text/csv"))])
        self.assertEqual(r.status, 303, r)
        self.follow_next(staff, "/inst-users", {"q": AWKWARD_Q, "inst_code": code,
                                                "category": "nanbyo"}, 1)


class NoticeUrlTests(HardeningHelpers):
    """The login URL on the ID・PW発行通知書 comes from configuration (here the --listen address,
    no --public-url), never from the Host header a client sends."""

    def setUp(self):
        super().setUp()
        if shutil.which("pdftotext") is None:
            self.skipTest("pdftotext (poppler-utils) is needed to read the notice")

    def test_host_header_does_not_reach_the_notice(self):
        admin = self.logged_in_as("muni_admin", CHIYODA, name="通知 管理者")
        staff_id, _ = self.cli_user("muni_staff", "通知 職員", CHIYODA)
        r = admin.get("/users/%s/notice.pdf" % staff_id,
                      headers={"Host": "evil.example", "X-Forwarded-Host": "evil2.example"})
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, "application/pdf")
        text = pdf_text(r.body)
        self.assertNotIn("evil", text)
        self.assertIn("http://127.0.0.1:%d/login" % self.server.port, text.replace("\n", ""))
        self.assertIn(staff_id, text)


class CrossMunicipalityTests(HardeningHelpers):
    """個別登録 by municipality B at a hospital that A registered: a refusal (the same doctor) says
    what is wrong without A's user ID; another spelling of the hospital registers B's doctor with
    a warning naming the master (issue 12 item 5), never A's users; A still sees its own."""

    def register(self, client, **fields):
        token = client.page_csrf("/inst-users/new")
        return client.post("/inst-users/new", dict(fields, csrf=token))

    def test_refusals_to_another_municipality_name_nothing_of_it(self):
        chiyoda = self.logged_in_as("muni_staff", CHIYODA, name="千代田 職員")
        sapporo = self.logged_in_as("muni_staff", SAPPORO, name="札幌 職員")
        code = luhn_complete("131%06d" % ((int(time.time()) + 7) % 1000000))
        base = {"inst_code": code, "inst_name": "秘匿記念病院", "inst_postal": "100-0001",
                "inst_address": "東京都千代田区秘匿町1-1", "inst_phone": "03-1234-5678",
                "user_type": "doctor", "name": "秘匿 太郎", "name_kana": "ヒトク タロウ",
                "category": "nanbyo", "doctor_number": "D-00001", "specialty": "内科",
                "email": "doc@example.jp"}
        r = self.register(chiyoda, **base)
        self.assertEqual(r.status, 303, r)
        first = re.search(r"registered=([A-Z0-9]{12})", r.location).group(1)

        r = self.register(sapporo, **dict(base, doctor_number="D-00002"))
        self.assertStatus(r, 400)
        text = visible_text(r.text)
        self.assertNotIn(first, r.text)
        self.assertIn("別の自治体", text)
        self.assertIn("既に登録されています", text)

        for changed in ({"inst_name": "札幌での呼び名病院", "name": "札幌 花子",
                         "name_kana": "サッポロ ハナコ"},
                        {"inst_address": "北海道札幌市中央区北1条西2丁目", "name": "札幌 次郎",
                         "name_kana": "サッポロ ジロウ"}):
            with self.subTest(changed=changed):
                r = self.register(sapporo, **dict(base, **changed))
                self.assertEqual(r.status, 303, r)
                page = sapporo.get(r.location)
                self.assertIn("医療機関マスタと異なります", visible_text(page.text))
                self.assertNotIn(first, page.text)

        # the municipality that registered them still gets the pointer to its own account
        r = self.register(chiyoda, **dict(base, doctor_number="D-00003"))
        self.assertStatus(r, 400)
        self.assertIn(first, visible_text(r.text))


class UploadNameTests(HardeningHelpers):
    """An admin list uploaded under a CP932 file name (申請書.xlsx as a Japanese Windows browser
    may send it) is listed, shown and audited under its Japanese name."""

    def test_cp932_file_name(self):
        mhlw = self.logged_in_as("mhlw", name="厚労 花子")
        row = ["1", "131016", "千代田区", "難病", "保健所 健康推進課", "主任", "名前 試験",
               "ナマエ シケン", "cp932.name@example.jp", "03-1234-5678", "", "新規", "",
               "100-8511", "東京都千代田区九段南1-2-1"]
        data = admin_list_xlsx([row])
        body, ctype = multipart_raw_filename({"csrf": mhlw.page_csrf("/admin-lists")},
                                             "申請書.xlsx".encode("cp932"), data, XLSX_TYPE)
        r = mhlw.request("POST", "/admin-lists", data=body, headers={"Content-Type": ctype})
        self.assertEqual(r.status, 303, r)
        path = r.location
        self.assertRegex(path, r"^/admin-lists/\d+$")
        list_id = path.rsplit("/", 1)[1]
        lists = mhlw.get("/admin-lists")
        self.assertStatus(lists, 200)
        self.assertIn('href="/admin-lists/%s"' % list_id, lists.text)
        self.assertIn("申請書.xlsx", visible_text(lists.text))
        detail = mhlw.get(path)
        self.assertStatus(detail, 200)
        self.assertIn("申請書.xlsx", visible_text(detail.text))
        uploads = [a for a in self.audit() if a["action"] == "admin_list_upload"
                   and a["result"] == "ok"]
        self.assertEqual([(a["target"], a["detail"]) for a in uploads],
                         [("admin_list:%s" % list_id, "申請書.xlsx")])


for_each_binary(globals(), TokenTests, MetricsTests, PagingTests, NoticeUrlTests,
                CrossMunicipalityTests, UploadNameTests, typed_passwords=(GOOD_PASSWORD,))
