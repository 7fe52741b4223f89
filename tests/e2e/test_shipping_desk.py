"""End-to-end tests of the operator's shipping desk (issue 13, item 2; SPEC §6 and §8 row "発送 of a
package"): 作成 → 梱包 → 発送 are separate recorded steps. Packing leaves each package 梱包済 with
no tracking number (nsdb never invents one, and the label prints none); 発送 is
`POST /operator/packages/{id}/ship` with the Letter Pack's 12 digits in `tracking_number` (typed
with hyphens, spaces or full-width digits, or scanned), checked (length, the mod-7 check digit,
not another package's), stored with the day, audited, from the board's form per packed package
or `nsdb package ship`; a refusal shows the board again with the Japanese reason at that
package's field. The municipality sees the number with a link to Japan Post's tracking page and
can record 受領 only after 発送. Only the operator may ship, with the form's csrf.

Media are built and packed with the CLI, as in test_media.py; registrations are made by
municipal staff through `POST /inst-users/import`.
"""

import html
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))

from nsdbtest import for_each_binary, visible_text  # noqa: E402
from test_media import (CHIYODA, GOOD_PASSWORD, SAPPORO, MediaHelpers,  # noqa: E402
                        letter_pack_number, pdf_text, squeeze, today_jst)

JAPAN_POST = "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1=%s&locale=ja"
NOT_SHIPPED = "この梱包はまだ発送されていません"


def full_width(s):
    """s with ASCII digits and '-' made full-width (as an IME types them)."""
    return s.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))


def wrong_check_digit(number):
    """number (1234-5678-9012) with its last digit changed: the mod-7 check fails."""
    return number[:-1] + str((int(number[-1]) + 1) % 10 if number[-1] != "6" else 0)


class ShippingDeskHelpers(MediaHelpers):

    def packed(self, muni, count=2):
        """count new institutions of muni registered, built and packed (not shipped): its one new
        package as `nsdb package build --json` gave it."""
        cycle = self.today_cycle()[0]["id"]
        self.register(muni, self.new_institutions(muni, count))
        self.media_build(cycle)
        packages = [p for p in self.package_build(cycle, ship=False) if p["municipality"] == muni[0]]
        self.assertEqual(len(packages), 1, packages)
        packages[0]["cycle"] = cycle
        return packages[0]

    def package_row(self, package_id):
        return self.db_query("SELECT status, tracking_number, shipped_on FROM packages WHERE id = ?",
                             package_id)[0]

    def media_statuses(self, package):
        listed = self.media_list(package["cycle"])
        return {listed[m]["status"] for m in package["media"]}

    def board(self, op, package):
        r = op.get("/operator/media?cycle=" + package["cycle"])
        self.assertStatus(r, 200)
        return r

    def ship_form(self, page, package_id):
        """The board's 発送 form of the package: its fields {name: value}, or None."""
        action = "/operator/packages/%d/ship" % package_id
        for m in re.finditer(r'(?is)<form\b([^>]*)>(.*?)</form>', page):
            if 'method="post"' in m.group(1) and 'action="%s"' % action in m.group(1):
                return {n: html.unescape(v) for n, v in
                        re.findall(r'<input\b[^>]*\bname="([^"]*)"[^>]*\bvalue="([^"]*)"', m.group(2))}
        return None

    def ship_on_board(self, op, package, number, csrf=True):
        form = {"tracking_number": number}
        if csrf:
            form["csrf"] = self.ship_form(self.board(op, package).text, package["package_id"])["csrf"]
        return op.post("/operator/packages/%d/ship" % package["package_id"], form)


