"""End-to-end tests of the foundation (issue 2): HTTP basics, security headers, login, the forced
first password change, CSRF, lockout, logout, roles, audit records, body limits and the CLI.

Every class below runs once per binary (see nsdbtest.for_each_binary): ``LoginTests_Release``
against ./nsdb and ``LoginTests_Asan`` against build/asan/nsdb, each with its own server.
"""

import json
import os
import re
import secrets
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import (Client, extract_csrf, for_each_binary, random_session_token,  # noqa: E402
                      set_cookie_names, visible_text)

GOOD_PASSWORD = "しろいくもと青い海を見に行く"
GOOD_PASSWORD_2 = "correct horse battery staple 2026"
LOGIN_FAILED = "ユーザIDまたはパスワードが正しくありません"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

MHLW_MENU = ("管理者権限のユーザID申請リスト", "監査ログ", "自アカウント管理")
MUNI_ADMIN_MENU = ("自治体ユーザ新規登録", "自治体ユーザ検索", "医療機関ユーザ新規登録",
                   "医療機関ユーザ検索", "自アカウント管理")

UNAMBIGUOUS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def unknown_user_id():
    return "".join(secrets.choice(UNAMBIGUOUS) for _ in range(12))


def field_error(page, field):
    """The text of the error shown next to a form field (id="FIELD-error"), or None."""
    m = re.search(r'id="%s-error"[^>]*>(.*?)</' % re.escape(field), page, re.S)
    return visible_text(m.group(1)) if m else None


def flip_last_hex(token):
    return token[:-1] + ("0" if token[-1] != "0" else "1")


class OperationalEndpoints:
    """/healthz, /metrics, redirects to the login, 404 and 405."""

    def test_healthz_answers_200_ok(self):
        r = self.client().get("/healthz")
        self.assertStatus(r, 200)
        self.assertEqual(r.text, "ok\n")

    def test_metrics_are_prometheus_text_with_request_counter(self):
        c = self.client()
        c.get("/healthz")
        r = c.get("/metrics")
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, "text/plain")
        self.assertIn("nsdb_http_requests_total", r.text)

    def test_menu_without_login_redirects_to_login(self):
        self.assertRedirect(self.client().get("/"), "/login")

    def test_protected_pages_without_login_redirect_to_login(self):
        c = self.client()
        for path in ("/account/password", "/audit"):
            with self.subTest(path=path):
                self.assertRedirect(c.get(path), "/login")

    def test_login_page_is_a_japanese_form_with_csrf(self):
        r = self.client().get("/login")
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        self.assertIn("ログイン", visible_text(r.text))
        self.assertRegex(r.csrf() or "", r"^[0-9a-f]{32,}$")
        for field in ("user_id", "password", "csrf"):
            self.assertRegex(r.text, r'name="%s"' % field)

    def test_unknown_path_is_404_with_japanese_page(self):
        c = self.client()
        for path in ("/no-such-page", "/login/extra", "/static/../secret.key"):
            with self.subTest(path=path):
                r = c.get(path)
                self.assertStatus(r, 404)
                self.assertJapanesePage(r)

    def test_wrong_method_on_known_path_is_405(self):
        c = self.client()
        for method, path in (("DELETE", "/login"), ("POST", "/healthz"), ("PUT", "/"),
                             ("POST", "/metrics")):
            with self.subTest(method=method, path=path):
                r = c.request(method, path, data={} if method != "DELETE" else None)
                self.assertStatus(r, 405)
                self.assertIsNotNone(r.header("Allow"), r)

    def test_405_allow_header_lists_only_the_methods_of_the_path(self):
        # RFC 9110 §15.5.6: a 405 carries Allow with the methods the target resource supports.
        c = self.client()
        for method, path, allowed in (("POST", "/healthz", {"GET", "HEAD"}),
                                      ("POST", "/metrics", {"GET", "HEAD"}),
                                      ("DELETE", "/login", {"GET", "HEAD", "POST"}),
                                      ("PUT", "/", {"GET", "HEAD"})):
            with self.subTest(method=method, path=path):
                r = c.request(method, path, data={} if method != "DELETE" else None)
                self.assertStatus(r, 405)
                listed = {m.strip().upper() for m in (r.header("Allow") or "").split(",") if m.strip()}
                self.assertNotIn(method, listed, "Allow: %s" % r.header("Allow"))
                self.assertIn("GET", listed, "Allow: %s" % r.header("Allow"))
                self.assertLessEqual(listed, allowed, "Allow: %s" % r.header("Allow"))

    def test_head_on_healthz_has_no_body(self):
        r = self.client().request("HEAD", "/healthz")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"")


