"""Two-factor authentication (issue 14, SPEC §8): enrolment on /account/totp, the second step of
a login on /login/totp, the used-code rule, recovery codes, the shared lockout, the roles that must
enrol, the administrators' reset and the secrecy of the secret. Every code is computed here with
hmac/hashlib (RFC 6238) from the secret the page shows, as an authenticator app would."""

import json
import re

from nsdbtest import (TOTP_SECRETS, TOTP_USERS, for_each_binary, totp_code, totp_step,
                      visible_text)

PASSWORD = "two factors beat one 2026"
SAPPORO = ("011002", "札幌市", "060-0001", "北海道札幌市中央区北1条西2丁目")
_URI = re.compile(r"otpauth://totp/nsdb:([A-Z0-9]{12})\?secret=([A-Z2-7]{32})&amp;issuer=nsdb")


class TotpHelpers:
    def fresh_user(self, role="mhlw", municipality=None):
        """A user of the role after its forced password change, not enrolled yet:
        (client, user_id). Added through the CLI so that the harness does not enrol it."""
        args = ["user", "add", "--role", role, "--name", "二要素 花子", "--json"]
        if role in ("muni_admin", "muni_staff"):
            args += ["--municipality", municipality or self.ensure_municipality()]
        r = self.cli(*args)
        self.assertEqual(r.code, 0, r)
        out = r.json()
        self.remember(out["initial_password"], PASSWORD)
        c = self.client()
        self.assertRedirect(c.login(out["user_id"], out["initial_password"]), "/account/password")
        token = c.page_csrf("/account/password")
        r = c.post("/account/password", {"current_password": out["initial_password"],
                                          "new_password": PASSWORD,
                                          "new_password_confirm": PASSWORD, "csrf": token})
        self.assertRedirect(r, "/?done=password")
        return c, out["user_id"]

    def enrolled_user(self, role="mhlw", municipality=None):
        """(client, user_id, secret, recovery codes) of a user enrolled through the pages."""
        c, user_id = self.fresh_user(role, municipality)
        got_id, secret, codes = c.enrol_totp()
        self.assertEqual(got_id, user_id)
        return c, user_id, secret, codes

    def password_step(self, user_id):
        """A new client whose password step for user_id is done: (client, response)."""
        c = self.client()
        token = c.page_csrf("/login")
        r = c.post("/login", {"user_id": user_id, "password": PASSWORD, "csrf": token})
        return c, r

    def unused_step_code(self, user_id, secret):
        """A code of a step later than any the harness used for the user (within the window)."""
        state = TOTP_USERS[user_id]
        step = max(totp_step(), state["last_step"] + 1)
        self.assertLessEqual(step, totp_step() + 1, "no unused step left in the window")
        state["last_step"] = step
        return totp_code(secret, step)

    def audit_rows(self, action, target=None):
        return [a for a in self.audit()
                if a["action"] == action and (target is None or a["target"] == target)]