class ShippingDeskTests(ShippingDeskHelpers):
    """発送 of a package on the operator's board, what the municipality sees, the CLI."""

    def test_packing_leaves_packages_packed_without_a_number(self):
        op = self.operator()
        package = self.packed(CHIYODA)
        pid = package["package_id"]
        self.assertIsNone(package["tracking_number"])
        self.assertEqual(self.package_row(pid), ("packed", None, None))
        self.assertEqual(self.media_statuses(package), {"packed"})
        self.assertEqual([a for a in self.audit_rows("media_shipped")
                          if int(a["target"].split(":")[1]) in package["media"]], [])
        # the label has no number nsdb made up
        label = squeeze(pdf_text(package["label_pdf"]))
        self.assertIsNone(re.search(r"\d{4}-?\d{4}-?\d{4}", label), label)
        # the board: 梱包済, no number, a 発送 form with csrf and tracking_number
        page = self.board(op, package)
        self.assertJapanesePage(page)
        form = self.ship_form(page.text, pid)
        self.assertIsNotNone(form, "no 発送 form for package %d" % pid)
        self.assertEqual(set(form), {"csrf", "tracking_number"})
        self.assertEqual(form["tracking_number"], "")
        self.assertIn("梱包済", visible_text(page.text))
        # the municipality: packed, not yet sent; 受領 is refused
        staff = self.staff(CHIYODA)
        section = re.search(r'(?s)<section class="package" aria-labelledby="pkg-%d">.*?</section>' % pid,
                            self.media_page(staff).text).group(0)
        self.assertIn("梱包済", visible_text(section))
        self.assertIn("まだ発送されていません", visible_text(section))
        self.assertNotIn('action="/media/packages/%d/receive"' % pid, section)
        self.assertNotIn("trackings.post.japanpost.jp", section)
        self.assertNotIn("追跡番号", re.search(r"(?s)<h2.*?</h2>", section).group(0))
        r = staff.get("/media/packages/%d/receive" % pid)
        self.assertStatus(r, 409)
        self.assertIn(NOT_SHIPPED, visible_text(r.text))
        r = staff.post("/media/packages/%d/receive" % pid, {"csrf": staff.page_csrf("/media")})
        self.assertStatus(r, 409)
        self.assertIn(NOT_SHIPPED, visible_text(r.text))
        self.assertEqual(self.package_row(pid), ("packed", None, None))
        self.assertEqual(self.audit_rows("package_received", target="package:%d" % pid), [])
        # ship it, so that this class leaves no packed package behind
        self.package_ship(pid)

    def test_shipping_with_a_number_typed_in_full_width_with_hyphens_stores_it(self):
        op = self.operator()
        package = self.packed(CHIYODA, 3)
        pid = package["package_id"]
        number = letter_pack_number()
        digits = number.replace("-", "")
        r = self.ship_on_board(op, package, " " + full_width(number) + " ")
        self.assertRedirect(r, "/operator/media?cycle=%s&done=shipped&package=%d"
                            % (package["cycle"], pid))
        page = op.get(r.location)
        self.assertIn("発送を記録しました（追跡番号 %s）" % number, visible_text(page.text))
        self.assertIsNone(self.ship_form(page.text, pid))
        self.assertIn(html.escape(JAPAN_POST % digits), page.text)
        # stored: the digits, 発送済, today; the package's media shipped
        self.assertEqual(self.package_row(pid), ("shipped", digits, today_jst().isoformat()))
        self.assertEqual(self.media_statuses(package), {"shipped"})
        # audited, by the operator, in one record per package and one per media
        shipped = self.audit_rows("package_shipped", target="package:%d" % pid)
        self.assertEqual(len(shipped), 1, shipped)
        self.assertEqual(shipped[0]["actor"], op.user_id)
        self.assertIn("追跡番号 %s" % digits, shipped[0]["detail"])
        self.assertEqual(sorted(a["target"] for a in self.audit_rows("media_shipped", actor=op.user_id)
                                if int(a["target"].split(":")[1]) in package["media"]),
                         sorted("media:%d" % m for m in package["media"]))
        # shipping again is refused and changes nothing, whatever number is typed
        for again in (letter_pack_number(), wrong_check_digit(number), digits):
            r = self.ship_on_board_after(op, pid, again)
            self.assertStatus(r, 409)
            self.assertIn("この梱包は既に発送済みです（追跡番号 %s）" % number, visible_text(r.text))
            self.assertEqual(self.package_row(pid)[1], digits)
        # the municipality: the number, Japan Post's link, then 受領
        staff = self.staff(CHIYODA)
        page = self.media_page(staff)
        text = visible_text(page.text)
        self.assertIn("（追跡番号 %s）" % number, text)
        self.assertIn('href="%s"' % html.escape(JAPAN_POST % digits), page.text)
        self.assertIn('action="/media/packages/%d/receive"' % pid, page.text)
        self.assertRedirect(staff.post("/media/packages/%d/receive" % pid,
                                       {"csrf": staff.page_csrf("/media")}), "/media?done=received")
        self.assertEqual(self.package_row(pid)[0], "received")
        self.assertEqual(self.media_statuses(package), {"received"})

    def ship_on_board_after(self, op, package_id, number):
        """A POST of 発送 with a csrf from another page (the package has no form any more)."""
        return op.post("/operator/packages/%d/ship" % package_id,
                       {"csrf": op.page_csrf("/operator/media"), "tracking_number": number})

    def test_wrong_numbers_are_refused_at_the_package_field(self):
        op = self.operator()
        shipped = self.packed(SAPPORO, 1)
        used = self.package_ship(shipped["package_id"])
        package = self.packed(CHIYODA, 1)
        pid = package["package_id"]
        good = letter_pack_number()
        cases = [
            (wrong_check_digit(good), "最後の1桁（検査数字）が合いません"),
            ("1234-5678", "追跡番号は12桁です（入力されたのは8桁）"),
            (good + "1", "追跡番号は12桁です（入力されたのは13桁）"),
            ("1234-5678-901X", "追跡番号は数字12桁で入力してください"),
            ("", "入力されていません"),
            (full_width(used), "この追跡番号は既に別の梱包（サイクル %s・%s %s・梱包"
             % (shipped["cycle"], SAPPORO[0], SAPPORO[1])),
        ]
        audit_before = len(self.audit_rows())
        for typed, why in cases:
            with self.subTest(typed=typed):
                r = self.ship_on_board(op, package, typed)
                self.assertStatus(r, 400)
                self.assertJapanesePage(r)
                # at the package's field: the message, the input marked and keeping what was typed
                error = re.search(r'<p class="field__error" id="tracking-%d-error">([^<]*)</p>' % pid,
                                  r.text)
                self.assertIsNotNone(error, r.text)
                self.assertIn(why, html.unescape(error.group(1)))
                field = re.search(r'<input id="tracking-%d"[^>]*>' % pid, r.text).group(0)
                self.assertIn('aria-invalid="true"', field)
                self.assertIn('value="%s"' % html.escape(typed), field)
                self.assertIn('href="#tracking-%d"' % pid, r.text)  # the error summary
                # the rest of the board is there
                self.assertIn("媒体の状況", visible_text(r.text))
                self.assertEqual(self.package_row(pid), ("packed", None, None))
        self.assertEqual(self.media_statuses(package), {"packed"})
        self.assertEqual(len(self.audit_rows()), audit_before)
        # and the right number goes through
        self.assertEqual(self.ship_on_board(op, package, good).status, 303)
        self.assertEqual(self.package_row(pid)[1], good.replace("-", ""))

    def test_the_confirmation_page(self):
        op = self.operator()
        package = self.packed(CHIYODA, 2)
        pid = package["package_id"]
        path = "/operator/packages/%d/ship" % pid
        number = letter_pack_number()
        r = op.get(path + "?tracking_number=" + number)
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        text = visible_text(r.text)
        for want in ("梱包の発送", package["cycle"], "%s %s 梱包" % CHIYODA[:2], "2 枚", number,
                     "キャンセル"):
            self.assertIn(want, text)
        form = self.ship_form(r.text, pid)
        self.assertEqual(set(form), {"csrf", "tracking_number"})
        self.assertEqual(form["tracking_number"], number)
        self.assertEqual(self.package_row(pid), ("packed", None, None))
        # a number that cannot be right: the board, with the reason at the field
        r = op.get(path + "?tracking_number=" + wrong_check_digit(number))
        self.assertStatus(r, 400)
        self.assertIn("検査数字", visible_text(r.text))
        self.assertIn('id="tracking-%d-error"' % pid, r.text)
        # the confirmation's form records it
        self.assertEqual(op.post(path, form).status, 303)
        self.assertEqual(self.package_row(pid)[0], "shipped")
        r = op.get(path)
        self.assertStatus(r, 409)
        self.assertIn("既に発送済み", visible_text(r.text))
        self.assertIsNone(self.ship_form(r.text, pid))
        self.assertStatus(op.get("/operator/packages/999999/ship"), 404)
        self.assertStatus(op.get("/operator/packages/abc/ship"), 404)

    def test_only_the_operator_ships_with_the_form_csrf(self):
        op = self.operator()
        package = self.packed(CHIYODA, 1)
        pid = package["package_id"]
        path = "/operator/packages/%d/ship" % pid
        number = letter_pack_number()
        staff = self.staff(CHIYODA)
        mhlw, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD, name="厚労 発送")
        for who, c, token in (("muni_staff", staff, staff.page_csrf("/media")),
                              ("mhlw", mhlw, mhlw.page_csrf("/account/password"))):
            with self.subTest(role=who):
                self.assertStatus(c.post(path, {"csrf": token, "tracking_number": number}), 403)
                self.assertStatus(c.get(path), 403)
        # mhlw reads the board but gets no 発送 form
        page = mhlw.get("/operator/media?cycle=" + package["cycle"])
        self.assertStatus(page, 200)
        self.assertIsNone(self.ship_form(page.text, pid))
        rejected = len(self.audit_rows("csrf_rejected"))
        self.assertStatus(self.ship_on_board(op, package, number, csrf=False), 403)
        self.assertStatus(op.post(path, {"csrf": "0" * 64, "tracking_number": number}), 403)
        self.assertEqual(len(self.audit_rows("csrf_rejected")), rejected + 2)
        self.assertRedirect(self.client().post(path, {"tracking_number": number}), "/login")
        self.assertEqual(self.package_row(pid), ("packed", None, None))
        self.assertStatus(op.post("/operator/packages/999999/ship",
                                  {"csrf": op.page_csrf("/operator/media"),
                                   "tracking_number": number}), 404)
        self.package_ship(pid, number)

    def test_the_command_line(self):
        package = self.packed(SAPPORO, 1)
        pid = str(package["package_id"])
        r = self.cli("package", "ship", "--id", pid, "--tracking-number", "1234-5678-9010")
        self.assertEqual(r.code, 1, r)
        self.assertIn("検査数字", r.stderr)
        r = self.cli("package", "ship", "--id", "999999", "--tracking-number", letter_pack_number())
        self.assertEqual(r.code, 1, r)
        self.assertIn("指定された梱包は見つかりません", r.stderr)
        self.assertEqual(self.cli("package", "ship", "--id", pid).code, 2)
        self.assertEqual(self.cli("package", "ship", "--id", "x", "--tracking-number", "1").code, 2)
        number = letter_pack_number()
        r = self.cli("package", "ship", "--id", pid, "--tracking-number", number)
        self.assertEqual(r.code, 0, r)
        self.assertIn("追跡番号 %s" % number, r.stdout)
        self.assertEqual(self.package_row(int(pid))[:2], ("shipped", number.replace("-", "")))
        shipped = self.audit_rows("package_shipped", target="package:" + pid)
        self.assertEqual((len(shipped), shipped[0]["actor"]), (1, "cli"))
        r = self.cli("package", "ship", "--id", pid, "--tracking-number", letter_pack_number())
        self.assertEqual(r.code, 1, r)
        self.assertIn("既に発送済み", r.stderr)


for_each_binary(globals(), ShippingDeskTests, typed_passwords=(GOOD_PASSWORD,))
