/*
 * test_media_timing.c — the storage side of a cycle's timing (store/media_timing.h, issue 13
 * item 7) on a real database (SQLite always, PostgreSQL with NSDB_DATABASE_URL): who registered in
 * a cycle so far, per municipality; which users are due on a 追加分 — those registered after the
 * package with their institution's media, in a later cycle's packing only, never one named on a
 * package's list — and that a user goes on one 追加分 at most; the board's counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/registration.h"
#include "core/registry.h"
#include "domain/fields.h"
#include "store/media_store.h"
#include "store/media_timing.h"
#include "store/store.h"

#include "both_backends.h"
#include "test_support.h"
#include "core_fixture.h"

static int setup_with(void **state, const char *url)
{
    struct fixture *f = core_fixture_open(url, "nsdb-test-timing");
    nsdb_problem pb = {0};
    nsdb_err e = core_municipality_add(&f->cli, "131024", "中央区", NULL, NULL, &pb);
    assert_true(e == NSDB_OK || e == NSDB_ERR_EXISTS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    return core_fixture_close(state);
}

static int64_t municipality_pk(struct fixture *f)
{
    store_municipality *m = NULL;
    assert_int_equal(store_municipality_find_by_code(f->cli.conn, f->arena, "131024", &m), NSDB_OK);
    return m->pk;
}

/* A Luhn-valid institution code, different on every run (a PostgreSQL database is shared). */
static const char *institution_code(struct fixture *f)
{
    char digits[11];
    snprintf(digits, sizeof digits, "132%06ld", (long)(getpid() % 1000000));
    int sum = 0;
    for (int i = 8; i >= 0; i--) {
        int d = digits[i] - '0';
        if ((8 - i) % 2 == 0 && (d *= 2) > 9)
            d -= 9;
        sum += d;
    }
    digits[9] = (char)('0' + (10 - sum % 10) % 10);
    digits[10] = '\0';
    return arena_strdup(f->arena, digits);
}

static const char *register_doctor(struct fixture *f, const char *inst_code, const char *name,
                                   const char *kana, const char *number)
{
    core_ctx staff = f->cli;
    staff.who.municipality_pk = municipality_pk(f);
    registration_input in = {inst_code,
                             "時機病院",
                             "104-0045",
                             "東京都中央区築地1-1-1",
                             "03-1234-5678",
                             "doctor",
                             name,
                             kana,
                             "nanbyo",
                             number,
                             NULL,
                             NULL,
                             field_search_key(f->arena, name, kana)};
    accounts_issued issued;
    nsdb_problem pb = {0};
    bool merged = false;
    assert_int_equal(core_register_one(&staff, &in, &issued, &merged, &pb), NSDB_OK);
    assert_false(merged);
    return arena_strdup(f->arena, issued.user_id);
}

/* The due user user_id in cycle_id's packing, or NULL. */
static const store_supplement_user *due_of(struct fixture *f, const char *cycle_id,
                                           const char *user_id)
{
    store_supplement_user *due = NULL;
    size_t n = 0;
    assert_int_equal(store_supplement_due(f->cli.conn, f->arena, cycle_id, &due, &n), NSDB_OK);
    for (size_t i = 0; i < n; i++)
        if (strcmp(due[i].user_id, user_id) == 0)
            return &due[i];
    return NULL;
}

static int64_t package_in(struct fixture *f, const char *cycle_id)
{
    db *conn = f->cli.conn;
    int64_t seq = 0, id = 0;
    shipping_destination to = {.postal = "104-8404", .address = "東京都中央区築地1-1-1"};
    assert_int_equal(store_package_max_seq(conn, cycle_id, municipality_pk(f), &seq), NSDB_OK);
    assert_int_equal(store_package_insert(conn, cycle_id, municipality_pk(f), seq + 1, &to,
                                          (int64_t)time(NULL), &id),
                     NSDB_OK);
    return id;
}

static int64_t counted_listed(struct fixture *f, const char *cycle_id, int64_t *due_out)
{
    store_supplement_count *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_supplement_counts(f->cli.conn, f->arena, cycle_id, &rows, &n), NSDB_OK);
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].municipality_code, "131024") == 0) {
            *due_out = rows[i].due;
            return rows[i].listed;
        }
    *due_out = 0;
    return 0;
}

