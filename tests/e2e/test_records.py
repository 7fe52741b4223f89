"""End-to-end tests of issue 12, items 6 and 7: records that can be corrected.

医療機関ユーザの編集 edits 指定医番号, 診療科, ユーザ種別 and the institution (a doctor moved to another
registered institution is registered there in the current cycle, as the media build reads it);
the search shows 指定医番号. A municipal admin changes a staff user's role, never leaving the
municipality without an admin. The same doctor (指定医番号 and name, same municipality and
institution) registered again for the other category becomes 両方 on the existing account, through
個別登録 and 一括登録 alike. The 申請書 (xlsx) whose first row has a 指定医番号 registers the 責任者 and
the doctor, and says so.

Every class runs once per binary (nsdbtest.for_each_binary), on SQLite or PostgreSQL.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import for_each_binary, visible_text  # noqa: E402
from test_flow2 import (CATEGORY_BOTH, DOCTOR_PASSWORD, MANAGER_PASSWORD, OPERATOR_PASSWORD,  # noqa: E402
                        STAFF_PASSWORD, Flow2Base, csv_bytes, field_error, fill_form_xlsx,
                        input_value)

ADMIN_PASSWORD = "records admin horse battery 2026"


def checked_value(page, name):
    """The value of the checked radio button named name, or None."""
    for tag in re.findall(r"<input\b[^>]*>", page):
        if re.search(r'\bname="%s"' % re.escape(name), tag) and re.search(r"\bchecked\b", tag):
            m = re.search(r'\bvalue="([^"]*)"', tag)
            return m.group(1) if m else None
    return None


class RecordsBase(Flow2Base):
    def edit_fields(self, page):
        """The edit form's current values (what a browser would send back unchanged)."""
        fields = {name: input_value(page.text, name) or "" for name in
                  ("inst_code", "name", "name_kana", "doctor_number", "specialty", "email")}
        fields["user_type"] = checked_value(page.text, "user_type")
        fields["category"] = checked_value(page.text, "category")
        fields["csrf"] = page.csrf()
        return fields

    def edit(self, user_id, client=None, **changes):
        c = client or self.staff()
        page = c.get("/inst-users/%s/edit" % user_id)
        self.assertStatus(page, 200)
        return c.post("/inst-users/%s/edit" % user_id, dict(self.edit_fields(page), **changes))

    def registration_of(self, user_id):
        """(institution code, cycle) of the user's registration notification."""
        rows = self.db_query("SELECT i.code, r.cycle_id FROM registrations r "
                             "JOIN users u ON u.id = r.user_pk "
                             "JOIN institutions i ON i.id = r.institution_id "
                             "WHERE u.user_id = ?", user_id)
        self.assertEqual(len(rows), 1, rows)
        return tuple(rows[0])

    def update_details(self, user_id):
        return [r.get("detail") or "" for r in self.audit_rows("user_update", user_id)]


