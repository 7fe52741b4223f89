/*
 * municipalities.c — the municipalities table (地方公共団体), keyed by 地方公共団体コード.
 */
#define NSDB_STORE_INTERNAL
#include "store/municipalities.h"
#include "store/sql.h"

nsdb_err store_municipality_insert(db *conn, const char *code, const char *name,
                                   const char *postal, const char *address, int64_t now,
                                   int64_t *pk_out)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "INSERT INTO municipalities (code, name, postal, address, created_at, "
                          "updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                          "tttti", code, name, postal, address, now);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    if (rc == DB_ROW && pk_out != NULL)
        *pk_out = db_column_int(st, 0);
    e = rc == DB_ROW ? NSDB_OK : db_last_error_is_unique(st) ? NSDB_ERR_EXISTS : NSDB_ERR_DB;
    db_finalize(st);
    return e;
}

nsdb_err store_municipality_find_by_code(db *conn, arena *a, const char *code,
                                         store_municipality **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT id, code, name, postal, address FROM municipalities "
                          "WHERE code = $1",
                          "t", code);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    if (rc == DB_ROW) {
        store_municipality *m = arena_calloc(a, 1, sizeof *m);
        m->pk = db_column_int(st, 0);
        m->code = arena_strdup(a, db_column_text(st, 1));
        m->name = arena_strdup(a, db_column_text(st, 2));
        m->postal = arena_strdup(a, db_column_text(st, 3));
        m->address = arena_strdup(a, db_column_text(st, 4));
        *out = m;
    }
    db_finalize(st);
    return rc == DB_ROW ? NSDB_OK : rc == DB_DONE ? NSDB_ERR_NOT_FOUND : NSDB_ERR_DB;
}

nsdb_err store_municipality_upsert(db *conn, const char *code, const char *name,
                                   const char *postal, const char *address, int64_t now,
                                   int64_t *pk_out, bool *created_out)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    nsdb_err e = db_exec(conn, &changes,
                         "UPDATE municipalities SET name = $2, postal = $3, address = $4, "
                         "updated_at = $5 WHERE code = $1",
                         "tttti", code, name, postal, address, now);
    if (e != NSDB_OK)
        return e;
    *created_out = changes == 0;
    if (changes == 0)
        return store_municipality_insert(conn, code, name, postal, address, now, pk_out);
    db_stmt *st = NULL;
    e = db_query(conn, &st, "SELECT id FROM municipalities WHERE code = $1", "t", code);
    if (e != NSDB_OK)
        return e;
    e = db_step(st) == DB_ROW ? NSDB_OK : NSDB_ERR_DB;
    if (e == NSDB_OK)
        *pk_out = db_column_int(st, 0);
    db_finalize(st);
    return e;
}