class TotpEnrolment(TotpHelpers):
    """GET/POST /account/totp: QR code and URI, a wrong code refused, one right code enrols,
    ten recovery codes shown once."""

    def test_page_shows_qr_code_and_uri_then_one_valid_code_enrols(self):
        c, user_id = self.fresh_user("mhlw")
        page = c.get("/account/totp")
        self.assertStatus(page, 200)
        self.assertJapanesePage(page)
        self.assertIn("<svg", page.text)
        self.assertIn('class="qr"', page.text)
        m = _URI.search(page.text)
        self.assertIsNotNone(m, page.text)
        self.assertEqual(m.group(1), user_id)
        secret = m.group(2)
        TOTP_SECRETS.add(secret)
        # the same pending secret on a second visit (a scanned code stays good)
        self.assertIn(secret, c.get("/account/totp").text)
        # a wrong code is refused and nothing is enrolled
        wrong = "%06d" % ((int(totp_code(secret, totp_step())) + 1) % 1000000)
        r = c.post("/account/totp", {"code": wrong, "csrf": page.csrf()})
        self.assertStatus(r, 400)
        self.assertIn("確認コードが正しくありません", visible_text(r.text))
        self.assertRedirect(c.get("/"), "/account/totp")
        self.assertEqual(self.audit_rows("totp_enrol", user_id)[0]["result"], "failed")
        # no CSRF token: refused by the router
        r = c.post("/account/totp", {"code": totp_code(secret, totp_step())})
        self.assertStatus(r, 403)
        # the right code enrols and shows ten recovery codes
        step = totp_step()
        r = c.post("/account/totp", {"code": totp_code(secret, step), "csrf": page.csrf()})
        self.assertStatus(r, 200)
        codes = re.findall(r'<code class="recovery-code">([0-9A-Z]{5}-[0-9A-Z]{5})</code>', r.text)
        self.assertEqual(len(codes), 10)
        self.assertEqual(len(set(codes)), 10)
        TOTP_SECRETS.update(codes)
        TOTP_USERS[user_id] = {"secret": secret, "last_step": step, "recovery": []}
        self.assertEqual(self.audit_rows("totp_enrol", user_id)[0]["result"], "ok")
        # shown once: neither the status page nor a second POST shows a code or the secret
        after = c.get("/account/totp")
        self.assertStatus(after, 200)
        self.assertIn("設定済み", visible_text(after.text))
        for text in (after.text, c.get("/").text):
            self.assertNotIn(secret, text)
            for code in codes:
                self.assertNotIn(code, text)
        r = c.post("/account/totp", {"code": totp_code(secret, step + 1), "csrf": page.csrf()})
        self.assertRedirect(r, "/account/totp")
        self.assertStatus(c.get("/audit"), 200)

    def test_optional_role_may_enrol_from_its_account_page_and_turn_it_off(self):
        c, user_id = self.fresh_user("muni_staff")
        self.assertStatus(c.get("/"), 200)  # not required for this role
        self.assertIn('href="/account/totp"', c.get("/account/password").text)
        _, secret, codes = c.enrol_totp()
        c2, r = self.password_step(user_id)
        self.assertRedirect(r, "/login/totp")
        self.assertRedirect(c2.login_totp(codes[0]), "/")
        # turning it off needs a valid code
        token = c2.page_csrf("/account/totp")
        r = c2.post("/account/totp/disable", {"code": "000000", "csrf": token})
        self.assertStatus(r, 400)
        r = c2.post("/account/totp/disable",
                    {"code": self.unused_step_code(user_id, secret), "csrf": token})
        self.assertRedirect(r, "/account/totp?done=disabled")
        self.assertEqual(self.audit_rows("totp_disable", user_id)[0]["result"], "ok")
        del TOTP_USERS[user_id]
        _, r = self.password_step(user_id)
        self.assertRedirect(r, "/")

    def test_required_role_cannot_turn_it_off(self):
        c, user_id, secret, _ = self.enrolled_user("operator")
        token = c.page_csrf("/account/totp")
        r = c.post("/account/totp/disable",
                   {"code": self.unused_step_code(user_id, secret), "csrf": token})
        self.assertStatus(r, 403)
        self.assertNotIn("/account/totp/disable", c.get("/account/totp").text)


class TotpRequired(TotpHelpers):
    """mhlw, operator and muni_admin are sent to /account/totp after the forced password change
    and reach nothing else (but logout and the password change) until they enrol."""

    def test_required_roles_reach_only_enrolment_password_change_and_logout(self):
        for role, page in (("mhlw", "/audit"), ("operator", "/cycles"),
                           ("muni_admin", "/muni-users")):
            with self.subTest(role=role):
                c, user_id = self.fresh_user(role)
                for path in ("/", page):
                    self.assertRedirect(c.get(path), "/account/totp")
                r = c.post(page, {"csrf": c.page_csrf("/account/password")})
                self.assertIn(r.status, (303, 405))
                if r.status == 303:
                    self.assertEqual(r.location, "/account/totp")
                self.assertStatus(c.get("/account/password"), 200)
                self.assertStatus(c.get("/account/totp"), 200)
                c.enrol_totp()
                self.assertStatus(c.get("/"), 200)
                self.assertStatus(c.get(page), 200)
                self.assertRedirect(c.logout(), "/login?reason=logout")

    def test_before_the_password_change_the_password_page_comes_first(self):
        r = self.cli("user", "add", "--role", "mhlw", "--name", "二要素 一郎", "--json")
        out = r.json()
        self.remember(out["initial_password"])
        c = self.client()
        self.assertRedirect(c.login(out["user_id"], out["initial_password"]), "/account/password")
        self.assertRedirect(c.get("/account/totp"), "/account/password")
        self.assertRedirect(c.get("/"), "/account/password")


