/*
 * test_store_states.c — the storage edge of the typed states (store/state_columns.c and the
 * transitions of store/admin_lists.c, store/media_store.c, store/users.c) on SQLite: states are
 * written as their keys and read back as enums, a move the state machine refuses changes
 * nothing, and the `status = $from` guard lets a move happen once. (PostgreSQL runs the same
 * code through the e2e suite of make test-e2e-pg.)
 */
/* reads the stored keys back with plain SQL: the storage edge itself is under test */
#define NSDB_STORE_INTERNAL
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/cycle.h"
#include "store/db.h"
#include "store/media_store.h"
#include "store/migrate.h"
#include "store/sql.h"
#include "store/store.h"
#include "util/arena.h"

struct fixture {
    db_pool *pool;
    db *conn;
    arena *a;
    char dir[64];
    int64_t muni, inst, user;
    cycle_window cycle;
};

static int setup_sqlite(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/nsdb-test-states.XXXXXX");
    if (mkdtemp(f->dir) == NULL || db_pool_open(NULL, f->dir, 1, &f->pool) != NSDB_OK)
        return -1;
    f->conn = db_pool_acquire(f->pool);
    f->a = arena_new();
    int applied = 0;
    db *conn = f->conn;
    assert_int_equal(migrate_apply_all(conn, &applied), NSDB_OK);
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_municipality_insert(conn, "131016", "千代田区", NULL, NULL, 1, &f->muni),
                     NSDB_OK);
    assert_int_equal(store_institution_insert(conn, "1310000008", "テスト病院", NULL, NULL, NULL,
                                              1, &f->inst),
                     NSDB_OK);
    store_user_new u = {.user_id = "MHLW00000001", .role = USER_ROLE_MHLW, .name = "厚労 太郎",
                        .search_key = "厚労太郎"};
    assert_int_equal(store_user_insert(conn, &u, 1, &f->user), NSDB_OK);
    assert_true(cycle_for_date("2026-11-02", &f->cycle));
    assert_int_equal(store_cycle_ensure(conn, &f->cycle), NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        return 0;
    arena_free(f->a);
    db_pool_release(f->pool, f->conn);
    db_pool_close(f->pool);
    static const char *const FILES[] = {"nsdb.sqlite3", "nsdb.sqlite3-wal", "nsdb.sqlite3-shm",
                                        "secret.key"};
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", f->dir, FILES[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static media_status media_now(struct fixture *f, int64_t id)
{
    store_media *m = NULL;
    assert_int_equal(store_media_get(f->conn, f->a, id, f->muni, &m), NSDB_OK);
    return m->status;
}

static void users_keep_role_and_statuses(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(db_begin(f->conn), NSDB_OK); /* store writes run in a transaction */
    store_user *u = NULL;
    assert_int_equal(store_user_find_by_pk(f->conn, f->a, f->user, &u), NSDB_OK);
    assert_int_equal(u->role, USER_ROLE_MHLW);
    assert_int_equal(u->status, ACCOUNT_STATUS_ACTIVE);
    assert_int_equal(u->notice_status, NOTICE_STATUS_UNISSUED);
    assert_int_equal(store_user_set_status(f->conn, f->user, ACCOUNT_STATUS_SUSPENDED, 2), NSDB_OK);
    assert_int_equal(store_user_mark_notice_issued(f->conn, f->user, 2), NSDB_OK);
    assert_int_equal(store_user_find_by_pk(f->conn, f->a, f->user, &u), NSDB_OK);
    assert_int_equal(u->status, ACCOUNT_STATUS_SUSPENDED);
    assert_int_equal(u->notice_status, NOTICE_STATUS_ISSUED);
    /* the key is what the database holds */
    db_stmt *st = NULL;
    assert_int_equal(db_query(f->conn, &st, "SELECT role, status, notice_status FROM users "
                                            "WHERE id = $1",
                              "i", f->user),
                     NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_column_text(st, 0), "mhlw");
    assert_string_equal(db_column_text(st, 1), "suspended");
    assert_string_equal(db_column_text(st, 2), "issued");
    db_finalize(st);
    assert_int_equal(db_commit(f->conn), NSDB_OK);
}

static void admin_list_moves_follow_the_machine(void **state)
{
    struct fixture *f = *state;
    db *conn = f->conn;
    assert_int_equal(db_begin(f->conn), NSDB_OK); /* store writes run in a transaction */
    int64_t id = 0;
    bool changed = true;
    assert_int_equal(store_admin_list_insert(conn, "a.xlsx", "00ff", "x", 1, 0, f->user, 10, &id),
                     NSDB_OK);
    store_admin_list *l = NULL;
    assert_int_equal(store_admin_list_get(conn, f->a, id, &l), NSDB_OK);
    assert_int_equal(l->status, ADMIN_LIST_STATUS_SUBMITTED);
    /* 払出し before approval: refused, nothing written */
    assert_int_equal(store_admin_list_transition(conn, id, l->status, ADMIN_LIST_ACTION_ISSUE,
                                                 f->user, 11, NULL, &changed),
                     NSDB_OK);
    assert_false(changed);
    assert_int_equal(store_admin_list_transition(conn, id, l->status, ADMIN_LIST_ACTION_APPROVE,
                                                 f->user, 12, NULL, &changed),
                     NSDB_OK);
    assert_true(changed);
    /* a second decision made from the stale status finds the list moved on */
    assert_int_equal(store_admin_list_transition(conn, id, ADMIN_LIST_STATUS_SUBMITTED,
                                                 ADMIN_LIST_ACTION_REJECT, f->user, 13, "x",
                                                 &changed),
                     NSDB_OK);
    assert_false(changed);
    assert_int_equal(store_admin_list_get(conn, f->a, id, &l), NSDB_OK);
    assert_int_equal(l->status, ADMIN_LIST_STATUS_APPROVED);
    assert_int_equal(store_admin_list_transition(conn, id, l->status, ADMIN_LIST_ACTION_ISSUE,
                                                 f->user, 14, NULL, &changed),
                     NSDB_OK);
    assert_true(changed);
    store_admin_list *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_admin_list_all(conn, f->a, ADMIN_LIST_STATUS_ISSUED, &rows, &n),
                     NSDB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].status, ADMIN_LIST_STATUS_ISSUED);
    assert_int_equal(rows[0].issued_at, 14);
    assert_int_equal(store_admin_list_all(conn, f->a, ADMIN_LIST_STATUS_SUBMITTED, &rows, &n),
                     NSDB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_admin_list_all(conn, f->a, 0, &rows, &n), NSDB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(db_commit(f->conn), NSDB_OK);
}

