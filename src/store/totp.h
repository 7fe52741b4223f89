/*
 * totp.h — two-factor secrets and recovery codes (migration 008). A secret is stored sealed
 * (domain/secret.h) and is pending until confirmed; the last accepted time step is kept so that a
 * code is accepted once; recovery codes are stored as keyed hashes and used at most once. The
 * user row's totp_enrolled_at follows the confirmation. Writes run in the caller's transaction.
 */
#ifndef NSDB_STORE_TOTP_H
#define NSDB_STORE_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/arena.h"

typedef struct store_totp {
    const unsigned char *secret_sealed; /* in the caller's arena */
    size_t secret_sealed_len;
    int64_t confirmed_at; /* 0 while pending */
    int64_t last_step;
    int64_t created_at;
} store_totp;

/* NSDB_ERR_NOT_FOUND when the user has no secret, pending or confirmed. */
NSDB_MUST_CHECK nsdb_err store_totp_find(db *conn, arena *a, int64_t user_pk, store_totp *out);
/* Replaces any secret of the user by a pending one. */
NSDB_MUST_CHECK nsdb_err store_totp_put_pending(db *conn, int64_t user_pk,
                                                const unsigned char *sealed, size_t sealed_len,
                                                int64_t now);
/* Confirms the pending secret with the step of the code that confirmed it and stores the hashes
   of the new recovery codes (replacing any earlier ones). *confirmed_out is false when there was
   no pending secret any more (another request confirmed or removed it). */
NSDB_MUST_CHECK nsdb_err store_totp_confirm(db *conn, int64_t user_pk, int64_t step, int64_t now,
                                            const char *const *code_hashes, size_t n,
                                            bool *confirmed_out);
/* Records step as used when it is later than the last used one (one statement, so two requests
   with the same code cannot both pass); *accepted_out tells whether it was. */
NSDB_MUST_CHECK nsdb_err store_totp_use_step(db *conn, int64_t user_pk, int64_t step,
                                             bool *accepted_out);
/* Marks an unused recovery code of the user as used; *used_out is false when no unused code of
   the user has this hash. */
NSDB_MUST_CHECK nsdb_err store_totp_use_recovery_code(db *conn, int64_t user_pk,
                                                      const char *code_hash, int64_t now,
                                                      bool *used_out);
/* Unused recovery codes of the user. */
NSDB_MUST_CHECK nsdb_err store_totp_recovery_codes_left(db *conn, int64_t user_pk,
                                                        int64_t *count_out);
/* Removes the user's secret and recovery codes; the user is no longer enrolled.
   *removed_out tells whether there was anything to remove. */
NSDB_MUST_CHECK nsdb_err store_totp_delete(db *conn, int64_t user_pk, int64_t now,
                                           bool *removed_out);

#endif
