/*
 * inst_import_int.h — what the parts of the 一括登録 import share and nobody else sees (as
 * SQLite's btreeInt.h): the result's bookkeeping (inst_import_result.c: files, warnings, errors,
 * rows and the checks across rows) and the row checks with their context (inst_import.c), used by
 * the CSV reader there and by the xlsx form reader (inst_form.c).
 */
#ifndef NSDB_INST_IMPORT_INT_H
#define NSDB_INST_IMPORT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/inst_import.h"

/* The institution fields are the first: FIELD_INST_CODE .. FIELD_INST_PHONE. */
#define INST_FIELD_COUNT 5

/* How a file states its institution: per row (CSV) or once, in labelled cells (xlsx form). */
typedef struct file_info {
    bool xlsx;
    unsigned label_row[INST_FIELD_COUNT]; /* xlsx: sheet row of each institution value */
} file_info;

/* Where an error is: column 0 is the whole row (record > 0) or the whole file (record 0). */
typedef struct cell_ref {
    unsigned record, column;
    const char *column_name;
} cell_ref;

/* ---- the result (inst_import_result.c) ------------------------------------------------------ */

void *inst_import_xrealloc(void *p, size_t size);
void inst_import_rows_reserve(inst_import *out, arena *a, size_t need);
unsigned inst_import_file_add(inst_import *out, arena *a, const char *name, const file_info *info);
file_info *inst_import_file_info(inst_import *out, unsigned file);
/* A warning about file, prefixed with its name. */
void inst_import_warning_add(inst_import *out, arena *a, unsigned file, const char *text);
/* Records an error about a cell, row or file; past the cap it is only counted. The reason is
 * copied (it may live in a scratch arena). */
void inst_import_error_add(inst_import *out, arena *a, unsigned file, cell_ref at,
                           const char *reason);
/* Sorts the errors and appends the summary of the omitted ones: NSDB_ERR_INVALID when any. */
NSDB_MUST_CHECK nsdb_err inst_import_finish(inst_import *out, arena *a);
/* Appends a validated row (strings in a scratch arena), its strings copied into a; returns its
 * index. */
size_t inst_import_row_commit(inst_import *out, arena *a, const inst_import_row *tmp);
/* Checks row idx against the rows before it (those from checked_from on are not reported: a
 * merge of results that reported them already), and records it for the rows after. */
void inst_import_check_across(inst_import *out, arena *a, size_t idx, size_t checked_from);
const char **inst_import_row_slot(inst_import_row *r, field_id f);
const char *inst_import_row_get(const inst_import_row *r, field_id f);

/* ---- reading rows (inst_import.c) ----------------------------------------------------------- */

typedef struct import_ctx {
    inst_import *out;
    arena *a;       /* the result's */
    arena *scratch; /* validation's, renewed for every row */
    unsigned file;
    size_t padded_codes; /* institution codes that got their leading 0 back */
    unsigned first_padded_record;
    /* The institution cells of the last CSV row, when they were all valid, and their values:
     * rows come grouped by institution, so most rows repeat them verbatim. */
    char *inst_raw[INST_FIELD_COUNT]; /* malloc'd; NULL when nothing is cached */
    const char *inst_value[INST_FIELD_COUNT];
    bool inst_padded;
} import_ctx;

typedef struct cell_in {
    const char *text;
    bool is_number; /* an xlsx number cell: leading zeros may have been lost */
    cell_ref at;
} cell_in;

/* Starts reading one file into out (which is reset). */
void inst_import_ctx_open(import_ctx *c, inst_import *out, arena *a, const char *filename,
                          bool xlsx);
/* Ends it: the warning on restored zeros, then inst_import_finish. */
NSDB_MUST_CHECK nsdb_err inst_import_ctx_close(import_ctx *c);
/* Fields FIELD_INST_CODE .. FIELD_INST_PHONE of in into r, allocating in work. */
void inst_import_check_institution(import_ctx *c, arena *work, const cell_in in[],
                                   inst_import_row *r);
/* Fields FIELD_USER_TYPE .. FIELD_EMAIL of in into r (in the scratch arena), and the search key. */
void inst_import_check_person(import_ctx *c, const cell_in in[], inst_import_row *r);
/* Commits the row, checks it against the earlier ones, renews the scratch arena; its index. */
size_t inst_import_row_done(import_ctx *c, const inst_import_row *tmp);
/* True when s holds only white space (ASCII or ideographic). */
bool inst_import_blank_text(const char *s);

#endif
