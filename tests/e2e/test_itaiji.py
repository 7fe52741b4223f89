"""異体字 in search (issue 12, item 9): the variant forms of name characters (髙/高, 﨑/崎, 邊・邉/辺,
齋・齊/斎, 濱/浜 … the table in src/domain/itaiji.c) find each other on 医療機関ユーザ検索 and
自治体ユーザ検索, both ways round, while the name is shown as it was registered; keys stored
before the fold existed (simulated here by writing the old keys and index back and forgetting the
fold's fingerprint) are folded again when nsdb next starts, with an audit record.

Every class runs once per binary (see nsdbtest.for_each_binary), each with its own server.
"""

import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import _psql, for_each_binary, visible_text  # noqa: E402
from test_media import CHIYODA, CSV_HEADER, GOOD_PASSWORD, MediaHelpers, luhn_code  # noqa: E402

# 007's rebuild of the name-pair index from users, per dialect (to write back an old state)
GRAMS_SQLITE = """
WITH RECURSIVE g(id, m, s, i) AS (
    SELECT id, municipality_id, name_search, 1 FROM users
    WHERE role IN ('doctor', 'inst_manager') AND municipality_id IS NOT NULL
      AND name_search IS NOT NULL AND name_search <> ''
    UNION ALL SELECT id, m, s, i + 1 FROM g WHERE i < length(s))
INSERT INTO user_grams (municipality_id, gram, name_search, users)
SELECT m, gram, s, COUNT(DISTINCT id)
FROM (SELECT m, substr(s, i, 1) AS gram, s, id FROM g
      UNION ALL SELECT m, substr(s, i, 2), s, id FROM g WHERE i < length(s))
GROUP BY m, gram, s;"""
GRAMS_PG = """
INSERT INTO user_grams (municipality_id, gram, name_search, users)
SELECT municipality_id, gram, name_search, COUNT(DISTINCT id)
FROM (SELECT u.municipality_id, u.name_search, u.id, gram
      FROM users u CROSS JOIN LATERAL generate_series(1, length(u.name_search)) AS i
      CROSS JOIN LATERAL (SELECT substr(u.name_search, i, 1)
                          UNION ALL SELECT substr(u.name_search, i, 2)
                          WHERE i < length(u.name_search)) AS grams(gram)
      WHERE u.role IN ('doctor', 'inst_manager') AND u.municipality_id IS NOT NULL
        AND u.name_search IS NOT NULL AND u.name_search <> '') t
GROUP BY municipality_id, gram, name_search;"""


