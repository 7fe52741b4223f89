/*
 * import_batches.h — the life of an import batch (一括登録, issue 11): opened invisible
 * (checking), written in chunks (writing, rows_written counted), then made visible in one short
 * step, or ended refused (the clashing rows kept as JSON) or failed (the reason kept). A batch
 * that is not visible is listed in hidden_batches, and its users (users.batch_id) exist for no
 * screen, list, search, login or media.
 */
#ifndef NSDB_STORE_IMPORT_BATCHES_H
#define NSDB_STORE_IMPORT_BATCHES_H

#include <stdint.h>

#include "domain/states.h"
#include "store/db.h"
#include "util/arena.h"

typedef struct store_import_batch {
    int64_t id;
    int64_t municipality_pk;
    int64_t created_by;
    const char *filenames;
    int64_t row_count;    /* rows of the files */
    int64_t rows_written; /* rows written into the batch so far */
    import_state state;
    const char *failure;  /* FAILED: the reason (Japanese); else NULL */
    const char *refusal;  /* REFUSED: JSON array of the clashing rows; else NULL */
    const char *warnings; /* one sentence a line, or NULL */
    int64_t created_at, updated_at;
} store_import_batch;

/* A new batch in state checking, hidden until made visible, run by the server owner (see
   import_recovery.h; NULL: none) and stamped now. */
NSDB_MUST_CHECK nsdb_err store_import_batch_open(db *conn, int64_t municipality_pk,
                                                 int64_t created_by, const char *filenames,
                                                 int64_t row_count, const char *warnings,
                                                 const char *owner, int64_t now, int64_t *id_out);
/* Moves a running batch (checking or writing) to state (failure and refusal kept when given,
   else left); VISIBLE also takes it out of hidden_batches, so its users appear at once.
   NSDB_ERR_CONFLICT when the batch has ended already (e.g. failed by a server's restart while
   this one still wrote it): an ended batch never moves again. */
NSDB_MUST_CHECK nsdb_err store_import_batch_set_state(db *conn, int64_t batch_id,
                                                      import_state state, const char *failure,
                                                      const char *refusal, int64_t now);
/* Rows written so far (the progress page), in each chunk's transaction; NSDB_ERR_CONFLICT when
   the batch is no longer running, which ends its writer. */
NSDB_MUST_CHECK nsdb_err store_import_batch_progress(db *conn, int64_t batch_id,
                                                     int64_t rows_written, int64_t now);
/* The batch of the municipality (0: any municipality); NSDB_ERR_NOT_FOUND when none. */
NSDB_MUST_CHECK nsdb_err store_import_batch_get(db *conn, arena *a, int64_t municipality_pk,
                                                int64_t batch_id, store_import_batch *out);

#endif
