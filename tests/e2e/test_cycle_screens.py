"""End-to-end tests of issue 12, items 10 and 12: the media cycle as the screens tell it, and the
smaller items around it.

Item 10: 医療機関ユーザ新規登録 says, as the seed's chart (参考②) does, that the media of this
registration window is made and sent by the operator in the media window and reaches the
municipality by its last day, and that staff then record its receipt and forward it with the
notices in the delivery window; it shows the current and next cycles as an inline SVG chart (with
<title>, <desc> and a table of the same dates) and so does 媒体送付サイクル. The result of a
registration promises media only when the institution has none yet.

Item 12: form errors of the cycle adjustment and of 医療機関へ送付 come back as the form with the
error at the field; an adjustment that leaves a working day outside every registration window is
refused and one that puts a window's edge on a closed day is warned about; 監査ログ is in Japan
time (the server runs with TZ=UTC here) with Japanese action names; /registrations pages and a
malformed ?cycle= answers 400; 厚労省 reads /cycles, /operator/media and /registrations without
their buttons; `nsdb serve --helpdesk` puts the help desk on the notice PDF, in the ⑦ mail and in
the page footer, and the login URL on them is --public-url whatever Host the browser sends.

Every class runs once per binary (see nsdbtest.for_each_binary), each with its own server.
Needs pdftotext (poppler-utils) and what test_media needs to build media (isoinfo, openssl).
"""

import base64
import datetime
import email
import email.policy
import glob
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nsdbtest  # noqa: E402
import test_media  # noqa: E402  (its helpers; its test classes are not imported here)
from nsdbtest import FONTCONFIG_LSAN_ENV, for_each_binary, run_cli, visible_text  # noqa: E402
from test_media import (CHIYODA, CHUO, GOOD_PASSWORD, JST, OSAKA, SAPPORO, day,  # noqa: E402
                        kana_number, pdf_text, table_rows, today_jst)

HELPDESK = "電話 03-0000-0000（平日9時〜17時）"
PUBLIC_URL = "http://nsdb.example.go.jp"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def short(iso):
    """2026-12-07 → 12/7, as the seed's chart writes dates."""
    d = day(iso)
    return "%d/%d" % (d.month, d.day)


def svg_of(page):
    m = re.search(r"(?s)<svg\b[^>]*class=\"cycle-chart\".*?</svg>", page)
    return m.group(0) if m else None


def field_error(page, field_id):
    m = re.search(r'(?s)id="%s-error"[^>]*>(.*?)</' % re.escape(field_id), page)
    return visible_text(m.group(1)) if m else None


def input_tag(page, field_id):
    m = re.search(r'<input\b[^>]*\bid="%s"[^>]*>' % re.escape(field_id), page)
    return m.group(0) if m else ""


def next_weekday(d, weekday):
    """The first day after d that is the weekday (0 = Monday … 6 = Sunday)."""
    d += datetime.timedelta(days=1)
    while d.weekday() != weekday:
        d += datetime.timedelta(days=1)
    return d


def open_day_after(d):
    d += datetime.timedelta(days=1)
    while test_media.is_day_off(d) or d.weekday() >= 5:
        d += datetime.timedelta(days=1)
    return d


