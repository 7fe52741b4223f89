/*
 * db.h — the public half of the storage interface: a pool of connections, the dialect,
 * transactions and the last error text. Code outside src/store/ sees only this and the typed
 * accessors of the entity headers (store/users.h, store/sessions.h …); the SQL statement API is
 * private to src/store/ (store/sql.h), so that SQL written anywhere else fails to compile.
 */
#ifndef NSDB_DB_H
#define NSDB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct db db;
typedef struct db_pool db_pool;

typedef enum { DB_SQLITE, DB_POSTGRESQL } db_dialect;

/* url: NULL or "" = SQLite file nsdb.sqlite3 in data_dir; "sqlite:PATH"; "postgresql://…" or
   "postgres://…" (a libpq connection URI). Any other URL: NSDB_ERR_INVALID. */
NSDB_MUST_CHECK nsdb_err db_pool_open(const char *url, const char *data_dir, int size,
                                      db_pool **out);
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
NSDB_MUST_CHECK nsdb_err db_begin(db *conn);
NSDB_MUST_CHECK nsdb_err db_commit(db *conn);
void db_rollback(db *conn);
/* BEGIN of a read-only transaction: its statements see one snapshot of the database (end it with
   db_commit or db_rollback). No lock is taken that would hold writers back. */
NSDB_MUST_CHECK nsdb_err db_begin_read(db *conn);
bool db_in_transaction(const db *conn);
/* Last error text of the connection, for logs. */
const char *db_error_message(db *conn);

/* Whether the database answers a trivial query (/healthz). */
NSDB_MUST_CHECK nsdb_err store_ping(db *conn);

#endif