class InstitutionUserRecords(RecordsBase):
    """医療機関ユーザの編集: 指定医番号, 診療科, ユーザ種別 and the institution (issue 12, item 6)."""

    def test_doctor_number_is_shown_and_edited_with_specialty_and_type(self):
        user_id, fields = self.registered_user()
        # shown on the search and on the edit form (before: never shown after entry)
        self.assertIn(fields["doctor_number"], self.search_one(user_id)["text"])
        c = self.staff()
        page = c.get("/inst-users/%s/edit" % user_id)
        self.assertStatus(page, 200)
        self.assertEqual(input_value(page.text, "doctor_number"), fields["doctor_number"])
        self.assertEqual(input_value(page.text, "specialty"), fields["specialty"])
        self.assertEqual(input_value(page.text, "inst_code"), fields["inst_code"])
        self.assertEqual(checked_value(page.text, "user_type"), "doctor")
        # a new number and 診療科
        r = self.edit(user_id, doctor_number="N-4242", specialty="小児科")
        self.assertRedirect(r, "/inst-users?done=edit&user=" + user_id)
        row = self.search_one(user_id)
        self.assertIn("N-4242", row["text"])
        self.assertNotIn(fields["doctor_number"], row["text"])
        page = c.get("/inst-users/%s/edit" % user_id)
        self.assertEqual(input_value(page.text, "specialty"), "小児科")
        self.assertTrue(any("doctor_number: %s -> N-4242" % fields["doctor_number"] in d
                            and "specialty: 内科 -> 小児科" in d
                            for d in self.update_details(user_id)), self.update_details(user_id))
        # a doctor needs a number, checked as on 個別登録: 400, the input kept, nothing saved
        r = self.edit(user_id, doctor_number="")
        self.assertStatus(r, 400)
        self.assertIn("指定医番号", field_error(r.text, "doctor_number") or "")
        r = self.edit(user_id, doctor_number="番号？")
        self.assertStatus(r, 400)
        self.assertEqual(input_value(r.text, "doctor_number"), "番号？")
        self.assertIn("N-4242", self.search_one(user_id)["text"])
        # the user type: a doctor who is the 責任者 instead
        r = self.edit(user_id, user_type="inst_manager", doctor_number="")
        self.assertRedirect(r, "/inst-users?done=edit&user=" + user_id)
        self.assertIn("責任者", self.search_one(user_id)["text"])
        self.assertEqual(self.db_query("SELECT role FROM users WHERE user_id = ?", user_id),
                         [("inst_manager",)])
        self.assertTrue(any("user_type: doctor -> inst_manager" in d
                            for d in self.update_details(user_id)))
        r = self.edit(user_id, user_type="nobody")
        self.assertStatus(r, 400)
        self.assertIsNotNone(field_error(r.text, "user_type"))

    def test_a_doctor_moves_to_another_registered_institution(self):
        here, there = self.institution(), self.institution()
        other_id, _ = self.registered_user(inst=there)  # registers the institution itself
        mover, fields = self.registered_user(inst=here)
        self.assertEqual(self.registration_of(mover)[0], here["code"])
        r = self.edit(mover, inst_code=there["code"])
        self.assertRedirect(r, "/inst-users?done=edit&user=" + mover)
        total, rows = self.search(inst_code=there["code"])
        self.assertEqual({row["user_id"] for row in rows}, {other_id, mover})
        self.assertEqual(self.search(inst_code=here["code"])[0], 0)
        self.assertIn(there["name"], self.search_one(mover)["text"])
        # the registration names the new institution and the current cycle: the media build
        # (store_media_candidates) treats it like a new registration there
        self.assertEqual(self.registration_of(mover),
                         (there["code"], self.registration_of(other_id)[1]))
        self.assertTrue(any("inst_code: %s -> %s" % (here["code"], there["code"]) in d
                            for d in self.update_details(mover)))
        # an institution that is not registered cannot be the target
        nowhere = self.institution()
        r = self.edit(mover, inst_code=nowhere["code"])
        self.assertStatus(r, 400)
        self.assertIn("登録されていません", field_error(r.text, "inst_code") or "")
        self.assertEqual(self.registration_of(mover)[0], there["code"])
        # a code that is not one is refused by its field's rule
        r = self.edit(mover, inst_code="12345")
        self.assertStatus(r, 400)
        self.assertIn("10桁", field_error(r.text, "inst_code") or "")

    def test_a_move_onto_the_same_person_there_is_refused(self):
        here, there = self.institution(), self.institution()
        name, kana = self.person()
        first = self.register_ok(self.form_fields(here, name=name, kana=kana))
        second = self.register_ok(self.form_fields(there, name=name, kana=kana))
        r = self.edit(first, inst_code=there["code"])
        self.assertStatus(r, 400)
        self.assertIn("既に登録されています", visible_text(r.text))
        self.assertIn(second, visible_text(r.text))
        self.assertEqual(self.registration_of(first)[0], here["code"])

    def test_another_municipality_cannot_be_moved_onto_or_edited(self):
        from test_flow2 import SAPPORO
        theirs, _ = self.registered_user(muni=SAPPORO)
        r = self.staff().post("/inst-users/%s/edit" % theirs,
                              {"csrf": self.staff().page_csrf("/inst-users"), "name": "乗っ取り"})
        self.assertStatus(r, 404)


