/*
 * import_recovery.c — see import_recovery.h.
 */
#define NSDB_STORE_INTERNAL
#include "store/import_recovery.h"

#include <stdlib.h>

#include "store/bulk_import.h"
#include "store/rows.h"
#include "store/sql.h"
#include "store/state_columns.h"
#include "store/users_internal.h"

nsdb_err store_import_batch_running(db *conn, int64_t municipality_pk, int64_t *batch_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT id FROM import_batches WHERE municipality_id = $1 "
                          "AND state IN ('checking', 'writing') ORDER BY id LIMIT 1",
                          "i", municipality_pk);
    return e != NSDB_OK ? e : store_row_int(st, batch_out);
}

/* A user of a chunk as read: the chunk's bounds, what the name index counts, its institution. */
typedef struct chunk_user {
    int64_t id, municipality_pk, institution_pk;
    user_role role;
    const char *name_search;
} chunk_user;

static void chunk_user_from_row(arena *a, db_stmt *st, void *row)
{
    chunk_user *u = row;
    u->id = db_column_int(st, 0);
    u->municipality_pk = db_column_int(st, 1);
    u->institution_pk = db_column_int(st, 2);
    u->role = store_column_user_role(st, 3);
    u->name_search = store_column_strdup(a, st, 4);
}

static int discard_user_cmp(const void *a, const void *b)
{
    int64_t x = ((const store_discard_user *)a)->municipality_pk;
    int64_t y = ((const store_discard_user *)b)->municipality_pk;
    return (x > y) - (x < y);
}

static int pk_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void id_from_row(arena *a, db_stmt *st, void *row)
{
    (void)a;
    *(int64_t *)row = db_column_int(st, 0);
}

static NSDB_MUST_CHECK nsdb_err ids_of(db *conn, arena *a, const char *sql, int64_t **ids_out,
                                       size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, sql, "");
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **ids_out, id_from_row, &rows, count_out);
    *ids_out = rows;
    return e;
}

nsdb_err store_import_batches_unfinished(db *conn, arena *a, const char *owner,
                                         int64_t stale_before, int64_t **ids_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT id FROM import_batches WHERE state IN ('checking', 'writing') "
                          "AND (owner IS NULL OR owner = $1 OR heartbeat_at < $2) ORDER BY id",
                          "ti", owner, stale_before);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **ids_out, id_from_row, &rows, count_out);
    *ids_out = rows;
    return e;
}

nsdb_err store_import_batches_heartbeat(db *conn, const char *owner, const int64_t *ids, size_t n,
                                        int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    nsdb_err e = NSDB_OK;
    for (size_t i = 0; e == NSDB_OK && i < n; i++)
        e = db_exec(conn, NULL,
                    "UPDATE import_batches SET heartbeat_at = $2 WHERE id = $1 AND owner = $3 "
                    "AND state IN ('checking', 'writing')",
                    "iit", ids[i], now, owner);
    return e;
}

nsdb_err store_import_batches_to_discard(db *conn, arena *a, int64_t **ids_out, size_t *count_out)
{
    return ids_of(conn, a,
                  "SELECT b.id FROM import_batches b WHERE b.state = 'failed' "
                  "AND EXISTS (SELECT 1 FROM users u WHERE u.batch_id = b.id) ORDER BY b.id",
                  ids_out, count_out);
}

nsdb_err store_import_discard_chunk_read(db *conn, arena *a, int64_t batch_id, int64_t after,
                                         int64_t limit, store_discard_chunk *out)
{
    *out = (store_discard_chunk){0};
    /* one range of users_batch (batch_id, id), from after: not through the index entries of the
       chunks removed before (PostgreSQL keeps them until a vacuum) */
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT id, COALESCE(municipality_id, 0), COALESCE(institution_id, 0), "
                          "role, name_search FROM users WHERE batch_id = $1 AND id > $2 "
                          "ORDER BY batch_id, id LIMIT $3",
                          "iii", batch_id, after, limit);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    size_t n = 0;
    e = store_rows_read(st, a, sizeof(chunk_user), chunk_user_from_row, &rows, &n);
    if (e != NSDB_OK || n == 0)
        return e;
    const chunk_user *users = rows;
    out->first = users[0].id;
    out->last = users[n - 1].id;
    out->counted = arena_calloc(a, n, sizeof *out->counted);
    out->institutions = arena_calloc(a, n, sizeof *out->institutions);
    for (size_t i = 0; i < n; i++) {
        if (users[i].municipality_pk != 0 && user_grams_role(users[i].role))
            out->counted[out->counted_count++] = (store_discard_user){users[i].municipality_pk,
                                                                      users[i].name_search};
        if (users[i].institution_pk != 0)
            out->institutions[out->institution_count++] = users[i].institution_pk;
    }
    qsort(out->counted, out->counted_count, sizeof *out->counted, discard_user_cmp);
    qsort(out->institutions, out->institution_count, sizeof *out->institutions, pk_cmp);
    size_t distinct = 0;
    for (size_t i = 0; i < out->institution_count; i++)
        if (distinct == 0 || out->institutions[distinct - 1] != out->institutions[i])
            out->institutions[distinct++] = out->institutions[i];
    out->institution_count = distinct;
    return NSDB_OK;
}

nsdb_err store_import_discard_chunk_remove(db *conn, int64_t batch_id,
                                           const store_discard_chunk *chunk, int64_t *removed_out)
{
    STORE_ASSERT_WRITE(conn);
    *removed_out = 0;
    if (chunk->last == 0)
        return NSDB_OK;
    nsdb_err e = db_exec(conn, NULL,
                         "DELETE FROM registrations WHERE user_pk IN (SELECT id FROM users "
                         "WHERE batch_id = $1 AND id BETWEEN $2 AND $3)",
                         "iii", batch_id, chunk->first, chunk->last);
    if (e == NSDB_OK)
        e = db_exec(conn, removed_out,
                    "DELETE FROM users WHERE batch_id = $1 AND id BETWEEN $2 AND $3", "iii",
                    batch_id, chunk->first, chunk->last);
    if (e == NSDB_OK)
        e = store_bulk_institutions_discard(conn, batch_id, chunk->institutions,
                                            chunk->institution_count);
    return e;
}
