/*
 * test_store_writes.c — the rules every typed store write keeps, on SQLite and on PostgreSQL
 * (when NSDB_DATABASE_URL names a server): a write outside a transaction stops the process
 * (STORE_ASSERT_WRITE), and a write that fails (the fault hook of store/db_fault.h) leaves
 * nothing of its transaction behind once the caller rolls back. Also the 発送先 per department
 * (issue 12, item 3): migration 012 fills it from the issued admin lists, a department's address
 * is set without touching the other's, and 払出し's municipality upsert no longer moves the
 * municipality's own address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* db_exec_script makes and drops the PostgreSQL database of a test: the private SQL header */
#define NSDB_STORE_INTERNAL
#include "store/bulk_import.h"
#include "store/db.h"
#include "store/db_fault.h"
#include "store/import_batches.h"
#include "store/institutions.h"
#include "store/media_store.h"
#include "store/migrate.h"
#include "store/municipalities.h"
#include "store/sql.h"
#include "store/users.h"
#include "util/arena.h"

#include "both_backends.h"

struct fixture {
    db_pool *pool;
    db *conn;
    char dir[64];
    char pg_name[64]; /* the database made for this test on PostgreSQL */
    char *admin_url;
};

/* setup_with records this migration as applied without running it, so that a test can fill the
   tables as the versions before it left them and then apply it (NULL: every migration runs). */
static const char *held_back_migration;

/* Runs one statement on the server's default database (CREATE/DROP DATABASE). */
static nsdb_err pg_admin(const char *url, const char *dir, const char *sql)
{
    db_pool *admin = NULL;
    nsdb_err e = db_pool_open(url, dir, 1, &admin);
    if (e != NSDB_OK)
        return e;
    db *c = db_pool_acquire(admin);
    e = db_exec_script(c, sql); /* not in a transaction: CREATE DATABASE refuses one */
    db_pool_release(admin, c);
    db_pool_close(admin);
    return e;
}

static int setup_with(void **state, const char *url)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/nsdb-test-writes.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    char *test_url = NULL;
    if (url != NULL) {
        snprintf(f->pg_name, sizeof f->pg_name, "nsdb_writes_%ld", (long)getpid());
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_name);
        nsdb_err e = pg_admin(url, f->dir, sql);
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->pg_name);
        if (e == NSDB_OK)
            e = pg_admin(url, f->dir, sql);
        if (e != NSDB_OK)
            return -1;
        f->admin_url = strdup(url);
        const char *slash = strrchr(url, '/');
        size_t base = slash ? (size_t)(slash - url) : strlen(url);
        test_url = malloc(base + strlen(f->pg_name) + 2);
        memcpy(test_url, url, base);
        sprintf(test_url + base, "/%s", f->pg_name);
    }
    nsdb_err e = db_pool_open(test_url, f->dir, 1, &f->pool);
    free(test_url);
    if (e != NSDB_OK)
        return -1;
    f->conn = db_pool_acquire(f->pool);
    if (held_back_migration != NULL &&
        (db_exec_script(f->conn,
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        "version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)") != NSDB_OK ||
         db_exec(f->conn, NULL,
                 "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)", "t",
                 held_back_migration) != NSDB_OK ||
         /* 017 rebuilds packages with the columns 012 adds: it comes after it */
         db_exec(f->conn, NULL,
                 "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)", "t",
                 "017") != NSDB_OK))
        return -1;
    int applied = 0;
    if (migrate_apply_all(f->conn, &applied) != NSDB_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        return 0;
    db_fault_inject(0);
    db_pool_release(f->pool, f->conn);
    db_pool_close(f->pool);
    if (f->admin_url != NULL) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_name);
        pg_admin(f->admin_url, f->dir, sql);
        free(f->admin_url);
    }
    remove_data_dir(f->dir);
    free(f);
    return 0;
}

static db *conn_of(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip(); /* PostgreSQL: NSDB_DATABASE_URL is not set */
    return f->conn;
}

static bool municipality_exists(db *conn, const char *code)
{
    arena *a = arena_new();
    store_municipality *m = NULL;
    nsdb_err e = store_municipality_find_by_code(conn, a, code, &m);
    arena_free(a);
    assert_true(e == NSDB_OK || e == NSDB_ERR_NOT_FOUND);
    return e == NSDB_OK;
}