class TotpLogin(TotpHelpers):
    """/login/totp after a right password: nothing else is reachable, a code completes the login,
    a used code and a used recovery code are refused, wrong codes lock like wrong passwords."""

    def test_password_alone_opens_nothing_and_a_code_completes_the_login(self):
        _, user_id, secret, _ = self.enrolled_user("mhlw")
        c, r = self.password_step(user_id)
        self.assertRedirect(r, "/login/totp")
        for path in ("/", "/audit", "/account/password", "/account/totp", "/admin-lists"):
            self.assertRedirect(c.get(path), "/login/totp")
        r = c.post("/account/password", {"current_password": PASSWORD, "new_password": "x" * 20,
                                         "new_password_confirm": "x" * 20,
                                         "csrf": c.page_csrf("/login/totp")})
        self.assertRedirect(r, "/login/totp")
        page = c.get("/login/totp")
        self.assertStatus(page, 200)
        self.assertJapanesePage(page)
        self.assertIn('name="code"', page.text)
        r = c.login_totp("")
        self.assertStatus(r, 400)
        r = c.login_totp(self.unused_step_code(user_id, secret))
        self.assertRedirect(r, "/")
        self.assertStatus(c.get("/audit"), 200)
        self.assertRedirect(c.get("/login/totp"), "/")
        logins = self.audit_rows("login", user_id)
        self.assertEqual((logins[0]["result"], logins[0]["detail"]), ("ok", "totp"))
        self.assertEqual(self.audit_rows("login_password", user_id)[0]["detail"], "totp_due")

    def test_a_used_code_is_refused(self):
        _, user_id, secret, _ = self.enrolled_user("mhlw")
        code = self.unused_step_code(user_id, secret)
        c, _ = self.password_step(user_id)
        self.assertRedirect(c.login_totp(code), "/")
        c2, _ = self.password_step(user_id)
        r = c2.login_totp(code)
        self.assertStatus(r, 401)
        self.assertIn("確認コードが正しくありません", visible_text(r.text))
        self.assertRedirect(c2.get("/"), "/login/totp")
        failed = self.audit_rows("login", user_id)[0]
        self.assertEqual((failed["result"], failed["detail"]), ("failed", "totp"))
        # the enrolment's own code is used too
        enrol_step = self.db_query("SELECT last_step FROM user_totp u JOIN users s ON s.id = u.user_pk "
                                   "WHERE s.user_id = ?", user_id)[0][0]
        self.assertGreaterEqual(enrol_step, totp_step())

    def test_a_recovery_code_works_once(self):
        _, user_id, _, codes = self.enrolled_user("operator")
        c, _ = self.password_step(user_id)
        self.assertRedirect(c.login_totp(codes[0].lower().replace("-", " ")), "/")
        self.assertEqual(self.audit_rows("login", user_id)[0]["detail"], "recovery_code")
        c2, _ = self.password_step(user_id)
        self.assertStatus(c2.login_totp(codes[0]), 401)
        self.assertRedirect(c2.login_totp(codes[1]), "/")
        page = c2.get("/account/totp")
        self.assertIn("未使用の回復コード：8個", visible_text(page.text))

    def test_wrong_codes_lock_the_account_like_wrong_passwords(self):
        _, user_id, secret, _ = self.enrolled_user("mhlw")
        c, _ = self.password_step(user_id)
        for _ in range(4):
            self.assertStatus(c.login_totp("000000"), 401)
        r = c.login_totp("000000")
        self.assertStatus(r, 401)
        self.assertIn("15分間ログインできません", visible_text(r.text))
        self.assertRedirect(c.get("/"), "/login")  # the lockout ended the session
        self.assertEqual(self.audit_rows("lockout", user_id)[0]["result"], "ok")
        self.assertEqual(len([a for a in self.audit_rows("login", user_id)
                              if a["detail"] == "totp"]), 5)
        # the right password and then the right code no longer open the account
        c2 = self.client()
        r = c2.post("/login", {"user_id": user_id, "password": PASSWORD,
                               "csrf": c2.page_csrf("/login")})
        self.assertStatus(r, 401)

    def test_password_and_code_failures_share_one_count(self):
        _, user_id, secret, _ = self.enrolled_user("muni_admin")
        c = self.client()
        for _ in range(2):
            r = c.post("/login", {"user_id": user_id, "password": "wrong password 123",
                                  "csrf": c.page_csrf("/login")})
            self.assertStatus(r, 401)
        c, r = self.password_step(user_id)
        self.assertRedirect(r, "/login/totp")
        self.assertStatus(c.login_totp("000000"), 401)
        self.assertStatus(c.login_totp("000000"), 401)
        r = c.login_totp("000000")  # the fifth failure
        self.assertIn("15分間ログインできません", visible_text(r.text))
        self.assertEqual(self.audit_rows("lockout", user_id)[0]["result"], "ok")

    def test_a_pending_session_cannot_post_elsewhere(self):
        _, user_id, secret, _ = self.enrolled_user("mhlw")
        c, _ = self.password_step(user_id)
        token = c.page_csrf("/login/totp")
        r = c.post("/admin-lists/1/approve", {"csrf": token})
        self.assertRedirect(r, "/login/totp")
        self.assertRedirect(c.post("/logout", {"csrf": token}), "/login?reason=logout")
        self.assertRedirect(c.get("/login/totp"), "/login")


