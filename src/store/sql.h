/*
 * sql.h — the private half of the storage interface: prepared statements with `$1`-style
 * parameters, typed columns, scripts, and the helper every store write starts with. SQL written
 * against it is portable between SQLite (the embedded default) and PostgreSQL. Only files under
 * src/store/ may include it (they define NSDB_STORE_INTERNAL first), as SQLite keeps btreeInt.h
 * to btree.c: the rest of nsdb calls the typed accessors of the entity headers. Unit tests of
 * this layer itself (tests/unit/test_db.c) define the macro too.
 */
#ifndef NSDB_SQL_H
#define NSDB_SQL_H

#ifndef NSDB_STORE_INTERNAL
#error "store/sql.h is private to src/store/: include the entity headers (store/users.h …) instead"
#endif

#include <assert.h>

#include "store/db.h"

typedef struct db_stmt db_stmt;

enum db_step_result { DB_ROW = 1, DB_DONE = 0, DB_ERROR = -1, DB_BUSY = -2 /* driver send */ };

/* Every store function that INSERTs, UPDATEs or DELETEs starts with this: its caller owns the
   transaction, so that the change and its audit record commit or roll back together. nsdb never
   defines NDEBUG, so the check runs in release builds too. */
#define STORE_ASSERT_WRITE(conn) assert(db_in_transaction(conn))

/* Runs a script of several statements without parameters (migrations). */
NSDB_MUST_CHECK nsdb_err db_exec_script(db *conn, const char *sql);

NSDB_MUST_CHECK nsdb_err db_prepare(db *conn, const char *sql, db_stmt **out);
/* Binding NULL text binds SQL NULL. Indexes start at 1 and match $1, $2 … */
void db_bind_text(db_stmt *st, int index, const char *value);
void db_bind_int(db_stmt *st, int index, int64_t value);
void db_bind_blob(db_stmt *st, int index, const void *value, size_t len);
void db_bind_null(db_stmt *st, int index);
int db_step(db_stmt *st);
/* Sends st to the server without waiting for its result, behind the statements sent before it on
   the connection (PostgreSQL: libpq's pipeline mode, so the server runs one statement while the
   next one is bound and sent); its db_step then reads its result. Statements sent must be
   stepped in the order they were sent, and before any other statement runs on the connection;
   one finalized unread (after a failure, before a rollback) may or may not have run.
   NSDB_ERR_BUSY: not sent, because the server must first prepare it and statements sent before
   are still unread: step those, then send it again. SQLite: nothing (it runs at its first
   db_step). */
NSDB_MUST_CHECK nsdb_err db_send(db_stmt *st);
/* PostgreSQL: runs copy_sql (COPY table (columns) FROM STDIN) with data (len bytes) as its rows
   in COPY's text format: one line a row, columns apart by tabs, \N for NULL, backslash escapes.
   All rows or none: on a failure the transaction is as it was before the call (a savepoint), so
   NSDB_ERR_EXISTS (a unique violation) lets the caller go on, e.g. by inserting row by row; any
   other failure is NSDB_ERR_DB. Counted as one write by the fault hook (db_fault.h). The data are
   never logged. NSDB_ERR_INVALID on SQLite, which has no COPY: insert by statements there. */
NSDB_MUST_CHECK nsdb_err db_copy_in(db *conn, const char *copy_sql, const char *data, size_t len);
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
NSDB_MUST_CHECK nsdb_err db_exec(db *conn, int64_t *changes_out, const char *sql, const char *types,
                                 ...);
/* Same, for a query: prepare and bind, leaving the statement for the caller to step. */
NSDB_MUST_CHECK nsdb_err db_query(db *conn, db_stmt **out, const char *sql, const char *types, ...);
/* True when the statement's last failure was a unique or primary-key violation. */
int db_last_error_is_unique(db_stmt *st);

#endif