class ItaijiTests(MediaHelpers):
    """Search by either form of a name's characters."""

    def register_doctors(self, people):
        """Registers one doctor per (氏名, 氏名カナ) at a new institution of 千代田区 through
        一括登録; returns {氏名: user ID}."""
        cls = type(self)
        serial = cls.__dict__.get("_itaiji_serial", 0) + 1
        cls._itaiji_serial = serial
        code = luhn_code("131%06d" % (900 + serial))
        place = (code, "異体字病院%d" % serial, "100-0001", "東京都千代田区試験町%d-1" % serial,
                 "03-1234-5678")
        rows = [place + ("指定医", name, kana, "難病", "D-9%02d%03d" % (serial, i), "内科", "")
                for i, (name, kana) in enumerate(people)]
        users = self.register(CHIYODA, [(code, place[1], rows)])[code]
        return dict(zip((name for name, _ in people), users))

    def found(self, client, path, query):
        """The user IDs and the visible text of a search page for query."""
        r = client.get("%s?q=%s" % (path, urllib.parse.quote(query)))
        self.assertStatus(r, 200)
        return set(re.findall(r"<td><code>([A-Z0-9]{12})</code></td>", r.text)), visible_text(r.text)

    def execute(self, sql):
        if self.pg is not None:
            _psql(self.pg.url, sql)
            return
        import sqlite3
        db = sqlite3.connect(self.database_file(), timeout=30)
        try:
            db.executescript(sql)
        finally:
            db.close()

    def test_institution_users_are_found_by_either_form(self):
        ids = self.register_doctors([("髙橋 一郎", "タカハシ イチロウ"), ("高橋 次郎", "タカハシ ジロウ"),
                                     ("山﨑 三郎", "ヤマサキ サブロウ"), ("渡邊 四郎", "ワタナベ シロウ"),
                                     ("齋藤 五郎", "サイトウ ゴロウ"), ("濱田 六郎", "ハマダ ロクロウ"),
                                     ("埼玉 七郎", "サイタマ シチロウ")])
        staff = self.staff(CHIYODA)
        takahashi = {ids["髙橋 一郎"], ids["高橋 次郎"]}
        for query, expected in (("高橋", takahashi), ("髙橋", takahashi), ("高橋一郎", {ids["髙橋 一郎"]}),
                                ("髙橋 次郎", {ids["高橋 次郎"]}), ("山崎", {ids["山﨑 三郎"]}),
                                ("山﨑", {ids["山﨑 三郎"]}), ("渡辺", {ids["渡邊 四郎"]}),
                                ("渡邉", {ids["渡邊 四郎"]}), ("斎藤", {ids["齋藤 五郎"]}),
                                ("齊藤", {ids["齋藤 五郎"]}), ("浜田", {ids["濱田 六郎"]}),
                                ("埼", {ids["埼玉 七郎"]})):
            with self.subTest(query=query):
                got, text = self.found(staff, "/inst-users", query)
                self.assertEqual(got, expected, text[:1500])
        # shown as registered
        _, text = self.found(staff, "/inst-users", "高橋")
        self.assertIn("髙橋 一郎", text)
        self.assertIn("高橋 次郎", text)

    def test_municipal_users_are_found_by_either_form(self):
        r = self.cli("user", "add", "--role", "muni_admin", "--name", "管理 太郎", "--municipality",
                     CHIYODA[0], "--json")
        self.assertEqual(r.code, 0, r)
        admin = r.json()
        self.remember(admin["initial_password"])
        r = self.cli("user", "add", "--role", "muni_staff", "--name", "櫻井 花子", "--municipality",
                     CHIYODA[0], "--json")
        self.assertEqual(r.code, 0, r)
        sakurai = r.json()["user_id"]
        self.remember(r.json()["initial_password"])
        c = self.client()
        self.assertRedirect(c.login(admin["user_id"], admin["initial_password"]), "/account/password")
        self.assertRedirect(c.change_password(admin["initial_password"], GOOD_PASSWORD), "/?done=password")
        for query in ("桜井", "櫻井", "桜井花子"):
            with self.subTest(query=query):
                got, text = self.found(c, "/muni-users", query)
                self.assertEqual(got, {sakurai}, text[:1500])

    def test_keys_stored_before_the_fold_are_folded_at_start(self):
        ids = self.register_doctors([("冨田 一夫", "トミタ カズオ"), ("龍崎 二夫", "リュウザキ ツギオ")])
        tomita, ryuzaki = ids["冨田 一夫"], ids["龍崎 二夫"]
        staff = self.staff(CHIYODA)
        self.assertEqual(self.found(staff, "/inst-users", "富田")[0], {tomita})
        # the state of a database written before the fold: keys as typed, the index built from
        # them, no fingerprint
        self.execute("UPDATE users SET name_search = '冨田一夫トミタカズオ' WHERE user_id = '%s';"
                     "UPDATE users SET name_search = '龍崎二夫リュウザキツギオ' WHERE user_id = '%s';"
                     "DELETE FROM user_grams; %s DELETE FROM search_fold;"
                     % (tomita, ryuzaki, GRAMS_PG if self.pg is not None else GRAMS_SQLITE))
        self.assertEqual(self.found(staff, "/inst-users", "富田")[0], set())
        self.assertEqual(self.found(staff, "/inst-users", "竜崎")[0], set())
        # the next start of nsdb (any verb opens the database the same way) folds them again
        r = self.cli("migrate")
        self.assertEqual(r.code, 0, r)
        for query, expected in (("富田", {tomita}), ("冨田", {tomita}), ("竜崎", {ryuzaki}),
                                ("龍崎", {ryuzaki}), ("トミタ", {tomita})):
            with self.subTest(query=query):
                self.assertEqual(self.found(staff, "/inst-users", query)[0], expected)
        self.assertEqual(self.db_query("SELECT name_search FROM users WHERE user_id = ?", tomita),
                         [("富田一夫トミタカズオ",)])
        rows = [a for a in self.audit() if a["action"] == "search_keys_refold"]
        self.assertEqual(len(rows), 1, rows)
        self.assertIn("2 件", rows[0]["detail"])
        # and only once
        self.assertEqual(self.cli("migrate").code, 0)
        self.assertEqual(len([a for a in self.audit() if a["action"] == "search_keys_refold"]), 1)


for_each_binary(globals(), ItaijiTests, typed_passwords=(GOOD_PASSWORD,))
