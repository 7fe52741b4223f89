/*
 * migrate.h — numbered schema migrations (migrations/NNN_name.sql, compiled in).
 */
#ifndef NSDB_MIGRATE_H
#define NSDB_MIGRATE_H

#include "store/db.h"

/* Applies every migration not yet applied, each in its own transaction; *applied_out counts them. */
NSDB_MUST_CHECK nsdb_err migrate_apply_all(db *conn, int *applied_out);

#endif
