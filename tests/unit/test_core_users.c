/*
 * test_core_users.c — the account operations of core/ (src/core/users.c, src/core/sessions.c)
 * on a real SQLite database in a temporary data folder: an account the command line adds is
 * found by name and kana like one the screen adds, and is refused what the screen refuses; a
 * failed login whose count cannot be written is reported as a storage failure, never dropped
 * (the fault hook of store/db_fault.h makes that write fail); a user cannot reset or suspend
 * themselves.
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
#include "core/registration.h"
#include "core/registry.h"
#include "core/sessions.h"
#include "core/users.h"
#include "domain/text.h"
#include "domain/fields.h"
#include "store/db_fault.h"
#include "store/store.h"

#include "both_backends.h"
#include "test_support.h"
#include "core_fixture.h"

static int setup_with(void **state, const char *url)
{
    struct fixture *f = core_fixture_open(url, "nsdb-test-core");
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

static int64_t search_count(struct fixture *f, const char *q)
{
    store_municipality *m = NULL;
    assert_int_equal(store_municipality_find_by_code(f->cli.conn, f->arena, "131016", &m), NSDB_OK);
    store_user_query query = {.municipality_pk = m->pk,
                              .municipal_roles = true,
                              .search_key = text_search_key(f->arena, q),
                              .limit = 10};
    store_user *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(store_user_search(f->cli.conn, f->arena, &query, &rows, &n, &total), NSDB_OK);
    return total;
}

static void cli_user_is_found_by_name_and_kana(void **state)
{
    struct fixture *f = *state;
    user_add_input in = {.role = "muni_staff",
                         .name = "鈴木　一郎",
                         .name_kana = "すずき いちろう",
                         .municipality_code = "131016",
                         .profile_optional = true};
    accounts_issued issued;
    nsdb_problem pb = {0};
    assert_int_equal(core_user_add(&f->cli, &in, &issued, &pb), NSDB_OK);
    assert_int_equal(search_count(f, "鈴木"), 1);
    assert_int_equal(search_count(f, "スズキ"), 1);
    assert_int_equal(search_count(f, "ｽｽﾞｷ ｲﾁﾛｳ"), 1);
    store_user *u = NULL;
    assert_int_equal(store_user_find_by_user_id(f->cli.conn, f->arena, issued.user_id, &u),
                     NSDB_OK);
    assert_string_equal(u->name_kana, "スズキ イチロウ"); /* the form's normalisation */
}

/* Each bad value is refused by the command line with the message the form shows for it. */
static void cli_refuses_what_the_form_refuses(void **state)
{
    struct fixture *f = *state;
    char long_name[3 * 300 + 1] = "";
    for (int i = 0; i < 300; i++)
        strcat(long_name, "長");
    const struct {
        const char *field, *name, *kana, *email;
    } CASES[] = {{"name", long_name, NULL, NULL},
                 {"name", "", NULL, NULL},
                 {"name_kana", "鈴木 二郎", "Suzuki", NULL},
                 {"email", "鈴木 二郎", NULL, "not-an-email"}};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        user_add_input in = {.role = "muni_staff",
                             .name = CASES[i].name,
                             .name_kana = CASES[i].kana,
                             .email = CASES[i].email,
                             .municipality_code = "131016",
                             .profile_optional = true};
        accounts_issued issued;
        nsdb_problem pb = {0};
        assert_int_equal(core_user_add(&f->cli, &in, &issued, &pb), NSDB_ERR_INVALID);
        assert_string_equal(pb.field, CASES[i].field);
        const char *out = NULL;
        /* what 自治体ユーザ新規登録 says for the same value (web/form_fields.c reads the form
           through the same table) */
        const field_def *def = field_find(CASES[i].field);
        const char *value = strcmp(CASES[i].field, "name") == 0        ? CASES[i].name
                            : strcmp(CASES[i].field, "name_kana") == 0 ? CASES[i].kana
                                                                       : CASES[i].email;
        const char *form_message = field_check(f->arena, def->id, value, 0, &out);
        assert_non_null(form_message);
        assert_string_equal(pb.message, form_message);
    }
    int64_t users = 0;
    assert_int_equal(store_user_count(f->cli.conn, &users), NSDB_OK);
    assert_int_equal(users, 0);
}

