/*
 * municipalities.c — the municipalities table (地方公共団体), keyed by 地方公共団体コード, and the
 * 発送先 of its 難病 and 小慢 departments (municipality_departments).
 */
#define NSDB_STORE_INTERNAL
#include "store/municipalities.h"

#include <assert.h>
#include <string.h>

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
                         "UPDATE municipalities SET name = $2, updated_at = $3 WHERE code = $1",
                         "tti", code, name, now);
    if (e != NSDB_OK)
        return e;
    *created_out = changes == 0;
    if (changes == 0)
        return store_municipality_insert(conn, code, name, postal, address, now, pk_out);
    db_stmt *st = NULL;
    e = db_query(conn, &st, "SELECT id FROM municipalities WHERE code = $1", "t", code);
    return e != NSDB_OK ? e : store_row_int(st, pk_out);
}

nsdb_err store_municipality_department_set(db *conn, int64_t municipality_pk,
                                           user_category category, const shipping_destination *to,
                                           int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    assert(category == CATEGORY_NANBYO || category == CATEGORY_SHOMAN);
    return db_exec(conn, NULL,
                   "INSERT INTO municipality_departments (municipality_id, category, postal, "
                   "address, department, phone, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                   "ON CONFLICT (municipality_id, category) DO UPDATE SET postal = $3, "
                   "address = $4, department = $5, phone = $6, updated_at = $7",
                   "ittttti", municipality_pk, category_key(category), to->postal, to->address,
                   to->department, to->phone, now);
}

/* One row per category on record, after the municipality's own address. */
static void address_from_row(arena *a, db_stmt *st, void *row)
{
    shipping_destination *d = row;
    user_category c = 0;
    d->category = category_from_key(db_column_text(st, 0), &c) ? c : 0;
    d->postal = store_column_strdup(a, st, 1);
    d->address = store_column_strdup(a, st, 2);
    d->department = store_column_strdup(a, st, 3);
    d->phone = store_column_strdup(a, st, 4);
}

nsdb_err store_municipality_addresses(db *conn, arena *a, int64_t municipality_pk,
                                      shipping_addresses *out)
{
    memset(out, 0, sizeof *out);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT NULL, postal, address, NULL, NULL FROM municipalities "
                          "WHERE id = $1 UNION ALL "
                          "SELECT category, postal, address, department, phone "
                          "FROM municipality_departments WHERE municipality_id = $1",
                          "i", municipality_pk);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    size_t n = 0;
    e = store_rows_read(st, a, sizeof(shipping_destination), address_from_row, &rows, &n);
    if (e != NSDB_OK)
        return e;
    if (n == 0)
        return NSDB_ERR_NOT_FOUND;
    shipping_destination *d = rows;
    for (size_t i = 0; i < n; i++) {
        if (d[i].category == CATEGORY_NANBYO)
            out->nanbyo = d[i], out->has_nanbyo = true;
        else if (d[i].category == CATEGORY_SHOMAN)
            out->shoman = d[i], out->has_shoman = true;
        else
            out->municipality = d[i];
    }
    return NSDB_OK;
}
