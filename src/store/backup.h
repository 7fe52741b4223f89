/*
 * backup.h — online backup of the SQLite database (pages copied while nsdb serves).
 */
#ifndef NSDB_BACKUP_H
#define NSDB_BACKUP_H

#include "store/db.h"

NSDB_MUST_CHECK nsdb_err store_backup_sqlite(db_pool *pool, const char *target_path);
const char *store_sqlite_version(void);

#endif
