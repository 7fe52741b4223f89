"""End-to-end tests of a person registered by someone else while a 一括登録 is written (issue 11).

The rows of an import are decided before its first chunk, without locks. A registration that
comes between the check and the chunk that writes the same person (another municipality, or
this one by 個別登録) used to leave two accounts for one doctor. Now each chunk, in its own
transaction, locks its institutions and reads their users again: the import stops, the batch
fails naming the row and the account registered meanwhile, nothing of it stays, and the same
file uploaded again is refused with the row listed as registered already. A 個別登録 that would
make an account of the running import 両方 waits for the import to be done.

The server writes chunks of 4 rows and pauses before each, so the test registers the person
while the import is surely between its check and the chunk of that row. Runs against both
binaries and, under scripts/pg-test.sh, on PostgreSQL."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import FONTCONFIG_LSAN_ENV, for_each_binary, visible_text  # noqa: E402
from test_flow2 import (CHIYODA, SAPPORO, STAFF_PASSWORD, Flow2Base, csv_bytes,  # noqa: E402
                        import_errors)

CHUNK_ROWS = 4
ROWS = 12
ROW_OF_PERSON = 9  # 0-based: in the third chunk


class ImportRace(Flow2Base):
    """The same person registered elsewhere between an import's check and its chunk."""

    SERVE_ENV = dict(FONTCONFIG_LSAN_ENV, NSDB_IMPORT_CHUNK_ROWS=str(CHUNK_ROWS),
                     NSDB_IMPORT_CHUNK_PAUSE_MS="700")

    def race(self, register_meanwhile):
        """Uploads a file of ROWS rows whose row ROW_OF_PERSON is a new person at a known
        institution; once the first chunk is written, register_meanwhile(inst, name, kana) registers
        that person elsewhere and returns the user ID. Returns (rows, batch path, user ID, page of
        the batch)."""
        inst = self.institution()
        self.register_ok(self.form_fields(inst))  # the institution is registered
        others = [self.institution() for _ in range(3)]
        rows = [self.row(others[i % 3]) for i in range(ROWS)]
        name, kana = self.person()
        rows[ROW_OF_PERSON] = self.row(inst, name, kana, category="難病")
        c = self.staff()
        r, user_id = self.upload_meanwhile("race.csv", rows, c, CHUNK_ROWS,
                                           lambda: register_meanwhile(inst, name, kana))
        self.assertEqual(r.status, 303, "%r\nerrors: %s" % (r, import_errors(r.text)[:5]))
        page = c.get(r.location)
        self.assertStatus(page, 200)
        return rows, r.location, user_id, page

    def assert_stopped(self, rows, path, user_id, page, named=True):
        """named: the account registered meanwhile is this municipality's, named by its ID
        (another municipality's is not named, as 個別登録 names none)."""
        text = visible_text(page.text)
        person = rows[ROW_OF_PERSON]
        prefix = "「race.csv」の%d行目：%s（%s）は、この一括登録の確認の後に、" % (
            ROW_OF_PERSON + 2, person[6], person[7])
        if named:
            self.assertIn(prefix + "ほかの登録でユーザID %s" % user_id, text)
        else:
            self.assertIn(prefix + "別の自治体により", text)
            self.assertNotIn(user_id, page.text)
        self.assertIn("何も登録していません", text)
        self.assertNotIn("http-equiv", page.text)
        self.assertEqual(self.staff().get(path + "/users.csv").status, 404)
        audit = [a for a in self.audit() if a["action"] == "inst_users_import"
                 and a["result"] == "failed"]
        self.assertTrue(any(prefix in (a.get("detail") or "") for a in audit), audit[-3:])
        # one account for the person; the file's other people nowhere
        self.assertEqual(self.db_query("SELECT COUNT(*) FROM users WHERE name = ? AND batch_id "
                                       "IS NULL", person[6])[0][0], 1)
        for row in rows[:CHUNK_ROWS]:
            total, _ = self.search(q=row[6])
            self.assertEqual(total, 0, row[6])
        # the written chunks go in the background
        deadline = time.monotonic() + 60
        while self.db_query("SELECT COUNT(*) FROM users WHERE name = ?", rows[0][6])[0][0]:
            self.assertLess(time.monotonic(), deadline, "the failed batch's users stay")
            time.sleep(0.2)
        self.assertEqual(self.db_query("SELECT COUNT(*) FROM users WHERE name = ?",
                                       person[6])[0][0], 1)

    def test_another_municipality_registers_the_person_meanwhile(self):
        other = self.staff(SAPPORO)

        def meanwhile(inst, name, kana):
            return self.register_ok(self.form_fields(inst, name, kana), other)

        rows, path, user_id, page = self.race(meanwhile)
        self.assert_stopped(rows, path, user_id, page, named=False)
        # uploaded again: refused, the row named as registered by another municipality
        self.assert_import_refused([("race.csv", csv_bytes(rows))],
                                   [(ROW_OF_PERSON + 2, None, "別の自治体により既に登録されています")])

    def test_the_same_municipality_registers_the_person_meanwhile(self):
        user_id, initial = self.add_cli_user("muni_staff", "%s 職員二" % CHIYODA[1], CHIYODA[0])
        second = self.login_changed(user_id, initial, STAFF_PASSWORD)

        def meanwhile(inst, name, kana):
            return self.register_ok(self.form_fields(inst, name, kana), second)

        rows, path, user_id, page = self.race(meanwhile)
        self.assert_stopped(rows, path, user_id, page)


    def test_the_same_doctor_in_the_other_category_waits_for_the_import_writing_it(self):
        """A 個別登録 that would make an account of the running import 両方 is refused with a
        message to register again when the import is done (the import may yet fail and take the
        account, and the merge, with it); once the import is done, it merges."""
        user_id, initial = self.add_cli_user("muni_staff", "%s 職員三" % CHIYODA[1], CHIYODA[0])
        second = self.login_changed(user_id, initial, STAFF_PASSWORD)
        inst = self.institution()
        self.register_ok(self.form_fields(inst))  # the institution is registered
        name, kana = self.person()
        rows = [self.row(inst, name, kana, category="難病", doctor_number="D-77001")]
        rows += [self.row(self.institution()) for _ in range(ROWS - 1)]
        fields = self.form_fields(inst, name, kana, category="shoman", doctor_number="D-77001")

        def meanwhile():  # the person's row is in the first chunk, written and not yet visible
            return self.register(fields, second)

        r, refused = self.upload_meanwhile("merge.csv", rows, self.staff(), CHUNK_ROWS, meanwhile)
        self.assertEqual(r.status, 303, r)
        self.assertStatus(refused, 400)
        self.assertIn("%s（%s）は、実行中の一括登録で登録しているところです。一括登録が終わってから、"
                      "もう一度登録してください。" % (name, kana), visible_text(refused.text))
        deadline = time.monotonic() + 60
        while self.db_query("SELECT state FROM import_batches ORDER BY id DESC LIMIT 1")[0][0] \
                != "visible":
            self.assertLess(time.monotonic(), deadline, "the import did not end visible")
            time.sleep(0.1)
        account = self.db_query("SELECT user_id, category FROM users WHERE name = ?", name)
        self.assertEqual(len(account), 1)
        self.assertEqual(account[0][1], "nanbyo")  # the refused registration changed nothing
        self.assertRedirect(self.register(fields, second), "/inst-users?merged=" + account[0][0])
        self.assertEqual(self.db_query("SELECT category FROM users WHERE name = ?", name),
                         [("both",)])


for_each_binary(globals(), ImportRace, typed_passwords=(STAFF_PASSWORD,))
