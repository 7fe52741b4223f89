/*
 * import_tail.h — the registrations of an import's chunk, written beside the next chunk on
 * PostgreSQL (issue 11: at most 2× the SQLite time). PostgreSQL works on each connection in a
 * process of its own, and a chunk's users and their registrations were one after the other on
 * one connection, on one core. When the pool has a second connection, each chunk's registrations
 * are written on it, in a transaction of their own, while the next chunk's institutions, users,
 * audit records and name index are written on the first. No later chunk reads them, and the batch
 * stays invisible until its last step, which runs after the last registrations are written.
 * On SQLite (one writer) or without a second connection, they are written in the chunk's own
 * transaction, as before.
 *
 * On SQLite the second connection, when the pool has one free, checkpoints the WAL instead
 * (import_tail_checkpoint): a passive checkpoint copies committed pages into the database file and
 * syncs it without taking the write lock, so it runs beside the next chunks rather than between
 * them on the writer's core.
 *
 * NSDB_IMPORT_ONE_CONNECTION=1 in the environment keeps everything on the writer's connection
 * (for A/B measurements).
 */
#ifndef NSDB_CORE_IMPORT_TAIL_H
#define NSDB_CORE_IMPORT_TAIL_H

#include <pthread.h>
#include <stdbool.h>

#include "core/actor.h"
#include "store/bulk_import.h"

typedef struct import_tail {
    db_pool *pool;
    db *conn; /* the second connection; NULL: registrations go into the chunk's transaction and
                 checkpoints are made between chunks */
    bool postgresql;
    int64_t municipality_pk, batch;
    const char *cycle_id;
    /* the chunk being written beside (running); regs is malloc'd and freed here */
    pthread_t thread;
    bool running;
    bool checkpoint; /* the running job checkpoints the WAL (SQLite), else writes regs */
    store_bulk_registration *regs;
    size_t n;
    int64_t now;
    nsdb_err result;
} import_tail;

/* Takes a second connection of the pool when there is one free (never waits for one). */
void import_tail_open(import_tail *t, core_ctx *c, int64_t batch, const char *cycle_id);
/* Whether registrations go beside (import_tail_start) rather than into the chunk's transaction. */
bool import_tail_beside(const import_tail *t);
/* Waits for the registrations being written beside (if any), then starts writing regs (n,
   malloc'd; taken over, also on failure) beside; the result of the ones waited for (then regs
   are not written). Call it after the chunk that made their users has committed. */
NSDB_MUST_CHECK nsdb_err import_tail_start(import_tail *t, store_bulk_registration *regs,
                                           size_t n, int64_t now);
/* Checkpoints the WAL (SQLite; nothing on PostgreSQL): beside, after waiting for the last job
   beside, when there is a second connection (*beside true), else here on conn, the writer's
   (between chunks). A checkpoint beside cannot copy the pages the writer commits meanwhile, and
   SQLite starts the WAL over only when every page in it was copied: so after the next chunk,
   import_tail_checkpoint_end waits for it and copies that chunk's pages on conn (the import does
   it after every second checkpoint), and the WAL (which SQLite does not shrink) stays the size
   of a few chunks. */
NSDB_MUST_CHECK nsdb_err import_tail_checkpoint(import_tail *t, db *conn, bool *beside);
NSDB_MUST_CHECK nsdb_err import_tail_checkpoint_end(import_tail *t, db *conn);
/* Waits for the job beside (registrations or a checkpoint); its result (NSDB_OK when none). */
NSDB_MUST_CHECK nsdb_err import_tail_wait(import_tail *t);
/* Waits, and gives the connection back. */
void import_tail_close(import_tail *t);

#endif
