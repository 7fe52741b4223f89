/*
 * import_recovery.h — the import batches a server must look after besides writing them
 * (issue 11): the running batch of a municipality (one import at a time), the batches a stopped
 * or crashed server left in checking or writing, and the removal, in short chunks, of the rows a
 * failed batch wrote (its users and registrations; its audit records stay).
 */
#ifndef NSDB_STORE_IMPORT_RECOVERY_H
#define NSDB_STORE_IMPORT_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/arena.h"

/* The municipality's batch in checking or writing (the oldest); NSDB_ERR_NOT_FOUND when none. */
NSDB_MUST_CHECK nsdb_err store_import_batch_running(db *conn, int64_t municipality_pk,
                                                    int64_t *batch_out);
/* The batches in checking or writing (of any municipality, in id order, in a) that no live
   server runs: those of owner (a server that starts: it ran them before it stopped; NULL: none),
   those of no owner, and those whose heartbeat_at is before stale_before (their server died). */
NSDB_MUST_CHECK nsdb_err store_import_batches_unfinished(db *conn, arena *a, const char *owner,
                                                         int64_t stale_before, int64_t **ids_out,
                                                         size_t *count_out);
/* Stamps heartbeat_at of the batches of owner (those still in checking or writing) with now:
   their server is alive and runs them. */
NSDB_MUST_CHECK nsdb_err store_import_batches_heartbeat(db *conn, const char *owner,
                                                        const int64_t *ids, size_t n, int64_t now);
/* Every failed batch that still has users, in id order (in a). */
NSDB_MUST_CHECK nsdb_err store_import_batches_to_discard(db *conn, arena *a, int64_t **ids_out,
                                                         size_t *count_out);
/* A user of a failed batch's chunk that the name index and municipalities.inst_users count (an
   institution user of a municipality; name_search NULL or empty: in no gram). */
typedef struct store_discard_user {
    int64_t municipality_pk;
    const char *name_search;
} store_discard_user;

/* The next chunk of a failed batch's removal: its users are the batch's ids first..last. */
typedef struct store_discard_chunk {
    int64_t first, last; /* 0: no user is left */
    /* those the name index and the count of institution users took when they were written
       (store_bulk_user_grams_add), in municipality order, for store_bulk_user_grams_remove */
    store_discard_user *counted;
    size_t counted_count;
    int64_t *institutions; /* of the chunk's users, distinct */
    size_t institution_count;
} store_discard_chunk;

/* Reads the next chunk of a failed batch: at most limit users, its lowest ids above after (the
   last id of the chunk before, or 0), in a. */
NSDB_MUST_CHECK nsdb_err store_import_discard_chunk_read(db *conn, arena *a, int64_t batch_id,
                                                         int64_t after, int64_t limit,
                                                         store_discard_chunk *out);
/* Removes the chunk's users with their registrations, and the institutions made for them
   alone: created at or after the batch and used by no user, registration or media any more,
   while no import runs. *removed_out: users removed. The batch's users were never visible, so
   nothing else (sessions, listings, mail) refers to them. */
NSDB_MUST_CHECK nsdb_err store_import_discard_chunk_remove(db *conn, int64_t batch_id,
                                                           const store_discard_chunk *chunk,
                                                           int64_t *removed_out);

#endif
