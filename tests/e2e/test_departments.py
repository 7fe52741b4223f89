"""End-to-end tests of the shipping address per department (issue 12, item 3; SPEC §6).

A municipality keeps its 郵便番号, 所属先住所, 部署名 and 電話番号 per category (難病 / 小慢), set by
払出し from the admin application list rows of that category: a 小慢 変更 moves only 小慢's address.
Where 難病 and 小慢 are at different places, the municipality's media are packed per department by
the category of each institution's users (小慢 only → 小慢; 難病, 両方 or both kinds → 難病); where
they are at one place, or only one is on record, one package as before. Each package records its
destination when it is packed: the label (pdftotext) prints the department and its phone, the
operator's board and the municipality's 媒体受領 show where each package goes, and a later change
does not rewrite a package already sent.

Lists go through the screens (mhlw uploads and approves, the operator issues); registrations
through the staff's CSV import; media build and packing through the CLI, as in test_media.py,
whose helpers are reused. Every class runs once per binary (nsdbtest.for_each_binary).
Needs: pdftotext (poppler-utils), isoinfo and openssl for the media build.
"""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import admin_list_xlsx, for_each_binary, visible_text  # noqa: E402
from test_media import (GOOD_PASSWORD, MediaHelpers, kana_number, luhn_code, pdf_text,  # noqa: E402
                        squeeze, table_rows)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (地方公共団体コード, 名称, 郵便番号, 所属先住所): real codes, so the check digits are right.
HAKODATE = ("012025", "函館市", "040-8666", "北海道函館市東雲町4-13")
OSAKA = ("271004", "大阪市", "530-8201", "大阪府大阪市北区中之島1-3-20")

# 函館市's 小慢 department after its 変更: another building
HAKODATE_SHOMAN_MOVED = ("040-0001", "北海道函館市五稜郭町23-1")
NANBYO_DEPT, NANBYO_PHONE = "保健福祉部 難病対策係", "0138-21-3111"
SHOMAN_DEPT, SHOMAN_PHONE = "子ども未来部 母子保健課", "0138-32-1533"
SHOMAN_DEPT_MOVED, SHOMAN_PHONE_MOVED = "子ども未来部 子ども家庭支援センター", "0138-32-1599"
OSAKA_DEPT, OSAKA_PHONE = "健康局 保健所 難病係", "06-6208-9966"


def setUpModule():
    missing = [t for t in ("isoinfo", "openssl", "pdftotext") if shutil.which(t) is None]
    if missing:
        raise RuntimeError("the department tests need %s (apt install genisoimage openssl "
                           "poppler-utils)" % ", ".join(missing))


def admin_row(no, muni, category, department, phone, name, kana, mail, kind="新規", postal=None,
              address=None):
    code, muni_name, muni_postal, muni_address = muni
    return [str(no), code, muni_name, category, department, "主任", name, kana, mail, phone, "",
            kind, "", postal or muni_postal, address or muni_address]