static void test_failed_write_rolls_back_the_whole_transaction(void **state)
{
    db *conn = conn_of(state);
    int64_t muni = 0, inst = 0;
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_municipality_insert(conn, "131016", "千代田区", NULL, NULL, 1, &muni),
                     NSDB_OK);
    db_fault_inject(1);
    assert_int_equal(store_institution_insert(conn, "1312345678", "テスト病院", NULL, NULL, NULL, 1,
                                              &inst),
                     NSDB_ERR_DB);
    db_rollback(conn);
    assert_false(municipality_exists(conn, "131016"));
    /* the hook is spent and the connection sound: the same writes commit */
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_municipality_insert(conn, "131016", "千代田区", NULL, NULL, 1, &muni),
                     NSDB_OK);
    assert_int_equal(store_institution_insert(conn, "1312345678", "テスト病院", NULL, NULL, NULL, 1,
                                              &inst),
                     NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    assert_true(municipality_exists(conn, "131016"));
}

/* A child process makes the write without a transaction: it must die of the assertion (SIGABRT)
   before any SQL runs, and the parent's connection is untouched. */
static void test_write_outside_a_transaction_aborts(void **state)
{
    db *conn = conn_of(state);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDERR_FILENO); /* the assertion's message is expected */
        nsdb_err e = store_municipality_insert(conn, "132012", "八王子市", NULL, NULL, 1, NULL);
        _exit(e == NSDB_OK ? 0 : 1); /* not reached: the assertion aborts first */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_false(municipality_exists(conn, "132012"));
}

static void exec_ok(db *conn, const char *sql)
{
    if (db_exec_script(conn, sql) != NSDB_OK)
        fail_msg("%s", sql);
}

/* Lists as 払出し left them before migration 012: 函館市's 難病 and 小慢 admins at one address,
 * then a 小慢 変更 to another (and a 削除 and a list not issued, which say nothing); 大阪市's
 * 両方 admin. The migration gives each department the last word of its own rows. */
