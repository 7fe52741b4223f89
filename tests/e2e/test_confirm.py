"""Confirmation before a one-click state change (issue 12, item 11; SPEC §8 first row). The list
buttons of パスワード初期化, 利用停止/再開 (municipal users, institution users, a 責任者's doctors),
承認/差戻し/払出し of an admin list, 受領 of a package, 医療機関へ送付 and 破損連絡 of a media, and the
operator's 作成 and 梱包・発送 lead to a GET on the action's own POST path. That page names what the
action acts on and what follows, in Japanese, and holds a form that posts to the same path with
csrf beside a キャンセル link. The GET changes nothing (the rows the action would change and the
audit log are the same before and after), checks the same role as the POST (403) and the same
scope (another municipality's user, package or media is 404 and audited), and the POST paths and
fields are unchanged: the form of the page, sent as it is, does the action.

Every class runs once per binary (see nsdbtest.for_each_binary), each with its own server.
"""

import html
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nsdbtest  # noqa: E402
from nsdbtest import admin_list_xlsx, for_each_binary, visible_text  # noqa: E402
from test_media import CHIYODA, SAPPORO, GOOD_PASSWORD, MediaHelpers, pdf_text, today_jst  # noqa: E402

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MANAGER_PASSWORD = "manager confirms first 2026"
NOT_FOUND_USER = "指定されたユーザは見つかりません"


def post_form(page, action):
    """The <form method="post" action=action> of page with its fields {name: value}, or None."""
    for m in re.finditer(r'(?is)<form\b([^>]*)>(.*?)</form>', page):
        attrs, body = m.group(1), m.group(2)
        if re.search(r'\bmethod="post"', attrs) and 'action="%s"' % html.escape(action) in attrs:
            fields = {}
            for tag in re.findall(r"(?is)<(?:input|textarea)\b[^>]*>(?:[^<]*</textarea>)?", body):
                name = re.search(r'\bname="([^"]*)"', tag)
                if not name:
                    continue
                value = re.search(r'\bvalue="([^"]*)"', tag)
                text = re.search(r"(?is)>([^<]*)</textarea>", tag)
                fields[html.unescape(name.group(1))] = html.unescape(
                    value.group(1) if value else text.group(1) if text else "")
            return fields
    return None


class ConfirmHelpers(MediaHelpers):
    def snapshot(self):
        """What any of the actions changes: users, lists, packages, media, and the audit log."""
        return (
            self.db_query("SELECT user_id, status, password_hash, initial_password_sealed, "
                          "notice_status, must_change_password FROM users ORDER BY id"),
            self.db_query("SELECT id, status, decided_at, reject_reason, issued_at FROM admin_lists "
                          "ORDER BY id"),
            self.db_query("SELECT id, status, received_at FROM packages ORDER BY id"),
            self.db_query("SELECT id, status, package_id, forwarded_on, damage_note FROM media "
                          "ORDER BY id"),
            self.db_query("SELECT COUNT(*) FROM mail_outbox"),
            self.db_query("SELECT COUNT(*) FROM audit_log"),
        )

    def confirm(self, client, path, *texts, query=""):
        """GETs the confirmation of path: 200, a Japanese page naming texts, a キャンセル link and
        a form posting to path with csrf; the state is the same after it. Returns (page, fields
        of the form)."""
        before = self.snapshot()
        r = client.get(path + query)
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        text = visible_text(r.text)
        for t in texts:
            self.assertIn(t, text)
        self.assertIn("キャンセル", text)
        fields = post_form(r.text, path)
        self.assertIsNotNone(fields, "no form posting to %s in:\n%s" % (path, text))
        self.assertTrue(fields.get("csrf"), fields)
        self.assertEqual(self.snapshot(), before, "GET %s changed something" % path)
        return r, fields

    def refused(self, client, path, why, query=""):
        """GET of an action the state does not allow: 409, the reason, no form, nothing changed."""
        before = self.snapshot()
        r = client.get(path + query)
        self.assertStatus(r, 409)
        self.assertIn(why, visible_text(r.text))
        self.assertIsNone(post_form(r.text, path))
        self.assertEqual(self.snapshot(), before)

    def out_of_scope(self, client, path, status=404):
        """GET of another scope's object: status, and (404) a scope_denied record."""
        before = len(self.audit_rows("scope_denied"))
        r = client.get(path)
        self.assertStatus(r, status)
        if status == 404:
            self.assertEqual(len(self.audit_rows("scope_denied")), before + 1)

    def muni_admin(self, muni):
        def make():
            self.muni_add(muni)
            r = self.cli("user", "add", "--role", "muni_admin", "--name", "確認 管理者",
                         "--municipality", muni[0], "--json")
            self.assertEqual(r.code, 0, r)
            u = r.json()
            self.remember(u["initial_password"])
            c = self.client()
            self.assertRedirect(c.login(u["user_id"], u["initial_password"]), "/account/password")
            self.assertRedirect(c.change_password(u["initial_password"], GOOD_PASSWORD),
                                "/?done=password")
            c.user_id = u["user_id"]
            return c
        return self._cached("_admin_" + muni[0], make)