static store_user *add_staff(struct fixture *f, accounts_issued *issued)
{
    user_add_input in = {.role = "muni_admin",
                         .name = "千代田 管理",
                         .name_kana = "チヨダ カンリ",
                         .email = "kanri@example.lg.jp",
                         .category = "nanbyo",
                         .municipality_code = "131016"};
    nsdb_problem pb = {0};
    assert_int_equal(core_user_add(&f->cli, &in, issued, &pb), NSDB_OK);
    store_user *u = NULL;
    assert_int_equal(store_user_find_by_user_id(f->cli.conn, f->arena, issued->user_id, &u),
                     NSDB_OK);
    return u;
}

static core_ctx web_like(struct fixture *f, const store_user *u)
{
    core_ctx c = f->cli;
    c.who = (core_actor){.user_pk = u ? u->pk : 0,
                         .user_id = u ? u->user_id : NULL,
                         .municipality_pk = u ? u->municipality_pk : 0,
                         .client_ip = "127.0.0.1",
                         .now = f->cli.who.now};
    return c;
}

static int64_t failed_logins(struct fixture *f, const char *user_id)
{
    store_user *u = NULL;
    assert_int_equal(store_user_find_by_user_id(f->cli.conn, f->arena, user_id, &u), NSDB_OK);
    return u->failed_logins;
}

/* A wrong password is counted; when the count cannot be written, the attempt is not answered as
   an ordinary wrong password (which would let guesses through uncounted) but as a failure. */
static void failed_lockout_write_is_not_dropped(void **state)
{
    struct fixture *f = *state;
    accounts_issued issued;
    add_staff(f, &issued);
    core_ctx c = web_like(f, NULL);
    store_user *u = NULL;
    core_session s;
    bool locked = false;
    nsdb_problem pb = {0};
    assert_int_equal(core_login(&c, issued.user_id, "wrong-password", &u, &s, &locked, &pb),
                     NSDB_ERR_AUTH);
    assert_int_equal(failed_logins(f, issued.user_id), 1);

    db_fault_inject(1); /* the try's reservation, before the password is checked */
    assert_int_equal(core_login(&c, issued.user_id, "wrong-password", &u, &s, &locked, &pb),
                     NSDB_ERR_DB);
    assert_null(u);
    assert_int_equal(failed_logins(f, issued.user_id), 1); /* no try taken, and said so */

    db_fault_inject(3); /* the audit record after the check (reserve, lock check, audit) */
    assert_int_equal(core_login(&c, issued.user_id, "wrong-password", &u, &s, &locked, &pb),
                     NSDB_ERR_DB);
    assert_int_equal(failed_logins(f, issued.user_id), 2); /* the try stays spent: fails closed */

    for (int i = 0; i < 3; i++)
        assert_int_equal(core_login(&c, issued.user_id, "wrong-password", &u, &s, &locked, &pb),
                         NSDB_ERR_AUTH);
    assert_true(locked); /* the fifth counted failure locks */
    /* locked: even the right password is refused */
    assert_int_equal(core_login(&c, issued.user_id, issued.initial_password, &u, &s, &locked, &pb),
                     NSDB_ERR_AUTH);
}

/* Issue 14: the lockout is checked and counted in one step, before the password is checked, so
   parallel guesses cannot check more passwords than the lockout allows: with every try taken by
   attempts still in flight, even the right password is refused. */
