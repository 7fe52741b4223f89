"""End-to-end tests of 一括登録 written as a set in chunks (issue 11, item 1).

The server runs with NSDB_IMPORT_CHUNK_ROWS=5, so a file of a dozen rows is written in several
short transactions into its invisible batch and made visible by one last step. What the
row-by-row import could not get wrong and the chunked one could: every row registered exactly
once with its institution, registration, audit record and searchable name across chunk
boundaries; rows of the same doctor in different chunks still made one account 両方; a clash
between rows of different chunks still found; a clash on the last row leaving nothing at all
(no user, no institution).
"""

import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import FONTCONFIG_LSAN_ENV, for_each_binary, visible_text  # noqa: E402
from test_flow2 import (CATEGORY_BOTH, OPERATOR_PASSWORD, STAFF_PASSWORD, Flow2Base,  # noqa: E402
                        csv_bytes)

CHUNK_ROWS = 5


class ChunkedImport(Flow2Base):
    """A 一括登録 whose rows span several chunks."""

    SERVE_ENV = dict(FONTCONFIG_LSAN_ENV, NSDB_IMPORT_CHUNK_ROWS=str(CHUNK_ROWS))

    def operator(self):
        cls = type(self)
        if "_operator" not in cls.__dict__:
            op_id, initial = self.add_cli_user("operator", "運用 一括")
            cls._operator = self.login_changed(op_id, initial, OPERATOR_PASSWORD)
        return cls._operator

    def institution_listed(self, code):
        r = self.operator().get("/institutions?" + urllib.parse.urlencode({"code": code}))
        self.assertStatus(r, 200)
        return ('href="/institutions/%s/edit"' % code) in r.text

    def test_rows_across_chunks_are_each_registered_once(self):
        # an institution registered before (its master name differs in the file), two new ones
        known = self.institution()
        self.register_ok(self.form_fields(known))
        fresh = [self.institution(), self.institution()]
        insts = [dict(known, name="別表記" + known["name"])] + fresh
        rows = [self.row(insts[i % 3], user_type="指定医") for i in range(2 * CHUNK_ROWS + 1)]
        # the same doctor for the other category, in the next chunk: one account, 両方
        doctor = rows[3]
        again = list(doctor)
        again[8] = "小慢"
        rows.append(again)
        creates_before = len(self.user_creates())
        batch, ids, page = self.import_ok([("chunks.csv", csv_bytes(rows))])
        text = visible_text(page.text)
        # written in three chunks (5, 5, 2 rows), each its own transaction
        written = [json.loads(line) for line in self.server.stderr().splitlines()
                   if '"import_written"' in line and line.startswith("{")]
        self.assertTrue(any(w.get("rows") == str(len(rows)) and w.get("chunks") == "3"
                            for w in written), written)
        self.assertEqual(len(ids), len(rows) - 1)
        self.assertEqual(len(set(ids.values())), len(rows) - 1, "a user ID given twice")
        self.assertIn("%d 人" % (len(rows) - 1), text)
        self.assertIn("「chunks.csv」の%d行目" % (len(rows) + 1), text)
        self.assertIn("区分を「両方」にしました", text)
        self.assertIn("医療機関マスタ", text)  # the known institution's name differs
        # one user_create each, naming its institution; the merge audited on its account
        creates = self.user_creates()
        for (name, kana), user_id in ids.items():
            mine = [r for r in creates if r["target"] == user_id]
            self.assertEqual(len(mine), 1, (name, user_id, mine))
        doctor_id = ids[(doctor[6], doctor[7])]
        self.assertTrue(any("category nanbyo -> both" in (r.get("detail") or "")
                            for r in self.audit_rows("user_update", doctor_id)))
        self.assertEqual(len(self.user_creates()) - creates_before, len(rows) - 1)
        # each at its institution (the known one keeps its master name), searchable by name
        for inst in insts:
            expected = {ids[(r[6], r[7])] for r in rows[:-1] if r[0] == inst["code"]}
            total, found = self.search(inst_code=inst["code"])
            got = {r["user_id"] for r in found}
            before = 1 if inst is insts[0] else 0  # the user registered one by one
            self.assertTrue(expected <= got, inst["code"])
            self.assertEqual(len(got), len(expected) + before, inst["code"])
        for row in rows[:-1]:
            total, found = self.search(q=row[6])
            self.assertEqual(total, 1, row[6])
            self.assertEqual(found[0]["user_id"], ids[(row[6], row[7])])
        self.assertIn(CATEGORY_BOTH, self.search_one(doctor_id)["text"])
        # the registrations of the batch, once each
        csv_rows = self.staff().get(batch + "/users.csv")
        self.assertStatus(csv_rows, 200)
        listed = [line for line in csv_rows.body.decode("utf-8-sig").splitlines()[1:] if line]
        self.assertEqual(len(listed), len(rows) - 1)
        for inst in fresh:
            self.assertTrue(self.institution_listed(inst["code"]))
        # the notice of a user written in the last chunk has its sealed initial password
        self.notice(ids[(rows[-2][6], rows[-2][7])])

    def test_a_clash_between_rows_of_different_chunks_is_found(self):
        inst = self.institution()
        rows = [self.row(inst) for _ in range(2 * CHUNK_ROWS)]
        # row 1 holds both categories; a row of the third chunk for one of them, same number
        rows[0][8] = "両方"
        late = self.row(inst, rows[0][6], rows[0][7], category="難病", doctor_number=rows[0][9])
        rows.append(late)
        self.assert_import_refused([("late.csv", csv_bytes(rows))],
                                   expected=[(len(rows) + 1, None, "既に登録されています")],
                                   names=[rows[0][6], rows[5][6], rows[-2][6]])
        self.assertFalse(self.institution_listed(inst["code"]))

    def test_a_clash_on_the_last_row_leaves_nothing(self):
        registered_id, fields = self.registered_user()
        insts = [self.institution() for _ in range(4)]
        rows = [self.row(insts[i % 4]) for i in range(2 * CHUNK_ROWS + 2)]
        known = {"code": fields["inst_code"], "name": fields["inst_name"],
                 "postal": fields["inst_postal"], "address": fields["inst_address"],
                 "phone": fields["inst_phone"]}
        rows.append(self.row(known, fields["name"], fields["name_kana"],
                             doctor_number=fields["doctor_number"]))
        users_before = self.search()[0]
        r, errors = self.assert_import_refused(
            [("last.csv", csv_bytes(rows))],
            expected=[(len(rows) + 1, None, "既に登録されています（ユーザID %s）" % registered_id)],
            names=[row[6] for row in rows[:-1]])
        self.assertEqual(len(errors), 1, errors)
        self.assertEqual(self.search()[0], users_before)
        for inst in insts:
            self.assertFalse(self.institution_listed(inst["code"]), inst["code"])
        # and the same file without the clash goes in whole
        batch, ids, page = self.import_ok([("last-fixed.csv", csv_bytes(rows[:-1]))])
        self.assertEqual(len(ids), len(rows) - 1)
        self.assertEqual(self.search()[0], users_before + len(rows) - 1)


for_each_binary(globals(), ChunkedImport, typed_passwords=(STAFF_PASSWORD, OPERATOR_PASSWORD))
