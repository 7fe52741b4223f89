/*
 * inst_import.h — the files of 医療機関ユーザ 一括登録: the 指定医一括登録ファイル (CSV, SPEC §5.2)
 * and the 医療機関ユーザデータファイル (xlsx, one per institution, SPEC §5.2a). It turns uploaded
 * bytes into validated rows, or into Japanese errors that name the file, row, column and header
 * and say how to put each cell right; it writes the blank CSV template and the blank form. No
 * storage, no HTTP: duplicates against the database are the caller's check (use search_key).
 *
 * Cells are checked by the field table (fields.h), so a file gives the same answer and the same
 * sentence as the forms. The RFC 4180 reader is csv.h, the encodings encoding.h, the layout and
 * the writer of the xlsx form inst_form.h; inst_import.c reads rows, inst_import_result.c
 * collects rows and errors and checks across rows.
 */
#ifndef NSDB_INST_IMPORT_H
#define NSDB_INST_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/fields.h"
#include "domain/inst_form.h"
#include "domain/upload_limits.h"
#include "util/arena.h"
#include "util/err.h"
#include "util/str.h"

/* ---- the import ---------------------------------------------------------------------------- */

#define INST_IMPORT_COLUMN_COUNT 12
#define INST_IMPORT_MAX_ERRORS 1000 /* further errors are only counted, in a final summary */

/* The columns of SPEC §5.2, in order: FIELD_INST_CODE .. FIELD_EMAIL (field ids 0..11); the
 * header of column i (0-based) is inst_import_header(i), the field table's csv_header. */
const char *inst_import_header(unsigned index);

/* One user to register, normalised. Values a row got wrong are NULL, as are empty optional
 * cells: use rows only when error_count is 0. Rows of one institution share the institution
 * strings. */
typedef struct inst_import_row {
    unsigned file;            /* index into inst_import.files */
    unsigned record;          /* CSV: record number, 1 = the header; xlsx: the sheet's row */
    const char *inst_code;    /* 10 digits, valid Luhn check digit */
    const char *inst_name;    /* ≤ 100 characters */
    const char *inst_postal;  /* NNN-NNNN */
    const char *inst_address; /* ≤ 200 characters */
    const char *inst_phone;   /* digits and hyphens */
    const char *user_type;    /* "doctor" | "inst_manager" */
    const char *name;         /* NFKC, ≤ 100 */
    const char *name_kana;    /* full-width katakana */
    const char *category;     /* "nanbyo" | "shoman" | "both" */
    const char *doctor_number; /* ASCII letters, digits, hyphens, 1–20; NULL for a 責任者 without */
    const char *specialty;    /* optional, ≤ 50 */
    const char *email;        /* optional */
    const char *search_key;   /* text_search_key("氏名 氏名カナ"), as users.name_search */
} inst_import_row;

typedef struct inst_import_error {
    unsigned file;            /* index into inst_import.files */
    unsigned record;          /* row as in inst_import_row; 0 for an error about the whole file */
    unsigned column;          /* 1-based (A = 1); 0 for an error about a whole row or file */
    const char *column_name;  /* the header or label ("医療機関コード"); NULL when column is 0 */
    /* The whole sentence: "「a.csv」5行目 A列（医療機関コード）: 検査数字が正しくありません。…"
     * (without the file part when the file has no name). */
    const char *message;
    const char *reason;       /* the same without the location, for a table with its own columns */
} inst_import_error;

struct inst_import_state;

/* A zero-initialised inst_import is a valid empty result (the start of a merge). */
typedef struct inst_import {
    inst_import_row *rows;
    size_t row_count;
    /* Sorted by file, row, column; when errors_omitted > 0 the last entry is a summary
     * ("…ほかに N 件あります…") that has file, record and column 0. */
    inst_import_error *errors;
    size_t error_count;
    size_t errors_omitted;      /* errors beyond INST_IMPORT_MAX_ERRORS, counted only */
    const char **files;         /* file names as given ("" when none), in order of reading */
    size_t file_count;
    bool converted_from_cp932;  /* some CSV was Shift_JIS (CP932) and was converted */
    /* Things the user should check although nothing is wrong: the CP932 conversion, institution
     * codes whose leading 0 was put back. One sentence each. */
    const char **warnings;
    size_t warning_count;
    struct inst_import_state *state; /* cross-row indexes; lives in the arena */
} inst_import;

/* Parses a 指定医一括登録ファイル (SPEC §5.2): UTF-8 (BOM optional) or CP932 (converted, with a
 * warning), the exact header, every row validated (errors collected up to the cap), and the
 * checks across rows: one institution code with two names, postal codes or addresses; the same
 * person twice (institution, 氏名 and カナ, category); two 責任者 for one institution.
 * All of *out (rows, strings, messages) lives in a. NSDB_ERR_INVALID when error_count > 0 (out is
 * filled either way), NSDB_OK otherwise. inst_import_parse_csv_named adds the file name to the
 * messages (NULL: none). */
NSDB_MUST_CHECK nsdb_err inst_import_parse_csv(const char *data, size_t len, arena *a,
                                               inst_import *out);
NSDB_MUST_CHECK nsdb_err inst_import_parse_csv_named(const char *data, size_t len,
                                                     const char *filename, arena *a,
                                                     inst_import *out);

/* Parses a filled 医療機関ユーザデータファイル (SPEC §5.2a; the layout of inst_import_form_xlsx):
 * the institution from the labelled cells at the top, one user per filled row below the header;
 * the first such row becomes the institution's 責任者 (inst_manager, doctor number kept; optional
 * as for a CSV 責任者), the others 指定医. Messages carry filename and the sheet's row. The
 * workbook is read within *budget (NULL: a request of this file alone; see xlsx_read_limited);
 * NSDB_ERR_TOO_LARGE when that is passed (budget->exceeded says which limit). */
NSDB_MUST_CHECK nsdb_err inst_import_parse_xlsx(const void *data, size_t len, const char *filename,
                                                upload_budget *budget, arena *a, inst_import *out);

/* Either of the above, chosen by content (an .xlsx is a zip): for an upload of several files,
 * which share *budget (NULL: a request of this file alone). A CSV takes its bytes and lines from
 * the budget before it is read. NSDB_ERR_TOO_LARGE when the budget is passed: budget->exceeded is
 * the message for the whole request, and out is not to be used. */
NSDB_MUST_CHECK nsdb_err inst_import_parse_file(const void *data, size_t len, const char *filename,
                                                upload_budget *budget, arena *a, inst_import *out);

/* Appends from to into (rows, errors, files, warnings; strings are shared, not copied, so from's
 * arena must live as long as into's) and applies the checks across rows to the union: a person
 * or a 責任者 in from that clashes with a row of into is reported on from's row. into may be
 * zero-initialised: then from is moved into it as it is. from is left empty (zeroed) either way.
 * NSDB_ERR_INVALID when into then has errors. */
NSDB_MUST_CHECK nsdb_err inst_import_merge(inst_import *into, inst_import *from, arena *a);

/* The CSV template: UTF-8 with BOM, CRLF, the header and one example row (with a valid check
 * digit). The example row, if left in a file, is refused as such. */
NSDB_MUST_CHECK nsdb_err inst_import_csv_template(strbuf *out);

#endif