class DepartmentTests(MediaHelpers):
    """払出し per department, packing per department, labels, the board and 媒体受領."""

    # ---- Flow I through the screens

    def mhlw(self):
        def make():
            c, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD, name="厚労 花子")
            return c
        return self._cached("_mhlw", make)

    def issue_list(self, rows, name):
        """Uploads the list (mhlw), approves it and issues it (operator); returns its path."""
        mhlw, op = self.mhlw(), self.operator()
        r = mhlw.post_multipart("/admin-lists", {"csrf": mhlw.page_csrf("/admin-lists")},
                                {"file": (name + ".xlsx", admin_list_xlsx(rows), XLSX_TYPE)})
        self.assertEqual(r.status, 303, visible_text(r.text)[:2000])
        path = r.location
        self.assertRegex(path or "", r"^/admin-lists/\d+$")
        self.assertRedirect(mhlw.post(path + "/approve", {"csrf": mhlw.page_csrf(path)}),
                            path + "?notice=approved")
        self.assertRedirect(op.post(path + "/issue", {"csrf": op.page_csrf(path)}),
                            path + "?notice=issued")
        return path

    def departments(self, muni):
        """{category key: (postal, address, department, phone)} on record for muni."""
        rows = self.db_query(
            "SELECT d.category, d.postal, d.address, d.department, d.phone "
            "FROM municipality_departments d JOIN municipalities m ON m.id = d.municipality_id "
            "WHERE m.code = ?", muni[0])
        return {r[0]: tuple(r[1:]) for r in rows}

    def issued(self, muni):
        """Marks muni as made (払出し made it), so MediaHelpers.staff does not add it again."""
        made = type(self).__dict__.get("_munis_made")
        if made is None:
            made = set()
            type(self)._munis_made = made
        made.add(muni[0])

    # ---- Flow II

    def institutions(self, muni, categories):
        """One new institution of muni per entry of categories (each a list of the 難病/小慢
        column of its doctors): [(code, name, rows)], codes unique in the class."""
        cls = type(self)
        serial = cls.__dict__.get("_dept_serial", 900)
        out = []
        for doctors in categories:
            serial += 1
            code = luhn_code("%s%03d" % (muni[0][:6], serial))
            name = "%s部署試験病院%d" % (muni[1], serial)
            place = (code, name, "100-0001", "%s 試験町%d-1" % (muni[3][:3], serial), "03-1234-5678")
            rows = []
            for k, category in enumerate(doctors):
                n = serial * 10 + k
                rows.append(place + ("指定医", "部署 医%d" % n, "ブショ " + kana_number(n), category,
                                     "D-%06d" % n, "内科", ""))
            out.append((code, name, rows))
        cls._dept_serial = serial
        return out

    def pack(self, muni, institutions):
        """Registers the institutions, builds and packs today's cycle; returns (cycle, the new
        packages of muni as {package id: (package JSON, {institution codes})})."""
        cycle = self.today_cycle()[0]["id"]
        self.register(muni, institutions)
        built = self.media_build(cycle)
        institution_of = {b["media_id"]: b["institution"] for b in built}
        packages = [p for p in self.package_build(cycle) if p["municipality"] == muni[0]]
        return cycle, {p["package_id"]: (p, {institution_of[m] for m in p["media"]})
                       for p in packages}

    def package_destination(self, package_id):
        rows = self.db_query("SELECT to_category, to_postal, to_address, to_department, to_phone "
                             "FROM packages WHERE id = ?", package_id)
        self.assertEqual(len(rows), 1)
        return tuple(rows[0])

    def assert_label(self, package, want):
        label = pdf_text(package["label_pdf"])
        flat = squeeze(label)
        for text in want:
            self.assertIn(squeeze(text), flat, "label of package %d:\n%s" % (package["package_id"], label))
        return flat

    # ---- tests

    def test_a_shoman_change_moves_only_shoman_and_media_are_packed_per_department(self):
        # 新規: 難病 and 小慢 admins of 函館市, both at the city hall
        self.issue_list([
            admin_row(1, HAKODATE, "難病", NANBYO_DEPT, NANBYO_PHONE, "難病 一郎", "ナンビョウ イチロウ",
                      "nanbyo.hakodate@example.jp"),
            admin_row(2, HAKODATE, "小慢", SHOMAN_DEPT, SHOMAN_PHONE, "小慢 花子", "ショウマン ハナコ",
                      "shoman.hakodate@example.jp"),
        ], "hakodate_new")
        self.issued(HAKODATE)
        city_hall = (HAKODATE[2], HAKODATE[3])
        self.assertEqual(self.departments(HAKODATE), {
            "nanbyo": city_hall + (NANBYO_DEPT, NANBYO_PHONE),
            "shoman": city_hall + (SHOMAN_DEPT, SHOMAN_PHONE)})

        # one place: one package for a 難病 and a 小慢 institution, naming both departments
        _, first = self.pack(HAKODATE, self.institutions(HAKODATE, [["難病"], ["小慢"]]))
        self.assertEqual(len(first), 1, first)
        (first_id, (first_package, first_insts)), = first.items()
        self.assertEqual(len(first_insts), 2)
        self.assertEqual(self.package_destination(first_id),
                         (None,) + city_hall + (NANBYO_DEPT + "・" + SHOMAN_DEPT, NANBYO_PHONE))
        self.assert_label(first_package, ["〒" + HAKODATE[2], HAKODATE[3], NANBYO_DEPT, SHOMAN_DEPT,
                                          "TEL " + NANBYO_PHONE])

        # 変更 of the 小慢 admin with a new 所属先住所: 小慢 moves, 難病 stays
        self.issue_list([
            admin_row(1, HAKODATE, "小慢", SHOMAN_DEPT_MOVED, SHOMAN_PHONE_MOVED, "小慢 花子",
                      "ショウマン ハナコ", "shoman.hakodate@example.jp", kind="変更",
                      postal=HAKODATE_SHOMAN_MOVED[0], address=HAKODATE_SHOMAN_MOVED[1]),
        ], "hakodate_change")
        self.assertEqual(self.departments(HAKODATE), {
            "nanbyo": city_hall + (NANBYO_DEPT, NANBYO_PHONE),
            "shoman": HAKODATE_SHOMAN_MOVED + (SHOMAN_DEPT_MOVED, SHOMAN_PHONE_MOVED)})
        details = sorted(a["detail"] for a in self.audit_rows("municipality_address_set")
                         if a["target"] == HAKODATE[0])
        self.assertEqual(len(details), 3, details)  # 難病, 小慢, then 小慢 again
        self.assertEqual([d.split(":")[0] for d in details], ["小慢", "小慢", "難病"], details)
        self.assertEqual(sum(HAKODATE_SHOMAN_MOVED[1] in d for d in details), 1, details)
        # the package already sent keeps where it went
        self.assertEqual(self.package_destination(first_id)[1:3], city_hall)

        # two places: per department by the institution's users (両方 and mixed → 難病)
        insts = self.institutions(HAKODATE, [["難病"], ["小慢", "小慢"], ["両方"], ["難病", "小慢"]])
        codes = [code for code, _, _ in insts]
        cycle, packages = self.pack(HAKODATE, insts)
        self.assertEqual(len(packages), 2, packages)
        by_category = {self.package_destination(pid)[0]: (p, inst) for pid, (p, inst) in packages.items()}
        self.assertEqual(set(by_category), {"nanbyo", "shoman"})
        nanbyo_package, nanbyo_insts = by_category["nanbyo"]
        shoman_package, shoman_insts = by_category["shoman"]
        self.assertEqual(nanbyo_insts, {codes[0], codes[2], codes[3]})
        self.assertEqual(shoman_insts, {codes[1]})
        self.assertEqual(self.package_destination(nanbyo_package["package_id"]),
                         ("nanbyo",) + city_hall + (NANBYO_DEPT, NANBYO_PHONE))
        self.assertEqual(self.package_destination(shoman_package["package_id"]),
                         ("shoman",) + HAKODATE_SHOMAN_MOVED + (SHOMAN_DEPT_MOVED, SHOMAN_PHONE_MOVED))
        flat = self.assert_label(nanbyo_package, ["〒" + HAKODATE[2], HAKODATE[3], NANBYO_DEPT,
                                                  "TEL " + NANBYO_PHONE, "DVD 3枚", "（難病）"])
        self.assertNotIn(squeeze(SHOMAN_DEPT_MOVED), flat)
        self.assertNotIn(squeeze(HAKODATE_SHOMAN_MOVED[1]), flat)
        flat = self.assert_label(shoman_package, ["〒" + HAKODATE_SHOMAN_MOVED[0],
                                                  HAKODATE_SHOMAN_MOVED[1], SHOMAN_DEPT_MOVED,
                                                  "TEL " + SHOMAN_PHONE_MOVED, "DVD 1枚", "（小慢）"])
        self.assertNotIn(squeeze(HAKODATE[3]), flat)
        self.assertNotIn(NANBYO_PHONE, flat)

        # the operator's board: where each package goes
        r = self.operator().get("/operator/media?cycle=" + cycle)
        self.assertStatus(r, 200)
        rows = {cells[0]: cells for cells in table_rows(r.text) if len(cells) == 7}
        for package, (dept, category, postal, address) in (
                (first_package, (NANBYO_DEPT + "・" + SHOMAN_DEPT, None) + city_hall),
                (nanbyo_package, (NANBYO_DEPT, "難病") + city_hall),
                (shoman_package, (SHOMAN_DEPT_MOVED, "小慢") + HAKODATE_SHOMAN_MOVED)):
            seq = self.db_query("SELECT seq FROM packages WHERE id = ?", package["package_id"])[0][0]
            cells = rows.get("%s %s 梱包 %d" % (HAKODATE[0], HAKODATE[1], seq))
            self.assertIsNotNone(cells, rows)
            self.assertEqual(cells[1], dept + ("（%s）" % category if category else ""))
            self.assertEqual(squeeze(cells[2]), squeeze("〒%s %s" % (postal, address)))
            self.assertTrue(cells[4].startswith(package["tracking_number"]), cells)

        # 媒体受領: each package says which department it is for
        text = squeeze(visible_text(self.media_page(self.staff(HAKODATE)).text))
        for package, want in (
                (nanbyo_package, "宛先：%s（難病の担当部署）・〒%s %s" % ((NANBYO_DEPT,) + city_hall)),
                (shoman_package, "宛先：%s（小慢の担当部署）・〒%s %s"
                 % ((SHOMAN_DEPT_MOVED,) + HAKODATE_SHOMAN_MOVED))):
            heading = squeeze("（追跡番号 %s）" % package["tracking_number"])
            self.assertIn(heading, text)
            after = text[text.index(heading):]
            self.assertTrue(after[after.index("宛先："):].startswith(squeeze(want)), after[:300])

    def test_one_department_on_record_means_one_package_with_its_department_and_phone(self):
        self.issue_list([
            admin_row(1, OSAKA, "難病", OSAKA_DEPT, OSAKA_PHONE, "大阪 難病", "オオサカ ナンビョウ",
                      "nanbyo.osaka@example.jp"),
        ], "osaka_new")
        self.issued(OSAKA)
        self.assertEqual(set(self.departments(OSAKA)), {"nanbyo"})
        # 小慢 and 難病 institutions alike go to the one department on record
        insts = self.institutions(OSAKA, [["小慢"], ["難病"], ["両方"]])
        _, packages = self.pack(OSAKA, insts)
        self.assertEqual(len(packages), 1, packages)
        (pid, (package, inst_codes)), = packages.items()
        self.assertEqual(inst_codes, {code for code, _, _ in insts})
        self.assertEqual(self.package_destination(pid),
                         (None, OSAKA[2], OSAKA[3], OSAKA_DEPT, OSAKA_PHONE))
        self.assert_label(package, ["〒" + OSAKA[2], OSAKA[3], "%s %s 御中" % (OSAKA[1], OSAKA_DEPT),
                                    "TEL " + OSAKA_PHONE, "DVD 3枚"])
        text = visible_text(self.media_page(self.staff(OSAKA)).text)
        self.assertIn(squeeze("宛先：%s・〒%s %s" % (OSAKA_DEPT, OSAKA[2], OSAKA[3])), squeeze(text))
        self.assertNotIn("の担当部署", text)


for_each_binary(globals(), DepartmentTests, typed_passwords=(GOOD_PASSWORD,))
