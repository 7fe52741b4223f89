/*
 * test_media_outlook.c — what a registration means for its institution's media
 * (store_media_outlook_of_user, which the 個別登録 result reads), on a real database (SQLite
 * always, PostgreSQL with NSDB_DATABASE_URL): the first registration of an institution brings its
 * media in its cycle; a registration there while an earlier cycle's registration still awaits its
 * media brings none (pending); once the media exists, none either; another municipality's user
 * is not found (scope). And the same for a whole import batch (store_media_outlook_of_batch, the
 * 一括登録 result): each institution counted once, new or not.
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

/* the test moves a registration to an earlier cycle with one UPDATE: the private SQL header */
#define NSDB_STORE_INTERNAL
#include "core/actor.h"
#include "core/registration.h"
#include "core/registry.h"
#include "domain/fields.h"
#include "store/import_batches.h"
#include "store/media_store.h"
#include "store/rows.h"
#include "store/sql.h"
#include "store/store.h"

#include "both_backends.h"
#include "test_support.h"
#include "core_fixture.h"

static int setup_with(void **state, const char *url)
{
    struct fixture *f = core_fixture_open(url, "nsdb-test-outlook");
    nsdb_problem pb = {0};
    nsdb_err e = core_municipality_add(&f->cli, "131016", "千代田区", NULL, NULL, &pb);
    assert_true(e == NSDB_OK || e == NSDB_ERR_EXISTS);
    e = core_municipality_add(&f->cli, "011002", "札幌市", NULL, NULL, &pb);
    assert_true(e == NSDB_OK || e == NSDB_ERR_EXISTS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    return core_fixture_close(state);
}

static int64_t municipality_pk(struct fixture *f, const char *code)
{
    store_municipality *m = NULL;
    assert_int_equal(store_municipality_find_by_code(f->cli.conn, f->arena, code, &m), NSDB_OK);
    return m->pk;
}

/* A doctor registered by the staff of muni_code at a hospital whose code is unique per run
   (a PostgreSQL database is shared by the runs); returns the user ID. */
static const char *register_doctor(struct fixture *f, const char *muni_code, const char *inst_code,
                                   const char *name, const char *kana, const char *number)
{
    core_ctx staff = f->cli;
    staff.who.municipality_pk = municipality_pk(f, muni_code);
    registration_input in = {inst_code, "媒体見込病院", "100-0001", "東京都千代田区千代田1-1",
                             "03-1234-5678", "doctor", name, kana, "nanbyo", number, NULL, NULL,
                             field_search_key(f->arena, name, kana)};
    accounts_issued issued;
    nsdb_problem pb = {0};
    bool merged = false;
    assert_int_equal(core_register_one(&staff, &in, &issued, &merged, &pb), NSDB_OK);
    assert_false(merged);
    return arena_strdup(f->arena, issued.user_id);
}

static store_media_outlook outlook_of(struct fixture *f, const char *user_id, char cycle[11])
{
    store_media_outlook o = 0;
    assert_int_equal(store_media_outlook_of_user(f->cli.conn, municipality_pk(f, "131016"),
                                                 user_id, cycle, &o),
                     NSDB_OK);
    return o;
}

/* A Luhn-valid institution code, different on every run (and for each of 10 values of k). */
static const char *institution_code_k(struct fixture *f, int k)
{
    char digits[16];
    snprintf(digits, sizeof digits, "13%d%06ld", (k % 10 + 10) % 10, (long)(getpid() % 1000000));
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

static const char *institution_code(struct fixture *f)
{
    return institution_code_k(f, 1);
}

/* The initial media of the institution code for Chiyoda in the cycle, made (as by
   `nsdb media build`; cert_serial tells one test's media from another's). */
static void media_made(struct fixture *f, const char *cycle_id, const char *code,
                       const char *cert_serial)
{
    db *conn = f->cli.conn;
    store_media *wanted = NULL;
    size_t n = 0;
    assert_int_equal(store_media_candidates(conn, f->arena, cycle_id, &wanted, &n), NSDB_OK);
    const store_media *mine = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(wanted[i].institution_code, code) == 0 &&
            wanted[i].municipality_pk == municipality_pk(f, "131016"))
            mine = &wanted[i];
    assert_non_null(mine);
    static const unsigned char SEALED[] = {1, 2, 3};
    store_media m = *mine;
    m.kind = "initial";
    m.status = MEDIA_STATUS_CREATED;
    m.iso_path = "x.iso";
    m.sha256 = "00";
    m.size_bytes = 1;
    m.volume_id = "V";
    m.cert_serial = cert_serial;
    m.passphrase_sealed = SEALED;
    m.passphrase_sealed_len = sizeof SEALED;
    int64_t id = 0;
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_media_insert(conn, &m, (int64_t)time(NULL), &id), NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
}

static void first_registration_brings_media_then_pending_then_none(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip();
    db *conn = f->cli.conn;
    const char *code = institution_code(f);
    cycle_window today;
    assert_int_equal(registration_cycle(conn, (int64_t)time(NULL), &today), NSDB_OK);

    const char *first = register_doctor(f, "131016", code, "見込 一郎", "ミコミ イチロウ", "O-1");
    char cycle[11];
    assert_int_equal(outlook_of(f, first, cycle), MEDIA_OUTLOOK_NEW);
    assert_string_equal(cycle, today.id);

    /* the first registration belongs to the cycle before: its media is still to come */
    cycle_window prev;
    assert_int_equal(store_cycle_prev(conn, today.id, &prev), NSDB_OK);
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE registrations SET cycle_id = '%s' WHERE user_pk = "
             "(SELECT id FROM users WHERE user_id = '%s')",
             prev.id, first);
    assert_int_equal(db_exec_script(conn, sql), NSDB_OK);
    const char *second = register_doctor(f, "131016", code, "見込 二郎", "ミコミ ジロウ", "O-2");
    assert_int_equal(outlook_of(f, second, cycle), MEDIA_OUTLOOK_PENDING);
    assert_string_equal(cycle, today.id);
    assert_int_equal(outlook_of(f, first, cycle), MEDIA_OUTLOOK_NEW);
    assert_string_equal(cycle, prev.id);

    /* the media of the earlier cycle is made: nobody there brings another */
    media_made(f, prev.id, code, "01");
    assert_int_equal(outlook_of(f, first, cycle), MEDIA_OUTLOOK_HAS_MEDIA);
    assert_int_equal(outlook_of(f, second, cycle), MEDIA_OUTLOOK_HAS_MEDIA);

    /* scope: another municipality does not find the user; an unknown user is not found */
    store_media_outlook o;
    assert_int_equal(store_media_outlook_of_user(conn, municipality_pk(f, "011002"), first,
                                                 cycle, &o),
                     NSDB_ERR_NOT_FOUND);
    assert_int_equal(store_media_outlook_of_user(conn, municipality_pk(f, "131016"),
                                                 "AAAAAAAAAAAA", cycle, &o),
                     NSDB_ERR_NOT_FOUND);
}

