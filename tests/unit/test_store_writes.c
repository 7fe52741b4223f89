/*
 * test_store_writes.c — the rules every typed store write keeps, on SQLite and on PostgreSQL
 * (when NSDB_DATABASE_URL names a server): a write outside a transaction stops the process
 * (STORE_ASSERT_WRITE), and a write that fails (the fault hook of store/db_fault.h) leaves
 * nothing of its transaction behind once the caller rolls back.
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
#include "store/db.h"
#include "store/db_fault.h"
#include "store/institutions.h"
#include "store/migrate.h"
#include "store/municipalities.h"
#include "store/sql.h"
#include "util/arena.h"

#include "both_backends.h"

struct fixture {
    db_pool *pool;
    db *conn;
    char dir[64];
    char pg_name[64]; /* the database made for this test on PostgreSQL */
    char *admin_url;
};

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_failed_write_rolls_back_the_whole_transaction),
        BOTH(test_write_outside_a_transaction_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
