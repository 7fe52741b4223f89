/*
 * test_core_totp.c — the two-factor operations of core/ (src/core/totp.c, the second step of
 * core/sessions.c's login, core_user_totp_reset) on a real SQLite database in a temporary data
 * folder: enrolment needs a valid code; a right password opens only a half-authenticated session
 * that core_session_resume does not accept; a code completes the login once; a wrong code whose
 * count cannot be written fails closed (the fault hook of store/db_fault.h); wrong codes lock
 * like wrong passwords; a recovery code works once; the reset removes the enrolment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/registry.h"
#include "core/sessions.h"
#include "core/totp.h"
#include "core/users.h"
#include "store/db_fault.h"
#include "store/store.h"

#include "both_backends.h"
#include "test_support.h"
#include "core_fixture.h"

static int setup_with(void **state, const char *url)
{
    struct fixture *f = core_fixture_open(url, "nsdb-test-totp");
    nsdb_problem pb = {0};
    assert_int_equal(core_municipality_add(&f->cli, "131016", "千代田区", "100-8601",
                                           "東京都千代田区九段南1-2-1", &pb),
                     NSDB_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    return core_fixture_close(state);
}

static core_ctx as_user(struct fixture *f, const store_user *u)
{
    core_ctx c = f->cli;
    c.who = (core_actor){.user_pk = u ? u->pk : 0,
                         .user_id = u ? u->user_id : NULL,
                         .municipality_pk = u ? u->municipality_pk : 0,
                         .client_ip = "127.0.0.1",
                         .now = f->cli.who.now};
    return c;
}

static store_user *reload(struct fixture *f, int64_t pk)
{
    store_user *u = NULL;
    assert_int_equal(store_user_find_by_pk(f->cli.conn, f->arena, pk, &u), NSDB_OK);
    return u;
}

typedef struct enrolled {
    accounts_issued issued;
    store_user *user;
    unsigned char secret[TOTP_SECRET_BYTES];
    core_recovery_codes codes;
} enrolled;

static void code_at(const enrolled *e, int64_t step, char out[TOTP_DIGITS + 1])
{
    assert_int_equal(totp_code_at(e->secret, sizeof e->secret, step, TOTP_DIGITS, out), NSDB_OK);
}

/* A municipal admin enrolled with the code of the current step. */
static void enrol(struct fixture *f, enrolled *e)
{
    user_add_input in = {.role = "muni_admin",
                         .name = "千代田 管理",
                         .name_kana = "チヨダ カンリ",
                         .email = "kanri@example.lg.jp",
                         .category = "nanbyo",
                         .municipality_code = "131016"};
    nsdb_problem pb = {0};
    assert_int_equal(core_user_add(&f->cli, &in, &e->issued, &pb), NSDB_OK);
    e->user = reload(f, e->issued.pk);
    core_ctx c = as_user(f, e->user);
    core_totp_enrolment en;
    assert_int_equal(core_totp_enrol_start(&c, e->user, &en, &pb), NSDB_OK);
    assert_non_null(strstr(en.uri, en.secret_base32));
    assert_true(totp_secret_from_base32(en.secret_base32, e->secret));
    char code[TOTP_DIGITS + 1];
    code_at(e, totp_step_at(c.who.now), code);
    assert_int_equal(core_totp_enrol_confirm(&c, e->user, code, &e->codes, &pb), NSDB_OK);
    e->user = reload(f, e->issued.pk);
    assert_true(e->user->totp_enrolled_at != 0);
}

/* The password step: a pending session. */
static void password_step(struct fixture *f, const enrolled *e, core_session *s)
{
    core_ctx anon = as_user(f, NULL);
    store_user *u = NULL;
    bool locked = false;
    nsdb_problem pb = {0};
    assert_int_equal(core_login(&anon, e->issued.user_id, e->issued.initial_password, &u, s,
                                &locked, &pb),
                     NSDB_OK);
}