class SecurityHeaders:
    """Every HTML response carries the security headers; cookies are HttpOnly and SameSite."""

    def html_responses(self):
        """A sample of HTML responses: anonymous pages, error pages and logged-in pages."""
        out = []
        anon = self.client()
        out.append(("GET /login", anon.get("/login")))
        out.append(("404", anon.get("/no-such-page")))
        out.append(("405", anon.request("DELETE", "/login")))
        out.append(("POST /login 403", anon.post("/login", {"user_id": "X", "password": "y"})))
        out.append(("POST /login 401", anon.login(unknown_user_id(), "wrong-password-123")))
        c, _, _ = self.logged_in("mhlw")
        out.append(("GET /account/password (forced)", c.get("/account/password")))
        c2, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD)
        out.append(("GET /", c2.get("/")))
        out.append(("GET /audit", c2.get("/audit")))
        out.append(("GET /account/password", c2.get("/account/password")))
        out.append(("POST /account/password 400", c2.change_password("wrong current pw", GOOD_PASSWORD_2)))
        muni, _, _ = self.logged_in("muni_admin", new_password=GOOD_PASSWORD)
        out.append(("GET /audit 403", muni.get("/audit")))
        for label, r in out:
            self.assertEqual(r.content_type, "text/html", "%s: %r" % (label, r))
        return out

    def test_every_html_response_has_csp_nosniff_and_referrer_policy(self):
        for label, r in self.html_responses():
            with self.subTest(response=label):
                csp = r.header("Content-Security-Policy")
                self.assertIsNotNone(csp, label)
                directives = {}
                for part in csp.split(";"):
                    words = part.split()
                    if words:
                        directives[words[0].lower()] = words[1:]
                self.assertIn("'none'", directives.get("frame-ancestors", []), csp)
                script_src = directives.get("script-src", directives.get("default-src"))
                self.assertIsNotNone(script_src, "CSP restricts no scripts: %s" % csp)
                self.assertNotIn("'unsafe-inline'", script_src, csp)
                self.assertNotIn("'unsafe-eval'", script_src, csp)
                self.assertEqual((r.header("X-Content-Type-Options") or "").lower(), "nosniff")
                self.assertTrue(r.header("Referrer-Policy"), label)

    def test_html_pages_have_no_inline_script_or_style(self):
        # CSP forbids them (script-src/style-src without 'unsafe-inline'), so they would not work.
        for label, r in self.html_responses():
            with self.subTest(response=label):
                for tag in re.findall(r"<script\b[^>]*>", r.text, re.I):
                    self.assertRegex(tag, r"\bsrc=", "inline script in %s" % label)
                self.assertNotRegex(r.text, r"<[a-zA-Z][^>]*\son[a-z]+\s*=", "event handler attribute")
                self.assertNotRegex(r.text, r"<[a-zA-Z][^>]*\sstyle\s*=", "inline style attribute")
                self.assertNotRegex(r.text, r"(?i)<style\b", "inline <style> element")

    def test_user_text_is_html_escaped(self):
        evil = '<script>alert(1)</script>"\'&'
        user_id, initial = self.add_user("mhlw", name="試験" + evil)
        c = self.client()
        self.assertRedirect(c.login(user_id, initial), "/account/password")
        r = c.get("/account/password")
        self.assertStatus(r, 200)
        self.assertNotIn("<script>alert(1)", r.text)
        self.assertIn("試験&lt;script&gt;alert(1)&lt;/script&gt;", r.text)
        self.assertIn("試験" + evil, visible_text(r.text))
        # a reflected user ID on the login form is escaped inside its attribute
        anon = self.client()
        token = anon.page_csrf("/login")
        r = anon.post("/login", {"user_id": '"><script>alert(2)</script>', "password": "x" * 12,
                                 "csrf": token})
        self.assertIn(r.status, (400, 401), r)
        self.assertNotIn("<script>alert(2)", r.text)
        self.assertNotIn('"><script', r.text)

    def test_session_cookie_is_httponly_and_samesite_strict(self):
        user_id, initial = self.add_user("mhlw")
        c = self.client()
        r = c.get("/login")
        cookies = r.header_all("Set-Cookie")
        r = c.login(user_id, initial)
        self.assertRedirect(r, "/account/password")
        login_cookies = r.header_all("Set-Cookie")
        self.assertTrue(login_cookies, "login set no session cookie")
        for cookie in cookies + login_cookies:
            with self.subTest(cookie=cookie.split("=", 1)[0]):
                attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
                self.assertIn("httponly", attrs, cookie)
                self.assertIn("samesite=strict", attrs, cookie)
                self.assertIn("path=/", attrs, cookie)