class SameDoctorBothCategories(RecordsBase):
    """The same doctor registered again for the other category becomes 両方 (issue 12, item 6)."""

    def test_individual_registration_for_the_other_category_makes_both(self):
        inst = self.institution()
        fields = self.form_fields(inst, category="nanbyo")
        user_id = self.register_ok(fields)
        creates = len(self.user_creates())
        r = self.register(dict(fields, category="shoman"))
        self.assertRedirect(r, "/inst-users?merged=" + user_id)
        page = self.staff().get(r.location)
        self.assertIn("区分を「両方」にしました", visible_text(page.text))
        self.assertIn(user_id, visible_text(page.text))
        total, rows = self.search(inst_code=inst["code"])
        self.assertEqual(total, 1)
        self.assertIn(CATEGORY_BOTH, rows[0]["text"])
        self.assertEqual(len(self.user_creates()), creates)  # no second account
        self.assertTrue(any("category nanbyo -> both" in d for d in self.update_details(user_id)))
        # the same category again stays a duplicate; so does either, now that it is both
        for category in ("shoman", "nanbyo", "both"):
            with self.subTest(category=category):
                r = self.register(dict(fields, category=category))
                self.assertStatus(r, 400)
                self.assertIn("既に登録されています", visible_text(r.text))
        self.assertEqual(self.search(inst_code=inst["code"])[0], 1)

    def test_another_person_under_the_number_or_another_institution_is_a_new_account(self):
        inst, elsewhere = self.institution(), self.institution()
        fields = self.form_fields(inst, category="nanbyo")
        first = self.register_ok(fields)
        # the doctor also works at another institution: an account there, as before
        second = self.register_ok(dict(self.form_fields(elsewhere, name=fields["name"],
                                                        kana=fields["name_kana"]),
                                       doctor_number=fields["doctor_number"], category="shoman"))
        self.assertNotEqual(first, second)
        self.assertNotIn(CATEGORY_BOTH, self.search_one(first)["text"])

    def test_import_rows_of_both_categories_make_one_account(self):
        inst = self.institution()
        name, kana = self.person()
        rows = [self.row(inst, name, kana, category="難病", doctor_number="B-1001"),
                self.row(inst, name, kana, category="小慢", doctor_number="B-1001")]
        batch, ids, page = self.import_ok([("both.csv", csv_bytes(rows))])
        self.assertEqual(len(ids), 1)
        total, found = self.search(inst_code=inst["code"])
        self.assertEqual(total, 1)
        self.assertIn(CATEGORY_BOTH, found[0]["text"])
        text = visible_text(page.text)
        self.assertIn("「both.csv」の3行目", text)
        self.assertIn("区分を「両方」にしました", text)
        # the same doctor in a later file, for a category already held: refused as before
        self.assert_import_refused([("again.csv", csv_bytes([rows[1]]))],
                                   expected=[(None, None, "既に登録されています")])

    def test_import_for_the_other_category_of_a_registered_doctor_makes_both(self):
        inst = self.institution()
        fields = self.form_fields(inst, category="shoman", doctor_number="B-2002")
        user_id = self.register_ok(fields)
        row = self.row(inst, fields["name"], fields["name_kana"], category="難病",
                       doctor_number="B-2002")
        batch, ids, page = self.import_ok([("later.csv", csv_bytes([row]))])
        self.assertIn(user_id, visible_text(page.text))
        self.assertIn("区分を「両方」にしました", visible_text(page.text))
        total, found = self.search(inst_code=inst["code"])
        self.assertEqual(total, 1)
        self.assertEqual(found[0]["user_id"], user_id)
        self.assertIn(CATEGORY_BOTH, found[0]["text"])


class ApplicationFormFirstRow(RecordsBase):
    """The 申請書 (xlsx): the first row with a 指定医番号 is the 責任者 and a doctor (item 7)."""

    def form(self, inst, first_number):
        blank = self.staff().get("/forms/inst-user-form.xlsx").body
        n = self.serial()
        cells = {"B3": inst["code"], "B4": inst["name"], "B5": inst["postal"],
                 "B6": inst["address"], "B7": inst["phone"],
                 "B11": "院長 %d" % n, "C11": "インチョウ", "D11": "難病", "F11": "内科",
                 "B12": "医師 %d" % n, "C12": "イシ", "D12": "小慢", "E12": "F-%d" % n}
        if first_number:
            cells["E11"] = first_number
        return fill_form_xlsx(blank, cells), "院長 %d" % n

    def test_first_row_with_a_doctor_number_registers_manager_and_doctor(self):
        inst = self.institution()
        data, head = self.form(inst, "H-1")
        batch, ids, page = self.import_ok([("shinsei.xlsx", data)])
        self.assertIn("責任者と指定医の2つのIDを登録します", visible_text(page.text))
        total, rows = self.search(inst_code=inst["code"])
        self.assertEqual(total, 3)
        kinds = sorted("責任者" if "責任者" in r["text"] else "指定医"
                       for r in rows if head in r["text"])
        self.assertEqual(kinds, ["指定医", "責任者"])
        doctor = [r for r in rows if head in r["text"] and "責任者" not in r["text"]][0]
        self.assertIn("H-1", doctor["text"])

    def test_first_row_without_a_doctor_number_is_the_manager_only(self):
        inst = self.institution()
        data, head = self.form(inst, None)
        batch, ids, page = self.import_ok([("kanri.xlsx", data)])
        self.assertNotIn("2つのID", visible_text(page.text))
        total, rows = self.search(inst_code=inst["code"])
        self.assertEqual(total, 2)
        self.assertIn("責任者", [r for r in rows if head in r["text"]][0]["text"])


