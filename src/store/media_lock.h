/*
 * media_lock.h — one media build at a time across every nsdb server on one database (issue 13
 * item 6). On PostgreSQL a session-level advisory lock held by the build's connection for the
 * whole build (released explicitly, or by PostgreSQL when the session ends, so a crashed server
 * does not leave it taken). On SQLite every server shares the data folder's database file, and
 * the file lock core/media.c takes on DATA/media/.build.lock is the lock: these always succeed.
 */
#ifndef NSDB_MEDIA_LOCK_H
#define NSDB_MEDIA_LOCK_H

#include <stdbool.h>

#include "store/db.h"

/* Takes the lock without waiting: *got false when another session holds it. Outside a
   transaction (the lock outlives the build's many transactions). */
NSDB_MUST_CHECK nsdb_err store_media_build_lock_try(db *conn, bool *got);
/* Releases what store_media_build_lock_try took on conn. */
NSDB_MUST_CHECK nsdb_err store_media_build_unlock(db *conn);

#endif
