/*
 * test_db.c — the storage primitives (store/db.c) behave the same on both drivers: SQLite in a
 * temporary folder always, PostgreSQL when NSDB_DATABASE_URL names a server (scripts/pg-test.sh
 * sets it; without it those cases are skipped), and the fault hook of store/db_fault.h.
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

/* the SQL layer itself is under test: its private header is open to this file */
#define NSDB_STORE_INTERNAL
#include "store/db_fault.h"
#include "store/sql.h"

#include "both_backends.h"

struct fixture {
    db_pool *pool;
    db *conn;
    char dir[64];
};

static int setup_with(void **state, const char *url)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/nsdb-test-db.XXXXXX");
    if (mkdtemp(f->dir) == NULL || db_pool_open(url, f->dir, 2, &f->pool) != NSDB_OK) {
        free(f);
        return -1;
    }
    f->conn = db_pool_acquire(f->pool);
    const char *blob_type = db_get_dialect(f->conn) == DB_SQLITE ? "BLOB" : "BYTEA";
    char ddl[512];
    snprintf(ddl, sizeof ddl,
             "DROP TABLE IF EXISTS db_test; CREATE TABLE db_test (id BIGINT PRIMARY KEY, "
             "name TEXT UNIQUE, n BIGINT, small INTEGER, data %s)",
             blob_type);
    if (db_exec_script(f->conn, ddl) != NSDB_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        return 0;
    assert_int_equal(db_exec_script(f->conn, "DROP TABLE db_test"), NSDB_OK);
    db_pool_release(f->pool, f->conn);
    db_pool_close(f->pool);
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

static void test_values_round_trip(void **state)
{
    db *conn = conn_of(state);
    const unsigned char blob[] = {0x00, 0x5c, 0x78, 0xff, 0x00, 0x27, 0x80};
    assert_int_equal(db_exec(conn, NULL,
                             "INSERT INTO db_test (id, name, n, small, data) VALUES ($1, $2, $3, $4, $5)",
                             "itiib", (int64_t)1, "漢字 'quoted' \\ %", (int64_t)-1099511627776,
                             (int64_t)7, blob, sizeof blob),
                     NSDB_OK);
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name, n, data) VALUES ($1, $2, $3, $4)",
                             "innb", (int64_t)2, NULL, (size_t)0),
                     NSDB_OK);
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st, "SELECT name, n, small, data FROM db_test ORDER BY id", NULL),
                     NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_column_text(st, 0), "漢字 'quoted' \\ %");
    assert_int_equal(db_column_int(st, 1), -1099511627776);
    assert_int_equal(db_column_int(st, 2), 7);
    size_t len = 0;
    const void *p = db_column_blob(st, 3, &len);
    assert_int_equal(len, sizeof blob);
    assert_memory_equal(p, blob, sizeof blob);
    assert_false(db_column_is_null(st, 3));
    assert_int_equal(db_step(st), DB_ROW);
    assert_null(db_column_text(st, 0));
    assert_true(db_column_is_null(st, 0));
    assert_true(db_column_is_null(st, 1));
    assert_int_equal(db_column_int(st, 1), 0);
    assert_true(db_column_is_null(st, 3));
    assert_int_equal(db_step(st), DB_DONE);
    db_finalize(st);
}

static void test_parameters_repeat_and_come_in_any_order(void **state)
{
    db *conn = conn_of(state);
    assert_int_equal(db_exec(conn, NULL,
                             "INSERT INTO db_test (id, name, n, small) VALUES ($2, $1, $2, $2)", "ti",
                             "two", (int64_t)3),
                     NSDB_OK);
    db_stmt *st = NULL;
    /* `$1 = 0 OR …` with a value past 32 bits; bindings past the highest $N are ignored */
    assert_int_equal(db_query(conn, &st,
                              "SELECT id, name FROM db_test WHERE ($1 = 0 OR n < $1) AND name = $2",
                              "iti", (int64_t)5000000000, "two", (int64_t)99),
                     NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_column_int(st, 0), 3);
    assert_string_equal(db_column_text(st, 1), "two");
    assert_int_equal(db_step(st), DB_DONE);
    db_finalize(st);
}

