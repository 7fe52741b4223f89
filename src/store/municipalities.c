/*
 * municipalities.c — the municipalities table (地方公共団体), keyed by 地方公共団体コード.
 */
#define NSDB_STORE_INTERNAL
#include "store/municipalities.h"
#include "store/rows.h"
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
    return e != NSDB_OK ? e : store_row_int(st, pk_out);
}

static void municipality_from_row(arena *a, db_stmt *st, void *row)
{
    store_municipality *m = row;
    m->pk = db_column_int(st, 0);
    m->code = store_column_strdup(a, st, 1);
    m->name = store_column_strdup(a, st, 2);
    m->postal = store_column_strdup(a, st, 3);
    m->address = store_column_strdup(a, st, 4);
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
    store_municipality *m = arena_calloc(a, 1, sizeof *m);
    e = store_row_read(st, a, m, municipality_from_row);
    if (e == NSDB_OK)
        *out = m;
    return e;
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
    return e != NSDB_OK ? e : store_row_int(st, pk_out);
}