class LoginTests:
    """Login with the initial password, the forced first change, CSRF and generic failures."""

    def test_login_with_initial_password_forces_password_change(self):
        user_id, initial = self.add_user("mhlw")
        c = self.client()
        self.assertRedirect(c.login(user_id, initial), "/account/password")
        self.assertRedirect(c.get("/"), "/account/password")
        self.assertRedirect(c.get("/audit"), "/account/password")
        r = c.get("/account/password")
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        self.assertIn("初回ログイン", visible_text(r.text))
        for field in ("current_password", "new_password", "new_password_confirm", "csrf"):
            self.assertIn('name="%s"' % field, r.text)

    def test_user_id_is_case_insensitive_at_login(self):
        user_id, initial = self.add_user("mhlw")
        c = self.client()
        self.assertRedirect(c.login(user_id.lower(), initial), "/account/password")
        self.assertStatus(c.get("/account/password"), 200)

    def test_login_page_when_logged_in_goes_to_menu(self):
        c, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD)
        self.assertRedirect(c.get("/login"), "/")

    def test_login_without_csrf_is_403(self):
        user_id, initial = self.add_user("mhlw")
        c = self.client()
        c.get("/login")
        r = c.post("/login", {"user_id": user_id, "password": initial})
        self.assertStatus(r, 403)
        self.assertJapanesePage(r)
        self.assertRedirect(c.get("/"), "/login")  # no session was created

    def test_login_with_wrong_csrf_is_403(self):
        user_id, initial = self.add_user("mhlw")
        c = self.client()
        token = c.page_csrf("/login")
        r = c.post("/login", {"user_id": user_id, "password": initial, "csrf": flip_last_hex(token)})
        self.assertStatus(r, 403)
        r = c.post("/login", {"user_id": user_id, "password": initial, "csrf": ""})
        self.assertStatus(r, 403)
        self.assertRedirect(c.get("/"), "/login")

    def test_login_with_csrf_of_another_browser_is_403(self):
        user_id, initial = self.add_user("mhlw")
        other = self.client()
        token = other.page_csrf("/login")
        c = self.client()
        c.get("/login")
        r = c.post("/login", {"user_id": user_id, "password": initial, "csrf": token})
        self.assertStatus(r, 403)
        # without any cookie at all the token is worthless too
        r = self.client().post("/login", {"user_id": user_id, "password": initial, "csrf": token})
        self.assertStatus(r, 403)

    def test_wrong_password_and_unknown_user_get_the_same_answer(self):
        user_id, _ = self.add_user("mhlw")
        wrong = "wrong password 31415"
        self.remember(wrong)
        unknown = unknown_user_id()
        r1 = self.client().login(user_id, wrong)
        r2 = self.client().login(unknown, wrong)
        self.assertStatus(r1, 401)
        self.assertStatus(r2, 401)
        t1 = visible_text(r1.text).replace(user_id, "")
        t2 = visible_text(r2.text).replace(unknown, "")
        self.assertIn(LOGIN_FAILED, t1)
        self.assertIn(LOGIN_FAILED, t2)
        self.assertEqual(t1, t2)
        self.assertNotIn(wrong, r1.text)  # the password typed is not sent back
        self.assertEqual(set_cookie_names(r1), set_cookie_names(r2))

    def test_empty_login_form_is_400_with_field_errors(self):
        c = self.client()
        token = c.page_csrf("/login")
        r = c.post("/login", {"user_id": "", "password": "", "csrf": token})
        self.assertStatus(r, 400)
        self.assertTrue(JAPANESE.search(field_error(r.text, "user_id") or ""), r)
        self.assertTrue(JAPANESE.search(field_error(r.text, "password") or ""), r)

    def test_forged_session_cookie_redirects_to_login(self):
        c, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD)
        self.assertStatus(c.get("/"), 200)
        session_names = [n for n in c.cookie_names()]
        self.assertTrue(session_names)
        forged = self.client()
        for value in [random_session_token(), "x" * 43, "", "%00", "A" * 5000]:
            cookie = "; ".join("%s=%s" % (n, value) for n in session_names)
            with self.subTest(value=value[:20]):
                self.assertRedirect(forged.get("/", cookie=cookie), "/login")