class UserConfirmTests(ConfirmHelpers):
    """パスワード初期化, 利用停止 and 再開 on the three user screens."""

    def muni_staff(self, name):
        r = self.cli("user", "add", "--role", "muni_staff", "--name", name, "--municipality",
                     CHIYODA[0], "--json")
        self.assertEqual(r.code, 0, r)
        self.remember(r.json()["initial_password"])
        return r.json()["user_id"]

    def test_municipal_user_buttons_lead_to_confirmations(self):
        admin = self.muni_admin(CHIYODA)
        target = self.muni_staff("確認 花子")
        page = admin.get("/muni-users")
        self.assertStatus(page, 200)
        for action in ("reset", "suspend"):
            self.assertIn('href="/muni-users/%s/%s"' % (target, action), page.text)
            self.assertIsNone(post_form(page.text, "/muni-users/%s/%s" % (target, action)))
        _, form = self.confirm(admin, "/muni-users/%s/reset" % target, target, "確認 花子",
                               "パスワードを初期化します", "今のパスワードではログインできなく")
        self.assertEqual(set(form), {"csrf"})
        self.confirm(admin, "/muni-users/%s/suspend" % target, target, "確認 花子",
                     "利用を停止します", "ログインできなくなり")
        self.refused(admin, "/muni-users/%s/resume" % target, "利用停止中ではありません")
        # the form of the page, sent as it is, does the action
        _, form = self.confirm(admin, "/muni-users/%s/suspend" % target)
        r = admin.post("/muni-users/%s/suspend" % target, form)
        self.assertRedirect(r, "/muni-users?done=suspend&user=%s" % target)
        self.assertEqual(self.db_query("SELECT status FROM users WHERE user_id = ?", target),
                         [("suspended",)])
        self.refused(admin, "/muni-users/%s/suspend" % target, "既に利用停止中")
        _, form = self.confirm(admin, "/muni-users/%s/resume" % target, "利用を再開します")
        self.assertRedirect(admin.post("/muni-users/%s/resume" % target, form),
                            "/muni-users?done=resume&user=%s" % target)
        # the POST without csrf is still refused
        self.assertStatus(admin.post("/muni-users/%s/reset" % target, {}), 403)

    def test_municipal_user_confirmations_keep_role_and_scope(self):
        target = self.muni_staff("範囲 一郎")
        other = self.muni_admin(SAPPORO)
        for action in ("reset", "suspend", "resume"):
            with self.subTest(action=action):
                self.out_of_scope(other, "/muni-users/%s/%s" % (target, action))
                self.assertTrue(any(a["target"] == target for a in self.audit_rows("scope_denied")))
        staff = self.staff(CHIYODA)
        self.out_of_scope(staff, "/muni-users/%s/reset" % target, 403)
        # a muni_admin is not found on the institution-user screen
        admin = self.muni_admin(CHIYODA)
        self.out_of_scope(self.staff(CHIYODA), "/inst-users/%s/reset" % admin.user_id)

    def test_institution_user_confirmations_for_staff_and_manager(self):
        (code, name, rows), = insts = self.new_institutions(CHIYODA, 1, doctors=1, manager=True)
        ids = self.register(CHIYODA, insts)[code]
        manager, doctor = ids
        doctor_name = rows[1][6]
        staff = self.staff(CHIYODA)
        page = staff.get("/inst-users?q=" + doctor)
        self.assertIn('href="/inst-users/%s/reset"' % doctor, page.text)
        self.assertIsNone(post_form(page.text, "/inst-users/%s/reset" % doctor))
        self.confirm(staff, "/inst-users/%s/reset" % doctor, doctor, doctor_name, name,
                     "パスワードを初期化します")
        self.confirm(staff, "/inst-users/%s/suspend" % doctor, doctor, "利用を停止します")
        self.refused(staff, "/inst-users/%s/resume" % doctor, "利用停止中ではありません")
        # another municipality's staff finds nobody
        sapporo = self.staff(SAPPORO)
        for action in ("reset", "suspend", "resume"):
            self.out_of_scope(sapporo, "/inst-users/%s/%s" % (doctor, action))
        # the 責任者 of the institution
        r = staff.get("/users/%s/notice.pdf" % manager)
        self.assertStatus(r, 200)
        initial = re.search(r"初期パスワード\s*[:：]?\s*([A-Z0-9]{12})(?![A-Z0-9])",
                            pdf_text(r.body)).group(1)
        self.remember(initial, MANAGER_PASSWORD)
        m = self.client()
        self.assertRedirect(m.login(manager, initial), "/account/password")
        self.assertRedirect(m.change_password(initial, MANAGER_PASSWORD), "/?done=password")
        page = m.get("/institution/users")
        self.assertIn('href="/institution/users/%s/suspend"' % doctor, page.text)
        self.assertIsNone(post_form(page.text, "/institution/users/%s/suspend" % doctor))
        self.confirm(m, "/institution/users/%s/reset" % doctor, doctor, doctor_name,
                     "パスワードを初期化します")
        _, form = self.confirm(m, "/institution/users/%s/suspend" % doctor, doctor_name,
                               "利用を停止します")
        self.assertRedirect(m.post("/institution/users/%s/suspend" % doctor, form),
                            "/institution/users?done=suspend&user=%s" % doctor)
        self.confirm(m, "/institution/users/%s/resume" % doctor, doctor_name, "利用を再開します")
        # another institution's doctor: 404; staff pages: 403
        (code2, _, _), = others = self.new_institutions(CHIYODA, 1)
        outsider = self.register(CHIYODA, others)[code2][0]
        self.out_of_scope(m, "/institution/users/%s/reset" % outsider)
        self.out_of_scope(m, "/inst-users/%s/reset" % doctor, 403)
        self.out_of_scope(staff, "/institution/users/%s/reset" % doctor, 403)