static void tries_in_flight_are_counted_before_the_check(void **state)
{
    struct fixture *f = *state;
    accounts_issued issued;
    store_user *staff = add_staff(f, &issued);
    core_ctx c = web_like(f, NULL);
    for (int i = 0; i < f->app.cfg.max_login_failures; i++) {
        bool allowed = false;
        assert_int_equal(core_begin(&c), NSDB_OK);
        assert_int_equal(store_user_login_reserve(c.conn, staff->pk, c.who.now,
                                                  f->app.cfg.max_login_failures, &allowed),
                         NSDB_OK);
        assert_int_equal(core_end(&c, NSDB_OK), NSDB_OK);
        assert_true(allowed);
    }
    store_user *u = NULL;
    core_session s;
    bool locked = false;
    nsdb_problem pb = {0};
    assert_int_equal(core_login(&c, issued.user_id, issued.initial_password, &u, &s, &locked, &pb),
                     NSDB_ERR_AUTH);
    assert_null(u);
    /* tries spent with no lock (say their server stopped before the check) become the usual
       15-minute lock, not a refusal for good */
    assert_true(locked);
    store_user *back = NULL;
    assert_int_equal(store_user_find_by_pk(f->cli.conn, f->arena, staff->pk, &back), NSDB_OK);
    assert_int_equal(back->failed_logins, 0);
    assert_true(back->locked_until > c.who.now);
    c.who.now = back->locked_until; /* after the lock, the right password opens again */
    assert_int_equal(core_login(&c, issued.user_id, issued.initial_password, &u, &s, &locked, &pb),
                     NSDB_OK);
}

static void login_opens_a_session_and_a_failed_write_opens_none(void **state)
{
    struct fixture *f = *state;
    accounts_issued issued;
    add_staff(f, &issued);
    core_ctx c = web_like(f, NULL);
    store_user *u = NULL;
    core_session s;
    bool locked = false;
    nsdb_problem pb = {0};
    db_fault_inject(1);
    assert_int_equal(core_login(&c, issued.user_id, issued.initial_password, &u, &s, &locked, &pb),
                     NSDB_ERR_DB);
    assert_null(u);
    assert_int_equal(core_login(&c, issued.user_id, issued.initial_password, &u, &s, &locked, &pb),
                     NSDB_OK);
    assert_non_null(u);
    store_user *back = NULL;
    core_ctx again = web_like(f, NULL);
    assert_int_equal(core_session_resume(&again, s.hash, &back), NSDB_OK);
    assert_string_equal(back->user_id, issued.user_id);
    core_ctx self = web_like(f, back);
    assert_int_equal(core_logout(&self, back, s.hash), NSDB_OK);
    assert_int_equal(core_session_resume(&again, s.hash, &back), NSDB_ERR_NOT_FOUND);
}

static void logout_ends_the_session_even_when_its_record_fails(void **state)
{
    struct fixture *f = *state;
    accounts_issued issued;
    add_staff(f, &issued);
    core_ctx c = web_like(f, NULL);
    store_user *u = NULL;
    core_session s;
    bool locked = false;
    nsdb_problem pb = {0};
    assert_int_equal(core_login(&c, issued.user_id, issued.initial_password, &u, &s, &locked, &pb),
                     NSDB_OK);
    store_user *back = NULL;
    core_ctx again = web_like(f, NULL);
    assert_int_equal(core_session_resume(&again, s.hash, &back), NSDB_OK);
    core_ctx self = web_like(f, back);
    db_fault_inject(1); /* the audit record of the logout fails */
    assert_int_equal(core_logout(&self, back, s.hash), NSDB_ERR_DB);
    /* the user is told (503), and the session is gone all the same */
    assert_int_equal(core_session_resume(&again, s.hash, &back), NSDB_ERR_NOT_FOUND);
}

