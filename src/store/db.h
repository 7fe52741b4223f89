/*
 * db.h — the storage interface: connections from a pool, transactions, prepared statements with
 * `$1`-style parameters, typed columns. SQL written against it is portable between SQLite (the
 * embedded default) and PostgreSQL; only src/store/ may contain SQL.
 */
#ifndef NSDB_DB_H
#define NSDB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct db db;
typedef struct db_stmt db_stmt;
typedef struct db_pool db_pool;

enum db_step_result { DB_ROW = 1, DB_DONE = 0, DB_ERROR = -1 };
typedef enum { DB_SQLITE, DB_POSTGRESQL } db_dialect;

/* url: NULL or "" = SQLite file nsdb.sqlite3 in data_dir; "sqlite:PATH"; "postgresql://…" or
   "postgres://…" (a libpq connection URI). Any other URL: NSDB_ERR_INVALID. */
nsdb_err db_pool_open(const char *url, const char *data_dir, int size, db_pool **out);
void db_pool_close(db_pool *pool);
/* Blocks until a connection is free. */
db *db_pool_acquire(db_pool *pool);
void db_pool_release(db_pool *pool, db *conn);
db_dialect db_pool_dialect(const db_pool *pool);
/* The SQLite file path, or NULL for another backend. */
const char *db_pool_sqlite_path(const db_pool *pool);

db_dialect db_get_dialect(const db *conn);
/* BEGIN (write intent: SQLite takes the write lock at once so that a transaction never fails
   half-way on a lock upgrade; PostgreSQL takes one transaction-scoped advisory lock shared by all
   nsdb servers on the database, so that transactions are serialised there as well). */
nsdb_err db_begin(db *conn);
nsdb_err db_commit(db *conn);
void db_rollback(db *conn);
/* BEGIN of a read-only transaction: its statements see one snapshot of the database (end it with
   db_commit or db_rollback). No lock is taken that would hold writers back. */
nsdb_err db_begin_read(db *conn);
bool db_in_transaction(const db *conn);
/* Runs a script of several statements without parameters (migrations). */
nsdb_err db_exec_script(db *conn, const char *sql);

nsdb_err db_prepare(db *conn, const char *sql, db_stmt **out);
/* Binding NULL text binds SQL NULL. Indexes start at 1 and match $1, $2 … */
void db_bind_text(db_stmt *st, int index, const char *value);
void db_bind_int(db_stmt *st, int index, int64_t value);
void db_bind_blob(db_stmt *st, int index, const void *value, size_t len);
void db_bind_null(db_stmt *st, int index);
int db_step(db_stmt *st);
/* Column values are valid until the next db_step or db_finalize. Text NULL -> NULL. */
const char *db_column_text(db_stmt *st, int col);
int64_t db_column_int(db_stmt *st, int col);
const void *db_column_blob(db_stmt *st, int col, size_t *len);
int db_column_is_null(db_stmt *st, int col);
/* Rows changed by the last completed statement. */
int64_t db_changes(db_stmt *st);
void db_finalize(db_stmt *st);

/*
 * Convenience: prepare, bind from `types` ('t' const char *, 'i' int64_t, 'b' blob as
 * (const void *, size_t), 'n' null), step to completion, finalize. Returns NSDB_ERR_EXISTS on a
 * unique-constraint violation. *changes_out (may be NULL) receives the affected row count.
 */
nsdb_err db_exec(db *conn, int64_t *changes_out, const char *sql, const char *types, ...);
/* Same, for a query: prepare and bind, leaving the statement for the caller to step. */
nsdb_err db_query(db *conn, db_stmt **out, const char *sql, const char *types, ...);
/* Last error text of the connection, for logs. */
const char *db_error_message(db *conn);
/* True when the statement's last failure was a unique or primary-key violation. */
int db_last_error_is_unique(db_stmt *st);

#endif