class PasswordChangeTests:
    """自アカウント管理: the policy, the confirmation, CSRF, and what a change does."""

    def test_wrong_current_password_is_400_and_nothing_is_stored(self):
        c, user_id, initial = self.logged_in("mhlw")
        wrong = "not the initial one"
        self.remember(wrong)
        r = c.change_password(wrong, GOOD_PASSWORD)
        self.assertStatus(r, 400)
        self.assertJapanesePage(r)
        self.assertTrue(JAPANESE.search(field_error(r.text, "current_password") or ""), r)
        self.assertNotIn(GOOD_PASSWORD, r.text)
        self.assertNotIn(wrong, r.text)
        self.assertRedirect(c.get("/"), "/account/password")  # still forced
        # the password did not change: the initial one still works, the new one does not
        self.assertRedirect(self.client().login(user_id, initial), "/account/password")
        self.assertStatus(self.client().login(user_id, GOOD_PASSWORD), 401)

    def test_common_password_is_refused_with_japanese_reason(self):
        c, _, initial = self.logged_in("mhlw")
        for weak in ("password1234", "iloveyou2026", "short"):
            with self.subTest(password=weak):
                r = c.change_password(initial, weak)
                self.assertStatus(r, 400)
                reason = field_error(r.text, "new_password")
                self.assertTrue(reason and JAPANESE.search(reason), r)
                self.assertNotIn('value="%s"' % weak, r.text)
        self.assertRedirect(c.get("/"), "/account/password")

    def test_password_equal_to_user_id_is_refused(self):
        c, user_id, initial = self.logged_in("mhlw")
        r = c.change_password(initial, user_id + "abc")
        self.assertStatus(r, 400)
        self.assertTrue(JAPANESE.search(field_error(r.text, "new_password") or ""), r)

    def test_mismatched_confirmation_is_refused(self):
        c, _, initial = self.logged_in("mhlw")
        r = c.change_password(initial, GOOD_PASSWORD, confirm=GOOD_PASSWORD + "!")
        self.assertStatus(r, 400)
        self.assertTrue(JAPANESE.search(field_error(r.text, "new_password_confirm") or ""), r)
        self.assertNotIn(GOOD_PASSWORD, r.text)
        self.assertRedirect(c.get("/"), "/account/password")

    def test_good_password_opens_the_mhlw_menu(self):
        c, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD)
        r = c.get("/")
        self.assertStatus(r, 200)
        text = visible_text(r.text)
        self.assertIn("メニュー", text)
        for name in MHLW_MENU:
            self.assertIn(name, text)
        self.assertNotIn("自治体ユーザ新規登録", text)

    def test_good_password_opens_the_muni_admin_menu(self):
        c, _, _ = self.logged_in("muni_admin", new_password=GOOD_PASSWORD_2, name="千代田 花子")
        r = c.get("/")
        self.assertStatus(r, 200)
        text = visible_text(r.text)
        self.assertIn("メニュー", text)
        for name in MUNI_ADMIN_MENU:
            self.assertIn(name, text)
        self.assertNotIn("監査ログ", text)
        self.assertNotIn("管理者権限のユーザID申請リスト", text)

    def test_after_change_only_the_new_password_logs_in(self):
        user_id, initial = self.add_user("mhlw")
        c = self.client()
        self.assertRedirect(c.login(user_id, initial), "/account/password")
        self.assertRedirect(c.change_password(initial, GOOD_PASSWORD_2), "/?done=password")
        r = self.client().login(user_id, initial)
        self.assertStatus(r, 401)
        self.assertIn(LOGIN_FAILED, visible_text(r.text))
        fresh = self.client()
        self.assertRedirect(fresh.login(user_id, GOOD_PASSWORD_2), "/")
        self.assertStatus(fresh.get("/"), 200)
        # the session that made the change goes on working
        self.assertStatus(c.get("/"), 200)

    def test_change_ends_the_users_other_sessions(self):
        user_id, initial = self.add_user("mhlw")
        a, b = self.client(), self.client()
        self.assertRedirect(a.login(user_id, initial), "/account/password")
        self.assertRedirect(b.login(user_id, initial), "/account/password")
        self.assertRedirect(a.change_password(initial, GOOD_PASSWORD), "/?done=password")
        self.assertRedirect(b.get("/account/password"), "/login")
        self.assertStatus(a.get("/"), 200)

    def test_password_change_without_csrf_is_403(self):
        c, _, initial = self.logged_in("mhlw")
        r = c.post("/account/password", {"current_password": initial, "new_password": GOOD_PASSWORD,
                                         "new_password_confirm": GOOD_PASSWORD})
        self.assertStatus(r, 403)
        self.assertRedirect(c.get("/"), "/account/password")  # nothing changed

    def test_password_change_with_csrf_of_another_session_is_403(self):
        victim, _, initial = self.logged_in("mhlw")
        attacker, _, _ = self.logged_in("mhlw")
        attacker_token = attacker.page_csrf("/account/password")
        victim_token = victim.page_csrf("/account/password")
        self.assertNotEqual(attacker_token, victim_token)
        r = victim.change_password(initial, GOOD_PASSWORD, csrf=attacker_token)
        self.assertStatus(r, 403)
        # the anonymous login-form token does not open it either
        r = victim.change_password(initial, GOOD_PASSWORD, csrf=self.client().page_csrf("/login"))
        self.assertStatus(r, 403)
        self.assertRedirect(victim.get("/"), "/account/password")