static void test_migration_012_fills_departments_from_issued_lists(void **state)
{
    db *conn = conn_of(state);
    exec_ok(
        conn,
        "INSERT INTO municipalities (code, name, postal, address, created_at, updated_at) VALUES "
        "('012025', '函館市', '040-0001', '最後の行の住所', 1, 1), "
        "('271004', '大阪市', '530-8201', '大阪府大阪市北区中之島1-3-20', 1, 1);"
        "INSERT INTO admin_lists (status, filename, file_sha256, file_data, row_count, "
        "uploaded_at, issued_at) VALUES "
        "('issued', 'a.xlsx', 'a', 'x', 2, 1, 100), ('issued', 'b.xlsx', 'b', 'x', 2, 1, 200), "
        "('approved', 'c.xlsx', 'c', 'x', 1, 1, NULL), ('issued', 'd.xlsx', 'd', 'x', 1, 1, 300);");
    exec_ok(
        conn,
        "INSERT INTO admin_list_rows (list_id, row_number, municipality_code, municipality_name, "
        "category, department, name, name_kana, email, phone, request_type, postal, address) "
        "VALUES "
        "(1, 1, '012025', '函館市', 'nanbyo', '難病係', 'a', 'ア', 'a@x.jp', '0138-1', 'new', "
        "'040-8666', '東雲町4-13'), "
        "(1, 2, '012025', '函館市', 'shoman', '母子保健課', 'b', 'イ', 'b@x.jp', '0138-2', 'new', "
        "'040-8666', '東雲町4-13'), "
        "(2, 1, '012025', '函館市', 'shoman', '子ども家庭課', 'b', 'イ', 'b@x.jp', '0138-3', "
        "'change', '040-0001', '五稜郭町23-1'), "
        "(2, 2, '012025', '函館市', 'nanbyo', '難病係', 'a', 'ア', 'a@x.jp', '0138-1', 'delete', "
        "'040-0001', '最後の行の住所'), "
        "(3, 1, '012025', '函館市', 'nanbyo', '難病係', 'a', 'ア', 'a@x.jp', '0138-9', 'change', "
        "'999-9999', '承認済だけの住所'), "
        "(4, 1, '271004', '大阪市', 'both', '難病・小慢担当', 'c', 'ウ', 'c@x.jp', '06-1', 'new', "
        "'530-8201', '中之島1-3-20');");
    exec_ok(conn,
            "INSERT INTO cycles (id, registration_from, registration_to, media_from, media_to, "
            "delivery_from, delivery_to) VALUES ('2026-11-16', '2026-11-16', '2026-11-27', "
            "'2026-11-30', '2026-12-11', '2026-12-07', '2026-12-25');"
            "INSERT INTO packages (cycle_id, municipality_id, seq, tracking_number, status, "
            "created_at) SELECT '2026-11-16', id, 1, 'T-OLD', 'shipped', 1 FROM municipalities "
            "WHERE code = '012025';");
    exec_ok(conn, "DELETE FROM schema_migrations WHERE version IN ('012', '017')");
    int applied = 0;
    assert_int_equal(migrate_apply_all(conn, &applied), NSDB_OK);
    assert_true(applied >= 2);
    /* 017: a package made before 梱包 and 発送 were two steps keeps its number, shipped the day it
       was packed */
    {
        arena *pa = arena_new();
        store_package *old_package = NULL;
        assert_int_equal(store_package_find_by_tracking(conn, pa, "T-OLD", &old_package), NSDB_OK);
        assert_int_equal(old_package->status, PACKAGE_STATUS_SHIPPED);
        assert_string_equal(old_package->shipped_on, "1970-01-01");
        assert_int_equal(old_package->seq, 1);
        arena_free(pa);
    }

    arena *a = arena_new();
    store_municipality *hakodate = NULL, *osaka = NULL;
    assert_int_equal(store_municipality_find_by_code(conn, a, "012025", &hakodate), NSDB_OK);
    assert_int_equal(store_municipality_find_by_code(conn, a, "271004", &osaka), NSDB_OK);
    shipping_addresses got;
    assert_int_equal(store_municipality_addresses(conn, a, hakodate->pk, &got), NSDB_OK);
    assert_true(got.has_nanbyo && got.has_shoman);
    assert_string_equal(got.nanbyo.address, "東雲町4-13");
    assert_string_equal(got.nanbyo.department, "難病係");
    assert_string_equal(got.nanbyo.phone, "0138-1");
    assert_string_equal(got.shoman.postal, "040-0001");
    assert_string_equal(got.shoman.address, "五稜郭町23-1");
    assert_string_equal(got.shoman.department, "子ども家庭課");
    assert_string_equal(got.municipality.address, "最後の行の住所");
    assert_int_equal(store_municipality_addresses(conn, a, osaka->pk, &got), NSDB_OK);
    assert_true(got.has_nanbyo && got.has_shoman);
    assert_string_equal(got.nanbyo.address, "中之島1-3-20");
    assert_string_equal(got.shoman.department, "難病・小慢担当");
    /* the package sent before went to the municipality's address of the time */
    store_package *p = NULL;
    size_t n = 0;
    assert_int_equal(store_package_list(conn, a, "2026-11-16", hakodate->pk, &p, &n), NSDB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].to.category, 0);
    assert_string_equal(p[0].to.postal, "040-0001");
    assert_string_equal(p[0].to.address, "最後の行の住所");
    arena_free(a);
}

static int setup_held_back_sqlite(void **state)
{
    held_back_migration = "012";
    int rc = setup_sqlite(state);
    held_back_migration = NULL;
    return rc;
}

static int setup_held_back_pg(void **state)
{
    held_back_migration = "012";
    int rc = setup_pg(state);
    held_back_migration = NULL;
    return rc;
}

/* A department's address is set and set again (one row), the other's stays; the upsert of
 * 払出し renames the municipality and leaves its own address. */
