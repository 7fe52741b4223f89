/*
 * import_batches.c — see import_batches.h.
 */
#define NSDB_STORE_INTERNAL
#include "store/import_batches.h"

#include "store/rows.h"
#include "store/sql.h"
#include "store/state_columns.h"

nsdb_err store_import_batch_open(db *conn, int64_t municipality_pk, int64_t created_by,
                                 const char *filenames, int64_t row_count, const char *warnings,
                                 const char *owner, int64_t now, int64_t *id_out)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "INSERT INTO import_batches (municipality_id, created_by, created_at, "
                          "updated_at, heartbeat_at, filenames, row_count, warnings, state, owner) "
                          "VALUES ($1, $2, $3, $3, $3, $4, $5, $6, $7, $8) RETURNING id",
                          "iiitittt", municipality_pk, created_by, now, filenames, row_count,
                          warnings, import_state_key(IMPORT_STATE_CHECKING), owner);
    if (e == NSDB_OK)
        e = store_row_int(st, id_out);
    if (e != NSDB_OK)
        return e;
    return db_exec(conn, NULL, "INSERT INTO hidden_batches (batch_id) VALUES ($1)", "i", *id_out);
}

nsdb_err store_import_batch_set_state(db *conn, int64_t batch_id, import_state state,
                                      const char *failure, const char *refusal, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changed = 0;
    nsdb_err e = db_exec(conn, &changed,
                         "UPDATE import_batches SET state = $2, failure = COALESCE($3, failure), "
                         "refusal = COALESCE($4, refusal), updated_at = $5 WHERE id = $1 "
                         "AND state IN ('checking', 'writing')",
                         "ittti", batch_id, import_state_key(state), failure, refusal, now);
    if (e == NSDB_OK && changed == 0)
        e = NSDB_ERR_CONFLICT; /* ended already (failed by a restart meanwhile): nothing moves */
    if (e != NSDB_OK || state != IMPORT_STATE_VISIBLE)
        return e;
    return db_exec(conn, NULL, "DELETE FROM hidden_batches WHERE batch_id = $1", "i", batch_id);
}

nsdb_err store_import_batch_progress(db *conn, int64_t batch_id, int64_t rows_written, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changed = 0;
    nsdb_err e =
        db_exec(conn, &changed,
                "UPDATE import_batches SET rows_written = $2, updated_at = $3 WHERE id = $1 "
                "AND state IN ('checking', 'writing')",
                "iii", batch_id, rows_written, now);
    return e == NSDB_OK && changed == 0 ? NSDB_ERR_CONFLICT : e;
}

nsdb_err store_import_batch_get(db *conn, arena *a, int64_t municipality_pk, int64_t batch_id,
                                store_import_batch *out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT id, municipality_id, created_by, filenames, row_count, "
                          "rows_written, state, failure, refusal, warnings, created_at, "
                          "updated_at FROM import_batches WHERE id = $1 "
                          "AND ($2 = 0 OR municipality_id = $2)",
                          "ii", batch_id, municipality_pk);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    if (rc == DB_ROW) {
        out->id = db_column_int(st, 0);
        out->municipality_pk = db_column_int(st, 1);
        out->created_by = db_column_int(st, 2);
        out->filenames = store_column_strdup(a, st, 3);
        out->row_count = db_column_int(st, 4);
        out->rows_written = db_column_int(st, 5);
        out->state = store_column_import_state(st, 6);
        out->failure = store_column_strdup(a, st, 7);
        out->refusal = store_column_strdup(a, st, 8);
        out->warnings = store_column_strdup(a, st, 9);
        out->created_at = db_column_int(st, 10);
        out->updated_at = db_column_int(st, 11);
    }
    db_finalize(st);
    return rc == DB_ERROR ? NSDB_ERR_DB : rc == DB_ROW ? NSDB_OK : NSDB_ERR_NOT_FOUND;
}