static int64_t count_where_name(db *conn, const char *name)
{
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st,
                              "SELECT COUNT(*) FROM db_test WHERE (CAST($1 AS TEXT) IS NULL OR name = $1)",
                              "t", name),
                     NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t n = db_column_int(st, 0);
    db_finalize(st);
    return n;
}

static void test_optional_text_filter_and_boolean_column(void **state)
{
    db *conn = conn_of(state);
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES (10, 'a'), (11, 'b')",
                             NULL),
                     NSDB_OK);
    assert_int_equal(count_where_name(conn, NULL), 2);
    assert_int_equal(count_where_name(conn, "a"), 1); /* the cached statement, another value */
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st, "SELECT name IS NULL, (id = $1) = ($2 = 1) FROM db_test "
                                         "WHERE id = 10",
                              "ii", (int64_t)10, (int64_t)1),
                     NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_column_int(st, 0), 0);
    assert_int_equal(db_column_int(st, 1), 1);
    db_finalize(st);
}

static void test_changes_count_updated_rows(void **state)
{
    db *conn = conn_of(state);
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, n) VALUES (20, 1), (21, 1), (22, 2)",
                             NULL),
                     NSDB_OK);
    int64_t changes = -1;
    assert_int_equal(db_exec(conn, &changes, "UPDATE db_test SET n = 5 WHERE n = $1", "i", (int64_t)1),
                     NSDB_OK);
    assert_int_equal(changes, 2);
    assert_int_equal(db_exec(conn, &changes, "DELETE FROM db_test WHERE n = 9", NULL), NSDB_OK);
    assert_int_equal(changes, 0);
}

static void test_unique_violation_is_exists_and_rolls_back(void **state)
{
    db *conn = conn_of(state);
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES (30, 'x')", NULL),
                     NSDB_OK);
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES (31, 'y')", NULL),
                     NSDB_OK);
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES ($1, $2)", "it",
                             (int64_t)32, "x"),
                     NSDB_ERR_EXISTS);
    db_rollback(conn);
    assert_int_equal(count_where_name(conn, "y"), 0);
    /* ON CONFLICT DO NOTHING: no error, so the transaction goes on (on PostgreSQL too) */
    assert_int_equal(db_begin(conn), NSDB_OK);
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st,
                              "INSERT INTO db_test (id, name) VALUES ($1, $2) "
                              "ON CONFLICT (name) DO NOTHING RETURNING id",
                              "it", (int64_t)33, "x"),
                     NSDB_OK);
    assert_int_equal(db_step(st), DB_DONE);
    db_finalize(st);
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES (34, 'z')", NULL),
                     NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    assert_int_equal(count_where_name(conn, "z"), 1);
}

/* One INSERT … RETURNING id statement for id, prepared and bound. */
static db_stmt *insert_returning(db *conn, int64_t id, const char *name)
{
    db_stmt *st = NULL;
    assert_int_equal(db_prepare(conn, "INSERT INTO db_test (id, name) VALUES ($1, $2) RETURNING id",
                                &st),
                     NSDB_OK);
    db_bind_int(st, 1, id);
    db_bind_text(st, 2, name);
    return st;
}

/* db_send (PostgreSQL: pipeline mode): statements sent one behind the other give their rows in
   turn; a failing one (a unique violation) fails at its step, one sent after it and finalized
   unread is dropped, the transaction rolls back whole and the connection goes on; the first send of
   a statement the server has not prepared waits (NSDB_ERR_BUSY) while others are unread. On
   SQLite a send does nothing and each statement runs at its step: the same results. */
