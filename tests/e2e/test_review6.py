"""End-to-end tests of an import chunk's second check (issue 11, review 6).

Each chunk of a 一括登録 reads again the users at its institutions and stops the import when one
registered meanwhile would have changed a row's decision. These tests cover what the first
version of that check got wrong:
- a file may hold the same doctor twice, once per category (the second row makes the first's
  account 両方); a doctor registered meanwhile by another municipality for the second row's
  category clashes with the second row, not with the first, and must stop the import;
- the stop names no user ID of another municipality (as 個別登録 names none);
- a doctor of this municipality registered meanwhile under the same name at the same
  institution for the other category with another 指定医番号 is another person for the rule of
  registration_register (and of the import's own check): the import goes on.

The server writes chunks of 4 rows and pauses before each, so the registration surely comes
between the import's check and the chunk of the row."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import FONTCONFIG_LSAN_ENV, for_each_binary, visible_text  # noqa: E402
from test_flow2 import (CHIYODA, SAPPORO, STAFF_PASSWORD, Flow2Base, csv_bytes,  # noqa: E402
                        import_errors)

CHUNK_ROWS = 4
ROWS = 12
FIRST = 8  # 0-based: the person's 難病 row, first of the third chunk
SECOND = 9  # the same doctor's 小慢 row (merges into FIRST's account)


class ImportRecheck(Flow2Base):
    """A person registered elsewhere while an import waits between two chunks."""

    SERVE_ENV = dict(FONTCONFIG_LSAN_ENV, NSDB_IMPORT_CHUNK_ROWS=str(CHUNK_ROWS),
                     NSDB_IMPORT_CHUNK_PAUSE_MS="700")

    def race(self, meanwhile, pair=True):
        """Uploads ROWS rows: FIRST (and, when pair, SECOND) are one doctor (指定医番号 shared) at
        a registered institution, 難病 and 小慢; after the first chunk meanwhile(inst, name, kana)
        registers someone and returns the user ID. Returns (rows, response, client, user ID)."""
        inst = self.institution()
        self.register_ok(self.form_fields(inst))
        others = [self.institution() for _ in range(3)]
        rows = [self.row(others[i % 3]) for i in range(ROWS)]
        name, kana = self.person()
        rows[FIRST] = self.row(inst, name, kana, category="難病", doctor_number="D-77001")
        if pair:
            rows[SECOND] = self.row(inst, name, kana, category="小慢", doctor_number="D-77001")
        c = self.staff()
        r, user_id = self.upload_meanwhile("recheck.csv", rows, c, CHUNK_ROWS,
                                           lambda: meanwhile(inst, name, kana))
        self.assertEqual(r.status, 303, "%r\nerrors: %s" % (r, import_errors(r.text)[:5]))
        return rows, r, c, user_id

    def test_another_municipality_registers_the_second_row_meanwhile(self):
        other = self.staff(SAPPORO)

        def meanwhile(inst, name, kana):  # 小慢, another 指定医番号
            return self.register_ok(self.form_fields(inst, name, kana, category="shoman",
                                                     doctor_number="D-88002"), other)

        rows, r, c, user_id = self.race(meanwhile)
        page = c.get(r.location)
        self.assertStatus(page, 200)
        text = visible_text(page.text)
        person = rows[SECOND]
        self.assertIn("「recheck.csv」の%d行目：%s（%s）" % (SECOND + 2, person[6], person[7]), text)
        self.assertIn("別の自治体", text)
        self.assertIn("何も登録していません", text)
        self.assertNotIn(user_id, page.text)  # another municipality's account is not named
        self.assertEqual(c.get(r.location + "/users.csv").status, 404)
        # the person: Sapporo's account only, nothing of Chiyoda's file visible
        got = self.db_query("SELECT u.category, m.code FROM users u JOIN municipalities m "
                            "ON m.id = u.municipality_id WHERE u.name = ? AND (u.batch_id IS NULL "
                            "OR u.batch_id IN (SELECT id FROM import_batches WHERE state = "
                            "'visible'))", person[6])
        self.assertEqual(got, [("shoman", SAPPORO[0])])

    def test_same_municipality_other_person_meanwhile_is_no_clash(self):
        user_id, initial = self.add_cli_user("muni_staff", "%s 職員三" % CHIYODA[1], CHIYODA[0])
        second = self.login_changed(user_id, initial, STAFF_PASSWORD)

        def meanwhile(inst, name, kana):  # the name only: 小慢 under another 指定医番号
            return self.register_ok(self.form_fields(inst, name, kana, category="shoman",
                                                     doctor_number="D-99003"), second)

        rows, r, c, user_id = self.race(meanwhile, pair=False)
        page = c.get(r.location)
        self.assertStatus(page, 200)
        text = visible_text(page.text)
        self.assertNotIn("中止", text)
        csv_resp = c.get(r.location + "/users.csv")
        self.assertStatus(csv_resp, 200)
        self.assertIn(rows[FIRST][6], csv_resp.body.decode("utf-8-sig"))
        # two accounts, as 個別登録 of the row after the other would have made
        self.assertEqual(self.db_query("SELECT COUNT(*) FROM users WHERE name = ?",
                                       rows[FIRST][6])[0][0], 2)


for_each_binary(globals(), ImportRecheck, typed_passwords=(STAFF_PASSWORD,))


# --------------------------------------------------------------------------------------------
# PostgreSQL: two municipalities' imports that make the same new institutions at once

from test_pg_locks import GLOBAL_KEY, Holder  # noqa: E402
from nsdbtest import using_postgresql  # noqa: E402
import unittest  # noqa: E402

SHARED_INSTITUTIONS = 240  # more than one statement of 100 rows


class ImportsShareNewInstitutions(Flow2Base):
    """Two imports whose files make the same new institutions, in opposite orders, written at
    the same moment: each inserts the codes it makes; in file order, each held some of the
    codes the other was about to insert (a deadlock: PostgreSQL ended one, and that import
    failed). In code order, one waits for the other and both succeed."""

    SERVE_ENV = dict(FONTCONFIG_LSAN_ENV, NSDB_IMPORT_CHUNK_ROWS="1000",
                     NSDB_IMPORT_CHUNK_PAUSE_MS="2500")

    @classmethod
    def setUpClass(cls):
        if not using_postgresql():
            raise unittest.SkipTest("PostgreSQL only: SQLite has one writer at a time")
        super().setUpClass()

    def test_opposite_orders_both_succeed(self):
        insts = [self.institution() for _ in range(SHARED_INSTITUTIONS)]
        chiyoda = [self.row(i) for i in insts]
        sapporo = [self.row(i) for i in reversed(insts)]
        clients = {CHIYODA: self.staff(), SAPPORO: self.staff(SAPPORO)}
        answers = {}

        def upload(muni, rows):
            answers[muni] = self.upload([("shared.csv", csv_bytes(rows))], clients[muni])

        threads = [threading.Thread(target=upload, args=(CHIYODA, chiyoda)),
                   threading.Thread(target=upload, args=(SAPPORO, sapporo))]
        # one after the other (a request sent while the server takes in another may share its
        # thread), both checked and pausing before their chunk; then every write transaction is
        # held back a moment, so that the two chunks begin together
        for started, t in enumerate(threads, 1):
            t.start()
            deadline = time.monotonic() + 30
            while self.db_query("SELECT COUNT(*) FROM import_batches "
                                "WHERE state = 'checking'")[0][0] < started:
                self.assertLess(time.monotonic(), deadline, "import %d never started" % started)
                time.sleep(0.02)
        holder = Holder(self.pg.url, "SELECT pg_advisory_xact_lock(%d)" % GLOBAL_KEY, 3.0)
        for t in threads:
            t.join(120)
        holder.finish()
        for muni in (CHIYODA, SAPPORO):
            r = answers[muni]
            self.assertEqual(r.status, 303, "%s: %r" % (muni[1], r))
            page = clients[muni].get(r.location)
            self.assertStatus(page, 200)
            self.assertNotIn("失敗", visible_text(page.text), muni[1])
            self.assertStatus(clients[muni].get(r.location + "/users.csv"), 200)
        self.assertEqual(self.db_query("SELECT COUNT(*) FROM institutions WHERE code IN (%s)"
                                       % ",".join("?" * len(insts)),
                                       *[i["code"] for i in insts])[0][0], len(insts))


for_each_binary(globals(), ImportsShareNewInstitutions, typed_passwords=(STAFF_PASSWORD,))