static void media_and_package_moves_follow_the_machine(void **state)
{
    struct fixture *f = *state;
    db *conn = f->conn;
    assert_int_equal(db_begin(f->conn), NSDB_OK); /* store writes run in a transaction */
    const unsigned char sealed[] = {1, 2, 3};
    store_media m = {.cycle_id = f->cycle.id, .municipality_pk = f->muni,
                     .institution_pk = f->inst, .kind = "initial", .iso_path = "a.iso",
                     .sha256 = "00", .size_bytes = 1, .volume_id = "V", .cert_serial = "01",
                     .passphrase_sealed = sealed, .passphrase_sealed_len = sizeof sealed};
    int64_t id = 0, package = 0;
    bool changed = true;
    assert_int_equal(store_media_insert(conn, &m, 20, &id), NSDB_OK);
    assert_int_equal(media_now(f, id), MEDIA_STATUS_CREATED);
    /* refused by the machine: shipping what is not packed, forwarding, damaging */
    assert_int_equal(store_media_transition(conn, id, MEDIA_STATUS_CREATED, MEDIA_ACTION_SHIP, 21,
                                            &changed),
                     NSDB_OK);
    assert_false(changed);
    assert_int_equal(store_media_forward(conn, id, MEDIA_STATUS_CREATED, "2026-11-20", 21, &changed),
                     NSDB_OK);
    assert_false(changed);
    assert_int_equal(store_media_damage(conn, id, MEDIA_STATUS_CREATED, "x", f->cycle.id, 21,
                                        &changed),
                     NSDB_OK);
    assert_false(changed);
    assert_int_equal(media_now(f, id), MEDIA_STATUS_CREATED);
    /* pack once: the second, from the stale status, changes nothing */
    const shipping_destination to = {CATEGORY_SHOMAN, "100-0001", "東京都千代田区千代田1-1",
                                     "子ども家庭課", "03-0000-0000"};
    assert_int_equal(store_package_insert(conn, f->cycle.id, f->muni, 1, &to, 22, &package),
                     NSDB_OK);
    assert_int_equal(store_media_set_package(conn, id, package, 22), NSDB_OK);
    assert_int_equal(store_media_transition(conn, id, MEDIA_STATUS_CREATED, MEDIA_ACTION_PACK, 22,
                                            &changed),
                     NSDB_OK);
    assert_true(changed);
    assert_int_equal(store_media_transition(conn, id, MEDIA_STATUS_CREATED, MEDIA_ACTION_PACK, 22,
                                            &changed),
                     NSDB_OK);
    assert_false(changed);
    store_package *p = NULL;
    assert_int_equal(store_package_get(conn, f->a, package, f->muni, &p), NSDB_OK);
    assert_int_equal(p->status, PACKAGE_STATUS_PACKED);
    assert_null(p->tracking_number);
    /* a packed package cannot be received */
    assert_int_equal(store_package_receive(conn, package, f->user, 23, &changed), NSDB_OK);
    assert_false(changed);
    /* 発送 moves the package and its packed media, once, with the number and the day */
    assert_int_equal(store_package_ship(conn, package, "123456789013", "2026-11-19", f->user, 23,
                                        &changed),
                     NSDB_OK);
    assert_true(changed);
    assert_int_equal(store_package_ship(conn, package, "123456789013", "2026-11-19", f->user, 23,
                                        &changed),
                     NSDB_OK);
    assert_false(changed);
    assert_int_equal(media_now(f, id), MEDIA_STATUS_SHIPPED);
    assert_int_equal(store_package_get(conn, f->a, package, f->muni, &p), NSDB_OK);
    assert_int_equal(p->status, PACKAGE_STATUS_SHIPPED);
    assert_string_equal(p->tracking_number, "123456789013");
    assert_string_equal(p->shipped_on, "2026-11-19");

    /* the destination recorded at packing reads back */
    assert_int_equal(p->to.category, CATEGORY_SHOMAN);
    assert_string_equal(p->to.postal, "100-0001");
    assert_string_equal(p->to.address, "東京都千代田区千代田1-1");
    assert_string_equal(p->to.department, "子ども家庭課");
    assert_string_equal(p->to.phone, "03-0000-0000");
    /* receiving the package receives its media, once */
    assert_int_equal(store_package_receive(conn, package, f->user, 24, &changed), NSDB_OK);
    assert_true(changed);
    assert_int_equal(store_package_receive(conn, package, f->user, 25, &changed), NSDB_OK);
    assert_false(changed);
    assert_int_equal(store_package_get(conn, f->a, package, f->muni, &p), NSDB_OK);
    assert_int_equal(p->status, PACKAGE_STATUS_RECEIVED);
    assert_int_equal(media_now(f, id), MEDIA_STATUS_RECEIVED);
    assert_int_equal(store_media_forward(conn, id, MEDIA_STATUS_RECEIVED, "2026-11-20", 26, &changed),
                     NSDB_OK);
    assert_true(changed);
    assert_int_equal(media_now(f, id), MEDIA_STATUS_FORWARDED);
    assert_int_equal(store_media_damage(conn, id, MEDIA_STATUS_FORWARDED, "割れていた", f->cycle.id,
                                        27, &changed),
                     NSDB_OK);
    assert_true(changed);
    assert_int_equal(media_now(f, id), MEDIA_STATUS_DAMAGED);
    /* filters and the board by status */
    store_media *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_media_list(conn, f->a, NULL, f->muni, 0, MEDIA_STATUS_DAMAGED, &rows, &n),
                     NSDB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_media_list(conn, f->a, NULL, f->muni, 0, MEDIA_STATUS_CREATED, &rows, &n),
                     NSDB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_media_list(conn, f->a, NULL, 0, 0, 0, &rows, &n), NSDB_OK);
    assert_int_equal(n, 1);
    store_media_board_row *board = NULL;
    assert_int_equal(store_media_board(conn, f->a, f->cycle.id, &board, &n), NSDB_OK);
    assert_int_equal(n, 1);
    for (int s = 1; s <= MEDIA_STATUS_COUNT; s++)
        assert_int_equal(board[0].counts[s - 1], s == MEDIA_STATUS_DAMAGED ? 1 : 0);
    /* a damaged media is a candidate for its reissue cycle, then reissued */
    assert_int_equal(store_media_candidates(conn, f->a, f->cycle.id, &rows, &n), NSDB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].reissue_of, id);
    assert_int_equal(store_media_transition(conn, id, MEDIA_STATUS_DAMAGED, MEDIA_ACTION_REISSUE,
                                            28, &changed),
                     NSDB_OK);
    assert_true(changed);
    assert_int_equal(media_now(f, id), MEDIA_STATUS_REISSUED);
    assert_int_equal(db_commit(f->conn), NSDB_OK);
    /* a second package cannot take the same number (last: PostgreSQL ends the transaction) */
    store_package *p2 = NULL;
    assert_int_equal(db_begin(f->conn), NSDB_OK);
    /* a second package cannot take the same number */
    int64_t second = 0;
    assert_int_equal(store_package_insert(conn, f->cycle.id, f->muni, 2, &to, 24, &second),
                     NSDB_OK);
    assert_int_equal(store_package_find_by_tracking(conn, f->a, "123456789013", &p2), NSDB_OK);
    assert_int_equal(p2->id, package);
    assert_int_equal(store_package_ship(conn, second, "123456789013", "2026-11-19", f->user, 24,
                                        &changed),
                     NSDB_ERR_EXISTS);
    db_rollback(f->conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(users_keep_role_and_statuses, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(admin_list_moves_follow_the_machine, setup_sqlite,
                                        teardown),
        cmocka_unit_test_setup_teardown(media_and_package_moves_follow_the_machine, setup_sqlite,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