class ConcurrencyTests:
    """The thread pool and the database under parallel logins and password changes."""

    def test_parallel_logins_and_password_changes_all_succeed(self):
        import threading
        users = [self.add_user("mhlw", name="並行 %d" % i) for i in range(8)]
        results = {}

        def run(i, user_id, initial):
            try:
                c = self.client()
                a = c.login(user_id, initial)
                b = c.change_password(initial, GOOD_PASSWORD) if a.status == 303 else None
                m = c.get("/") if b is not None and b.status == 303 else None
                results[i] = (a.status, b and b.status, m and m.status)
            except Exception as e:  # reported below, in the test's thread
                results[i] = repr(e)

        threads = [threading.Thread(target=run, args=(i, u, p)) for i, (u, p) in enumerate(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(results, {i: (303, 303, 200) for i in range(len(users))})
        for user_id, _ in users:
            self.assertRedirect(self.client().login(user_id, GOOD_PASSWORD), "/")


class LockoutTests:
    """Five failures in a row lock the account (15 minutes; not waited for here)."""

    def test_sixth_attempt_with_correct_password_fails_after_five_wrong_ones(self):
        user_id, initial = self.add_user("mhlw")
        bystander_id, bystander_pw = self.add_user("mhlw", name="別の 利用者")
        c = self.client()
        for i in range(5):
            wrong = "wrong password %d" % i
            self.remember(wrong)
            r = c.login(user_id, wrong)
            self.assertStatus(r, 401)
            self.assertIn(LOGIN_FAILED, visible_text(r.text))
        r = c.login(user_id, initial)
        self.assertStatus(r, 401)
        self.assertIn(LOGIN_FAILED, visible_text(r.text))
        # same answer as for an unknown user
        unknown = unknown_user_id()
        r2 = self.client().login(unknown, initial)
        self.assertEqual(visible_text(r.text).replace(user_id, ""),
                         visible_text(r2.text).replace(unknown, ""))
        self.assertRedirect(c.get("/"), "/login")
        rows = self.audit()
        lockouts = [row for row in rows if row["action"] == "lockout" and row["target"] == user_id]
        self.assertEqual(len(lockouts), 1, json.dumps(rows, ensure_ascii=False, indent=1))
        # the lock is per account
        self.assertRedirect(self.client().login(bystander_id, bystander_pw), "/account/password")

    def test_parallel_guesses_check_at_most_five_passwords(self):
        """Issue 14: the lockout is checked and counted in one step before the password is
        checked, so 30 guesses in parallel check 5 passwords and every other is refused unchecked
        (before, 60 parallel guesses on 4 threads checked 8)."""
        import threading
        user_id, initial = self.add_user("mhlw", name="並行 推測")
        statuses = []

        def guess(i):
            wrong = "parallel wrong %d" % i
            statuses.append(self.client().login(user_id, wrong).status)

        for i in range(30):
            self.remember("parallel wrong %d" % i)
        threads = [threading.Thread(target=guess, args=(i,)) for i in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(statuses, [401] * 30)
        rows = [r for r in self.audit() if r["action"] == "login" and r["target"] == user_id]
        checked = [r for r in rows if r["detail"] == "password"]
        self.assertEqual(len(checked), 5, json.dumps(rows, ensure_ascii=False, indent=1))
        self.assertEqual(len(rows), 30)
        self.assertStatus(self.client().login(user_id, initial), 401)

    def test_a_success_resets_the_failure_count(self):
        user_id, initial = self.add_user("mhlw")
        for i in range(4):
            wrong = "wrong password %d" % i
            self.remember(wrong)
            self.assertStatus(self.client().login(user_id, wrong), 401)
        self.assertRedirect(self.client().login(user_id, initial), "/account/password")
        for i in range(4):
            self.assertStatus(self.client().login(user_id, "wrong password %d" % i), 401)
        self.assertRedirect(self.client().login(user_id, initial), "/account/password")


class LogoutTests:
    """ログアウト ends the session on the server."""

    def test_logout_ends_the_session(self):
        c, user_id, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD)
        self.assertStatus(c.get("/"), 200)
        old_cookies = c.cookie_header()
        token = c.page_csrf("/")
        r = c.post("/logout", {"csrf": token})
        self.assertRedirect(r, "/login?reason=logout")
        r = c.get("/login?reason=logout")
        self.assertStatus(r, 200)
        self.assertIn("ログアウトしました", visible_text(r.text))
        self.assertRedirect(c.get("/"), "/login")
        # replaying the old cookie (as a thief would) does not work either
        self.assertRedirect(self.client().get("/", cookie=old_cookies), "/login")
        rows = self.audit()
        self.assertTrue(any(row["action"] == "logout" and row["target"] == user_id and
                            row["result"] == "ok" for row in rows), rows)

    def test_logout_during_forced_change_works(self):
        c, _, _ = self.logged_in("mhlw")
        self.assertRedirect(c.logout(), "/login?reason=logout")
        self.assertRedirect(c.get("/account/password"), "/login")

    def test_logout_without_csrf_is_403(self):
        c, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD)
        r = c.post("/logout", {})
        self.assertStatus(r, 403)
        self.assertStatus(c.get("/"), 200)  # still logged in
        r = c.post("/logout", {"csrf": flip_last_hex(c.page_csrf("/"))})
        self.assertStatus(r, 403)
        self.assertStatus(c.get("/"), 200)


class RoleTests:
    """Authorisation from the route table."""

    def test_muni_admin_cannot_open_audit_log(self):
        c, _, _ = self.logged_in("muni_admin", new_password=GOOD_PASSWORD, name="千代田 花子")
        r = c.get("/audit")
        self.assertStatus(r, 403)
        self.assertJapanesePage(r)
        self.assertNotIn("<table", r.text)

    def test_mhlw_sees_audit_log_with_login_records(self):
        c, user_id, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD)
        r = c.get("/audit")
        self.assertStatus(r, 200)
        text = visible_text(r.text)
        self.assertIn("監査ログ", text)
        self.assertIn(user_id, text)
        self.assertIn("login", text)
        self.assertIn("password_change", text)


