"""End-to-end tests of the timing of a cycle's media (issue 13 item 7).

Building from the operator's board before the cycle's registration window closes asks first: the
confirmation says the window is open, how many open days are left, which municipalities have
registered so far and what happens to later registrations, and the POST needs its tick
(early=1); without it the confirmation comes back (409) and nothing is built. `nsdb media build`
is unchanged. A doctor registered after the package with their institution's media was packed is
named on the 追加分 (supplementary list) of the municipality's package of the next cycle — a
package of that list alone when the municipality has no new media there — and on no other.

The server's clock cannot be moved: registrations fall into today's cycle, whose window is open
(today is in it, or before it when today is between windows), and the "next cycle" is packed now.
Needs pdftotext (poppler-utils) and the media tools of test_media.py.
"""

import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import for_each_binary, visible_text  # noqa: E402
from test_media import (CHIYODA, GOOD_PASSWORD, MINATO, SAPPORO, SHINJUKU,  # noqa: E402
                        MediaHelpers, kana_number, pdf_text, squeeze, table_rows)
from test_media import setUpModule  # noqa: E402,F401  (the media tools must be there)

SUPPLEMENT_TITLE = "追加分：媒体の送付後に登録された指定医のユーザID一覧"


def post_form_fields(page, action):
    """{name: value} of the inputs of the form posting to action (checkboxes included)."""
    m = re.search(r'(?s)<form method="post" action="%s"[^>]*>(.*?)</form>' % re.escape(action),
                  page)
    if m is None:
        return None
    return {name: value for name, value in
            re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', m.group(1))}


class TimingHelpers(MediaHelpers):
    @classmethod
    def setUpClass(cls):
        # the board's build needs `nsdb serve --media-template DIR`
        cls._template_tmp = tempfile.TemporaryDirectory(prefix="nsdb-e2e-template-")
        cls._template = cls.write_template(os.path.join(cls._template_tmp.name, "template"))
        cls.SERVE_ARGS = ("--media-template", cls._template)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls._template_tmp.cleanup()

    def late_doctor(self, muni, institution, serial):
        """Registers one more 指定医 at an institution of muni that exists already; their user ID."""
        code, _, rows = institution
        place = rows[-1][:5]
        row = place + ("指定医", "追加 医師%d" % serial, "ツイカ " + kana_number(serial), "難病",
                       "L-%06d" % serial, "外科", "")
        users = self.register(muni, [(code, place[1], [row])])
        self.assertEqual(len(users[code]), 1, users)
        return users[code][0]

    def supplements(self, client, cycle):
        """{municipality code: (listed, due)} of the board's 追加分 table."""
        r = client.get("/operator/media?cycle=" + cycle)
        self.assertStatus(r, 200)
        out = {}
        for cells in table_rows(r.text):
            if len(cells) == 3 and cells[1].endswith("名"):
                out[cells[0].split()[0]] = (int(cells[1].split()[0]), int(cells[2].split()[0]))
        return out


class EarlyBuildTests(TimingHelpers):
    """The board's build before the registration window closes asks, names and needs early=1."""

    def test_early_build_asks_names_who_registered_and_needs_the_tick(self):
        op = self.operator()
        this, _ = self.today_cycle()
        cycle = this["id"]
        chiyoda = self.register(CHIYODA, self.new_institutions(CHIYODA, 2))
        self.register(SAPPORO, self.new_institutions(SAPPORO, 1, doctors=2))
        r = op.get("/operator/media/build?cycle=" + cycle)
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        text = visible_text(r.text)
        for want in ("サイクル %s の媒体を作成します" % cycle,
                     "登録期間は %s まで受付中" % this["registration_to"], "残り",
                     "2 団体・4 名", "131016 千代田区 2 名（2 医療機関）",
                     "011002 札幌市 2 名（1 医療機関）", "追加分", "もう一度作成するまで作られません",
                     "登録期間中に作成することを確認しました"):
            self.assertIn(want, text)
        fields = post_form_fields(r.text, "/operator/media/build")
        self.assertEqual(fields.get("cycle"), cycle, fields)
        self.assertEqual(fields.get("early"), "1", fields)
        self.assertRegex(r.text, r'<input id="confirm-early" name="early" type="checkbox" '
                                 r'value="1" required>')
        # without the tick (or with another value): the confirmation again, nothing built
        token = fields["csrf"]
        for extra in ({}, {"early": "0"}, {"early": ""}):
            with self.subTest(extra=extra):
                r = op.post("/operator/media/build", dict({"csrf": token, "cycle": cycle}, **extra))
                self.assertStatus(r, 409)
                text = visible_text(r.text)
                self.assertIn("登録期間中の作成には、確認のチェックが必要です。媒体は作成していません。",
                              text)
                self.assertIn("131016 千代田区", text)
                self.assertIsNotNone(post_form_fields(r.text, "/operator/media/build"))
        self.assertEqual(self.media_list(cycle), {})
        self.assertEqual(self.audit_rows("media_create"), [])
        # with it: built in the background
        r = op.post("/operator/media/build", {"csrf": token, "cycle": cycle, "early": "1"})
        self.assertRedirect(r, "/operator/media?cycle=%s&done=building" % cycle)
        self.assertIn("媒体を作成しました：3 件", self.wait_for_build(op, r.location))
        built = {m["institution"] for m in self.media_list(cycle).values()}
        self.assertTrue(set(chiyoda) <= built, built)

    def test_a_closed_window_needs_no_tick(self):
        # an earlier cycle: its window has closed, so the board builds it as before
        op = self.operator()
        this, _ = self.today_cycle()
        past = [c for c in self.cycles("--from", "2025-01-01") if c["registration_to"] < this["id"]]
        self.assertTrue(past)
        cycle = past[-1]["id"]
        r = op.get("/operator/media/build?cycle=" + cycle)
        self.assertStatus(r, 200)
        text = visible_text(r.text)
        self.assertIn("サイクル %s の媒体を作成します" % cycle, text)
        self.assertNotIn("受付中", text)
        self.assertNotIn("early", post_form_fields(r.text, "/operator/media/build"))
        token = op.page_csrf("/operator/media?cycle=" + cycle)
        r = op.post("/operator/media/build", {"csrf": token, "cycle": cycle})
        self.assertRedirect(r, "/operator/media?cycle=%s&done=building" % cycle)
        self.assertIn("媒体を作成しました：0 件", self.wait_for_build(op, r.location))

    def test_the_command_line_builds_an_open_window_as_before(self):
        this, _ = self.today_cycle()
        users = self.register(MINATO, self.new_institutions(MINATO, 1))
        r = self.cli("media", "build", "--cycle", this["id"], "--template", self._template, "--json")
        self.assertEqual(r.code, 0, r)
        self.assertEqual({b["institution"] for b in r.json() if b["municipality"] == MINATO[0]},
                         set(users))


class SupplementTests(TimingHelpers):
    """Doctors registered after their institution's package: the next cycle's 追加分, once."""

    def test_a_late_doctor_is_on_the_next_cycles_supplement_exactly_once(self):
        op = self.operator()
        this, nxt = self.today_cycle()
        institutions = self.new_institutions(SHINJUKU, 2)
        first = self.register(SHINJUKU, institutions)
        self.media_build(this["id"])
        packed = [p for p in self.package_build(this["id"]) if p["municipality"] == SHINJUKU[0]]
        self.assertEqual(len(packed), 1, packed)
        # registered at the first institution after its media went out
        late = self.late_doctor(SHINJUKU, institutions[0], 901)
        # no new media for it; this cycle's packing again does not take it (the next one does)
        self.assertEqual([b for b in self.media_build(this["id"])
                          if b["municipality"] == SHINJUKU[0]], [])
        self.assertEqual([p for p in self.package_build(this["id"])
                          if p["municipality"] == SHINJUKU[0]], [])
        self.assertEqual(self.supplements(op, nxt["id"]).get(SHINJUKU[0]), (0, 1))
        # the next cycle: no new media in 新宿区, so a package of the 追加分 alone
        packages = [p for p in self.package_build(nxt["id"]) if p["municipality"] == SHINJUKU[0]]
        self.assertEqual(len(packages), 1, packages)
        package = packages[0]
        self.assertEqual(package["media"], [])
        text = pdf_text(package["list_pdf"])
        flat = squeeze(text)
        self.assertIn(squeeze(SUPPLEMENT_TITLE), flat)
        for want in ("医療機関ID", "登録日", "氏名", late, "追加医師901", institutions[0][0]):
            self.assertIn(squeeze(want), flat)
        self.assertRegex(text, r"\d{4}-\d{2}-\d{2}")
        for earlier in first[institutions[0][0]] + first[institutions[1][0]]:
            self.assertNotIn(earlier, text)  # on the first package's list already
        self.assertEqual(text.count(late), 1)
        label = squeeze(pdf_text(package["label_pdf"]))
        self.assertIn("ユーザID一覧（追加分）のみ（媒体なし）", label)
        self.assertIn(SHINJUKU[1], label)
        # the first package's list did not name them
        self.assertNotIn(late, pdf_text(packed[0]["list_pdf"]))
        # exactly once: packing either cycle again lists them nowhere
        for cycle in (nxt["id"], this["id"]):
            self.assertEqual([p for p in self.package_build(cycle)
                              if p["municipality"] == SHINJUKU[0]], [])
        self.assertEqual(self.supplements(op, nxt["id"]).get(SHINJUKU[0]), (1, 0))
        audited = self.audit_rows("package_supplement")
        self.assertEqual(len(audited), 1, audited)
        self.assertIn(late, audited[0]["detail"])
        self.assertEqual(audited[0]["target"], "package:%d" % package["package_id"])
        # 媒体受領 shows the municipality the package, with no media in it
        staff = self.staff(SHINJUKU)
        self.assertIn("サイクル %s 梱包 1（追跡番号 %s）" % (nxt["id"], package["tracking_number"]),
                      visible_text(self.media_page(staff).text))

    def test_registrations_before_the_packing_are_on_its_list_not_a_supplement(self):
        this, nxt = self.today_cycle()
        institutions = self.new_institutions(CHIYODA, 1)
        self.register(CHIYODA, institutions)
        self.media_build(this["id"])
        # after the build but before the packing: the package's list names them
        before_pack = self.late_doctor(CHIYODA, institutions[0], 902)
        packed = [p for p in self.package_build(this["id"]) if p["municipality"] == CHIYODA[0]]
        self.assertEqual(len(packed), 1, packed)
        self.assertIn(before_pack, pdf_text(packed[0]["list_pdf"]))
        self.assertNotIn(squeeze(SUPPLEMENT_TITLE), squeeze(pdf_text(packed[0]["list_pdf"])))
        self.assertEqual([p for p in self.package_build(nxt["id"])
                          if p["municipality"] == CHIYODA[0]], [])
        self.assertEqual([a for a in self.audit_rows("package_supplement")
                          if before_pack in a["detail"]], [])


for_each_binary(globals(), EarlyBuildTests, SupplementTests, typed_passwords=(GOOD_PASSWORD,))