static void late_users_are_due_in_a_later_cycle_once(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip();
    db *conn = f->cli.conn;
    const char *code = institution_code(f);
    cycle_window today, next;
    assert_int_equal(registration_cycle(conn, (int64_t)time(NULL), &today), NSDB_OK);
    assert_int_equal(store_cycle_next(conn, today.id, &next), NSDB_OK);

    store_cycle_registrant *before = NULL, *after = NULL;
    size_t nb = 0, na = 0;
    assert_int_equal(store_cycle_registrants(conn, f->arena, today.id, &before, &nb), NSDB_OK);
    const char *first = register_doctor(f, code, "時機 一郎", "ジキ イチロウ", "T-1");
    assert_int_equal(store_cycle_registrants(conn, f->arena, today.id, &after, &na), NSDB_OK);
    int64_t users_before = 0, users_after = 0;
    for (size_t i = 0; i < nb; i++)
        if (strcmp(before[i].municipality_code, "131024") == 0)
            users_before = before[i].users;
    for (size_t i = 0; i < na; i++)
        if (strcmp(after[i].municipality_code, "131024") == 0) {
            users_after = after[i].users;
            assert_string_equal(after[i].municipality_name, "中央区");
            assert_true(after[i].institutions >= 1);
        }
    assert_int_equal(users_after, users_before + 1);

    /* its media is made in today's cycle: nobody is due while it waits to be packed */
    store_media *wanted = NULL;
    size_t n = 0;
    assert_int_equal(store_media_candidates(conn, f->arena, today.id, &wanted, &n), NSDB_OK);
    const store_media *mine = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(wanted[i].institution_code, code) == 0)
            mine = &wanted[i];
    assert_non_null(mine);
    static const unsigned char SEALED[] = {1, 2, 3};
    store_media m = *mine;
    m.kind = "initial";
    m.iso_path = "x.iso";
    m.sha256 = "00";
    m.size_bytes = 1;
    m.volume_id = "V";
    m.cert_serial = "01";
    m.passphrase_sealed = SEALED;
    m.passphrase_sealed_len = sizeof SEALED;
    int64_t media_id = 0, now = (int64_t)time(NULL);
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_media_insert(conn, &m, now, &media_id), NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    const char *before_pack = register_doctor(f, code, "時機 二郎", "ジキ ジロウ", "T-2");
    assert_null(due_of(f, next.id, first));
    assert_null(due_of(f, next.id, before_pack));

    /* packed in today's cycle: its list names both */
    assert_int_equal(db_begin(conn), NSDB_OK);
    int64_t package = package_in(f, today.id);
    assert_int_equal(store_media_set_package(conn, media_id, package, now), NSDB_OK);
    assert_int_equal(store_package_listing_main(conn, package), NSDB_OK);
    assert_int_equal(store_package_listing_main(conn, package), NSDB_OK); /* again: no change */
    assert_int_equal(db_commit(conn), NSDB_OK);
    assert_null(due_of(f, next.id, first));
    assert_null(due_of(f, next.id, before_pack));

    /* registered after the packing: due in the next cycle's packing, not in today's */
    const char *late = register_doctor(f, code, "時機 三郎", "ジキ サブロウ", "T-3");
    assert_null(due_of(f, today.id, late));
    const store_supplement_user *u = due_of(f, next.id, late);
    assert_non_null(u);
    assert_string_equal(u->institution_code, code);
    assert_string_equal(u->name, "時機 三郎");
    assert_string_equal(u->municipality_code, "131024");
    assert_string_equal(u->category, "nanbyo");
    assert_true(u->registered_at >= now);
    int64_t due = 0;
    assert_int_equal(counted_listed(f, next.id, &due), 0);
    assert_true(due >= 1);

    /* on the next cycle's 追加分 once: then due nowhere, and a second listing is refused */
    assert_int_equal(db_begin(conn), NSDB_OK);
    int64_t later = package_in(f, next.id);
    assert_int_equal(store_package_listing_supplement(conn, later, u->user_pk), NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    assert_null(due_of(f, next.id, late));
    assert_true(counted_listed(f, next.id, &due) >= 1);
    assert_int_equal(db_begin(conn), NSDB_OK);
    int64_t third = package_in(f, next.id);
    assert_int_equal(store_package_listing_supplement(conn, third, u->user_pk), NSDB_ERR_EXISTS);
    db_rollback(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(late_users_are_due_in_a_later_cycle_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