class AuditTests:
    """Audit records of logins, failures and password changes, without any password."""

    def test_login_failure_and_password_change_are_audited_without_passwords(self):
        user_id, initial = self.add_user("mhlw")
        wrong = "Wrong-Pass-" + secrets.token_hex(4)
        self.remember(wrong)
        self.assertStatus(self.client().login(user_id, wrong), 401)
        # a password typed into the user-ID field must not reach the log either
        self.assertStatus(self.client().login(wrong, wrong), 401)
        c = self.client()
        self.assertRedirect(c.login(user_id, initial), "/account/password")
        self.assertStatus(c.change_password("bad current " + wrong, GOOD_PASSWORD), 400)
        self.assertRedirect(c.change_password(initial, GOOD_PASSWORD), "/?done=password")
        rows = self.audit()
        for row in rows:
            self.assertTrue({"id", "at", "actor", "ip", "action", "target", "result",
                             "detail"} <= set(row), row)
        mine = [r for r in rows if r["target"] == user_id]

        def has(action, result):
            return any(r["action"] == action and r["result"] == result for r in mine)

        dump = json.dumps(rows, ensure_ascii=False, indent=1)
        self.assertTrue(has("user_create", "ok"), dump)
        self.assertTrue(has("login", "ok"), dump)
        self.assertTrue(has("login", "failed"), dump)
        self.assertTrue(has("password_change", "ok"), dump)
        ok = next(r for r in mine if r["action"] == "login" and r["result"] == "ok")
        self.assertEqual(ok["actor"], user_id)
        self.assertEqual(ok["ip"], "127.0.0.1")
        self.assertIsInstance(ok["at"], int)
        self.assertNoSecrets(dump, "the audit log")
        self.assertNoSecrets(self.server.stderr(), "the server log (stderr)")
        self.assertNoSecrets(self.server.stdout(), "the server stdout")
        text = self.cli("audit").stdout
        self.assertNoSecrets(text, "nsdb audit")

    def test_forwarded_for_header_is_not_trusted_by_default(self):
        user_id, initial = self.add_user("mhlw")
        c = self.client()
        token = c.page_csrf("/login")
        r = c.post("/login", {"user_id": user_id, "password": initial, "csrf": token},
                   headers={"X-Forwarded-For": "203.0.113.9"})
        self.assertRedirect(r, "/account/password")
        rows = [row for row in self.audit() if row["action"] == "login" and row["target"] == user_id]
        self.assertTrue(rows)
        self.assertEqual(rows[0]["ip"], "127.0.0.1")

    def test_audit_ids_increase_and_newest_first(self):
        self.add_user("mhlw")
        rows = self.audit()
        ids = [r["id"] for r in rows]
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertEqual(len(set(ids)), len(ids))