static void test_department_addresses_are_kept_apart(void **state)
{
    db *conn = conn_of(state);
    arena *a = arena_new();
    int64_t muni = 0;
    bool created = false;
    shipping_destination kudan = {0, "100-8511", "九段南1-2-1", "難病係", "03-1"};
    shipping_destination kojimachi = {0, "102-0083", "麹町2-1", "子ども家庭課", "03-2"};
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_municipality_upsert(conn, "131016", "千代田区", "100-8511",
                                               "九段南1-2-1", 1, &muni, &created),
                     NSDB_OK);
    assert_true(created);
    assert_int_equal(store_municipality_department_set(conn, muni, CATEGORY_NANBYO, &kudan, 1),
                     NSDB_OK);
    assert_int_equal(store_municipality_department_set(conn, muni, CATEGORY_SHOMAN, &kudan, 1),
                     NSDB_OK);
    assert_int_equal(store_municipality_department_set(conn, muni, CATEGORY_SHOMAN, &kojimachi, 2),
                     NSDB_OK);
    assert_int_equal(store_municipality_upsert(conn, "131016", "千代田区役所", "999-9999",
                                               "別の住所", 2, &muni, &created),
                     NSDB_OK);
    assert_false(created);
    assert_int_equal(db_commit(conn), NSDB_OK);
    shipping_addresses got;
    assert_int_equal(store_municipality_addresses(conn, a, muni, &got), NSDB_OK);
    assert_string_equal(got.nanbyo.address, "九段南1-2-1");
    assert_string_equal(got.shoman.address, "麹町2-1");
    assert_string_equal(got.shoman.department, "子ども家庭課");
    assert_string_equal(got.municipality.postal, "100-8511");
    assert_string_equal(got.municipality.address, "九段南1-2-1");
    store_municipality *m = NULL;
    assert_int_equal(store_municipality_find_by_code(conn, a, "131016", &m), NSDB_OK);
    assert_string_equal(m->name, "千代田区役所");
    assert_int_equal(store_municipality_addresses(conn, a, muni + 1000, &got), NSDB_ERR_NOT_FOUND);
    arena_free(a);
}

/* An import batch moves only while it runs (a writer whose batch a restart failed can neither
   count on nor make it visible), and a municipality has one running at a time whichever server
   opened it (migration 024). */
/* 千代田区 and its staff user STAFF0000001, in the caller's transaction. */
static void municipality_with_staff(db *conn, int64_t *muni, int64_t *staff)
{
    assert_int_equal(store_municipality_insert(conn, "131016", "千代田区", NULL, NULL, 1, muni),
                     NSDB_OK);
    store_user_new u = {.user_id = "STAFF0000001",
                        .role = USER_ROLE_MUNI_STAFF,
                        .name = "職員",
                        .municipality_pk = *muni,
                        .search_key = "職員"};
    assert_int_equal(store_user_insert(conn, &u, 1, staff), NSDB_OK);
}

static void test_import_batch_moves_only_while_it_runs(void **state)
{
    db *conn = conn_of(state);
    int64_t muni = 0, staff = 0, first = 0, second = 0;
    assert_int_equal(db_begin(conn), NSDB_OK);
    municipality_with_staff(conn, &muni, &staff);
    assert_int_equal(store_import_batch_open(conn, muni, staff, "a.csv", 10, NULL, NULL, 1, &first),
                     NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    /* another server opening a second one meanwhile is refused */
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_import_batch_open(conn, muni, staff, "b.csv", 10, NULL, NULL, 2,
                                             &second),
                     NSDB_ERR_EXISTS);
    db_rollback(conn);
    /* failed by a restart while its writer still runs */
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_import_batch_set_state(conn, first, IMPORT_STATE_FAILED, "restart", NULL,
                                                  3),
                     NSDB_OK);
    assert_int_equal(store_import_batch_progress(conn, first, 5, 4), NSDB_ERR_CONFLICT);
    assert_int_equal(store_import_batch_set_state(conn, first, IMPORT_STATE_VISIBLE, NULL, NULL, 4),
                     NSDB_ERR_CONFLICT);
    assert_int_equal(db_commit(conn), NSDB_OK);
    arena *a = arena_new();
    store_import_batch b;
    assert_int_equal(store_import_batch_get(conn, a, muni, first, &b), NSDB_OK);
    assert_int_equal(b.state, IMPORT_STATE_FAILED);
    assert_string_equal(b.failure, "restart");
    arena_free(a);
    /* the failed one no longer runs: the next upload opens */
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_import_batch_open(conn, muni, staff, "b.csv", 10, NULL, NULL, 5,
                                             &second),
                     NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
}

/* The bulk writes of an import (PostgreSQL: COPY; SQLite: multi-row INSERTs) keep every value as
   it went in — tabs, newlines, carriage returns, backslashes and "\N" in text, any byte of a
   sealed password, NULLs —, give ids in the rows' order, and a row whose user ID is taken gets
   pk 0 while the others go in (the caller draws that one again; on PostgreSQL those rows go in
   by INSERT … ON CONFLICT instead of COPY); the transaction goes on. A fault fails an insert
   whole. */
