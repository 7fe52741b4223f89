/*
 * rows.c — see rows.h: the one loop that turns a statement's rows into arena structs, and the one
 * mapping of a step's result to an nsdb_err.
 */
#define NSDB_STORE_INTERNAL
#include "store/rows.h"

#include <string.h>

nsdb_err store_row_read(db_stmt *st, arena *a, void *row, store_row_reader read)
{
    int rc = db_step(st);
    if (rc == DB_ROW)
        read(a, st, row);
    db_finalize(st);
    return rc == DB_ROW ? NSDB_OK : rc == DB_DONE ? NSDB_ERR_NOT_FOUND : NSDB_ERR_DB;
}

nsdb_err store_rows_read(db_stmt *st, arena *a, size_t row_size, store_row_reader read,
                         void **rows_out, size_t *count_out)
{
    size_t cap = 16, n = 0;
    unsigned char *rows = arena_calloc(a, cap, row_size);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        rows = arena_grow(a, rows, n, &cap, row_size);
        read(a, st, rows + n * row_size);
        n++;
    }
    db_finalize(st);
    *rows_out = rows;
    *count_out = n;
    return rc == DB_ERROR ? NSDB_ERR_DB : NSDB_OK;
}

nsdb_err store_row_int(db_stmt *st, int64_t *value_out)
{
    int rc = db_step(st);
    if (rc == DB_ROW && value_out != NULL)
        *value_out = db_column_int(st, 0);
    nsdb_err e = rc == DB_ROW                   ? NSDB_OK
                 : rc == DB_DONE                ? NSDB_ERR_NOT_FOUND
                 : db_last_error_is_unique(st) ? NSDB_ERR_EXISTS
                                                : NSDB_ERR_DB;
    db_finalize(st);
    return e;
}

const char *store_column_strdup(arena *a, db_stmt *st, int col)
{
    return arena_strdup(a, db_column_text(st, col));
}

const unsigned char *store_column_blob_copy(arena *a, db_stmt *st, int col, size_t *len_out)
{
    size_t n = 0;
    const void *p = db_column_blob(st, col, &n);
    unsigned char *copy = arena_alloc(a, n ? n : 1);
    if (n)
        memcpy(copy, p, n);
    *len_out = n;
    return copy;
}