/* Moves the registration of user_id to cycle_id, and (batch != 0) into import batch batch. */
static void registration_move(db *conn, const char *user_id, const char *cycle_id, int64_t batch)
{
    char sql[320], in_batch[48] = "";
    if (batch != 0)
        snprintf(in_batch, sizeof in_batch, ", batch_id = %lld", (long long)batch);
    snprintf(sql, sizeof sql,
             "UPDATE registrations SET cycle_id = '%s'%s WHERE user_pk = "
             "(SELECT id FROM users WHERE user_id = '%s')",
             cycle_id, in_batch, user_id);
    assert_int_equal(db_exec_script(conn, sql), NSDB_OK);
}

/* The outlook of a whole import batch (the 一括登録 result page): its institutions, each once,
   are new (their first media comes in the batch's cycle) unless the municipality already has
   their media or registered there in an earlier cycle; another municipality's registrations
   change nothing, and another municipality gets nothing of the batch. */
static void batch_outlook_counts_each_institution_once(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip();
    db *conn = f->cli.conn;
    cycle_window today, prev;
    assert_int_equal(registration_cycle(conn, (int64_t)time(NULL), &today), NSDB_OK);
    assert_int_equal(store_cycle_prev(conn, today.id, &prev), NSDB_OK);
    const char *pending = institution_code_k(f, 2), *with_media = institution_code_k(f, 3),
               *fresh = institution_code_k(f, 4), *twice = institution_code_k(f, 5);
    /* before the batch: one registration at `pending` in the cycle before, one at `with_media`
       whose media exists, and Sapporo's at `fresh` in the cycle before */
    const char *early = register_doctor(f, "131016", pending, "一括 早子", "イッカツ ハヤコ", "P-1");
    registration_move(conn, early, prev.id, 0);
    (void)register_doctor(f, "131016", with_media, "一括 媒子", "イッカツ バイコ", "P-2");
    const char *other_muni = register_doctor(f, "011002", fresh, "一括 札子", "イッカツ サツコ",
                                             "P-3");
    registration_move(conn, other_muni, prev.id, 0);
    media_made(f, today.id, with_media, "02");
    int64_t batch = 0, creator = 0;
    int64_t now = (int64_t)time(NULL);
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st, "SELECT MIN(id) FROM users", ""), NSDB_OK);
    assert_int_equal(store_row_int(st, &creator), NSDB_OK);
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_import_batch_open(conn, municipality_pk(f, "131016"), creator, "b.csv", 5,
                                             NULL, "test", now, &batch),
                     NSDB_OK);
    assert_int_equal(store_import_batch_set_state(conn, batch, IMPORT_STATE_VISIBLE, NULL, NULL,
                                                  now),
                     NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    /* the batch: one doctor at each of the four, two at `twice` */
    const char *rows[][4] = {{pending, "一括 一郎", "イッカツ イチロウ", "Q-1"},
                             {with_media, "一括 二郎", "イッカツ ジロウ", "Q-2"},
                             {fresh, "一括 三郎", "イッカツ サブロウ", "Q-3"},
                             {twice, "一括 四郎", "イッカツ シロウ", "Q-4"},
                             {twice, "一括 五郎", "イッカツ ゴロウ", "Q-5"}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        registration_move(conn,
                          register_doctor(f, "131016", rows[i][0], rows[i][1], rows[i][2],
                                          rows[i][3]),
                          today.id, batch);
    char cycle[11];
    int64_t new_count = -1, other_count = -1;
    assert_int_equal(store_media_outlook_of_batch(conn, municipality_pk(f, "131016"), batch, cycle,
                                                  &new_count, &other_count),
                     NSDB_OK);
    assert_string_equal(cycle, today.id);
    assert_int_equal(new_count, 2);   /* fresh (Sapporo's registration is not Chiyoda's), twice */
    assert_int_equal(other_count, 2); /* pending, with_media */
    /* scope: Sapporo gets nothing of Chiyoda's batch */
    assert_int_equal(store_media_outlook_of_batch(conn, municipality_pk(f, "011002"), batch, cycle,
                                                  &new_count, &other_count),
                     NSDB_OK);
    assert_string_equal(cycle, "");
    assert_int_equal(new_count + other_count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(first_registration_brings_media_then_pending_then_none),
        BOTH(batch_outlook_counts_each_institution_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