static const char *const AWKWARD = "田中\t太郎\\N\\\n二行目\r";
static const unsigned char SEALED[] = {0x00, '\\', '\t', '\n', 0xff, 'N'};

static void assert_text(const char *actual, const char *expected)
{
    if (expected == NULL)
        assert_null(actual);
    else
        assert_string_equal(actual, expected);
}

/* The users row of u (u->pk) holds what u and common said. */
static void check_bulk_user(db *conn, const store_bulk_user_new *u,
                            const store_bulk_user_common *common)
{
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st,
                              "SELECT user_id, role, name, name_kana, email, category, "
                              "doctor_number, specialty, initial_password_sealed, name_search, "
                              "municipality_id, created_by, initial_password_by, institution_id, "
                              "created_at, updated_at, batch_id, status, notice_status "
                              "FROM users WHERE id = $1",
                              "i", u->pk),
                     NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_column_text(st, 0), u->user_id);
    assert_string_equal(db_column_text(st, 1), user_role_key(u->role));
    assert_text(db_column_text(st, 2), u->name);
    assert_text(db_column_text(st, 3), u->name_kana);
    assert_text(db_column_text(st, 4), u->email);
    assert_string_equal(db_column_text(st, 5), u->category ? u->category : "nanbyo");
    assert_text(db_column_text(st, 6), u->doctor_number);
    assert_text(db_column_text(st, 7), u->specialty);
    size_t len = 0;
    const void *sealed = db_column_blob(st, 8, &len);
    assert_int_equal(len, u->initial_sealed_len);
    assert_memory_equal(sealed, u->initial_sealed, len);
    assert_text(db_column_text(st, 9), u->search_key);
    assert_int_equal(db_column_int(st, 10), common->municipality_pk);
    assert_int_equal(db_column_int(st, 11), common->created_by);
    assert_int_equal(db_column_int(st, 12), common->created_by);
    assert_int_equal(db_column_int(st, 13), u->institution_pk);
    assert_int_equal(db_column_int(st, 14), common->now);
    assert_int_equal(db_column_int(st, 15), common->now);
    assert_true(db_column_is_null(st, 16));
    assert_string_equal(db_column_text(st, 17), "active");
    assert_string_equal(db_column_text(st, 18), "unissued");
    assert_int_equal(db_step(st), DB_DONE);
    db_finalize(st);
}

static int64_t count_of(db *conn, const char *sql)
{
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st, sql, NULL), NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t n = db_column_int(st, 0);
    db_finalize(st);
    return n;
}