class LimitTests:
    """Request size limits."""

    def test_oversized_login_body_is_413(self):
        c = self.client()
        token = c.page_csrf("/login")
        body = ("csrf=%s&user_id=X&password=%s" % (token, "a" * 200 * 1024)).encode("ascii")
        try:
            r = c.post("/login", body)
        except (ConnectionError, OSError) as e:
            self.fail("POST /login with a 200 KB body, expected 413: %s" % e)
        self.assertStatus(r, 413)
        self.assertStatus(self.client().get("/healthz"), 200)

    def test_oversized_chunked_login_body_is_413(self):
        # no Content-Length: the limit must hold while the body streams in, and still answer
        c = self.client()
        c.page_csrf("/login")

        def chunks():
            for _ in range(200):
                yield b"a" * 1024

        try:
            r = c.post("/login", chunks())
        except (ConnectionError, OSError) as e:
            self.fail("POST /login with a 200 KB chunked body, expected 413: %s" % e)
        self.assertStatus(r, 413)
        self.assertStatus(self.client().get("/healthz"), 200)

    def test_oversized_request_header_is_refused_and_server_survives(self):
        c = self.client()
        try:
            r = c.get("/login", headers={"X-Padding": "a" * 100 * 1024})
            self.assertIn(r.status, (413, 431), r)
        except (ConnectionError, OSError):
            pass  # closing the connection is an acceptable answer too
        self.assertStatus(self.client().get("/healthz"), 200)

    def test_form_within_limit_is_accepted(self):
        c = self.client()
        token = c.page_csrf("/login")
        r = c.post("/login", {"csrf": token, "user_id": unknown_user_id(), "password": "p" * 1000})
        self.assertStatus(r, 401)