LIST_ROWS = [
    ["1", "131016", "千代田区", "難病", "保健所", "主任", "承認 一郎", "ショウニン イチロウ",
     "confirm.one@example.jp", "03-1234-5678", "", "新規", "", "100-8511",
     "東京都千代田区九段南1-2-1"],
    ["2", "131016", "千代田区", "小慢", "子ども部", "係長", "承認 二郎", "ショウニン ジロウ",
     "confirm.two@example.jp", "03-1234-5679", "", "新規", "", "100-8511",
     "東京都千代田区九段南1-2-1"],
]


class AdminListConfirmTests(ConfirmHelpers):
    """承認, 差戻し and 払出し of an admin list."""

    def upload(self, mhlw, rows):
        r = mhlw.post_multipart("/admin-lists", {"csrf": mhlw.page_csrf("/admin-lists")},
                                {"file": ("申請リスト.xlsx", admin_list_xlsx(rows), XLSX_TYPE)})
        self.assertEqual(r.status, 303, visible_text(r.text)[:2000])
        return r.location

    def test_approve_reject_and_issue_are_confirmed(self):
        self.muni_add(CHIYODA)
        mhlw, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD)
        op = self.operator()
        path = self.upload(mhlw, LIST_ROWS)
        list_id = path.rsplit("/", 1)[1]
        page = mhlw.get(path)
        self.assertRegex(page.text, r'<form method="get" action="%s/approve"' % path)
        self.assertRegex(page.text, r'<form method="get" action="%s/reject"' % path)
        self.assertIsNone(post_form(page.text, path + "/approve"))
        self.confirm(mhlw, path + "/approve", "申請リストを承認します", list_id, "申請リスト.xlsx",
                     "新規 2", "運用事業者に払出しを依頼します")
        # 差戻し: the reason typed on the list comes along and can still be corrected
        _, form = self.confirm(mhlw, path + "/reject", "申請リストを差し戻します", "差戻しの理由",
                               query="?reason=" + urllib.parse.quote("部署名が空欄です"))
        self.assertEqual(form["reason"], "部署名が空欄です")
        # the operator may not approve, the Ministry may not issue (the POST's roles)
        self.out_of_scope(op, path + "/approve", 403)
        self.out_of_scope(mhlw, path + "/issue", 403)
        self.refused(op, path + "/issue", "この操作はできません")
        self.assertStatus(mhlw.get("/admin-lists/999999/approve"), 404)
        # approve through the page's form; then 払出し is confirmed by the operator
        _, form = self.confirm(mhlw, path + "/approve")
        self.assertRedirect(mhlw.post(path + "/approve", form), path + "?notice=approved")
        self.refused(mhlw, path + "/approve", "この操作はできません")
        page = op.get(path)
        self.assertRegex(page.text, r'<form method="get" action="%s/issue"' % path)
        self.assertIsNone(post_form(page.text, path + "/issue"))
        _, form = self.confirm(op, path + "/issue", "払出しを行います", "新規の 2 行は自治体管理者ユーザを作成")
        self.assertRedirect(op.post(path + "/issue", form), path + "?notice=issued")
        self.assertEqual(self.db_query("SELECT status FROM admin_lists WHERE id = ?", int(list_id)),
                         [("issued",)])

    def test_reject_through_the_confirmation(self):
        self.muni_add(CHIYODA)
        mhlw, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD)
        rows = [r[:8] + ["reject.%s@example.jp" % r[0]] + r[9:] for r in LIST_ROWS]
        path = self.upload(mhlw, rows)
        _, form = self.confirm(mhlw, path + "/reject", "差し戻します", query="?reason=")
        self.assertEqual(form["reason"], "")
        form["reason"] = "電話番号の誤り"
        self.assertRedirect(mhlw.post(path + "/reject", form), path + "?notice=rejected")
        self.assertEqual(self.db_query("SELECT status, reject_reason FROM admin_lists WHERE id = ?",
                                       int(path.rsplit("/", 1)[1])), [("rejected", "電話番号の誤り")])