static void test_bulk_writes_keep_every_value_and_skip_a_taken_user_id(void **state)
{
    db *conn = conn_of(state);
    int64_t muni = 0, inst = 0, staff = 0;
    assert_int_equal(db_begin(conn), NSDB_OK);
    municipality_with_staff(conn, &muni, &staff);
    assert_int_equal(store_institution_insert(conn, "1310000008", "テスト病院", NULL, NULL, NULL, 1,
                                              &inst),
                     NSDB_OK);
    store_bulk_user_new rows[4] = {
        {.user_id = "BULK00000001",
         .role = USER_ROLE_DOCTOR,
         .name = AWKWARD,
         .name_kana = "\\N",
         .doctor_number = "\t",
         .search_key = "たなか",
         .institution_pk = inst,
         .initial_sealed = SEALED,
         .initial_sealed_len = sizeof SEALED},
        {.user_id = "BULK00000002",
         .role = USER_ROLE_INST_MANAGER,
         .name = "三人目",
         .email = "a\\b@example.jp",
         .category = "both",
         .specialty = "内科\r\n",
         .search_key = "三人目",
         .institution_pk = inst,
         .initial_sealed = SEALED + 1,
         .initial_sealed_len = 3},
        {.user_id = "STAFF0000001", /* taken */
         .role = USER_ROLE_DOCTOR,
         .name = "二人目\t",
         .category = "shoman",
         .search_key = "二人目",
         .institution_pk = inst,
         .initial_sealed = SEALED,
         .initial_sealed_len = sizeof SEALED},
        {.user_id = "BULK00000004",
         .role = USER_ROLE_DOCTOR,
         .name = AWKWARD,
         .name_kana = "ヨニンメ",
         .doctor_number = "D-4",
         .search_key = "四人目",
         .institution_pk = inst,
         .initial_sealed = SEALED,
         .initial_sealed_len = sizeof SEALED},
    };
    store_bulk_user_common common = {muni, staff, 0, 1234};
    /* no user ID taken: on PostgreSQL all by COPY */
    assert_int_equal(store_bulk_users_insert(conn, rows, 2, &common), NSDB_OK);
    assert_true(rows[0].pk > staff);
    assert_true(rows[1].pk > rows[0].pk);
    /* one taken: skipped, the other in */
    assert_int_equal(store_bulk_users_insert(conn, &rows[2], 2, &common), NSDB_OK);
    assert_int_equal(rows[2].pk, 0);
    assert_true(rows[3].pk > rows[1].pk);
    rows[2].user_id = "BULK00000003"; /* drawn again */
    assert_int_equal(store_bulk_users_insert(conn, &rows[2], 1, &common), NSDB_OK);
    assert_true(rows[2].pk > rows[3].pk);
    store_bulk_registration regs[4];
    for (size_t i = 0; i < 4; i++)
        regs[i] = (store_bulk_registration){rows[i].pk, inst};
    assert_int_equal(store_bulk_registrations_insert(conn, regs, 4, muni, "2026-01", 0, 1234),
                     NSDB_OK);
    store_audit actor = {.at = 1234,
                         .actor_user_pk = staff,
                         .actor_user_id = "STAFF0000001",
                         .client_ip = "127.0.0.1"};
    store_audit audit[2] = {
        {.action = "user.create", .target = "BULK00000001", .result = "ok", .detail = AWKWARD},
        {.action = "user.create", .target = "BULK00000002", .result = "ok"}};
    assert_int_equal(store_bulk_audit_insert(conn, &actor, audit, 2), NSDB_OK);
    /* a fault fails an insert whole, and the transaction goes on */
    db_fault_inject(1);
    store_bulk_user_new late[2] = {rows[3], rows[3]};
    late[0].user_id = "BULK00000005";
    late[1].user_id = "BULK00000006";
    assert_int_equal(store_bulk_users_insert(conn, late, 2, &common), NSDB_ERR_DB);
    db_fault_inject(0);
    assert_int_equal(db_commit(conn), NSDB_OK);

    for (size_t i = 0; i < 4; i++)
        check_bulk_user(conn, &rows[i], &common);
    assert_int_equal(count_of(conn, "SELECT COUNT(*) FROM users WHERE user_id LIKE 'BULK%'"), 4);
    assert_int_equal(count_of(conn, "SELECT COUNT(*) FROM registrations WHERE cycle_id = "
                                    "'2026-01' AND batch_id IS NULL AND registered_at = 1234 "
                                    "AND user_pk IN (SELECT id FROM users "
                                    "WHERE user_id LIKE 'BULK%')"),
                     4);
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st,
                              "SELECT detail, actor_user_id, client_ip, actor_user_pk, at "
                              "FROM audit_log WHERE target = 'BULK00000001'",
                              NULL),
                     NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_column_text(st, 0), AWKWARD);
    assert_string_equal(db_column_text(st, 1), "STAFF0000001");
    assert_string_equal(db_column_text(st, 2), "127.0.0.1");
    assert_int_equal(db_column_int(st, 3), staff);
    assert_int_equal(db_column_int(st, 4), 1234);
    db_finalize(st);
    assert_int_equal(count_of(conn, "SELECT COUNT(*) FROM audit_log WHERE target = "
                                    "'BULK00000002' AND detail IS NULL"),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_failed_write_rolls_back_the_whole_transaction),
        BOTH(test_write_outside_a_transaction_aborts),
        BOTH(test_department_addresses_are_kept_apart),
        BOTH(test_import_batch_moves_only_while_it_runs),
        BOTH(test_bulk_writes_keep_every_value_and_skip_a_taken_user_id),
        {"sqlite: test_migration_012_fills_departments_from_issued_lists",
         test_migration_012_fills_departments_from_issued_lists, setup_held_back_sqlite, teardown,
         NULL},
        {"postgresql: test_migration_012_fills_departments_from_issued_lists",
         test_migration_012_fills_departments_from_issued_lists, setup_held_back_pg, teardown,
         NULL},
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
