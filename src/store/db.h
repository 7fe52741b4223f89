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
/* A free connection, or NULL at once when none is free. */
db *db_pool_try_acquire(db_pool *pool);
void db_pool_release(db_pool *pool, db *conn);
db_dialect db_pool_dialect(const db_pool *pool);
/* The SQLite file path, or NULL for another backend. */
const char *db_pool_sqlite_path(const db_pool *pool);

db_dialect db_get_dialect(const db *conn);
/* BEGIN of a write transaction. SQLite takes the write lock at once, so that a transaction never
   fails half-way on a lock upgrade: SQLite's writers are serialised. On PostgreSQL transactions
   take transaction-scoped advisory locks in two levels, shared by all nsdb servers on the
   database: one global key, and a lock per scope (a municipality, a user) in a key space of its
   own. db_begin takes the global key EXCLUSIVE: the transaction runs alone, as on SQLite — the
   default for code that was not given a scope, correct by construction. db_begin_scoped takes the
   global key SHARED and the scope's key exclusive: transactions of different scopes run at once,
   so their rules that span rows must stay within the scope or be kept by constraints and row
   locks (SELECT … FOR UPDATE, INSERT … ON CONFLICT); an exclusive transaction still waits for
   all of them. Locks wait at most 10 s, then NSDB_ERR_BUSY. */
typedef enum {
    DB_SCOPE_NONE,         /* the shared global key only: every write is one atomic statement
                              (a conditional UPDATE, an upsert) or locks its rows itself */
    DB_SCOPE_MUNICIPALITY, /* key: municipalities.id; rules within a municipality hold */
    DB_SCOPE_USER,         /* key: users.id; one user's login, session and password writes */
} db_scope;
NSDB_MUST_CHECK nsdb_err db_begin(db *conn);
/* key is ignored for DB_SCOPE_NONE. On SQLite the same as db_begin. */
NSDB_MUST_CHECK nsdb_err db_begin_scoped(db *conn, db_scope kind, int64_t key);
NSDB_MUST_CHECK nsdb_err db_commit(db *conn);
void db_rollback(db *conn);
/* BEGIN of a read-only transaction: its statements see one snapshot of the database (end it with
   db_commit or db_rollback). No lock is taken that would hold writers back. */
NSDB_MUST_CHECK nsdb_err db_begin_read(db *conn);
bool db_in_transaction(const db *conn);
/* Between two transactions of a long job (an import's chunks): on SQLite, waits (at most max_ms)
   while other connections of this process wait to begin a write transaction, so that their
   logins and registrations go first rather than retry in SQLite's busy handler while the job
   takes the lock again at once. No-op on PostgreSQL, whose lock queue is fair. */
void db_yield_to_writers(db *conn, int max_ms);
/* Last error text of the connection, for logs. */
const char *db_error_message(db *conn);

/* Whether the database answers a trivial query (/healthz). */
NSDB_MUST_CHECK nsdb_err store_ping(db *conn);

#endif
