/*
 * import_prep.h — what one chunk of an import writes, made before its transaction (issue 11: ≤ 10×
 * `sqlite3 .import`). SQLite has one writer, and on a 2-core machine the writer's core also
 * sealed every new account's initial password and counted the name index of each chunk, while the
 * other core had nothing to do. The writer now makes the next chunk's part on another thread
 * (import_prep_start) while it writes the current chunk, and takes it (import_prep_wait) when the
 * chunk's transaction begins.
 *
 * A prep reads only what the plan fixed before the first chunk (the rows' decisions, the accounts'
 * categories, the import's rows); the writer changes, meanwhile, only the pk and the user ID of
 * its own chunk's accounts, never those of the next one. The institutions' ids are not known
 * before the chunk's transaction (a chunk inserts the institutions its rows name first): the
 * writer fills users[k].institution_pk from rows[k].
 */
#ifndef NSDB_CORE_IMPORT_PREP_H
#define NSDB_CORE_IMPORT_PREP_H

#include <pthread.h>
#include <stdbool.h>

#include "core/import_grams.h"
#include "core/import_internal.h"
#include "store/audit.h"

typedef struct import_prep {
    /* in */
    app *app;
    const inst_import *imp;
    const import_plan *plan;
    size_t from, to; /* rows from..to-1 */
    /* out, in arena */
    arena *arena;
    store_bulk_user_new *users; /* the new accounts, with sealed initial passwords */
    uint32_t *accounts;         /* [k]: the account of users[k] */
    uint32_t *rows;             /* [k]: its row */
    size_t n_users;
    store_audit *audit; /* user_create per new account, user_update per merge into one */
    size_t n_audit;
    import_grams grams; /* the name index of the new accounts */
    nsdb_err result;
    /* the thread making it */
    pthread_t thread;
    bool running;
} import_prep;

/* Starts making rows from..to-1's part on a thread of its own (here, when no thread starts). */
void import_prep_start(import_prep *pr, app *application, const inst_import *imp, const import_plan *plan,
                       size_t from, size_t to);
/* Waits for it; its result. */
NSDB_MUST_CHECK nsdb_err import_prep_wait(import_prep *pr);
/* Waits, and frees what it made (the zeroed prep too; then it can start again). */
void import_prep_free(import_prep *pr);

#endif
