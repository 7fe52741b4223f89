/*
 * registrations.h — registration notifications (指定医マスタの登録通知) and the import
 * batches that register institution users. Writes run inside the caller's transaction.
 */
#ifndef NSDB_STORE_REGISTRATIONS_H
#define NSDB_STORE_REGISTRATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/states.h"
#include "store/db.h"
#include "store/users.h"
#include "util/arena.h"

typedef struct store_registration {
    const char *municipality_code;
    const char *municipality_name;
    const char *institution_code;
    const char *institution_name;
    const char *user_id;
    user_role role;
    const char *cycle_id;
    int64_t registered_at;
} store_registration;

/* The warnings of a batch of the municipality (NULL when none); NSDB_ERR_NOT_FOUND when the
   municipality has no such batch. */
NSDB_MUST_CHECK nsdb_err store_import_batch_warnings(db *conn, arena *a, int64_t municipality_pk,
                                                     int64_t batch_id, const char **warnings_out);
NSDB_MUST_CHECK nsdb_err store_registration_insert(db *conn, int64_t user_pk,
                                                   int64_t municipality_pk, int64_t institution_pk,
                                                   const char *cycle_id, int64_t batch_id,
                                                   int64_t now);
/* A doctor moved to another institution: the registration now names that institution and the
   cycle of the move (cycle_id), so the next media build treats it like a new registration
   there (an institution without media of the municipality gets one). */
NSDB_MUST_CHECK nsdb_err store_registration_move(db *conn, int64_t user_pk, int64_t institution_pk,
                                                 const char *cycle_id, int64_t now);
/* Keeps with the registration of user_pk the warning that its institution differs from the
   master (inst_master_difference). */
NSDB_MUST_CHECK nsdb_err store_registration_set_warning(db *conn, int64_t user_pk,
                                                        const char *warning);
/* That warning of the registration of user_id within the municipality (scope); NULL when none. */
NSDB_MUST_CHECK nsdb_err store_registration_warning(db *conn, arena *a, int64_t municipality_pk,
                                                    const char *user_id, const char **warning_out);
/* Replaces the warnings of an import batch (one sentence a line). */
NSDB_MUST_CHECK nsdb_err store_import_batch_warnings_set(db *conn, int64_t batch_id,
                                                         const char *warnings);
/* Calls fn for each registration of the cycle (all cycles when cycle_id is NULL), ordered by
   municipality, institution, user; stops when fn returns non-zero. */
NSDB_MUST_CHECK nsdb_err store_registration_each(db *conn, const char *cycle_id,
                                                 int (*fn)(void *cls, const store_registration *r),
                                                 void *cls);
/* One page of the registrations of the cycle (all when cycle_id is NULL), in the order of
   store_registration_each, with the number of them all; rows in the arena. */
NSDB_MUST_CHECK nsdb_err store_registration_page(db *conn, arena *a, const char *cycle_id,
                                                 int64_t limit, int64_t offset,
                                                 store_registration **rows_out, size_t *count_out,
                                                 int64_t *total_out);
/* The users registered by one import batch, within the municipality (scope), in registration
   order: the first limit of them (all when limit is 0); *total_out (when not NULL) counts them
   all. */
NSDB_MUST_CHECK nsdb_err store_registration_batch_users(db *conn, arena *a, int64_t municipality_pk,
                                                        int64_t batch_id, int64_t limit,
                                                        store_user **rows_out, size_t *count_out,
                                                        int64_t *total_out);

#endif
