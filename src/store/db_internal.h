/*
 * db_internal.h — what the pool (db.c) and the drivers (db_sqlite.c, db_pg.c) share. Not for use
 * outside src/store/. Each driver fills a `struct db_driver`; db.c dispatches every
 * primitive of db.h and sql.h through the connection's driver.
 */
#ifndef NSDB_DB_INTERNAL_H
#define NSDB_DB_INTERNAL_H

#ifndef NSDB_STORE_INTERNAL
#error "store/db_internal.h is private to src/store/"
#endif

#include <sqlite3.h>

#include "store/sql.h"

#define DB_STMT_CACHE_SIZE 64

/* Prepared statements kept per connection, keyed by their SQL text: most of nsdb's SQL is a
   handful of constant strings run many times (a bulk import runs each once a row). */
struct db_cached_stmt {
    char *sql;
    sqlite3_stmt *stmt;
    int in_use;
};

struct db_driver {
    void (*disconnect)(db *conn);
    /* Called when the pool hands the connection out: a driver may repair a broken link here. */
    void (*revive)(db *conn);
    nsdb_err (*begin)(db *conn);
    nsdb_err (*begin_scoped)(db *conn, db_scope kind, int64_t key);
    nsdb_err (*begin_read)(db *conn);
    nsdb_err (*commit)(db *conn);
    void (*rollback)(db *conn);
    nsdb_err (*exec_script)(db *conn, const char *sql);
    nsdb_err (*prepare)(db *conn, const char *sql, db_stmt **out);
    void (*bind_text)(db_stmt *st, int index, const char *value);
    void (*bind_int)(db_stmt *st, int index, int64_t value);
    void (*bind_blob)(db_stmt *st, int index, const void *value, size_t len);
    void (*bind_null)(db_stmt *st, int index);
    int (*step)(db_stmt *st);
    /* Optional (NULL: the statement runs at its first step): sends the statement without waiting
       for its result; DB_DONE when sent, DB_BUSY when it must wait for those sent before. */
    int (*send)(db_stmt *st);
    /* Optional (NULL: no COPY, as on SQLite): db_copy_in. */
    nsdb_err (*copy_in)(db *conn, const char *copy_sql, const char *data, size_t len);
    const char *(*column_text)(db_stmt *st, int col);
    int64_t (*column_int)(db_stmt *st, int col);
    const void *(*column_blob)(db_stmt *st, int col, size_t *len);
    int (*column_is_null)(db_stmt *st, int col);
    void (*finalize)(db_stmt *st);
    const char *(*error_message)(db *conn);
    int (*last_error_is_unique)(db_stmt *st);
};

struct db_pg;      /* db_pg.c: the libpq connection and its prepared statements */
struct db_pg_stmt; /* db_pg.c: parameters and the result of one statement */

/* db_yield_to_writers on SQLite. */
void db_sqlite_yield_to_writers(int max_ms);

struct db {
    db_dialect dialect;
    const struct db_driver *driver;
    int in_transaction;
    int fault_injected; /* the last statement failed by db_fault_inject (db_error_message) */
    struct db *next_free;
    /* DB_SQLITE */
    sqlite3 *sqlite;
    struct db_cached_stmt cache[DB_STMT_CACHE_SIZE];
    int cache_count;
    /* DB_POSTGRESQL */
    struct db_pg *pg;
};

struct db_stmt {
    db *conn;
    int64_t changes;
    bool is_write;       /* INSERT, UPDATE or DELETE: counted by db_fault_inject */
    bool fault_injected; /* failed by db_fault_inject before it ran */
    /* DB_SQLITE */
    sqlite3_stmt *sqlite;
    struct db_cached_stmt *cached; /* NULL: finalize on db_finalize */
    /* DB_POSTGRESQL */
    struct db_pg_stmt *pg;
};

extern const struct db_driver DB_SQLITE_DRIVER;
extern const struct db_driver DB_PG_DRIVER;

NSDB_MUST_CHECK nsdb_err db_sqlite_connect(const char *path, db **out);
/* url: a libpq connection URI (postgresql://… or postgres://…). */
NSDB_MUST_CHECK nsdb_err db_pg_connect(const char *url, db **out);

#endif