class CycleScreens(test_media.MediaHelpers):
    """The chart and the media promise (item 10); cycle and forwarding forms, audit log,
    /registrations, mhlw's views, the help desk (item 12)."""

    SERVE_ARGS = ("--helpdesk", HELPDESK, "--public-url", PUBLIC_URL)
    SERVE_ENV = dict(FONTCONFIG_LSAN_ENV, TZ="UTC")  # notices; the audit log must not follow TZ

    # ---- helpers

    def register_one(self, staff, place, name, kana, doctor_number):
        """個別登録 of one 指定医 at place (code, name, postal, address, phone); the result page."""
        form = {"inst_code": place[0], "inst_name": place[1], "inst_postal": place[2],
                "inst_address": place[3], "inst_phone": place[4], "user_type": "doctor",
                "name": name, "name_kana": kana, "category": "nanbyo",
                "doctor_number": doctor_number, "specialty": "内科", "email": "",
                "csrf": staff.page_csrf("/inst-users/new")}
        r = staff.post("/inst-users/new", form)
        self.assertEqual(r.status, 303, visible_text(r.text)[:2000])
        self.assertRegex(r.location, r"^/inst-users\?registered=[A-Z0-9]{12}$")
        page = staff.get(r.location)
        self.assertStatus(page, 200)
        return r.location.split("=", 1)[1], page

    def notice_text(self, page):
        m = re.search(r'(?s)<p class="notice"[^>]*>(.*?)</p>', page.text)
        self.assertIsNotNone(m, "no notice on %s" % visible_text(page.text)[:500])
        return visible_text(m.group(1))

    def mhlw(self):
        def make():
            c, user_id, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD, name="厚労 閲覧")
            c.user_id = user_id
            return c
        return self._cached("_mhlw", make)

    def later_cycle(self, ahead=3):
        """A cycle a few cycles after today's (its adjustment touches no test's registrations)."""
        today = today_jst().isoformat()
        return [c for c in self.cycles("--from", today) if c["registration_from"] > today][ahead]

    # ---- item 10

    def test_registration_screen_says_when_the_media_arrives_with_the_chart(self):
        staff = self.staff(CHIYODA)
        this, nxt = self.today_cycle()
        r = staff.get("/inst-users/new")
        self.assertStatus(r, 200)
        text = visible_text(r.text)
        # the seed: [2] the operator makes and sends the media; it reaches the municipality by the
        # end of the media window; [3] the municipality forwards it with the notices
        self.assertIn("%s〜%s に作成して自治体へ送付し、%s までに届きます"
                      % (this["media_from"], this["media_to"], this["media_to"]), text)
        self.assertIn("「媒体受領」で受領を記録し", text)
        self.assertIn("ID・PW発行通知書と併せて %s〜%s に医療機関へ送付してください"
                      % (this["delivery_from"], this["delivery_to"]), text)
        self.assertIn("既に媒体がある（または作成予定の）医療機関には、新しい媒体は作成されません", text)
        self.assertNotIn("に運用事業者から届く予定", text)  # the old, wrong promise
        # the chart: current and next cycle, every date in its text alternative, today marked
        svg = svg_of(r.text)
        self.assertIsNotNone(svg, "no cycle chart on /inst-users/new")
        self.assertRegex(svg, r'role="img" aria-labelledby="cycle-chart-title cycle-chart-desc"')
        self.assertIn('<title id="cycle-chart-title">媒体送付サイクル', svg)
        desc = re.search(r'(?s)<desc id="cycle-chart-desc">(.*?)</desc>', svg).group(1)
        for c in (this, nxt):
            for a, b in (("registration_from", "registration_to"), ("media_from", "media_to"),
                         ("delivery_from", "delivery_to")):
                self.assertIn("%s〜%s" % (c[a], c[b]), desc)
                self.assertIn(">%s〜%s</text>" % (short(c[a]), short(c[b])), svg)
        self.assertIn(">今日 %s</text>" % short(today_jst().isoformat()), svg)
        self.assertNotIn("style=", svg)  # the Content-Security-Policy allows no inline style
        # …and the same dates as a table
        rows = {cells[0]: cells for cells in table_rows(r.text)}
        self.assertEqual(rows[this["id"]][1:], ["%s〜%s" % (this["registration_from"], this["registration_to"]),
                                                 "%s〜%s" % (this["media_from"], this["media_to"]),
                                                 "%s〜%s" % (this["delivery_from"], this["delivery_to"])])
        self.assertIn(nxt["id"], rows)

    def test_registration_result_promises_media_only_to_an_institution_without_one(self):
        staff = self.staff(CHUO)
        this, _ = self.today_cycle()
        # a new institution: its media comes in this cycle
        code, _, rows = self.new_institutions(CHUO, 1)[0]
        place = tuple(rows[0][:5])
        user, page = self.register_one(staff, place, "媒体 新一", "バイタイ シンイチ", "N-100001")
        notice = self.notice_text(page)
        self.assertIn("ユーザID %s" % user, notice)
        self.assertIn("%s〜%s に作成して自治体へ送付し、%s までに届きます"
                      % (this["media_from"], this["media_to"], this["media_to"]), notice)
        self.assertIn("%s〜%s に医療機関へ送付" % (this["delivery_from"], this["delivery_to"]), notice)
        # once its media is made, another doctor there gets no promise of media
        self.media_build(this["id"])
        self.assertIn(code, {m["institution"] for m in self.media_list(this["id"]).values()})
        user2, page = self.register_one(staff, place, "媒体 既二", "バイタイ キニ", "N-100002")
        notice = self.notice_text(page)
        self.assertIn("ユーザID %s" % user2, notice)
        self.assertIn("既に媒体が送付されているため、新しい媒体は届きません", notice)
        self.assertNotIn("までに届きます", notice)
        self.assertNotIn(this["delivery_from"], notice)

    def test_bulk_result_says_which_institutions_get_media(self):
        staff = self.staff(CHUO)
        this, _ = self.today_cycle()
        (code_a, name_a, rows_a), (code_b, name_b, rows_b) = self.new_institutions(CHUO, 2)
        self.register(CHUO, [(code_a, name_a, rows_a)])
        self.media_build(this["id"])  # institution A has its media now
        again = list(rows_a[0][:5]) + ["指定医", "一括 追加", "イッカツ ツイカ", "難病", "B-000001",
                                       "内科", ""]
        body = ("\ufeff" + test_media.CSV_HEADER + "\r\n" + ",".join(again) + "\r\n"
                + "\r\n".join(",".join(r) for r in rows_b) + "\r\n").encode("utf-8")
        r = staff.post_multipart("/inst-users/import", {"csrf": staff.page_csrf("/inst-users/new")},
                                 {"file": ("指定医一括登録.csv", body, "text/csv")})
        self.assertEqual(r.status, 303, visible_text(r.text)[:2000])
        text = visible_text(staff.get(r.location).text)
        self.assertIn("媒体が新しく作成される医療機関は 1 件です。媒体は運用事業者が %s〜%s に作成して"
                      "自治体へ送付し、%s までに届きます。" % (this["media_from"], this["media_to"],
                                                            this["media_to"]), text)
        self.assertIn("%s〜%s に医療機関へ送付してください" % (this["delivery_from"], this["delivery_to"]),
                      text)
        self.assertIn("既に媒体がある（または作成予定の）医療機関 1 件には、新しい媒体は届きません", text)

    def test_cycles_screen_shows_the_chart(self):
        op = self.operator()
        this, nxt = self.today_cycle()
        r = op.get("/cycles")
        self.assertStatus(r, 200)
        svg = svg_of(r.text)
        self.assertIsNotNone(svg, "no cycle chart on /cycles")
        self.assertIn("サイクル %s" % this["id"], svg)
        self.assertIn("サイクル %s" % nxt["id"], svg)
        self.assertIn(">今日 %s</text>" % short(today_jst().isoformat()), svg)
        self.assertIn("[2] 媒体作成・送付（運用事業者）", svg)

    # ---- item 12: forms

    def test_cycle_adjustment_errors_come_back_at_the_field(self):
        op = self.operator()
        later = self.later_cycle(3)
        cid = later["id"]
        form = {k: later[k] for k in test_media.CYCLE_FIELDS - {"id"}}
        token = op.page_csrf("/cycles")
        r = op.post("/cycles/" + cid, dict(form, csrf=token, media_to="2031-02-30"))
        self.assertStatus(r, 400)
        self.assertIn("<h1>媒体送付サイクル</h1>", r.text)  # the screen, not an error page
        self.assertIn("実在する日", field_error(r.text, "media_to-%s" % cid) or "")
        tag = input_tag(r.text, "media_to-%s" % cid)
        self.assertIn('value="2031-02-30"', tag)  # the input is kept
        self.assertIn('aria-invalid="true"', tag)
        self.assertIn('href="#media_to-%s"' % cid, r.text)  # the error summary links to it
        self.assertRegex(r.text, r'<details open><summary>日程を変更<span class="visually-hidden">（%s）' % cid)
        r = op.post("/cycles/" + cid, dict(form, csrf=token, media_from=later["registration_to"]))
        self.assertStatus(r, 400)
        self.assertIn("登録期間の後", field_error(r.text, "media_from-%s" % cid) or "")
        self.assertEqual([c for c in self.cycles() if c["id"] == cid], [later])

    def test_cycle_adjustment_may_not_leave_a_working_day_outside_every_cycle(self):
        op = self.operator()
        later = self.later_cycle(4)
        cid = later["id"]
        form = {k: later[k] for k in test_media.CYCLE_FIELDS - {"id"}}
        token = op.page_csrf("/cycles")
        # opening a working day later leaves the first day in no registration window
        first = day(later["registration_from"])
        r = op.post("/cycles/" + cid, dict(form, csrf=token,
                                           registration_from=open_day_after(first).isoformat()))
        self.assertStatus(r, 400)
        self.assertIn("%s がどのサイクルの登録期間にも入らなくなります" % first.isoformat(),
                      field_error(r.text, "registration_from-%s" % cid) or "")
        # closing a working day earlier leaves the last day in none
        last = day(later["registration_to"])
        earlier = last - datetime.timedelta(days=1)
        while test_media.is_day_off(earlier) or earlier.weekday() >= 5:
            earlier -= datetime.timedelta(days=1)
        r = op.post("/cycles/" + cid, dict(form, csrf=token, registration_to=earlier.isoformat()))
        self.assertStatus(r, 400)
        self.assertIn("%s がどのサイクルの登録期間にも入らなくなります" % last.isoformat(),
                      field_error(r.text, "registration_to-%s" % cid) or "")
        self.assertEqual([c for c in self.cycles() if c["id"] == cid], [later])
        # a delivery window that ends on a Saturday is saved, with a warning on the calendar
        saturday = next_weekday(day(later["delivery_to"]), 5)
        r = op.post("/cycles/" + cid, dict(form, csrf=token, delivery_to=saturday.isoformat()))
        self.assertRedirect(r, "/cycles?done=adjusted")
        rows = {cells[0]: cells for cells in table_rows(op.get("/cycles").text)}
        self.assertRegex(rows[cid][3], r"注意：送付終了 %s は.+で休業日です" % saturday.isoformat())
        self.assertEqual([c["delivery_to"] for c in self.cycles() if c["id"] == cid],
                         [saturday.isoformat()])

    def test_forwarding_errors_come_back_at_the_date(self):
        c = self.staff(OSAKA)
        package, media, _ = self.ship(OSAKA, 1)
        mid = next(iter(media))
        self.assertRedirect(c.post("/media/packages/%d/receive" % package["package_id"],
                                   {"csrf": c.page_csrf("/media")}), "/media?done=received")
        for bad, why in (("2099-01-01", "今日以前"), ("2025-02-30", "今日以前")):
            with self.subTest(date=bad):
                r = c.post("/media/%d/forward" % mid, {"csrf": c.page_csrf("/media"), "date": bad})
                self.assertStatus(r, 400)
                self.assertIn("<h1>媒体受領</h1>", r.text)
                self.assertIn(why, field_error(r.text, "date-%d" % mid) or "")
                tag = input_tag(r.text, "date-%d" % mid)
                self.assertIn('value="%s"' % bad, tag)
                self.assertIn('aria-invalid="true"', tag)
                self.assertIn('href="#date-%d"' % mid, r.text)
        self.assertEqual(self.media_list()[mid]["status"], "received")

    # ---- item 12: 監査ログ, /registrations, mhlw

    def test_audit_log_in_japan_time_with_japanese_names(self):
        mhlw = self.mhlw()
        r = mhlw.get("/audit")
        self.assertStatus(r, 200)
        self.assertIn("日時（日本時間）", r.text)
        mine = [cells for cells in table_rows(r.text) if cells[1] == mhlw.user_id]
        changes = [cells for cells in mine if cells[3].startswith("パスワード変更")]
        self.assertTrue(changes, mine)
        row = changes[0]
        self.assertIn("password_change", row[3])  # the key stays readable for `nsdb audit`
        self.assertEqual(row[5], "成功")
        shown = datetime.datetime.strptime(row[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=JST)
        self.assertLess(abs((datetime.datetime.now(JST) - shown).total_seconds()), 600, row[0])
        self.assertTrue(any(cells[3].startswith("ログイン") for cells in mine), mine)

    def test_registrations_are_paged_and_a_bad_cycle_is_400(self):
        op = self.operator()
        this, _ = self.today_cycle()
        code, _, rows = self.new_institutions(SAPPORO, 1)[0]
        place = list(rows[0][:5])
        many = [place + ["指定医", "頁送 医%d" % n, "ページ " + kana_number(n), "難病",
                         "P-%06d" % n, "内科", ""] for n in range(1, 106)]
        self.register(SAPPORO, [(code, "", many)])
        q = "/registrations?cycle=" + this["id"]
        r = op.get(q)
        self.assertStatus(r, 200)
        first = [cells for cells in table_rows(r.text) if len(cells) == 9]
        self.assertEqual(len(first), 100)
        self.assertEqual(first[0][0], "1")
        total = int(re.search(r"(\d+) 件（1 / (\d+) ページ）", visible_text(r.text)).group(1))
        self.assertGreaterEqual(total, 105)
        nxt = re.search(r'href="(/registrations\?[^"]*page=2)"', r.text)
        self.assertIsNotNone(nxt, "no link to the next page")
        r = op.get(nxt.group(1).replace("&amp;", "&"))
        self.assertStatus(r, 200)
        second = [cells for cells in table_rows(r.text) if len(cells) == 9]
        self.assertEqual(second[0][0], "101")
        self.assertEqual(len(first) + len(second), min(total, 200))
        self.assertFalse({c[5] for c in first} & {c[5] for c in second})
        # a malformed cycle is refused, not read as "every cycle"
        for bad in ("2026-13-01", "abc", "2026-1-1", "2026-02-30"):
            with self.subTest(cycle=bad):
                r = op.get("/registrations?cycle=" + urllib.parse.quote(bad))
                self.assertStatus(r, 400)
                self.assertIn("2026-11-16", visible_text(r.text))
                self.assertStatus(op.get("/registrations.csv?cycle=" + urllib.parse.quote(bad)), 400)
        token = self.cli("token", "add", "--name", "頁送", "--json")
        self.assertEqual(token.code, 0, token)
        bearer = {"Authorization": "Bearer " + token.json()["token"]}
        r = self.client().get("/api/v1/registrations?cycle=abc", headers=bearer)
        self.assertStatus(r, 400)
        self.assertIn("error", json.loads(r.text))
        r = op.get("/registrations?cycle=2001-01-01")  # well formed, no such cycle: nothing
        self.assertStatus(r, 200)
        self.assertIn("0 件", visible_text(r.text))

    def test_mhlw_reads_the_media_views_without_their_buttons(self):
        mhlw = self.mhlw()
        this, _ = self.today_cycle()
        menu = mhlw.get("/")
        for path in ("/cycles", "/registrations"):
            self.assertIn('href="%s"' % path, menu.text)
        r = mhlw.get("/cycles")
        self.assertStatus(r, 200)
        self.assertIsNotNone(svg_of(r.text))
        self.assertNotIn('action="/cycles/', r.text)
        self.assertNotIn("日程を変更", r.text)
        r = mhlw.get("/operator/media?cycle=" + this["id"])
        self.assertStatus(r, 200)
        self.assertNotIn('action="/operator/media/build"', r.text)
        self.assertNotIn('action="/operator/media/pack"', r.text)
        self.assertStatus(mhlw.get("/registrations"), 200)
        # reading only
        token = mhlw.page_csrf("/cycles")
        later = self.later_cycle(5)
        self.assertStatus(mhlw.post("/cycles/" + later["id"],
                                    dict({k: later[k] for k in test_media.CYCLE_FIELDS - {"id"}},
                                         csrf=token)), 403)
        for path in ("/operator/media/build", "/operator/media/pack"):
            self.assertStatus(mhlw.post(path, {"csrf": token, "cycle": this["id"]}), 403)

    # ---- item 12: help desk and login URL

    def test_helpdesk_and_login_url_on_notice_footer_and_mail(self):
        staff = self.staff(CHIYODA)
        self.assertIn(HELPDESK, visible_text(staff.get("/").text))  # the page footer
        code, _, rows = self.new_institutions(CHIYODA, 1)[0]
        user, _ = self.register_one(staff, tuple(rows[0][:5]), "窓口 確認", "マドグチ カクニン",
                                    "H-000001")
        # whatever Host the browser sends, the notice names --public-url
        r = staff.get("/users/%s/notice.pdf" % user, headers={"Host": "evil.example"})
        self.assertStatus(r, 200)
        text = re.sub(r"\s+", "", pdf_text(r.body))
        self.assertIn("ヘルプデスク", text)
        self.assertIn(re.sub(r"\s+", "", HELPDESK), text)
        self.assertIn(PUBLIC_URL + "/login", text)
        self.assertNotIn("evil.example", text)
        # the ⑦ mail of 払出し
        before = set(glob.glob(os.path.join(self.data_dir, "mail", "*.eml")))
        mhlw, op = self.mhlw(), self.operator()
        row = ["1", test_media.MINATO[0], test_media.MINATO[1], "難病", "保健予防課", "係長",
               "港 窓口", "ミナト マドグチ", "madoguchi@example.jp", "03-0000-0000", "", "新規", "",
               test_media.MINATO[2], test_media.MINATO[3]]
        r = mhlw.post_multipart("/admin-lists", {"csrf": mhlw.page_csrf("/admin-lists")},
                                {"file": ("申請リスト.xlsx", nsdbtest.admin_list_xlsx([row]), XLSX_TYPE)})
        self.assertEqual(r.status, 303, visible_text(r.text)[:1000])
        path = r.location
        self.assertStatus(mhlw.post(path + "/approve", {"csrf": mhlw.page_csrf(path)}), 303)
        self.assertStatus(op.post(path + "/issue", {"csrf": op.page_csrf(path)}), 303)
        deadline = time.monotonic() + 30
        while True:
            new = set(glob.glob(os.path.join(self.data_dir, "mail", "*.eml"))) - before
            if new or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(new), 1, "one mail for the new admin")
        with open(new.pop(), "rb") as f:
            msg = email.message_from_bytes(f.read(), policy=email.policy.default)
        body = msg.get_body().get_content().replace("\r\n", "\n")
        self.assertIn("＜難病・小慢データベース利用者お問い合わせ窓口（ヘルプデスク）＞\n" + HELPDESK, body)
        self.assertIn(PUBLIC_URL + "/login", body)

    def test_helpdesk_option_is_checked(self):
        for bad in ("", "一行目\n二行目", "x" * 101):
            with self.subTest(helpdesk=bad[:10]):
                r = run_cli(self.BIN, ["serve", "--listen", "127.0.0.1:0", "--helpdesk", bad],
                            os.path.join(self._tmp.name, "unused"))
                self.assertEqual(r.code, 2, r)
                self.assertIn("--helpdesk は改行を含まない 100 文字以内の連絡先です", r.stderr)


for_each_binary(globals(), CycleScreens, typed_passwords=(GOOD_PASSWORD,))
