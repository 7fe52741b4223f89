/*
 * media_timing.h — what the timing of a cycle's media build depends on (issue 13 item 7): who
 * has registered in a cycle's window so far (the confirmation of an early build names them), and
 * the 追加分: users registered after the package with their institution's media was packed, who
 * go on a supplementary list in the municipality's package of a later cycle. package_listings
 * records whom each package's printed list names, so that each user is on one 追加分 at most.
 */
#ifndef NSDB_MEDIA_TIMING_H
#define NSDB_MEDIA_TIMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/arena.h"

/* The municipalities with registrations in a cycle, by code: how many users and institutions. */
typedef struct store_cycle_registrant {
    const char *municipality_code, *municipality_name;
    int64_t users, institutions;
} store_cycle_registrant;
NSDB_MUST_CHECK nsdb_err store_cycle_registrants(db *conn, arena *a, const char *cycle_id,
                                                 store_cycle_registrant **rows_out,
                                                 size_t *count_out);

/* A user due on a 追加分 when cycle_id is packed: registered in the municipality at an
   institution whose first media went out in a package of an earlier cycle, named on no
   package's list, and not at an institution with a media of cycle_id waiting to be packed
   (whose list will name them). Ordered by municipality code, institution code, registration. */
typedef struct store_supplement_user {
    int64_t municipality_pk;
    const char *municipality_code, *municipality_name;
    const char *institution_code, *institution_name;
    int64_t user_pk;
    const char *user_id, *name;
    const char *category; /* nanbyo, shoman, both */
    int64_t registered_at;
} store_supplement_user;
NSDB_MUST_CHECK nsdb_err store_supplement_due(db *conn, arena *a, const char *cycle_id,
                                              store_supplement_user **rows_out, size_t *count_out);

/* Records the users the list of package_id names for its media's institutions (the institutions'
   doctors and managers as of now). */
NSDB_MUST_CHECK nsdb_err store_package_listing_main(db *conn, int64_t package_id);
/* Records user_pk on the 追加分 of package_id; NSDB_ERR_EXISTS when the user is on one already. */
NSDB_MUST_CHECK nsdb_err store_package_listing_supplement(db *conn, int64_t package_id,
                                                          int64_t user_pk);

/* Per municipality: users on the 追加分 of the cycle's packages (listed) and users due on the
   next packing's 追加分 (due: store_supplement_due of the cycle, not yet packed). */
typedef struct store_supplement_count {
    const char *municipality_code, *municipality_name;
    int64_t listed, due;
} store_supplement_count;
NSDB_MUST_CHECK nsdb_err store_supplement_counts(db *conn, arena *a, const char *cycle_id,
                                                 store_supplement_count **rows_out,
                                                 size_t *count_out);

#endif