class MunicipalUserRole(RecordsBase):
    """自治体ユーザの編集 changes a staff user's role, never leaving no admin (issue 12, item 6)."""

    def admin(self):
        if "_admin" not in type(self).__dict__:
            user_id, initial = self.add_cli_user("muni_admin", "役割 管理", "131016")
            c = self.login_changed(user_id, initial, ADMIN_PASSWORD)
            type(self)._admin = (c, user_id)
        return type(self)._admin

    def muni_edit(self, admin, user_id, **changes):
        page = admin.get("/muni-users/%s/edit" % user_id)
        self.assertStatus(page, 200)
        fields = {name: input_value(page.text, name) or "" for name in
                  ("name", "name_kana", "email", "department")}
        fields.update(category=checked_value(page.text, "category"),
                      role=checked_value(page.text, "role"), csrf=page.csrf())
        return admin.post("/muni-users/%s/edit" % user_id, dict(fields, **changes))

    def role_of(self, user_id):
        return self.db_query("SELECT role FROM users WHERE user_id = ?", user_id)[0][0]

    def test_staff_becomes_admin_and_back_but_the_last_admin_stays(self):
        admin, admin_id = self.admin()
        if admin.get("/muni-users").status != 200:
            admin.enrol_totp()  # an admin enrols two-factor before its screens
        self.assertStatus(admin.get("/muni-users"), 200)
        token = admin.page_csrf("/muni-users/new")
        r = admin.post("/muni-users/new", {"name": "役割 職員", "name_kana": "ヤクワリ ショクイン",
                                           "email": "yakuwari@example.jp", "department": "",
                                           "category": "nanbyo", "role": "muni_staff",
                                           "csrf": token})
        self.assertEqual(r.status, 303, r)
        staff = re.search(r"registered=([A-Z0-9]{12})", r.location).group(1)
        page = admin.get("/muni-users/%s/edit" % staff)
        self.assertEqual(checked_value(page.text, "role"), "muni_staff")
        # the last admin cannot stop being one (before any other admin exists)
        r = self.muni_edit(admin, admin_id, role="muni_staff", name_kana="ヤクワリ カンリ",
                           email="kanri@example.jp")
        self.assertStatus(r, 409)
        self.assertIn("自治体管理者がいなくなる", visible_text(r.text))
        self.assertEqual(self.role_of(admin_id), "muni_admin")
        # staff → admin, audited old → new
        r = self.muni_edit(admin, staff, role="muni_admin")
        self.assertRedirect(r, "/muni-users?done=edit&user=" + staff)
        self.assertEqual(self.role_of(staff), "muni_admin")
        self.assertTrue(any("role: muni_staff -> muni_admin" in d
                            for d in self.update_details(staff)))
        # with two admins, one may go back to staff
        r = self.muni_edit(admin, staff, role="muni_staff")
        self.assertRedirect(r, "/muni-users?done=edit&user=" + staff)
        self.assertEqual(self.role_of(staff), "muni_staff")
        # a role that is not a municipal one is refused
        r = self.muni_edit(admin, staff, role="operator")
        self.assertStatus(r, 400)
        self.assertEqual(self.role_of(staff), "muni_staff")
        # a form without the role keeps it (as before)
        page = admin.get("/muni-users/%s/edit" % staff)
        fields = {name: input_value(page.text, name) or "" for name in
                  ("name", "name_kana", "email", "department")}
        r = admin.post("/muni-users/%s/edit" % staff,
                       dict(fields, category="shoman", csrf=page.csrf()))
        self.assertRedirect(r, "/muni-users?done=edit&user=" + staff)
        self.assertEqual(self.role_of(staff), "muni_staff")


for_each_binary(globals(), InstitutionUserRecords, SameDoctorBothCategories, ApplicationFormFirstRow,
                MunicipalUserRole,
                typed_passwords=(STAFF_PASSWORD, DOCTOR_PASSWORD, MANAGER_PASSWORD,
                                 OPERATOR_PASSWORD, ADMIN_PASSWORD))