static void enrolment_needs_a_valid_code(void **state)
{
    struct fixture *f = *state;
    enrolled e;
    enrol(f, &e);
    /* once enrolled, no second pending secret */
    core_ctx c = as_user(f, e.user);
    core_totp_enrolment en;
    nsdb_problem pb = {0};
    assert_int_equal(core_totp_enrol_start(&c, e.user, &en, &pb), NSDB_ERR_CONFLICT);
    /* a wrong code enrols nobody */
    assert_int_equal(core_user_totp_reset(&f->cli, e.user, &pb), NSDB_OK);
    e.user = reload(f, e.issued.pk);
    assert_int_equal(e.user->totp_enrolled_at, 0);
    assert_int_equal(core_totp_enrol_start(&c, e.user, &en, &pb), NSDB_OK);
    core_recovery_codes codes;
    assert_int_equal(core_totp_enrol_confirm(&c, e.user, "000000", &codes, &pb), NSDB_ERR_INVALID);
    assert_string_equal(pb.field, "code");
    assert_int_equal(core_totp_enrol_confirm(&c, e.user, "", &codes, &pb), NSDB_ERR_INVALID);
    assert_int_equal(reload(f, e.issued.pk)->totp_enrolled_at, 0);
    /* the reset removes a pending secret too; then there is nothing to reset */
    assert_int_equal(core_user_totp_reset(&f->cli, e.user, &pb), NSDB_OK);
    assert_int_equal(core_user_totp_reset(&f->cli, e.user, &pb), NSDB_ERR_CONFLICT);
}

static void a_code_completes_the_login_once(void **state)
{
    struct fixture *f = *state;
    enrolled e;
    enrol(f, &e);
    core_session pending;
    password_step(f, &e, &pending);
    core_ctx anon = as_user(f, NULL);
    store_user *back = NULL;
    bool is_pending = false;
    assert_int_equal(core_session_resume(&anon, pending.hash, &back), NSDB_ERR_NOT_FOUND);
    assert_int_equal(core_session_resume_any(&anon, pending.hash, &back, &is_pending), NSDB_OK);
    assert_true(is_pending);

    core_ctx c = as_user(f, e.user);
    char code[TOTP_DIGITS + 1];
    code_at(&e, totp_step_at(c.who.now) + 1, code);
    core_session full;
    bool locked = false;
    nsdb_problem pb = {0};
    assert_int_equal(core_login_totp(&c, e.user, pending.hash, code, &full, &locked, &pb), NSDB_OK);
    assert_int_equal(core_session_resume(&anon, full.hash, &back), NSDB_OK);
    assert_int_equal(core_session_resume_any(&anon, pending.hash, &back, &is_pending),
                     NSDB_ERR_NOT_FOUND); /* the pending session was replaced */

    /* the same code again, and the enrolment's code (an earlier step): refused */
    password_step(f, &e, &pending);
    assert_int_equal(core_login_totp(&c, e.user, pending.hash, code, &full, &locked, &pb),
                     NSDB_ERR_AUTH);
    code_at(&e, totp_step_at(c.who.now), code);
    assert_int_equal(core_login_totp(&c, e.user, pending.hash, code, &full, &locked, &pb),
                     NSDB_ERR_AUTH);
    assert_false(locked);
    assert_int_equal(reload(f, e.issued.pk)->failed_logins, 2);
}

/* A wrong code whose count or audit record cannot be written is a failure, never a plain
   refusal; the try stays spent. */
static void an_uncounted_wrong_code_fails_closed(void **state)
{
    struct fixture *f = *state;
    enrolled e;
    enrol(f, &e);
    core_session pending, full;
    password_step(f, &e, &pending);
    core_ctx c = as_user(f, e.user);
    bool locked = false;
    nsdb_problem pb = {0};
    db_fault_inject(1); /* the try's reservation */
    assert_int_equal(core_login_totp(&c, e.user, pending.hash, "000000", &full, &locked, &pb),
                     NSDB_ERR_DB);
    assert_int_equal(reload(f, e.issued.pk)->failed_logins, 0);
    db_fault_inject(3); /* reservation, lock check, then the audit record */
    assert_int_equal(core_login_totp(&c, e.user, pending.hash, "000000", &full, &locked, &pb),
                     NSDB_ERR_DB);
    assert_int_equal(reload(f, e.issued.pk)->failed_logins, 1);
}

static void wrong_codes_lock_like_wrong_passwords(void **state)
{
    struct fixture *f = *state;
    enrolled e;
    enrol(f, &e);
    core_ctx anon = as_user(f, NULL);
    store_user *u = NULL;
    core_session pending, full;
    bool locked = false;
    nsdb_problem pb = {0};
    /* two wrong passwords, then the right one: the password does not reset the count */
    for (int i = 0; i < 2; i++)
        assert_int_equal(core_login(&anon, e.issued.user_id, "wrong-password", &u, &pending,
                                    &locked, &pb),
                         NSDB_ERR_AUTH);
    password_step(f, &e, &pending);
    assert_int_equal(reload(f, e.issued.pk)->failed_logins, 2);
    core_ctx c = as_user(f, e.user);
    for (int i = 0; i < 3; i++) {
        assert_false(locked);
        assert_int_equal(core_login_totp(&c, e.user, pending.hash, "000000", &full, &locked, &pb),
                         NSDB_ERR_AUTH);
    }
    assert_true(locked);
    store_user *back = NULL;
    bool is_pending = false;
    assert_int_equal(core_session_resume_any(&anon, pending.hash, &back, &is_pending),
                     NSDB_ERR_NOT_FOUND); /* the lockout ended the session */
    assert_true(reload(f, e.issued.pk)->locked_until > c.who.now);
}

