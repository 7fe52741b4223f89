"""End-to-end tests of 一括登録 in the background (issue 11, items 2 and 3): a big file answers at
once with a 303 to the batch's page, which is its progress page (counters, <progress>, meta
refresh, the same URL on reload) until the batch is visible and then today's result page; its
users exist nowhere while it runs; a second upload of the same municipality meanwhile is refused
(409); kill -9 of the server mid-way leaves nothing visible and the batch failed with the reason
after restart, and the same file then imports; SIGTERM mid-way exits 0 and leaves the batch
failed; a refused batch's page lists the clashing rows.

Runs against both binaries and, under scripts/pg-test.sh, on PostgreSQL."""
import re
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from nsdbtest import FONTCONFIG_LSAN_ENV, for_each_binary, visible_text  # noqa: E402
from test_flow2 import (CHIYODA, SAPPORO, STAFF_PASSWORD, Flow2Base, csv_bytes,  # noqa: E402
                        import_errors, luhn_complete, search_rows)

# big enough to be answered by the progress page (over 10,000 rows), small enough to keep the
# test fast (about 5 MB of CSV)
BIG_ROWS = 30000
SEARCH_CAP = 10000  # 医療機関ユーザ検索 counts up to this ("10000 件以上")
RESTART_REASON = "サーバが停止したため中断しました。何も登録していません。もう一度アップロードしてください。"
FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
FAMILY_KANA = ["サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト", "ナカムラ",
               "コバヤシ", "カトウ"]
GIVEN = ["太郎", "花子", "一郎", "美咲", "健太", "陽子", "大輔", "恵子", "翔太", "直美"]
GIVEN_KANA = ["タロウ", "ハナコ", "イチロウ", "ミサキ", "ケンタ", "ヨウコ", "ダイスケ", "ケイコ",
              "ショウタ", "ナオミ"]


