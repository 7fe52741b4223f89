"""End-to-end tests of the institution master (issue 12 item 5).

The 医療機関コード identifies the institution: a registration whose institution name or address is
the master's written otherwise (全角/半角, spaces, 「１丁目１番地」 for 「1-1」, a leading
prefecture) registers silently; a real difference registers the user at the master's institution,
keeps the master and shows a warning naming both values, on the 個別登録 result and on the 一括登録
result, for the municipality that registered the institution first as for any other (which sees
the master, never another municipality's user IDs). GET/POST /institutions/{code}/edit corrects
the master: the operator (found through /institutions) and staff of a municipality with users
there may; staff of a municipality without users there get the answer of an unknown code (404,
audited). CSRF, field errors re-rendered at the field, the audit record with old and new values,
and the search showing the new name.

Every class runs once per binary (nsdbtest.for_each_binary) on its own server; with
NSDB_DATABASE_URL (make test-e2e-pg) on PostgreSQL.
"""

import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import for_each_binary, visible_text  # noqa: E402
from test_flow2 import (CHIYODA, OPERATOR_PASSWORD, SAPPORO, STAFF_PASSWORD,  # noqa: E402
                        Flow2Base, csv_bytes, field_error, input_value)

DIFFERS = "医療機関マスタと異なります"


def to_fullwidth(text):
    """ASCII digits and hyphens as a person typing in full width would write them."""
    return text.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))


class MasterComparison(Flow2Base):
    """Registrations against an institution already in the master."""

    def result_page(self, location, client=None):
        c = client or self.staff()
        r = c.get(location)
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        return r

    def test_another_spelling_of_the_same_institution_registers_silently(self):
        inst = self.institution()
        first = self.register_ok(self.form_fields(inst))
        # 「東京都千代田区千代田N-1」 as 「千代田区 千代田Ｎ丁目１番地」, the name with an ideographic space
        number = re.search(r"千代田(\d+)-1$", inst["address"]).group(1)
        variant = dict(inst, name=inst["name"][:2] + "\u3000" + inst["name"][2:],
                       address="千代田区 千代田%s丁目１番地" % to_fullwidth(number))
        location = "/inst-users?registered=%s" % self.register_ok(self.form_fields(variant))
        text = visible_text(self.result_page(location).text)
        self.assertIn("医療機関ユーザを登録しました", text)
        self.assertNotIn(DIFFERS, text)
        total, rows = self.search(inst_code=inst["code"])
        self.assertEqual(total, 2)
        self.assertIn(first, [r["user_id"] for r in rows])
        for row in rows:  # both under the master's spelling
            self.assertIn(inst["name"], row["text"])

    def test_a_real_difference_registers_with_a_warning_naming_both(self):
        inst = self.institution()
        first = self.register_ok(self.form_fields(inst))
        other = dict(inst, name="別名総合病院")
        user_id = self.register_ok(self.form_fields(other))
        page = self.result_page("/inst-users?registered=%s" % user_id)
        text = visible_text(page.text)
        self.assertIn("医療機関ユーザを登録しました（ユーザID %s）" % user_id, text)
        self.assertIn("医療機関名が" + DIFFERS, text)
        self.assertIn("入力「別名総合病院」", text)
        self.assertIn("マスタ「%s」" % inst["name"], text)
        self.assertIn(inst["code"], text)
        # registered at the master's institution; the master is kept
        total, rows = self.search(inst_code=inst["code"])
        self.assertEqual({r["user_id"] for r in rows}, {first, user_id})
        self.assertEqual(self.search(inst_name="別名総合病院")[0], 0)
        # an address of another place: the same, for 所在地
        moved = dict(inst, address="東京都港区芝公園4-2-8")
        user_id = self.register_ok(self.form_fields(moved))
        text = visible_text(self.result_page("/inst-users?registered=%s" % user_id).text)
        self.assertIn("所在地が" + DIFFERS, text)
        self.assertIn("入力「東京都港区芝公園4-2-8」、マスタ「%s」" % inst["address"], text)
        self.assertNotIn("医療機関名が" + DIFFERS, text)

    def test_the_import_registers_and_warns_once_per_institution(self):
        inst = self.institution()
        self.register_ok(self.form_fields(inst))
        spelled = dict(inst, name="別名記念病院")
        rows = [self.row(spelled, user_type="責任者"), self.row(spelled), self.row(spelled)]
        # another institution of the master written otherwise, twice: no warning for it
        fine = self.institution()
        self.register_ok(self.form_fields(fine))
        number = re.search(r"千代田(\d+)-1$", fine["address"]).group(1)
        fine_rows = [self.row(dict(fine, address=fine["address"].replace("-", "ー"))),
                     self.row(dict(fine, address="千代田区千代田%s丁目1番" % number))]
        batch, ids, page = self.import_ok([("spelled.csv", csv_bytes(rows)),
                                           ("same.csv", csv_bytes(fine_rows))])
        self.assertEqual(len(ids), 5)
        text = visible_text(page.text)
        self.assertEqual(text.count(DIFFERS), 1, text[:3000])
        self.assertIn("「spelled.csv」2行目", text)
        self.assertIn("入力「別名記念病院」", text)
        self.assertIn("マスタ「%s」" % inst["name"], text)
        total, found = self.search(inst_code=inst["code"])
        self.assertEqual(total, 4)
        self.assertTrue(all(inst["name"] in r["text"] for r in found))
        self.assertEqual(self.search(inst_code=fine["code"])[0], 3)

    def test_another_municipality_is_not_refused_for_the_first_ones_spelling(self):
        inst = self.institution(muni=CHIYODA)
        chiyoda_user = self.register_ok(self.form_fields(inst), self.staff(CHIYODA))
        sapporo = self.staff(SAPPORO)
        other = dict(inst, name="札幌での呼び名病院", address="北海道札幌市どこか1-1")
        user_id = self.register_ok(self.form_fields(other), sapporo)
        page = self.result_page("/inst-users?registered=%s" % user_id, sapporo)
        text = visible_text(page.text)
        self.assertIn("医療機関名と所在地が" + DIFFERS, text)
        self.assertIn("入力「札幌での呼び名病院」", text)
        self.assertIn("マスタ「%s」" % inst["name"], text)  # the master, not a secret
        self.assertNotIn(chiyoda_user, page.text)
        self.assertEqual({r["user_id"] for r in self.search(sapporo, inst_code=inst["code"])[1]},
                         {user_id})
        # the warning belongs to Sapporo's registration: Chiyoda's page does not show it
        r = self.staff(CHIYODA).get("/inst-users?registered=%s" % user_id)
        self.assertStatus(r, 200)
        self.assertNotIn(DIFFERS, visible_text(r.text))


