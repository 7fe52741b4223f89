/*
 * import_discard.c — the removal of the rows a failed 一括登録 batch wrote (issue 11): its users,
 * their registrations and the institutions made for them alone go in short chunks, each its own
 * transaction under the batch's municipality's lock, and the name index (user_grams) and the
 * municipality's count of institution users give back what the import's chunks added. Each
 * chunk gives them back as the import added them (import_write.c's write_grams): the (gram, key)
 * pairs counted here in C and taken back by a few multi-row statements, the count by one
 * statement a municipality, so a chunk is a few dozen statements rather than three a user, and
 * a command-line or operator action waiting for the global lock (PostgreSQL) waits for
 * milliseconds. The batch's audit records stay.
 */
#include "core/import_job.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/import_grams.h"
#include "store/bulk_import.h"
#include "store/import_batches.h"
#include "store/import_recovery.h"
#include "util/clock.h"
#include "util/log.h"

/* The pause between two chunks of a failed batch's removal (a background chore). */
#define DISCARD_PAUSE_MS 100

static int gram_cmp(const void *a, const void *b)
{
    const store_bulk_gram *x = a, *y = b;
    int c = strcmp(x->gram, y->gram);
    return c != 0 ? c : strcmp(x->key, y->key);
}

/* Gives back the name index and the count of institution users of users[0..n-1] (in
   municipality order): per municipality, its users' pairs counted, then taken back. */
static NSDB_MUST_CHECK nsdb_err give_back_grams(core_ctx *c, arena *a,
                                                const store_discard_user *users, size_t n)
{
    nsdb_err e = NSDB_OK;
    for (size_t from = 0, to = 0; e == NSDB_OK && from < n; from = to) {
        int64_t municipality_pk = users[from].municipality_pk;
        import_grams grams = {0};
        for (to = from; e == NSDB_OK && to < n && users[to].municipality_pk == municipality_pk;
             to++)
            e = import_grams_add(&grams, a, users[to].name_search);
        /* in the index's order: neighbouring pairs of a statement share its pages */
        qsort(grams.rows, grams.count, sizeof *grams.rows, gram_cmp);
        if (e == NSDB_OK)
            e = store_bulk_user_grams_remove(c->conn, municipality_pk, grams.rows, grams.count,
                                             (int64_t)(to - from));
        import_grams_free(&grams);
    }
    return e;
}

/* One chunk (the batch's lowest IMPORT_DISCARD_CHUNK users above *after, which becomes the
   chunk's last id), inside the caller's transaction; *removed_out: users removed (0: none were
   left). */
static NSDB_MUST_CHECK nsdb_err discard_chunk(core_ctx *c, int64_t batch, int64_t *after,
                                              int64_t *removed_out)
{
    *removed_out = 0;
    arena *a = arena_new();
    store_discard_chunk chunk;
    nsdb_err e = store_import_discard_chunk_read(c->conn, a, batch, *after, IMPORT_DISCARD_CHUNK,
                                                 &chunk);
    if (e == NSDB_OK)
        e = give_back_grams(c, a, chunk.counted, chunk.counted_count);
    if (e == NSDB_OK)
        e = store_import_discard_chunk_remove(c->conn, batch, &chunk, removed_out);
    if (e == NSDB_OK)
        *after = chunk.last;
    arena_free(a);
    return e;
}

nsdb_err core_import_batch_discard(core_ctx *c, int64_t batch, const atomic_bool *stop)
{
    int64_t total = 0, removed = 0, after = 0;
    /* its municipality's lock, not the global one: on PostgreSQL the other municipalities'
       work and every login go on meanwhile (the chunk's writes are that municipality's rows,
       its name index and institutions no one uses) */
    store_import_batch b = {0};
    nsdb_err e = store_import_batch_get(c->conn, c->arena, 0, batch, &b);
    int64_t municipality_pk = b.municipality_pk;
    while (e == NSDB_OK) {
        if (stop != NULL && atomic_load(stop))
            return NSDB_OK; /* the rest is removed at the next start */
        /* logins and registrations first: those of this server, and (the pause) those of other
           processes on the database, which retry in SQLite's busy handler every 100 ms */
        db_yield_to_writers(c->conn, 1000);
        if (total > 0)
            nanosleep(&(struct timespec){.tv_nsec = DISCARD_PAUSE_MS * 1000000L}, NULL);
        int64_t started = clock_monotonic_ms();
        e = core_begin_scoped(c, DB_SCOPE_MUNICIPALITY, municipality_pk);
        if (e == NSDB_OK)
            e = store_import_batch_get(c->conn, c->arena, 0, batch, &b);
        /* only a failed batch's rows are removed: they were never visible */
        if (e == NSDB_OK && b.state != IMPORT_STATE_FAILED)
            e = NSDB_ERR_CONFLICT;
        if (e == NSDB_OK)
            e = discard_chunk(c, batch, &after, &removed);
        e = core_end(c, e);
        if (e != NSDB_OK)
            break;
        total += removed;
        char users[32], took[32];
        snprintf(users, sizeof users, "%lld", (long long)removed);
        snprintf(took, sizeof took, "%lld", (long long)(clock_monotonic_ms() - started));
        log_event(LOG_DEBUG, "import_discard_chunk", "users", users, "ms", took, NULL);
        if (removed == 0)
            break;
    }
    if (e == NSDB_OK && total > 0)
        e = core_audit_event(c, "inst_users_import_discard", core_target_id(c, "batch", batch),
                             "ok", arena_printf(c->arena, "%lld users", (long long)total));
    return e;
}
