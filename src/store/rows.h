/*
 * rows.h — reading query results, private to src/store/: how a statement's rows become arena
 * structs, written once for every entity. Each entity file keeps one row reader (the columns of
 * its SELECT in order); these helpers step the statement, map the result code to an nsdb_err
 * the same way everywhere, and finalize it.
 */
#ifndef NSDB_STORE_ROWS_H
#define NSDB_STORE_ROWS_H

#ifndef NSDB_STORE_INTERNAL
#error "store/rows.h is private to src/store/"
#endif

#include "store/sql.h"
#include "util/arena.h"

/* Fills *row (zeroed, row_size bytes) from the current row of st; strings and blobs are copied
   into a (which may be NULL for a reader that copies none). */
typedef void (*store_row_reader)(arena *a, db_stmt *st, void *row);

/* Reads the first row of st into row: NSDB_ERR_NOT_FOUND when there is none. Finalizes st. */
NSDB_MUST_CHECK nsdb_err store_row_read(db_stmt *st, arena *a, void *row, store_row_reader read);
/* Reads every row of st into an arena array of row_size-byte elements. Finalizes st. */
NSDB_MUST_CHECK nsdb_err store_rows_read(db_stmt *st, arena *a, size_t row_size,
                                         store_row_reader read, void **rows_out,
                                         size_t *count_out);
/* Steps st once and takes its first column as an integer (the id of INSERT … RETURNING id, a
   COUNT): NSDB_ERR_NOT_FOUND without a row, NSDB_ERR_EXISTS on a unique violation. value_out
   may be NULL. Finalizes st. */
NSDB_MUST_CHECK nsdb_err store_row_int(db_stmt *st, int64_t *value_out);

/* A copy of a text column in a (NULL for SQL NULL). */
const char *store_column_strdup(arena *a, db_stmt *st, int col);
/* A copy of a blob column in a (never NULL, even when empty); its length in *len_out. */
const unsigned char *store_column_blob_copy(arena *a, db_stmt *st, int col, size_t *len_out);

#endif