class MediaConfirmTests(ConfirmHelpers):
    """受領, 医療機関へ送付 and 破損連絡 for municipal staff; 作成 and 梱包・発送 for the operator."""

    def test_receive_forward_and_damage_are_confirmed(self):
        c = self.staff(CHIYODA)
        package, media, _ = self.ship(CHIYODA, 2)
        pid = package["package_id"]
        first, second = sorted(media)
        page = self.media_page(c)
        self.assertRegex(page.text, r'<form method="get" action="/media/packages/%d/receive"' % pid)
        self.assertIsNone(post_form(page.text, "/media/packages/%d/receive" % pid))
        names = [media[m]["institution"] for m in (first, second)]
        self.confirm(c, "/media/packages/%d/receive" % pid, package["tracking_number"], "2 枚",
                     *names, "受領済になり")
        # before the receipt a media can be reported damaged but not forwarded
        self.refused(c, "/media/%d/forward" % first, "この操作はできません")
        # another municipality finds neither
        sapporo = self.staff(SAPPORO)
        self.out_of_scope(sapporo, "/media/packages/%d/receive" % pid)
        self.out_of_scope(sapporo, "/media/%d/damage" % first)
        self.out_of_scope(sapporo, "/media/%d/forward" % first)
        self.out_of_scope(self.operator(), "/media/packages/%d/receive" % pid, 403)
        _, form = self.confirm(c, "/media/packages/%d/receive" % pid)
        self.assertRedirect(c.post("/media/packages/%d/receive" % pid, form), "/media?done=received")
        self.refused(c, "/media/packages/%d/receive" % pid, "既に受領を記録しています")
        page = self.media_page(c)
        self.assertRegex(page.text, r'<form method="get" action="/media/%d/forward"' % first)
        self.assertIsNone(post_form(page.text, "/media/%d/forward" % first))
        today = today_jst().isoformat()
        _, form = self.confirm(c, "/media/%d/forward" % first, "医療機関へ送付したことを記録します",
                               str(first), media[first]["institution"], query="?date=" + today)
        self.assertEqual(form["date"], today)
        self.assertRedirect(c.post("/media/%d/forward" % first, form), "/media?done=forwarded")
        _, form = self.confirm(c, "/media/%d/damage" % second, "破損を運用事業者に連絡します",
                               "次のサイクルで再発行されます", query="?note=" + urllib.parse.quote("ケースが割れていた"))
        self.assertEqual(form["note"], "ケースが割れていた")
        self.assertRedirect(c.post("/media/%d/damage" % second, form), "/media?done=damaged")
        self.assertEqual(self.db_query("SELECT status, forwarded_on FROM media WHERE id = ?", first),
                         [("forwarded", today)])
        self.assertEqual(self.db_query("SELECT status, damage_note FROM media WHERE id = ?", second),
                         [("damaged", "ケースが割れていた")])

    def test_operator_build_and_pack_are_confirmed(self):
        op = self.operator()
        cycle = self.today_cycle()[0]["id"]
        page = op.get("/operator/media?cycle=" + cycle)
        for action in ("build", "pack"):
            self.assertRegex(page.text, r'<form method="get" action="/operator/media/%s"' % action)
            self.assertIsNone(post_form(page.text, "/operator/media/" + action))
        self.register(SAPPORO, self.new_institutions(SAPPORO, 1))
        _, form = self.confirm(op, "/operator/media/build", "サイクル %s の媒体を作成します" % cycle,
                               "VPN 証明書", query="?cycle=" + cycle)
        self.assertEqual(form["cycle"], cycle)
        _, form = self.confirm(op, "/operator/media/pack", "自治体ごとに梱包します",
                               "レターパックプラス", query="?cycle=" + cycle)
        self.assertEqual(form["cycle"], cycle)
        self.assertStatus(op.get("/operator/media/pack?cycle=1999-01-04"), 404)
        self.assertStatus(op.get("/operator/media/pack"), 404)
        self.out_of_scope(self.staff(CHIYODA), "/operator/media/build?cycle=" + cycle, 403)


for_each_binary(globals(), UserConfirmTests, AdminListConfirmTests, MediaConfirmTests,
                typed_passwords=(GOOD_PASSWORD, MANAGER_PASSWORD))