static void a_recovery_code_works_once(void **state)
{
    struct fixture *f = *state;
    enrolled e;
    enrol(f, &e);
    core_session pending, full;
    password_step(f, &e, &pending);
    core_ctx c = as_user(f, e.user);
    bool locked = false;
    nsdb_problem pb = {0};
    assert_int_equal(core_login_totp(&c, e.user, pending.hash, e.codes.code[3], &full, &locked,
                                     &pb),
                     NSDB_OK);
    int64_t left = 0;
    assert_int_equal(core_totp_recovery_codes_left(&c, e.user, &left), NSDB_OK);
    assert_int_equal(left, TOTP_RECOVERY_CODES - 1);
    password_step(f, &e, &pending);
    assert_int_equal(core_login_totp(&c, e.user, pending.hash, e.codes.code[3], &full, &locked,
                                     &pb),
                     NSDB_ERR_AUTH);
    assert_int_equal(core_login_totp(&c, e.user, pending.hash, "ABCDE-FGHJK", &full, &locked, &pb),
                     NSDB_ERR_AUTH);
    /* after a reset, the password alone logs in (and the codes are gone) */
    assert_int_equal(core_user_totp_reset(&f->cli, e.user, &pb), NSDB_OK);
    e.user = reload(f, e.issued.pk);
    password_step(f, &e, &pending);
    core_ctx anon = as_user(f, NULL);
    store_user *back = NULL;
    assert_int_equal(core_session_resume(&anon, pending.hash, &back), NSDB_OK);
    assert_int_equal(core_totp_recovery_codes_left(&c, e.user, &left), NSDB_OK);
    assert_int_equal(left, 0);
}

static void nobody_resets_their_own_two_factor(void **state)
{
    struct fixture *f = *state;
    enrolled e;
    enrol(f, &e);
    core_ctx self = as_user(f, e.user);
    nsdb_problem pb = {0};
    assert_int_equal(core_user_totp_reset(&self, e.user, &pb), NSDB_ERR_CONFLICT);
    assert_true(reload(f, e.issued.pk)->totp_enrolled_at != 0);
    /* and a required role cannot turn it off */
    char code[TOTP_DIGITS + 1];
    code_at(&e, totp_step_at(self.who.now) + 1, code);
    assert_int_equal(core_totp_disable(&self, e.user, code, &pb), NSDB_ERR_FORBIDDEN);
}

/* A hash of an older cost is replaced at the password step of an enrolled user, where the
   password is known (the code step never sees it). */
static void the_password_step_rehashes_an_older_cost(void **state)
{
    struct fixture *f = *state;
    enrolled e;
    enrol(f, &e);
    core_ctx self = as_user(f, e.user);
    core_session s;
    nsdb_problem pb = {0};
    const char *chosen = "Kuma-2026-Hokkaido!";
    assert_int_equal(core_password_change(&self, e.user, e.issued.initial_password, chosen, &s,
                                          &pb),
                     NSDB_OK);
    const char *before = reload(f, e.issued.pk)->password_hash;
    assert_non_null(before);
    f->app.cfg.cost.opslimit += 1;
    core_ctx anon = as_user(f, NULL);
    store_user *u = NULL;
    bool locked = false;
    assert_int_equal(core_login(&anon, e.issued.user_id, chosen, &u, &s, &locked, &pb), NSDB_OK);
    const char *after = reload(f, e.issued.pk)->password_hash;
    assert_string_not_equal(before, after);
    assert_false(password_needs_rehash(after, f->app.cfg.cost));
    assert_true(password_verify(after, chosen));
    assert_int_equal(reload(f, e.issued.pk)->failed_logins, 0);
}

#define SQLITE(fn)                                                                                 \
    {                                                                                              \
#fn, fn, setup_sqlite, teardown, NULL                                                      \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        SQLITE(enrolment_needs_a_valid_code),
        SQLITE(a_code_completes_the_login_once),
        SQLITE(an_uncounted_wrong_code_fails_closed),
        SQLITE(wrong_codes_lock_like_wrong_passwords),
        SQLITE(a_recovery_code_works_once),
        SQLITE(nobody_resets_their_own_two_factor),
        SQLITE(the_password_step_rehashes_an_older_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