static void test_statements_sent_in_turn(void **state)
{
    db *conn = conn_of(state);
    assert_int_equal(db_begin(conn), NSDB_OK);
    db_stmt *a = insert_returning(conn, 60, "p1");
    assert_int_equal(db_send(a), NSDB_OK); /* the first of its SQL: prepared now, nothing unread */
    db_stmt *b = insert_returning(conn, 61, "p2");
    assert_int_equal(db_send(b), NSDB_OK); /* prepared already: behind a */
    db_stmt *c = NULL;
    assert_int_equal(db_prepare(conn, "SELECT COUNT(*) FROM db_test WHERE name LIKE 'p%'", &c),
                     NSDB_OK);
    nsdb_err busy = db_send(c); /* new SQL while a and b are unread */
    assert_true(busy == (db_get_dialect(conn) == DB_POSTGRESQL ? NSDB_ERR_BUSY : NSDB_OK));
    assert_int_equal(db_step(a), DB_ROW);
    assert_int_equal(db_column_int(a, 0), 60);
    assert_int_equal(db_step(a), DB_DONE);
    db_finalize(a);
    assert_int_equal(db_step(b), DB_ROW);
    assert_int_equal(db_column_int(b, 0), 61);
    db_finalize(b);
    assert_int_equal(db_send(c), NSDB_OK); /* nothing unread now */
    assert_int_equal(db_step(c), DB_ROW);
    assert_int_equal(db_column_int(c, 0), 2);
    db_finalize(c);
    assert_int_equal(db_commit(conn), NSDB_OK);
    assert_int_equal(count_where_name(conn, "p2"), 1);

    /* a failing statement sent before a good one: the failure shows at its step */
    assert_int_equal(db_begin(conn), NSDB_OK);
    db_stmt *bad = insert_returning(conn, 63, "p1"); /* p1 exists */
    db_stmt *good = insert_returning(conn, 64, "p4");
    assert_int_equal(db_send(bad), NSDB_OK);
    assert_int_equal(db_send(good), NSDB_OK);
    assert_int_equal(db_step(bad), DB_ERROR);
    assert_true(db_last_error_is_unique(bad));
    db_finalize(bad);
    db_finalize(good); /* unread (whether it ran is left open): dropped */
    db_rollback(conn);
    assert_int_equal(count_where_name(conn, "p4"), 0);
    assert_int_equal(count_where_name(conn, "p1"), 1);
    /* the connection goes on */
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES (65, 'p5')", NULL),
                     NSDB_OK);
    assert_int_equal(count_where_name(conn, "p5"), 1);
}

/* db_copy_in (PostgreSQL's COPY): COPY's text escapes and NULL arrive as values; a unique
   violation is NSDB_ERR_EXISTS with none of the rows in and the transaction going on; a fault
   fails it before it runs. SQLite has no COPY: NSDB_ERR_INVALID, nothing written. */