def big_rows(first_institution, n=BIG_ROWS, family="背景"):
    """n valid rows, 10 users per institution numbered from first_institution (a range of its
    own per test, far from Flow2Base.institution()'s); every name starts with family, so a
    search for it finds exactly these users."""
    rows = []
    for i in range(n):
        inst = first_institution + i // 10
        j = i % 10
        code = luhn_complete("131%06d" % inst)
        name = "%s%s %s" % (family, FAMILY[(inst // 10) % 10], GIVEN[j])
        kana = "%s %s" % (FAMILY_KANA[inst % 10] + FAMILY_KANA[(inst // 10) % 10], GIVEN_KANA[j])
        rows.append([code, "背景試験病院%d" % inst, "100-0001", "東京都千代田区千代田%d-1" % inst,
                     "03-1234-5678", "責任者" if j == 0 else "指定医", name, kana,
                     ("難病", "小慢", "両方")[i % 3], "" if j == 0 else "B%07d-%d" % (inst, j),
                     "内科", ""])
    return rows


class BackgroundImport(Flow2Base):
    """A big import answers at once and runs in the background; restarts and stops end it."""

    # a pause before each chunk of 1,000 rows: the import runs for seconds on any machine, so the
    # progress page, the kill -9 and the SIGTERM always meet it running
    SERVE_ENV = dict(FONTCONFIG_LSAN_ENV, NSDB_IMPORT_CHUNK_PAUSE_MS="100")

    # ---- helpers

    def start_big(self, first_institution, client=None, family="背景"):
        """Uploads a big file; asserts the 303 to the batch's page comes back at once. Returns
        (client, batch path, csv bytes)."""
        c = client or self.staff()
        data = csv_bytes(big_rows(first_institution, family=family), bom=True)
        self.addCleanup(self.wait_none_running)
        t0 = time.monotonic()
        r = self.upload([("big.csv", data)], c)
        seconds = time.monotonic() - t0
        self.assertEqual(r.status, 303, "%r\nerrors: %s" % (r, import_errors(r.text)[:5]))
        self.assertRegex(r.location or "", r"^/inst-users/import/\d+$")
        self.assertLess(seconds, 15.0, "the upload of %d rows took %.1f s" % (BIG_ROWS, seconds))
        return c, r.location, data

    def assert_progress_page(self, client, path):
        """The batch's page while it runs: 200, counters, <progress>, meta refresh."""
        r = client.get(path)
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        self.assertIn('<meta http-equiv="refresh" content="2">', r.text)
        self.assertRegex(r.text, r'<progress id="import-progress" max="100" value="\d+">')
        text = visible_text(r.text)
        self.assertIn("一括登録の進み具合", text)
        self.assertRegex(text, r"確認済み\s*\d+ 行")
        self.assertRegex(text, r"登録済み\s*\d+ 行")
        self.assertIn("%d 行" % BIG_ROWS, text)
        self.assertRegex(text, r"残り時間\s*(約 \d+|計算中)")
        return r

    def running(self, client, path):
        """Whether the batch's page is still the progress page."""
        r = client.get(path)
        self.assertStatus(r, 200)
        return "一括登録の進み具合" in visible_text(r.text)

    def wait_end(self, client, path, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running(client, path):
                return client.get(path)
            time.sleep(0.5)
        self.fail("the import of %s did not end within %d s" % (path, timeout))

    def wait_none_running(self, timeout=300):
        """Waits for every import to end, so that the next test of the municipality can upload."""
        deadline = time.monotonic() + timeout
        while self.db_query("SELECT COUNT(*) FROM import_batches "
                            "WHERE state IN ('checking', 'writing')")[0][0] > 0:
            if time.monotonic() > deadline:
                self.fail("an import is still running after %d s" % timeout)
            time.sleep(0.5)

    def name_index_totals(self):
        """The name index's rows and users, and the municipalities' counts of institution users."""
        grams = self.db_query("SELECT COUNT(*), COALESCE(SUM(users), 0) FROM user_grams "
                              "WHERE users > 0")[0]
        counts = self.db_query("SELECT id, inst_users FROM municipalities ORDER BY id")
        return (tuple(grams), [tuple(r) for r in counts])

    def batch_id(self, path):
        return int(path.rsplit("/", 1)[1])

    def hidden_everywhere(self, client, family):
        """No user of the family is found by a search for it, in the list of every user, or in
        the registrations of the batch's result CSV."""
        total, rows = self.search(client, q=family)
        self.assertEqual((total, rows), (0, []))
        for page in (1, 2):
            _, rows = self.search(client, page=page)
            self.assertFalse([r for r in rows if family in r["text"]], rows[:2])
        total, rows = self.search(client, user_type="doctor", q=family + "佐藤")
        self.assertEqual((total, rows), (0, []))

    def restart(self, kill):
        """Kills (-9) or stops (SIGTERM) the class's server and starts it again on the same data;
        returns the exit status of the stop (None for a kill). The logged-in clients are gone."""
        srv = self.server
        if kill:
            srv.proc.kill()
            srv.proc.wait()
            srv.proc = None
            code = None
        else:
            code = srv.stop()
        srv.start()
        self.state()["staff"] = {}
        return code

    def wait_batch_state(self, batch, states, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.db_query("SELECT state FROM import_batches WHERE id = ?", batch)
            if rows and rows[0][0] in states:
                return rows[0][0]
            time.sleep(0.2)
        self.fail("batch %d not in %s within %d s: %r" % (batch, states, timeout, rows))

    def assert_failed_page(self, client, path):
        r = client.get(path)
        self.assertStatus(r, 200)
        text = visible_text(r.text)
        self.assertIn("中断しました", text)
        self.assertIn(RESTART_REASON, text)
        self.assertIn('href="/inst-users/new?tab=bulk"', r.text)
        self.assertNotIn("http-equiv", r.text)
        csv_resp = client.get(path + "/users.csv")
        self.assertEqual(csv_resp.status, 404, csv_resp)

    # ---- tests

    def test_big_import_progress_reload_result_and_hidden_meanwhile(self):
        other = self.staff(SAPPORO)  # logged in before the import
        small = csv_bytes([self.row(self.institution())])
        c, path, _ = self.start_big(500000, family="背景")
        self.assert_progress_page(c, path)
        r = self.assert_progress_page(c, path)  # a reload shows it again
        # the automatic update can be turned off (WCAG 2.2.1) and on again
        self.assertIn('href="%s?auto=0"' % path, r.text)
        r = c.get(path + "?auto=0")
        self.assertStatus(r, 200)
        self.assertNotIn("http-equiv", r.text)
        self.assertIn('<progress id="import-progress"', r.text)
        self.assertIn('href="%s">自動更新を再開する' % path, r.text)
        # the users.csv of a batch that has not ended
        csv_resp = c.get(path + "/users.csv")
        self.assertEqual(csv_resp.status, 409, csv_resp)
        self.assertIn("まだ終わっていません", visible_text(csv_resp.text))
        # a second upload of the same municipality meanwhile: 409 with a link to the running one
        r = self.upload([("small.csv", small)], c)
        self.assertEqual(r.status, 409, r)
        self.assertIn("一括登録を実行中です", visible_text(r.text))
        self.assertIn('href="%s"' % path, r.text)
        # the batch's users are found nowhere while it runs
        self.hidden_everywhere(c, "背景")
        self.assertTrue(self.running(c, path), "the import ended before the checks")
        # another municipality searches meanwhile (a login meanwhile, or anything audited, needs
        # the import written in short chunks: while it is one transaction, SQLite and
        # PostgreSQL's global lock make every write wait for it)
        total, _ = self.search(other)
        self.assertEqual(total, 0)
        self.assertTrue(self.running(c, path), "the import ended before the checks")
        # it ends on today's result page
        page = self.wait_end(c, path)
        self.assertStatus(page, 200)
        self.assertIn("%d 人の医療機関ユーザを登録しました" % BIG_ROWS, visible_text(page.text))
        self.assertNotIn("http-equiv", page.text)
        total, rows = self.search(c, q="背景")
        self.assertEqual(total, min(BIG_ROWS, SEARCH_CAP))
        csv_resp = c.get(path + "/users.csv")
        self.assertStatus(csv_resp, 200)
        # another municipality cannot see the batch's page (audited scope_denied)
        self.assertEqual(other.get(path).status, 404)

    def test_kill_9_mid_way_then_restart_leaves_nothing_and_upload_again_succeeds(self):
        index_before = self.name_index_totals()
        c, path, data = self.start_big(600000, family="強制")
        batch = self.batch_id(path)
        self.assert_progress_page(c, path)  # says checking or writing: still running
        # kill once chunks are written (they took their share of the name index with them)
        deadline = time.monotonic() + 60
        while self.db_query("SELECT rows_written FROM import_batches WHERE id = ?",
                            batch)[0][0] == 0:
            self.assertLess(time.monotonic(), deadline, "no chunk was written")
            time.sleep(0.02)
        self.restart(kill=True)
        c = self.staff()
        # after restart: failed with the reason, nothing visible anywhere
        self.assertEqual(self.wait_batch_state(batch, ("failed",)), "failed")
        self.assert_failed_page(c, path)
        self.hidden_everywhere(c, "強制")
        self.assertEqual(self.db_query(
            "SELECT COUNT(*) FROM users u WHERE u.batch_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM hidden_batches h WHERE h.batch_id = u.batch_id)", batch)[0][0], 0)
        audit = [a for a in self.audit() if a["action"] == "inst_users_import"
                 and a.get("target") == "batch:%d" % batch]
        self.assertTrue(any(a["result"] == "failed" and RESTART_REASON in (a.get("detail") or "")
                            for a in audit), audit)
        # the failed batch's rows go in the background
        deadline = time.monotonic() + 60
        while self.db_query("SELECT COUNT(*) FROM users WHERE batch_id = ?", batch)[0][0] > 0:
            self.assertLess(time.monotonic(), deadline, "the failed batch's users stay")
            time.sleep(0.2)
        # the name index and the count of institution users are as before the import
        self.assertEqual(self.name_index_totals(), index_before)
        # the same file again: it imports
        r = self.upload([("big.csv", data)], c)
        self.assertEqual(r.status, 303, r)
        page = self.wait_end(c, r.location)
        self.assertIn("%d 人の医療機関ユーザを登録しました" % BIG_ROWS, visible_text(page.text))
        self.assertEqual(self.search(c, q="強制")[0], min(BIG_ROWS, SEARCH_CAP))

    def test_sigterm_mid_way_exits_0_and_leaves_the_batch_failed(self):
        c, path, _ = self.start_big(700000, family="静止")
        batch = self.batch_id(path)
        self.assert_progress_page(c, path)
        code = self.restart(kill=False)
        self.assertEqual(code, 0, self.server.stderr()[-3000:])
        c = self.staff()
        state = self.db_query("SELECT state, failure FROM import_batches WHERE id = ?", batch)[0]
        self.assertEqual(state[0], "failed")
        self.assertIn("サーバが停止したため", state[1])
        r = c.get(path)
        self.assertStatus(r, 200)
        self.assertIn("サーバが停止したため", visible_text(r.text))
        self.hidden_everywhere(c, "静止")

    def test_refused_import_shows_the_clashing_rows(self):
        c = self.staff()
        inst = self.institution()
        fields = self.form_fields(inst, user_type="doctor")
        self.register_ok(fields, c)
        clash = self.row(inst, name=fields["name"], kana=fields["name_kana"],
                         doctor_number=fields["doctor_number"])
        rows = [self.row(inst), clash]
        r = self.upload([("clash.csv", csv_bytes(rows))], c)
        self.assertEqual(r.status, 400, r)
        errors = import_errors(r.text)
        self.assertEqual([e[1] for e in errors], ["3"], errors)
        self.assertIn("何も登録していません", visible_text(r.text))
        # the refused batch's own page lists the same rows (200)
        batch = self.db_query("SELECT MAX(id) FROM import_batches WHERE state = 'refused'")[0][0]
        page = c.get("/inst-users/import/%d" % batch)
        self.assertStatus(page, 200)
        self.assertEqual(import_errors(page.text), errors)
        self.assertEqual(c.get("/inst-users/import/%d/users.csv" % batch).status, 404)


for_each_binary(globals(), BackgroundImport, typed_passwords=(STAFF_PASSWORD,))