class TotpReset(TotpHelpers):
    """二要素認証の初期化: the administrators who may reset a password (muni_admin for its
    municipality's staff and admins, municipality staff for institution users, an institution's
    責任者 for its doctors), with a confirmation page, CSRF and an audit record; the CLI for
    everyone else."""

    def test_muni_admin_resets_a_staff_member_with_confirmation(self):
        admin, admin_id, _, _ = self.enrolled_user("muni_admin")
        staff, staff_id = self.fresh_user("muni_staff")
        staff.enrol_totp()
        self.assertIn('href="/muni-users/%s/totp-reset"' % staff_id, admin.get("/muni-users").text)
        page = admin.get("/muni-users/%s/totp-reset" % staff_id)
        self.assertStatus(page, 200)
        self.assertIn(staff_id, page.text)
        self.assertIn('action="/muni-users/%s/totp-reset"' % staff_id, page.text)
        self.assertStatus(admin.post("/muni-users/%s/totp-reset" % staff_id, {}), 403)
        r = admin.post("/muni-users/%s/totp-reset" % staff_id, {"csrf": page.csrf()})
        self.assertRedirect(r, "/muni-users?done=totp_reset&user=%s" % staff_id)
        self.assertIn("二要素認証を初期化しました", visible_text(admin.get(r.location).text))
        row = self.audit_rows("totp_reset", staff_id)[0]
        self.assertEqual((row["actor"], row["result"]), (admin_id, "ok"))
        del TOTP_USERS[staff_id]
        _, r = self.password_step(staff_id)
        self.assertRedirect(r, "/")  # the password alone again
        # a second reset has nothing to remove
        r = admin.post("/muni-users/%s/totp-reset" % staff_id, {"csrf": page.csrf()})
        self.assertStatus(r, 409)

    def test_reset_of_a_required_role_sends_it_to_enrol_again(self):
        admin, _, _, _ = self.enrolled_user("muni_admin")
        _, other_id, _, _ = self.enrolled_user("muni_admin")
        token = admin.page_csrf("/muni-users/%s/totp-reset" % other_id)
        r = admin.post("/muni-users/%s/totp-reset" % other_id, {"csrf": token})
        self.assertEqual(r.status, 303, r)
        del TOTP_USERS[other_id]
        c, r = self.password_step(other_id)
        self.assertRedirect(r, "/")
        self.assertRedirect(c.get("/"), "/account/totp")

    def test_who_may_reset(self):
        admin, admin_id, _, _ = self.enrolled_user("muni_admin")
        staff, staff_id = self.fresh_user("muni_staff")
        staff.enrol_totp()
        # another municipality's admin finds nobody (and the attempt is audited)
        r = self.cli("municipality", "add", "--code", SAPPORO[0], "--name", SAPPORO[1],
                     "--postal", SAPPORO[2], "--address", SAPPORO[3])
        self.assertEqual(r.code, 0, r)
        other, _, _, _ = self.enrolled_user("muni_admin", municipality=SAPPORO[0])
        self.assertStatus(other.get("/muni-users/%s/totp-reset" % staff_id), 404)
        token = other.page_csrf("/account/password")
        self.assertStatus(other.post("/muni-users/%s/totp-reset" % staff_id, {"csrf": token}), 404)
        self.assertTrue(any(a["action"] == "scope_denied" and a["target"] == staff_id
                            for a in self.audit()))
        # staff may not reset municipal users; the institution-user screen does not find them
        self.assertStatus(staff.get("/muni-users/%s/totp-reset" % admin_id), 403)
        self.assertStatus(staff.get("/inst-users/%s/totp-reset" % admin_id), 404)
        # mhlw and operators have no such screen
        mhlw, _, _, _ = self.enrolled_user("mhlw")
        self.assertStatus(mhlw.get("/muni-users/%s/totp-reset" % staff_id), 403)
        # an admin cannot reset its own two-factor
        token = admin.page_csrf("/account/password")
        self.assertStatus(admin.post("/muni-users/%s/totp-reset" % admin_id, {"csrf": token}), 409)
        self.assertEqual([a for a in self.audit_rows("totp_reset")
                          if a["target"] in (staff_id, admin_id)], [])

    def test_cli_resets_any_user(self):
        _, user_id, _, _ = self.enrolled_user("mhlw")
        r = self.cli("user", "totp-reset", "--user-id", user_id)
        self.assertEqual(r.code, 0, r)
        self.assertIn(user_id, r.stdout)
        row = self.audit_rows("totp_reset", user_id)[0]
        self.assertEqual((row["actor"], row["result"]), ("cli", "ok"))
        del TOTP_USERS[user_id]
        c, r = self.password_step(user_id)
        self.assertRedirect(r, "/")
        self.assertRedirect(c.get("/audit"), "/account/totp")
        self.assertEqual(self.cli("user", "totp-reset", "--user-id", user_id).code, 1)
        self.assertEqual(self.cli("user", "totp-reset", "--user-id", "NOSUCHUSER12").code, 1)
        self.assertEqual(self.cli("user", "totp-reset").code, 2)


