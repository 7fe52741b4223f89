"""End-to-end tests of PostgreSQL's transaction locks (issue 11, item 2): no global write lock.

nsdb's write transactions on PostgreSQL take the global advisory key SHARED plus an exclusive
lock on their scope (a municipality, a user), so that one municipality's long transaction (a big
import) stops no one else. Here the test itself holds municipality A's locks the way nsdb takes
them (db_pg.c: pg_advisory_xact_lock_shared(1853056098) and pg_advisory_xact_lock(1, A's id))
in a psql session for a few seconds, and shows that meanwhile logins (of B and of A's own staff:
a login is its user's scope) and B's 個別登録 answer in under a second, while A's own 個別登録
waits for A's lock. With the one exclusive lock of every transaction they all waited.

Then the rules that span municipalities, which no global lock keeps any more: two municipalities
registering at one new 医療機関コード at the same moment make one institution row (an upsert), and
the same doctor registered by both at once makes exactly one account (the institution's row is
locked for the check). A psql transaction that holds the institution (an uncommitted insert of the
code, or its row FOR UPDATE) lines both registrations up behind it, so they start together.

PostgreSQL only (scripts/pg-test.sh sets NSDB_DATABASE_URL): on SQLite there is one writer.
"""

import os
import re
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import for_each_binary, using_postgresql  # noqa: E402

STAFF_PASSWORD = "lock free staple battery 2026"
WRONG_PASSWORD = "not the password 2026 x"
CHIYODA = ("131016", "千代田区")
SAPPORO = ("011002", "札幌市")
GLOBAL_KEY = 1853056098  # db_pg.c PG_TRANSACTION_LOCK
SCOPE_MUNICIPALITY = 1  # db.h DB_SCOPE_MUNICIPALITY
HOLD_SECONDS = 6.0  # under lock_timeout (10 s), so that A's registration still succeeds
FAST_SECONDS = 1.0
HOLDER_APP = "nsdb_test_holder"


def luhn_complete(nine):
    """The 10-digit 医療機関コード: nine digits and their Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(nine)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return nine + str((10 - total % 10) % 10)


def kana_number(n):
    return "".join("アイウエオカキクケコ"[int(d)] for d in "%04d" % n)


def kanji_number(n):
    return "".join("〇一二三四五六七八九"[int(d)] for d in "%04d" % n)


class Holder:
    """A psql session that runs setup SQL in a transaction, holds it for seconds, then ends it
    (COMMIT or ROLLBACK). The test waits until the locks are granted (pg_locks)."""

    def __init__(self, url, sql, seconds, end="COMMIT"):
        script = "BEGIN;\n%s;\nSELECT pg_sleep(%f);\n%s;\n" % (sql, seconds, end)
        env = dict(os.environ, PGCLIENTENCODING="UTF8", PGAPPNAME=HOLDER_APP)
        self.proc = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.proc.stdin.write(script.encode("utf-8"))
        self.proc.stdin.close()
        self.proc.stdin = None  # closed: communicate() must not flush it again

    def finish(self):
        out, err = self.proc.communicate(timeout=60)
        code = self.proc.returncode
        if code != 0:
            raise AssertionError("psql holder failed (%d): %s" % (code, err.decode("utf-8", "replace")))
        return out


class Timed(threading.Thread):
    """fn() in a thread, with its result (or exception) and how long it took."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn, self.result, self.error, self.seconds, self.ended = fn, None, None, None, None

    def run(self):
        t0 = time.monotonic()
        try:
            self.result = self.fn()
        except BaseException as e:  # re-raised in the test's thread by value()
            self.error = e
        self.ended = time.monotonic()
        self.seconds = self.ended - t0

    def value(self, timeout=60):
        self.join(timeout)
        if self.is_alive():
            raise AssertionError("request still running after %ss" % timeout)
        if self.error is not None:
            raise self.error
        return self.result