static void test_copy_in_all_rows_or_none(void **state)
{
    db *conn = conn_of(state);
    static const char ROWS[] = "70\ta\\tb\\\\c\\nd\\re\t-5\t\\\\x005c0aff\n"
                               "71\t\\N\t\\N\t\\N\n"
                               "72\t漢字\t0\t\\\\x\n";
    static const char COPY[] = "COPY db_test (id, name, n, data) FROM STDIN";
    assert_int_equal(db_begin(conn), NSDB_OK);
    if (db_get_dialect(conn) == DB_SQLITE) {
        assert_int_equal(db_copy_in(conn, COPY, ROWS, sizeof ROWS - 1), NSDB_ERR_INVALID);
        assert_int_equal(db_commit(conn), NSDB_OK);
        assert_int_equal(count_where_name(conn, "漢字"), 0);
        return;
    }
    assert_int_equal(db_copy_in(conn, COPY, ROWS, sizeof ROWS - 1), NSDB_OK);
    /* a row whose name is taken, after a good one: neither is in, and the transaction goes on */
    static const char CLASH[] = "73\tfresh\t1\t\\N\n74\t漢字\t1\t\\N\n";
    assert_int_equal(db_copy_in(conn, COPY, CLASH, sizeof CLASH - 1), NSDB_ERR_EXISTS);
    /* a value that does not parse: a failure, not a clash */
    static const char BAD[] = "75\tbad\tnot a number\t\\N\n";
    assert_int_equal(db_copy_in(conn, COPY, BAD, sizeof BAD - 1), NSDB_ERR_DB);
    db_fault_inject(1);
    static const char FAULT[] = "76\tfault\t1\t\\N\n";
    assert_int_equal(db_copy_in(conn, COPY, FAULT, sizeof FAULT - 1), NSDB_ERR_DB);
    db_fault_inject(0);
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES (77, 'after')",
                             NULL),
                     NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    assert_int_equal(count_where_name(conn, "fresh"), 0);
    assert_int_equal(count_where_name(conn, "bad"), 0);
    assert_int_equal(count_where_name(conn, "fault"), 0);
    assert_int_equal(count_where_name(conn, "after"), 1);

    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st,
                              "SELECT id, name, n, data FROM db_test WHERE id BETWEEN 70 AND 72 "
                              "ORDER BY id",
                              NULL),
                     NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_column_text(st, 1), "a\tb\\c\nd\re");
    assert_int_equal(db_column_int(st, 2), -5);
    size_t len = 0;
    const unsigned char *data = db_column_blob(st, 3, &len);
    static const unsigned char BYTES[] = {0x00, 0x5c, 0x0a, 0xff};
    assert_int_equal(len, sizeof BYTES);
    assert_memory_equal(data, BYTES, sizeof BYTES);
    assert_int_equal(db_step(st), DB_ROW);
    assert_true(db_column_is_null(st, 1));
    assert_true(db_column_is_null(st, 2));
    assert_true(db_column_is_null(st, 3));
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_column_text(st, 1), "漢字");
    assert_false(db_column_is_null(st, 3)); /* empty, not NULL */
    db_column_blob(st, 3, &len);
    assert_int_equal(len, 0);
    assert_int_equal(db_step(st), DB_DONE);
    db_finalize(st);
}

/* Scoped write transactions (db.h): on PostgreSQL two scopes run at once, and a transaction
   without writes of a shared rule (DB_SCOPE_NONE) runs beside them; keys past 2^31 work. On
   SQLite db_begin_scoped is db_begin (one writer), so only one connection writes there. */
static void test_scoped_transactions_of_different_scopes_run_at_once(void **state)
{
    db *conn = conn_of(state);
    struct fixture *f = *state;
    assert_int_equal(db_begin_scoped(conn, DB_SCOPE_MUNICIPALITY, 1), NSDB_OK);
    assert_true(db_in_transaction(conn));
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES (40, 'm1')", NULL),
                     NSDB_OK);
    if (db_get_dialect(conn) == DB_POSTGRESQL) {
        db *other = db_pool_acquire(f->pool);
        /* another municipality, the same key of another kind, no scope: none waits */
        assert_int_equal(db_begin_scoped(other, DB_SCOPE_MUNICIPALITY, 2), NSDB_OK);
        assert_int_equal(
            db_exec(other, NULL, "INSERT INTO db_test (id, name) VALUES (41, 'm2')", NULL),
            NSDB_OK);
        assert_int_equal(db_commit(other), NSDB_OK);
        assert_int_equal(db_begin_scoped(other, DB_SCOPE_USER, 1), NSDB_OK);
        assert_int_equal(db_commit(other), NSDB_OK);
        assert_int_equal(db_begin_scoped(other, DB_SCOPE_NONE, 0), NSDB_OK);
        assert_int_equal(db_commit(other), NSDB_OK);
        db_pool_release(f->pool, other);
    }
    assert_int_equal(db_commit(conn), NSDB_OK);
    assert_false(db_in_transaction(conn));
    assert_int_equal(count_where_name(conn, "m1"), 1);
    assert_int_equal(db_begin_scoped(conn, DB_SCOPE_USER, (INT64_C(1) << 33) + 7), NSDB_OK);
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES (42, 'u')", NULL),
                     NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    assert_int_equal(count_where_name(conn, "u"), 1);
}

