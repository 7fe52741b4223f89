"""End-to-end tests of the result page of a big 一括登録 (issue 11).

The result page shows the first 1,000 users of the batch and says how many were registered; it
used to read every user of the batch (100,000 rows: 0.7 s and ~50 MB for each view of the page)
to show 1,000 of them. The CSV of the batch still has every user, each with its user ID once.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import for_each_binary, visible_text  # noqa: E402
from test_flow2 import (OPERATOR_PASSWORD, SAPPORO, STAFF_PASSWORD, Flow2Base,  # noqa: E402
                        csv_bytes)

SHOWN = 1000


class BigImportResult(Flow2Base):
    """The result page and CSV of a batch of more users than the page shows."""

    def test_page_shows_the_first_thousand_and_counts_them_all(self):
        insts = [self.institution() for _ in range(3)]
        rows = [self.row(insts[i % 3]) for i in range(SHOWN + 7)]
        batch, ids, page = self.import_ok([("big.csv", csv_bytes(rows))])
        text = visible_text(page.text)
        self.assertIn("%d 人の医療機関ユーザを登録しました" % len(rows), text)
        self.assertIn("先頭 %d 件を表示しています" % SHOWN, text)
        body = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        shown = re.findall(r"<code>([A-Z0-9]{12})</code>", body)
        self.assertEqual(len(shown), SHOWN)
        # the first rows of the file, in file order; the CSV has them all, each ID once
        first = [ids[(r[6], r[7])] for r in rows[:SHOWN]]
        self.assertEqual(shown, first)
        self.assertEqual(len(ids), len(rows))
        self.assertEqual(len(set(ids.values())), len(rows))
        # each registration copies its user's municipality and batch (on PostgreSQL no foreign key
        # checks them since migration 028: they are written from the user's own values)
        self.assertEqual(self.db_query(
            "SELECT COUNT(*) FROM registrations r JOIN users u ON u.id = r.user_pk "
            "WHERE r.municipality_id <> u.municipality_id OR r.batch_id IS NULL "
            "OR r.batch_id <> u.batch_id OR NOT EXISTS (SELECT 1 FROM import_batches b "
            "WHERE b.id = u.batch_id AND b.municipality_id = u.municipality_id)"), [(0,)])
        self.assertEqual(self.db_query(
            "SELECT COUNT(*) FROM registrations r JOIN users u ON u.id = r.user_pk "
            "WHERE r.batch_id = ?", int(batch.rsplit("/", 1)[1])), [(len(rows),)])
        # every user's municipality and the issuer of its initial password exist, and the
        # imported users' are the importing staff's (on PostgreSQL no foreign key checks them
        # since migration 030)
        self.assertEqual(self.db_query(
            "SELECT COUNT(*) FROM users u WHERE (u.municipality_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM municipalities m WHERE m.id = u.municipality_id)) OR "
            "(u.initial_password_by IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM users i WHERE i.id = u.initial_password_by))"), [(0,)])
        self.assertEqual(self.db_query(
            "SELECT COUNT(*) FROM users u JOIN import_batches b ON b.id = u.batch_id "
            "JOIN users s ON s.id = b.created_by WHERE b.id = ? AND "
            "(u.municipality_id <> s.municipality_id OR u.initial_password_by <> s.id)",
            int(batch.rsplit("/", 1)[1])), [(0,)])
        # another municipality's staff: neither the page nor the CSV of the batch
        other = self.staff(SAPPORO)
        self.assertStatus(other.get(batch), 404)
        self.assertStatus(other.get(batch + "/users.csv"), 404)


for_each_binary(globals(), BigImportResult, typed_passwords=(STAFF_PASSWORD, OPERATOR_PASSWORD))