class PgLocks:
    """Municipality A's long transaction stops neither B nor any login; shared institutions stay
    consistent without the global lock."""

    @classmethod
    def setUpClass(cls):
        if not using_postgresql():
            raise unittest.SkipTest("PostgreSQL only: SQLite has one writer at a time")
        super().setUpClass()

    # ---- setup helpers

    def serial(self):
        cls = type(self)
        cls._serial = getattr(cls, "_serial", 0) + 1
        return cls._serial

    def municipalities(self):
        cls = type(self)
        if not getattr(cls, "_munis", False):
            for code, name in (CHIYODA, SAPPORO):
                r = self.cli("municipality", "add", "--code", code, "--name", name)
                self.assertEqual(r.code, 0, r)
            cls._munis = True

    def muni_pk(self, muni):
        rows = self.db_query("SELECT id FROM municipalities WHERE code = ?", muni[0])
        self.assertEqual(len(rows), 1, rows)
        return rows[0][0]

    def new_staff(self, muni):
        """A muni_staff of muni via the CLI: (user_id, initial password), not logged in."""
        self.municipalities()
        r = self.cli("user", "add", "--role", "muni_staff", "--name",
                     "%s 職員%s" % (muni[1], kanji_number(self.serial())), "--municipality",
                     muni[0], "--json")
        self.assertEqual(r.code, 0, r)
        out = r.json()
        self.remember(out["initial_password"])
        return out["user_id"], out["initial_password"]

    def staff(self, muni):
        """A logged-in muni_staff client of muni (its first password change done)."""
        user_id, initial = self.new_staff(muni)
        c = self.client()
        self.assertRedirect(c.login(user_id, initial), "/account/password")
        self.remember(STAFF_PASSWORD)
        self.assertRedirect(c.change_password(initial, STAFF_PASSWORD), "/?done=password")
        return c

    def institution(self, muni):
        n = self.serial()
        return {"inst_code": luhn_complete("%s1%06d" % (muni[0][:2], 300000 + n)),
                "inst_name": "試験%s病院" % kanji_number(n), "inst_postal": "100-0001",
                "inst_address": "東京都千代田区千代田%d-1" % n, "inst_phone": "03-1234-5678"}

    def doctor(self, inst):
        n = self.serial()
        return dict(inst, user_type="doctor", name="並行 %s郎" % kanji_number(n),
                    name_kana="ヘイコウ %sロウ" % kana_number(n), category="nanbyo",
                    doctor_number="P-%05d" % n, specialty="内科", email="doc@example.jp")

    def post_registration(self, client, token, fields):
        return client.post("/inst-users/new", dict(fields, csrf=token))

    def registered(self, r):
        self.assertEqual(r.status, 303, r)
        self.assertRegex(r.location or "", r"^/inst-users\?registered=[A-Z0-9]{12}$", r)

    def accounts_of(self, code, name):
        return self.db_query(
            "SELECT u.user_id FROM users u JOIN institutions i ON i.id = u.institution_id "
            "WHERE i.code = ? AND u.name = ?", code, name)

    def wait_granted(self, holder, where, *args):
        """Waits until the holder's session holds a lock of pg_locks matching where."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if holder.proc.poll() is not None:
                holder.finish()
                self.fail("the psql holder ended before its locks were seen")
            rows = self.db_query("SELECT count(*) FROM pg_locks WHERE granted AND pid IN "
                                 "(SELECT pid FROM pg_stat_activity WHERE application_name = ?) "
                                 "AND " + where, HOLDER_APP, *args)
            if rows[0][0] > 0:
                return
            time.sleep(0.05)
        self.fail("the psql holder's lock was never granted: %s" % where)

    def wait_nsdb_waiting(self, count):
        """Waits until count of the server's sessions wait for a lock. A request sent while another
        is still being taken in could share its server thread (libmicrohttpd's pool serves the
        connections a thread accepted one after another); once a request waits in the database,
        its thread accepts nothing more, so the next request runs beside it."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            rows = self.db_query("SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN "
                                 "pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted "
                                 "AND a.application_name = 'nsdb'")
            if rows[0][0] >= count:
                return
            time.sleep(0.05)
        self.fail("%d request(s) of the server never waited for the psql holder" % count)

    # ---- tests

    def test_a_long_transaction_of_one_municipality_stops_no_other_nor_any_login(self):
        staff_a, staff_b = self.staff(CHIYODA), self.staff(SAPPORO)
        login_b, initial_b = self.new_staff(SAPPORO)
        login_a, initial_a = self.new_staff(CHIYODA)
        token_a = staff_a.page_csrf("/inst-users/new")
        token_b = staff_b.page_csrf("/inst-users/new")
        fields_a = self.doctor(self.institution(CHIYODA))
        fields_b = self.doctor(self.institution(SAPPORO))
        a_pk = self.muni_pk(CHIYODA)
        c, c2 = self.client(), self.client()
        token, token2 = c.page_csrf("/login"), c2.page_csrf("/login")
        # A's transaction as nsdb opens it (db_pg.c pg_begin_scoped), and A's row of the counter
        # a registration or an import of A updates
        holder = Holder(self.pg.url,
                        "SELECT pg_advisory_xact_lock_shared(%d);\n"
                        "SELECT pg_advisory_xact_lock(%d, %d);\n"
                        "UPDATE municipalities SET inst_users = inst_users WHERE id = %d"
                        % (GLOBAL_KEY, SCOPE_MUNICIPALITY, a_pk, a_pk), HOLD_SECONDS)
        self.wait_granted(holder, "locktype = 'advisory' AND classid = ? AND objid = ? "
                          "AND objsubid = 2", SCOPE_MUNICIPALITY, a_pk)
        held_at = time.monotonic()
        # A's own registration waits for A's lock
        a_registers = Timed(lambda: self.post_registration(staff_a, token_a, fields_a))
        a_registers.start()
        self.wait_nsdb_waiting(1)
        timings = {}

        def timed(what, fn):
            t0 = time.monotonic()
            r = fn()
            timings[what] = time.monotonic() - t0
            return r

        self.remember(WRONG_PASSWORD)
        r = timed("wrong password of B's user (failure counted)",
                  lambda: c.post("/login", {"user_id": login_b, "password": WRONG_PASSWORD,
                                            "csrf": token}))
        self.assertEqual(r.status, 401, r)
        self.assertIn("ユーザIDまたはパスワードが正しくありません", r.text)
        r = timed("login of B's user", lambda: c.post("/login", {"user_id": login_b,
                                                               "password": initial_b,
                                                               "csrf": token}))
        self.assertRedirect(r, "/account/password")
        r = timed("login of A's user", lambda: c2.post("/login", {"user_id": login_a,
                                                                "password": initial_a,
                                                                "csrf": token2}))
        self.assertRedirect(r, "/account/password")
        r = timed("個別登録 of B", lambda: self.post_registration(staff_b, token_b, fields_b))
        self.registered(r)
        still_held = time.monotonic() - held_at < HOLD_SECONDS
        total = time.monotonic() - held_at
        holder.finish()
        for what, seconds in timings.items():
            self.assertLess(seconds, FAST_SECONDS, "%s took %.2f s while A's transaction was open"
                            % (what, seconds))
        self.assertTrue(still_held, "the requests outlasted the holder (%.2f s): timings %r"
                        % (total, timings))
        # the same scope key as nsdb's: A's registration waited for the holder, then succeeded
        self.registered(a_registers.value())
        self.assertGreater(a_registers.seconds, HOLD_SECONDS / 2, "A's registration did not wait "
                           "for A's lock: nsdb and this test disagree on the scope key")
        self.assertEqual(len(self.accounts_of(fields_b["inst_code"], fields_b["name"])), 1)
        self.assertEqual(len(self.accounts_of(fields_a["inst_code"], fields_a["name"])), 1)

    def concurrent_registrations(self, fields_a, fields_b, holder_sql, lock_where, end="ROLLBACK"):
        """A's and B's 個別登録 sent at once while psql holds the institution; both responses."""
        staff_a, staff_b = self.staff(CHIYODA), self.staff(SAPPORO)
        token_a = staff_a.page_csrf("/inst-users/new")
        token_b = staff_b.page_csrf("/inst-users/new")
        hold = 4.0
        released_not_before = time.monotonic() + hold  # psql sleeps after it starts
        holder = Holder(self.pg.url, holder_sql, hold, end=end)
        self.wait_granted(holder, lock_where)
        a = Timed(lambda: self.post_registration(staff_a, token_a, fields_a))
        b = Timed(lambda: self.post_registration(staff_b, token_b, fields_b))
        a.start()
        self.wait_nsdb_waiting(1)
        b.start()
        self.wait_nsdb_waiting(2)
        sent_before_release = time.monotonic() < released_not_before - 1.0
        holder.finish()
        ra, rb = a.value(), b.value()
        self.assertTrue(sent_before_release, "the registrations were sent too late to race")
        # both waited for the holder, so they ran against each other when it ended
        for t, r in ((a, ra), (b, rb)):
            self.assertGreaterEqual(t.ended, released_not_before, "a registration did not wait "
                                    "for the institution held by psql: %r" % r)
        return ra, rb

    def uncommitted_institution(self, inst):
        return ("INSERT INTO institutions (code, name, postal, address, phone, created_at, "
                "updated_at) VALUES ('%s', 'psql', NULL, NULL, NULL, 0, 0)" % inst["inst_code"])

    def test_two_municipalities_create_one_new_institution_at_once(self):
        inst = self.institution(CHIYODA)
        fields_a, fields_b = self.doctor(inst), self.doctor(inst)
        ra, rb = self.concurrent_registrations(
            fields_a, fields_b, self.uncommitted_institution(inst),
            "locktype = 'transactionid' AND mode = 'ExclusiveLock'")
        self.registered(ra)
        self.registered(rb)
        rows = self.db_query("SELECT id, name FROM institutions WHERE code = ?", inst["inst_code"])
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][1], inst["inst_name"])
        for fields in (fields_a, fields_b):
            self.assertEqual(len(self.accounts_of(inst["inst_code"], fields["name"])), 1)

    def assert_one_account(self, inst, person, ra, rb):
        accounts = self.accounts_of(inst["inst_code"], person["name"])
        self.assertEqual(len(accounts), 1, accounts)
        refused = [r for r in (ra, rb) if r.status != 303]
        self.assertEqual(len(refused), 1, (ra, rb))
        self.registered(ra if refused[0] is rb else rb)
        self.assertEqual(refused[0].status, 400, refused[0])
        self.assertIn("別の自治体により既に登録されています", refused[0].text)

    def test_the_same_doctor_from_two_municipalities_at_once_is_one_account(self):
        # at an institution both know: its row is held FOR UPDATE while both registrations start
        inst = self.institution(CHIYODA)
        first = self.staff(CHIYODA)
        self.registered(self.post_registration(first, first.page_csrf("/inst-users/new"),
                                               self.doctor(inst)))
        person = self.doctor(inst)
        ra, rb = self.concurrent_registrations(
            person, dict(person),
            "SELECT id FROM institutions WHERE code = '%s' FOR UPDATE" % inst["inst_code"],
            "locktype = 'transactionid' AND mode = 'ExclusiveLock'")
        self.assert_one_account(inst, person, ra, rb)

    def test_the_same_doctor_at_a_new_institution_from_two_municipalities_is_one_account(self):
        inst = self.institution(SAPPORO)
        person = self.doctor(inst)
        ra, rb = self.concurrent_registrations(
            person, dict(person), self.uncommitted_institution(inst),
            "locktype = 'transactionid' AND mode = 'ExclusiveLock'")
        self.assert_one_account(inst, person, ra, rb)
        self.assertEqual(len(self.db_query("SELECT id FROM institutions WHERE code = ?",
                                           inst["inst_code"])), 1)


for_each_binary(globals(), PgLocks, typed_passwords=(STAFF_PASSWORD,))
