/*
 * db_internal.h — what the pool (db.c) and the drivers share. Not for use outside src/store/.
 */
#ifndef NSDB_DB_INTERNAL_H
#define NSDB_DB_INTERNAL_H

#include <sqlite3.h>

#include "store/db.h"

#define DB_STMT_CACHE_SIZE 64

/* Prepared statements kept per connection, keyed by their SQL text: most of nsdb's SQL is a
   handful of constant strings run many times (a bulk import runs each once a row). */
struct db_cached_stmt {
    char *sql;
    sqlite3_stmt *stmt;
    int in_use;
};

struct db {
    db_dialect dialect;
    sqlite3 *sqlite;
    int in_transaction;
    struct db *next_free;
    struct db_cached_stmt cache[DB_STMT_CACHE_SIZE];
    int cache_count;
};

struct db_stmt {
    db *conn;
    sqlite3_stmt *sqlite;
    int64_t changes;
    struct db_cached_stmt *cached; /* NULL: finalize on db_finalize */
};

nsdb_err db_sqlite_connect(const char *path, db **out);
void db_sqlite_disconnect(db *conn);

#endif