static void test_bad_sql_fails_at_prepare_or_step(void **state)
{
    db *conn = conn_of(state);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, "SELECT no_such_column FROM db_test", NULL);
    if (e == NSDB_OK) { /* PostgreSQL reports it when the statement runs */
        assert_int_equal(db_step(st), DB_ERROR);
        assert_false(db_last_error_is_unique(st));
        db_finalize(st);
    }
    assert_non_null(db_error_message(conn));
    assert_int_equal(count_where_name(conn, NULL), 0); /* the connection still works */
}

/* The fault hook (store/db_fault.h): the second write of a transaction fails as a broken database
   would, the caller rolls back, nothing of the transaction stays, and the hook is spent. */
static void test_fault_fails_the_nth_write_and_rolls_back(void **state)
{
    db *conn = conn_of(state);
    assert_int_equal(db_begin(conn), NSDB_OK);
    db_fault_inject(2);
    assert_int_equal(count_where_name(conn, NULL), 0); /* a read is not counted */
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES (40, 'a')", NULL),
                     NSDB_OK);
    assert_int_equal(db_exec(conn, NULL, "UPDATE db_test SET n = 1 WHERE id = 40", NULL),
                     NSDB_ERR_DB);
    assert_non_null(strstr(db_error_message(conn), "db_fault_inject"));
    db_rollback(conn);
    assert_false(db_in_transaction(conn));
    assert_int_equal(count_where_name(conn, "a"), 0);
    /* spent: the next transaction commits */
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES (41, 'b')", NULL),
                     NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    assert_int_equal(count_where_name(conn, "b"), 1);
}

/* A write behind WITH, or one whose RETURNING row is stepped, counts too; a failed statement is
   never taken for a unique violation; 0 disarms the hook. */
static void test_fault_counts_every_kind_of_write(void **state)
{
    db *conn = conn_of(state);
    assert_int_equal(db_begin(conn), NSDB_OK);
    db_fault_inject(1);
    assert_int_equal(db_exec(conn, NULL,
                             "WITH v(id) AS (SELECT 50) INSERT INTO db_test (id, name) "
                             "SELECT id, 'c' FROM v",
                             NULL),
                     NSDB_ERR_DB);
    db_rollback(conn);
    assert_int_equal(count_where_name(conn, "c"), 0);

    assert_int_equal(db_begin(conn), NSDB_OK);
    db_fault_inject(1);
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st,
                              "INSERT INTO db_test (id, name) VALUES ($1, $2) RETURNING id", "it",
                              (int64_t)51, "d"),
                     NSDB_OK);
    assert_int_equal(db_step(st), DB_ERROR);
    assert_int_equal(db_step(st), DB_ERROR); /* stays failed: the insert never ran */
    assert_false(db_last_error_is_unique(st));
    db_finalize(st);
    db_rollback(conn);
    assert_int_equal(count_where_name(conn, "d"), 0);

    db_fault_inject(1);
    db_fault_inject(0);
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(db_exec(conn, NULL, "DELETE FROM db_test WHERE id = 0", NULL), NSDB_OK);
    assert_int_equal(db_exec(conn, NULL, "INSERT INTO db_test (id, name) VALUES (52, 'e')", NULL),
                     NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    assert_int_equal(count_where_name(conn, "e"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_values_round_trip),
        BOTH(test_parameters_repeat_and_come_in_any_order),
        BOTH(test_optional_text_filter_and_boolean_column),
        BOTH(test_changes_count_updated_rows),
        BOTH(test_unique_violation_is_exists_and_rolls_back),
        BOTH(test_statements_sent_in_turn),
        BOTH(test_copy_in_all_rows_or_none),
        BOTH(test_scoped_transactions_of_different_scopes_run_at_once),
        BOTH(test_bad_sql_fails_at_prepare_or_step),
        BOTH(test_fault_fails_the_nth_write_and_rolls_back),
        BOTH(test_fault_counts_every_kind_of_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