class CliTests:
    """The command line: exit codes and messages of SPEC §4."""

    def test_muni_admin_without_municipality_exits_1_with_japanese_message(self):
        r = self.cli("user", "add", "--role", "muni_admin", "--name", "X")
        self.assertEqual(r.code, 1, r)
        self.assertTrue(JAPANESE.search(r.stderr), r)
        self.assertEqual(r.stdout, "")

    def test_unknown_municipality_exits_1(self):
        r = self.cli("user", "add", "--role", "muni_admin", "--name", "X", "--municipality", "011002")
        self.assertEqual(r.code, 1, r)
        self.assertTrue(JAPANESE.search(r.stderr), r)

    def test_unknown_role_exits_1(self):
        r = self.cli("user", "add", "--role", "emperor", "--name", "X")
        self.assertEqual(r.code, 1, r)
        self.assertTrue(JAPANESE.search(r.stderr), r)

    def test_unknown_verb_exits_2(self):
        r = self.cli("frobnicate", data=False)
        self.assertEqual(r.code, 2, r)
        self.assertTrue(r.stderr.strip(), r)

    def test_unknown_option_exits_2(self):
        r = self.cli("version", "--no-such-option", data=False)
        self.assertEqual(r.code, 2, r)

    def test_no_verb_exits_2(self):
        r = self.cli(data=False)
        self.assertEqual(r.code, 2, r)

    def test_municipality_with_wrong_check_digit_exits_1(self):
        r = self.cli("municipality", "add", "--code", "131017", "--name", "千代田区",
                     "--postal", "100-8511", "--address", "東京都千代田区九段南1-2-1")
        self.assertEqual(r.code, 1, r)
        self.assertTrue(JAPANESE.search(r.stderr), r)

    def test_municipality_add_and_duplicate(self):
        self.ensure_municipality()
        code, name, postal, address = self.MUNICIPALITY
        r = self.cli("municipality", "add", "--code", code, "--name", name,
                     "--postal", postal, "--address", address)
        self.assertEqual(r.code, 1, r)
        self.assertTrue(JAPANESE.search(r.stderr), r)

    def test_muni_admin_with_municipality_is_created(self):
        user_id, _ = self.add_user("muni_admin", name="千代田 花子")
        self.assertRegex(user_id, r"^[A-Z0-9]{12}$")

    def test_user_add_prints_id_and_password_without_json(self):
        r = self.cli("user", "add", "--role", "operator", "--name", "運用 一郎")
        self.assertEqual(r.code, 0, r)
        m = re.search(r"\b([2-9A-Z]{12})\b[\s\S]*\b([2-9A-Z]{12})\b", r.stdout)
        self.assertTrue(m, r)
        self.secrets.add(m.group(2))

    def test_every_verb_has_help_exit_0(self):
        r = self.cli("--help", data=False)
        self.assertEqual(r.code, 0, r)
        verbs = set()
        for line in r.stdout.splitlines():
            m = re.match(r"\s+nsdb\s+(.*)", line)
            if not m:
                continue
            words = []
            for word in m.group(1).split():
                if not re.fullmatch(r"[a-z][a-z-]*", word):
                    break
                words.append(word)
            if words:
                verbs.add(" ".join(words))
        self.assertTrue({"serve", "user add", "municipality add", "migrate", "backup", "version",
                         "audit"} <= verbs, verbs)
        for verb in sorted(verbs):
            with self.subTest(verb=verb):
                h = self.cli(*(verb.split() + ["--help"]), data=False)
                self.assertEqual(h.code, 0, h)
                self.assertIn("nsdb", h.stdout, h)

    def test_backup_is_a_readable_sqlite_database(self):
        self.skip_on_postgresql("nsdb backup copies the SQLite file (see the pg_dump test)")
        self.add_user("mhlw")
        self.add_user("operator", name="運用 一郎")
        with tempfile.TemporaryDirectory() as tmp:
            target = os.path.join(tmp, "backup.sqlite3")
            r = self.cli("backup", target)
            self.assertEqual(r.code, 0, r)
            self.assertTrue(os.path.isfile(target))
            db = sqlite3.connect("file:%s?mode=ro" % target, uri=True)
            try:
                backed_up = db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            finally:
                db.close()
            self.assertGreaterEqual(backed_up, 2)
            live = sqlite3.connect("file:%s?mode=ro" % self.database_file(), uri=True)
            try:
                self.assertEqual(backed_up, live.execute("SELECT COUNT(*) FROM users").fetchone()[0])
            finally:
                live.close()
            # an existing file is never overwritten
            r = self.cli("backup", target)
            self.assertEqual(r.code, 1, r)

    def test_backup_on_postgresql_points_to_pg_dump(self):
        if self.pg is None:
            self.skipTest("SQLite: nsdb backup works (see the test above)")
        with tempfile.TemporaryDirectory() as tmp:
            target = os.path.join(tmp, "backup.sqlite3")
            r = self.cli("backup", target)
            self.assertEqual(r.code, 1, r)
            self.assertIn("pg_dump", r.stderr, r)
            self.assertFalse(os.path.exists(target))

    def test_version_exits_0(self):
        r = self.cli("version", data=False)
        self.assertEqual(r.code, 0, r)
        self.assertIn("nsdb", r.stdout)

    def test_migrate_is_idempotent(self):
        for _ in range(2):
            r = self.cli("migrate")
            self.assertEqual(r.code, 0, r)

    def test_audit_lists_cli_user_creation(self):
        user_id, _ = self.add_user("mhlw")
        rows = self.audit()
        self.assertTrue(any(r["action"] == "user_create" and r["target"] == user_id
                            and r["actor"] == "cli" for r in rows), rows)
        r = self.cli("audit")
        self.assertEqual(r.code, 0, r)
        self.assertIn(user_id, r.stdout)

    def test_initial_password_is_not_stored_in_clear(self):
        self.skip_on_postgresql("the database is not a file in the data folder")
        user_id, initial = self.add_user("mhlw")
        self.assertTrue(self.database_file())
        for folder, _, names in os.walk(self.data_dir):  # tmp/ (spooled uploads) included
            for name in names:
                with open(os.path.join(folder, name), "rb") as f:
                    self.assertNotIn(initial.encode(), f.read(), name)
        mode = os.stat(os.path.join(self.data_dir, "secret.key")).st_mode & 0o777
        self.assertEqual(mode, 0o600)


for_each_binary(globals(), OperationalEndpoints, SecurityHeaders, LoginTests, PasswordChangeTests,
                ConcurrencyTests, LockoutTests, LogoutTests, RoleTests, AuditTests, LimitTests, CliTests)
