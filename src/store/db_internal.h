/*
 * db_internal.h — what the pool (db.c) and the drivers share. Not for use outside src/store/.
 */
#ifndef NSDB_DB_INTERNAL_H
#define NSDB_DB_INTERNAL_H

#include <sqlite3.h>

#include "store/db.h"

struct db {
    db_dialect dialect;
    sqlite3 *sqlite;
    int in_transaction;
    struct db *next_free;
};

struct db_stmt {
    db *conn;
    sqlite3_stmt *sqlite;
    int64_t changes;
};

nsdb_err db_sqlite_connect(const char *path, db **out);
void db_sqlite_disconnect(db *conn);

#endif
