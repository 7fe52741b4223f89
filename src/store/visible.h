/*
 * visible.h — the one condition that hides the users and registrations of an import batch that
 * is not visible (issue 11): a batch in checking or writing, or one that was refused or failed,
 * is listed in hidden_batches, and its rows exist for no screen, list, CSV, API, search, count,
 * notice, login or media. Every read of users (alias u) or registrations (alias r) in store/
 * adds it. Rows registered one by one have no batch, so the NOT EXISTS is not even evaluated for
 * them; for batch rows it is one primary-key probe of a table that holds a handful of rows.
 */
#ifndef NSDB_STORE_VISIBLE_H
#define NSDB_STORE_VISIBLE_H

#ifndef NSDB_STORE_INTERNAL
#error "store/visible.h is private to src/store"
#endif

#define STORE_SHOWN_BATCH(col)                                                                     \
    "(" col " IS NULL OR NOT EXISTS (SELECT 1 FROM hidden_batches hb WHERE hb.batch_id = " col "))"
/* users u / registrations r of no batch or of a visible batch */
#define USER_SHOWN STORE_SHOWN_BATCH("u.batch_id")
#define REGISTRATION_SHOWN STORE_SHOWN_BATCH("r.batch_id")
/* The duplicate checks of a registration see the rows of a batch being written (so the same
   person cannot be registered twice meanwhile) but not those of a failed batch, which are about
   to be removed. A refused batch never wrote a row. */
#define USER_NOT_DISCARDED                                                                         \
    "(u.batch_id IS NULL OR NOT EXISTS (SELECT 1 FROM import_batches fb WHERE fb.id = u.batch_id " \
    "AND fb.state = 'failed'))"

#endif
