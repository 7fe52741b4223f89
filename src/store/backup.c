/*
 * backup.c — SQLite's online backup API, copying a live database into a new file in steps so
 * that writers are held up only briefly. A PostgreSQL database is backed up with the server's
 * own tools (pg_dump), which nsdb does not wrap.
 */
#define NSDB_STORE_INTERNAL
#include "store/backup.h"

#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

#include "store/db_internal.h"

nsdb_err store_backup_sqlite(db_pool *pool, const char *target_path)
{
    if (db_pool_dialect(pool) != DB_SQLITE) {
        fprintf(stderr, "nsdb: PostgreSQL のデータベースは nsdb backup ではバックアップできません。"
                        "pg_dump（例: pg_dump -Fc -f nsdb.dump DBNAME）を使ってください。\n");
        return NSDB_ERR_INVALID;
    }
    sqlite3 *target = NULL;
    if (sqlite3_open_v2(target_path, &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        sqlite3_close(target);
        return NSDB_ERR_IO;
    }
    db *conn = db_pool_acquire(pool);
    sqlite3_backup *b = sqlite3_backup_init(target, "main", conn->sqlite, "main");
    int rc = SQLITE_ERROR;
    if (b != NULL) {
        do {
            rc = sqlite3_backup_step(b, 256);
            if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
                usleep(20000);
        } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
        sqlite3_backup_finish(b);
    }
    db_pool_release(pool, conn);
    sqlite3_close(target);
    if (rc != SQLITE_DONE) {
        unlink(target_path);
        return NSDB_ERR_IO;
    }
    return NSDB_OK;
}

const char *store_sqlite_version(void)
{
    return sqlite3_libversion();
}
