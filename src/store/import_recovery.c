/*
 * import_recovery.c — see import_recovery.h.
 */
#define NSDB_STORE_INTERNAL
#include "store/import_recovery.h"

#include "store/bulk_import.h"
#include "store/rows.h"
#include "store/sql.h"

nsdb_err store_import_batch_running(db *conn, int64_t municipality_pk, int64_t *batch_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT id FROM import_batches WHERE municipality_id = $1 "
                          "AND state IN ('checking', 'writing') ORDER BY id LIMIT 1",
                          "i", municipality_pk);
    return e != NSDB_OK ? e : store_row_int(st, batch_out);
}

static void discard_user_from_row(arena *a, db_stmt *st, void *row)
{
    store_discard_user *u = row;
    u->municipality_pk = db_column_int(st, 0);
    u->name_search = store_column_strdup(a, st, 1);
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

nsdb_err store_import_discard_chunk_read(db *conn, arena *a, int64_t batch_id, int64_t limit,
                                         int64_t *upto_out, store_discard_user **users_out,
                                         size_t *count_out)
{
    *upto_out = 0;
    *users_out = NULL;
    *count_out = 0;
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT COALESCE(MAX(id), 0) FROM (SELECT id FROM users "
                          "WHERE batch_id = $1 ORDER BY id LIMIT $2) t",
                          "ii", batch_id, limit);
    if (e == NSDB_OK)
        e = store_row_int(st, upto_out);
    if (e != NSDB_OK || *upto_out == 0)
        return e;
    e = db_query(conn, &st,
                 "SELECT municipality_id, name_search FROM users WHERE batch_id = $1 "
                 "AND id <= $2 AND municipality_id IS NOT NULL "
                 "AND role IN ('doctor', 'inst_manager') ORDER BY municipality_id",
                 "ii", batch_id, *upto_out);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **users_out, discard_user_from_row, &rows, count_out);
    *users_out = rows;
    return e;
}

nsdb_err store_import_discard_chunk_remove(db *conn, int64_t batch_id, int64_t upto,
                                           int64_t *removed_out)
{
    STORE_ASSERT_WRITE(conn);
    *removed_out = 0;
    /* the institutions of the chunk, read before its users go */
    arena *a = arena_new();
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT DISTINCT institution_id FROM users WHERE batch_id = $1 "
                          "AND id <= $2 AND institution_id IS NOT NULL",
                          "ii", batch_id, upto);
    void *institutions = NULL;
    size_t n_institutions = 0;
    if (e == NSDB_OK)
        e = store_rows_read(st, a, sizeof(int64_t), id_from_row, &institutions, &n_institutions);
    if (e == NSDB_OK)
        e = db_exec(conn, NULL,
                    "DELETE FROM registrations WHERE user_pk IN "
                    "(SELECT id FROM users WHERE batch_id = $1 AND id <= $2)",
                    "ii", batch_id, upto);
    if (e == NSDB_OK)
        e = db_exec(conn, removed_out, "DELETE FROM users WHERE batch_id = $1 AND id <= $2", "ii",
                    batch_id, upto);
    if (e == NSDB_OK)
        e = store_bulk_institutions_discard(conn, batch_id, institutions, n_institutions);
    arena_free(a);
    return e;
}