class TotpSecrecy(TotpHelpers):
    """The secret and the recovery codes appear on the enrolment page only: never in the audit,
    the server log (checked for every class when it stops) or the database in clear."""

    def test_secret_and_recovery_codes_stay_out_of_audit_log_and_database(self):
        c, user_id, secret, codes = self.enrolled_user("mhlw")
        c2, _ = self.password_step(user_id)
        c2.login_totp(codes[0])
        c3, _ = self.password_step(user_id)
        c3.login_totp("123456")
        audit = json.dumps(self.audit(), ensure_ascii=False)
        cli_audit = self.cli("audit").stdout
        for text in (audit, cli_audit, self.server.stderr()):
            self.assertNotIn(secret, text)
            for code in codes:
                self.assertNotIn(code, text)
                self.assertNotIn(code.replace("-", ""), text)
        stored = self.db_query("SELECT t.secret_sealed FROM user_totp t JOIN users u "
                               "ON u.id = t.user_pk WHERE u.user_id = ?", user_id)[0][0]
        if isinstance(stored, str):  # PostgreSQL (psql): bytea as \x and hex digits
            stored = bytes.fromhex(stored[2:]) if stored.startswith("\\x") else stored.encode()
        self.assertNotIn(secret.encode(), bytes(stored))
        hashes = [h for (h,) in self.db_query(
            "SELECT r.code_hash FROM user_recovery_codes r JOIN users u ON u.id = r.user_pk "
            "WHERE u.user_id = ?", user_id)]
        self.assertEqual(len(hashes), 10)
        for code in codes:
            self.assertNotIn(code, hashes)
            self.assertNotIn(code.replace("-", ""), hashes)


for_each_binary(globals(), TotpEnrolment, TotpRequired, TotpLogin, TotpReset, TotpSecrecy,
                typed_passwords=[PASSWORD])