static void nobody_resets_or_suspends_themselves(void **state)
{
    struct fixture *f = *state;
    accounts_issued issued;
    store_user *u = add_staff(f, &issued);
    core_ctx self = web_like(f, u);
    nsdb_problem pb = {0};
    assert_int_equal(core_user_reset_password(&self, u, &pb), NSDB_ERR_CONFLICT);
    assert_int_equal(core_user_set_suspended(&self, u, true, &pb), NSDB_ERR_CONFLICT);
    assert_int_equal(core_user_set_suspended(&f->cli, u, true, &pb), NSDB_OK);
    store_user *back = NULL;
    assert_int_equal(store_user_find_by_pk(f->cli.conn, f->arena, u->pk, &back), NSDB_OK);
    assert_int_equal(back->status, ACCOUNT_STATUS_SUSPENDED);
}

/* Registers one institution user at 1312345679 for the municipality with this code. */
static store_user *register_at_hospital(struct fixture *f, const char *muni_code,
                                        const char *user_type, const char *name,
                                        const char *kana, accounts_issued *issued)
{
    store_municipality *m = NULL;
    assert_int_equal(store_municipality_find_by_code(f->cli.conn, f->arena, muni_code, &m),
                     NSDB_OK);
    core_ctx staff = f->cli;
    staff.who.municipality_pk = m->pk;
    registration_input in = {"1312345679", "共有記念病院", "100-0001", "東京都千代田区千代田1-1",
                             "03-1234-5678", user_type, name, kana, "nanbyo",
                             strcmp(user_type, "doctor") == 0 ? "D-1" : NULL, NULL, NULL,
                             field_search_key(f->arena, name, kana)};
    nsdb_problem pb = {0};
    bool merged = false;
    assert_int_equal(core_register_one(&staff, &in, issued, &merged, &pb), NSDB_OK);
    assert_false(merged);
    store_user *u = NULL;
    assert_int_equal(store_user_find_by_user_id(f->cli.conn, f->arena, issued->user_id, &u),
                     NSDB_OK);
    return u;
}

/* Issue 14, finding 1: a 責任者 registered by one municipality acts on another municipality's
   doctor at the same hospital only to be refused, by the operation itself. */
static void a_manager_reaches_only_its_own_municipalitys_users(void **state)
{
    struct fixture *f = *state;
    nsdb_problem pb = {0};
    assert_int_equal(core_municipality_add(&f->cli, "011002", "札幌市", NULL, NULL, &pb), NSDB_OK);
    accounts_issued a, b, d;
    store_user *manager = register_at_hospital(f, "131016", "inst_manager", "千代田 院長",
                                               "チヨダ インチョウ", &a);
    store_user *own = register_at_hospital(f, "131016", "doctor", "千代田 医師", "チヨダ イシ", &d);
    store_user *theirs = register_at_hospital(f, "011002", "doctor", "札幌 医師", "サッポロ イシ", &b);
    assert_int_equal(manager->institution_pk, theirs->institution_pk); /* one shared hospital */
    core_ctx m = web_like(f, manager);
    m.who.institution_pk = manager->institution_pk;
    assert_int_equal(core_user_reset_password(&m, theirs, &pb), NSDB_ERR_NOT_FOUND);
    assert_int_equal(core_user_set_suspended(&m, theirs, true, &pb), NSDB_ERR_NOT_FOUND);
    store_user *list[] = {theirs};
    assert_int_equal(core_notices_printed(&m, list, 1), NSDB_ERR_NOT_FOUND);
    store_user *back = NULL;
    assert_int_equal(store_user_find_by_pk(f->cli.conn, f->arena, theirs->pk, &back), NSDB_OK);
    assert_int_equal(back->status, ACCOUNT_STATUS_ACTIVE);
    assert_int_equal(back->notice_status, NOTICE_STATUS_UNISSUED);
    /* the store lookup the screens use finds nothing either */
    assert_int_equal(store_user_find_in_institution(f->cli.conn, f->arena, manager->municipality_pk,
                                                    manager->institution_pk, theirs->user_id, &back),
                     NSDB_ERR_NOT_FOUND);
    /* and the manager's own municipality's doctor is reachable */
    store_user *own_list[] = {own};
    /* issue 12, item 8: its first notice is the municipality's to print, not the manager's */
    assert_int_equal(core_notices_printed(&m, own_list, 1), NSDB_ERR_FORBIDDEN);
    assert_int_equal(core_user_reset_password(&m, own, &pb), NSDB_OK);
    assert_int_equal(store_user_find_by_pk(f->cli.conn, f->arena, own->pk, &back), NSDB_OK);
    assert_int_equal(back->initial_password_by, manager->pk);
    own_list[0] = back;
    assert_int_equal(core_notices_printed(&m, own_list, 1), NSDB_OK); /* after its own reset */
}