class MasterCorrection(Flow2Base):
    """GET/POST /institutions/{code}/edit."""

    def operator(self):
        cls = type(self)
        if "_operator" not in cls.__dict__:
            op_id, initial = self.add_cli_user("operator", "運用 修正")
            cls._operator = self.login_changed(op_id, initial, OPERATOR_PASSWORD)
        return cls._operator

    def edit_fields(self, **changes):
        fields = {"inst_name": "修正後記念病院", "inst_postal": "100-0005",
                  "inst_address": "東京都千代田区丸の内1-1-1", "inst_phone": "03-9999-0000"}
        fields.update(changes)
        return fields

    def post_edit(self, client, code, fields, csrf=None):
        path = "/institutions/%s/edit" % code
        token = csrf if csrf is not None else client.page_csrf(path)
        return client.post(path, dict(fields, csrf=token))

    def institution_edits(self, code):
        return self.audit_rows("institution_edit", "institution:%s" % code)

    def test_operator_finds_and_corrects_the_master(self):
        inst = self.institution()
        user_id = self.register_ok(self.form_fields(inst))
        op = self.operator()
        menu = op.get("/")
        self.assertIn('href="/institutions"', menu.text)
        r = op.get("/institutions?" + urllib.parse.urlencode({"code": inst["code"]}))
        self.assertStatus(r, 200)
        self.assertIn('href="/institutions/%s/edit"' % inst["code"], r.text)
        r = op.get("/institutions?" + urllib.parse.urlencode({"name": inst["name"][2:]}))
        self.assertIn(inst["code"], r.text)
        form = op.get("/institutions/%s/edit" % inst["code"])
        self.assertStatus(form, 200)
        self.assertJapanesePage(form)
        self.assertEqual(input_value(form.text, "inst_name"), inst["name"])
        self.assertEqual(input_value(form.text, "inst_address"), inst["address"])
        r = self.post_edit(op, inst["code"], self.edit_fields(inst_postal="1000005"))
        self.assertRedirect(r, "/institutions/%s/edit?saved=1" % inst["code"])
        page = op.get(r.location)
        self.assertIn("医療機関情報を修正しました", visible_text(page.text))
        self.assertEqual(input_value(page.text, "inst_name"), "修正後記念病院")
        self.assertEqual(input_value(page.text, "inst_postal"), "100-0005")
        # audited with the old and new values
        records = self.institution_edits(inst["code"])
        self.assertEqual(len(records), 1, records)
        detail = records[0]["detail"]
        self.assertIn("name「%s」→「修正後記念病院」" % inst["name"], detail)
        self.assertIn("address「%s」→「東京都千代田区丸の内1-1-1」" % inst["address"], detail)
        self.assertEqual(records[0]["result"], "ok")
        # the search shows the current name, and finds it by it
        row = self.search_one(user_id)
        self.assertIn("修正後記念病院", row["text"])
        self.assertNotIn(inst["name"], row["text"])
        total, rows = self.search(inst_name="修正後記念")
        self.assertIn(user_id, [x["user_id"] for x in rows])
        self.assertEqual(self.search(inst_name=inst["name"])[0], 0)
        # a later registration is compared with the corrected master
        location = "/inst-users?registered=%s" % self.register_ok(
            self.form_fields(dict(inst, name="修正後記念病院", address="千代田区丸の内１丁目１番１号")))
        self.assertNotIn("異なります", visible_text(self.staff().get(location).text))

    def test_staff_with_users_there_correct_it_and_others_get_404(self):
        inst = self.institution(muni=CHIYODA)
        user_id = self.register_ok(self.form_fields(inst), self.staff(CHIYODA))
        chiyoda = self.staff(CHIYODA)
        # the way in: the search row and the user's edit form link to the institution
        row = self.search_one(user_id, chiyoda)
        self.assertIn('href="/institutions/%s/edit"' % inst["code"], row["html"])
        edit = chiyoda.get("/inst-users/%s/edit" % user_id)
        self.assertIn('href="/institutions/%s/edit"' % inst["code"], edit.text)
        # Sapporo has no user there: the answer of an unknown code, audited
        sapporo = self.staff(SAPPORO)
        unknown = self.institution()["code"]  # valid, never registered
        token = sapporo.page_csrf("/inst-users")
        denied_before = len(self.audit_rows("scope_denied", "institution:%s" % inst["code"]))
        for method, data in (("GET", None), ("POST", dict(self.edit_fields(), csrf=token))):
            with self.subTest(method=method):
                r = sapporo.request(method, "/institutions/%s/edit" % inst["code"], data=data)
                self.assertStatus(r, 404)
                self.assertNotIn(inst["name"], r.text)
                self.assertNotIn(inst["address"], r.text)
                g = sapporo.request(method, "/institutions/%s/edit" % unknown, data=data)
                self.assertStatus(g, 404)
                self.assertEqual(visible_text(g.text), visible_text(r.text))
        self.assertEqual(len(self.audit_rows("scope_denied", "institution:%s" % inst["code"])),
                         denied_before + 2)
        self.assertEqual(self.institution_edits(inst["code"]), [])
        # Chiyoda corrects it
        r = self.post_edit(chiyoda, inst["code"], self.edit_fields(inst_name="千代田修正病院"))
        self.assertRedirect(r, "/institutions/%s/edit?saved=1" % inst["code"])
        self.assertIn("千代田修正病院", self.search_one(user_id, chiyoda)["text"])
        records = self.institution_edits(inst["code"])
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["actor"], self.staff_id(CHIYODA))
        # once Sapporo registers a doctor there, its staff may correct it too
        self.register_ok(self.form_fields(dict(inst, name="千代田修正病院")), sapporo)
        r = self.post_edit(sapporo, inst["code"], self.edit_fields(inst_name="札幌修正病院"))
        self.assertRedirect(r, "/institutions/%s/edit?saved=1" % inst["code"])
        self.assertIn("札幌修正病院", self.search_one(user_id, chiyoda)["text"])
        # the search of the whole master is the operator's
        self.assertStatus(sapporo.get("/institutions"), 403)

    def test_csrf_is_required(self):
        inst = self.institution()
        self.register_ok(self.form_fields(inst))
        c = self.staff()
        path = "/institutions/%s/edit" % inst["code"]
        for label, data in (("none", self.edit_fields()),
                            ("wrong", dict(self.edit_fields(), csrf="x" * 43))):
            with self.subTest(csrf=label):
                r = c.post(path, data)
                self.assertStatus(r, 403)
        form = c.get(path)
        self.assertEqual(input_value(form.text, "inst_name"), inst["name"])
        self.assertEqual(self.institution_edits(inst["code"]), [])

    def test_a_field_error_rerenders_the_form_at_the_field(self):
        inst = self.institution()
        self.register_ok(self.form_fields(inst))
        c = self.staff()
        typed = self.edit_fields(inst_name="直したい病院", inst_postal="12-34", inst_phone="")
        r = self.post_edit(c, inst["code"], typed)
        self.assertStatus(r, 400)
        self.assertJapanesePage(r)
        self.assertTrue(field_error(r.text, "inst_postal"), visible_text(r.text)[:2000])
        self.assertTrue(field_error(r.text, "inst_phone"))
        self.assertIsNone(field_error(r.text, "inst_name"))
        self.assertEqual(input_value(r.text, "inst_name"), "直したい病院")
        self.assertEqual(input_value(r.text, "inst_postal"), "12-34")
        self.assertIn("入力内容にエラーがあります", visible_text(r.text))
        self.assertEqual(self.institution_edits(inst["code"]), [])
        self.assertIn(inst["name"], self.search(inst_code=inst["code"])[1][0]["text"])
        # a name of one control character: the field table's rule, at the field
        r = self.post_edit(c, inst["code"], self.edit_fields(inst_name="病院\u202e"))
        self.assertStatus(r, 400)
        self.assertIn("U+202E", field_error(r.text, "inst_name") or "")


for_each_binary(globals(), MasterComparison, MasterCorrection,
                typed_passwords=(STAFF_PASSWORD, OPERATOR_PASSWORD))