/* Issue 14: guesses of the current password on 自アカウント管理 count towards the lockout, which
   ends the user's sessions; a suspended account answers its right password as a wrong one. */
static void current_password_guesses_lock_and_suspended_answers_as_wrong(void **state)
{
    struct fixture *f = *state;
    accounts_issued issued;
    store_user *u = add_staff(f, &issued);
    core_ctx anon = web_like(f, NULL);
    store_user *who = NULL;
    core_session s;
    bool locked = false;
    nsdb_problem pb = {0};
    assert_int_equal(core_login(&anon, issued.user_id, issued.initial_password, &who, &s, &locked,
                                &pb),
                     NSDB_OK);
    core_ctx self = web_like(f, who);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(core_password_change(&self, who, "not-the-password", "Kuma-2026-Hokkaido!",
                                              &s, &pb),
                         NSDB_ERR_INVALID);
        assert_string_equal(pb.field, "current_password");
    }
    assert_int_equal(failed_logins(f, issued.user_id), 4);
    assert_int_equal(core_password_change(&self, who, "not-the-password", "Kuma-2026-Hokkaido!", &s,
                                          &pb),
                     NSDB_ERR_LOCKED);
    store_user *back = NULL;
    core_ctx again = web_like(f, NULL);
    assert_int_equal(core_session_resume(&again, s.hash, &back), NSDB_ERR_NOT_FOUND); /* ended */
    /* locked: the right current password is refused too */
    assert_int_equal(store_user_find_by_pk(f->cli.conn, f->arena, u->pk, &back), NSDB_OK);
    assert_int_equal(core_password_change(&self, back, issued.initial_password,
                                          "Kuma-2026-Hokkaido!", &s, &pb),
                     NSDB_ERR_LOCKED);

    accounts_issued other;
    user_add_input in = {.role = "muni_staff",
                         .name = "停止 花子",
                         .municipality_code = "131016",
                         .profile_optional = true};
    assert_int_equal(core_user_add(&f->cli, &in, &other, &pb), NSDB_OK);
    store_user *target = NULL;
    assert_int_equal(store_user_find_by_user_id(f->cli.conn, f->arena, other.user_id, &target),
                     NSDB_OK);
    assert_int_equal(core_user_set_suspended(&f->cli, target, true, &pb), NSDB_OK);
    assert_int_equal(core_login(&anon, other.user_id, other.initial_password, &who, &s, &locked,
                                &pb),
                     NSDB_ERR_AUTH);
    assert_int_equal(core_login(&anon, other.user_id, "wrong-password", &who, &s, &locked, &pb),
                     NSDB_ERR_AUTH);
}

/* The operations are the same on both databases (the storage tests cover PostgreSQL); these run
   on SQLite, each in a fresh data folder. */
#define SQLITE(fn) {#fn, fn, setup_sqlite, teardown, NULL}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SQLITE(cli_user_is_found_by_name_and_kana),
        SQLITE(cli_refuses_what_the_form_refuses),
        SQLITE(failed_lockout_write_is_not_dropped),
        SQLITE(login_opens_a_session_and_a_failed_write_opens_none),
        SQLITE(logout_ends_the_session_even_when_its_record_fails),
        SQLITE(tries_in_flight_are_counted_before_the_check),
        SQLITE(nobody_resets_or_suspends_themselves),
        SQLITE(a_manager_reaches_only_its_own_municipalitys_users),
        SQLITE(current_password_guesses_lock_and_suspended_answers_as_wrong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
