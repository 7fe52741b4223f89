/*
 * inst_import.h — the files of 医療機関ユーザ 一括登録: the 指定医一括登録ファイル (CSV, SPEC §5.2)
 * and the 医療機関ユーザデータファイル (xlsx, one per institution, SPEC §5.2a). It turns uploaded
 * bytes into validated rows, or into Japanese errors that name the file, row, column and header
 * and say how to put each cell right; it writes the blank CSV template and the blank form. No
 * storage, no HTTP: duplicates against the database are the caller's check (use search_key).
 *
 * It also holds the RFC 4180 reader that the CSV path uses (csv_reader_*): self-contained, so that
 * it can move to its own domain/csv.{h,c} when a second CSV reader is needed.
 */
#ifndef NSDB_INST_IMPORT_H
#define NSDB_INST_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"
#include "util/err.h"
#include "util/str.h"

/* ---- RFC 4180 reader ------------------------------------------------------------------------ */

/* Reads records from a buffer (not copied: keep it alive). Quoted fields may hold commas, doubled
 * quotes and CR, LF or CRLF; records end with CRLF, LF or CR, and the last one may have no line
 * end. A leading UTF-8 BOM is skipped. Field text lives in the reader until the next call. */
typedef struct csv_reader csv_reader;

csv_reader *csv_reader_new(const char *data, size_t len);
void csv_reader_free(csv_reader *r);
/* Advances to the next record: true when there is one; false at the end of the input or on
 * malformed input (then csv_reader_error is not NULL). An empty line is a record of one empty
 * field; a line end after the last record does not start another. */
bool csv_reader_next_row(csv_reader *r);
size_t csv_reader_field_count(const csv_reader *r);
/* NUL-terminated text of field i (0-based) of the current record; a field never holds NUL. */
const char *csv_reader_field(const csv_reader *r, size_t i);
size_t csv_reader_field_length(const csv_reader *r, size_t i);
/* 1-based number of the current record (what a spreadsheet calls its row), and the physical line
 * it starts on (larger when earlier fields hold line breaks). */
unsigned csv_reader_record(const csv_reader *r);
unsigned csv_reader_line(const csv_reader *r);
/* After a false next_row: a Japanese sentence on the bad quoting (a quote inside an unquoted
 * field, text after a closing quote, a quote never closed) or a NUL byte, without its location;
 * NULL at a clean end of input. */
const char *csv_reader_error(const csv_reader *r);
/* After a failure: the 1-based column of the bad field; csv_reader_record gives its record. */
unsigned csv_reader_error_column(const csv_reader *r);

/* ---- the import ---------------------------------------------------------------------------- */

#define INST_IMPORT_COLUMN_COUNT 12
#define INST_IMPORT_MAX_ERRORS 1000 /* further errors are only counted, in a final summary */
#define INST_IMPORT_FORM_TITLE "医療機関ユーザデータファイル（ID・PW申請書）"

/* The CSV header of SPEC §5.2, in column order. */
extern const char *const INST_IMPORT_HEADERS[INST_IMPORT_COLUMN_COUNT];

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
nsdb_err inst_import_parse_csv(const char *data, size_t len, arena *a, inst_import *out);
nsdb_err inst_import_parse_csv_named(const char *data, size_t len, const char *filename, arena *a,
                                     inst_import *out);

/* Parses a filled 医療機関ユーザデータファイル (SPEC §5.2a; the layout of inst_import_form_xlsx):
 * the institution from the labelled cells at the top, one user per filled row below the header;
 * the first such row becomes the institution's 責任者 (inst_manager, doctor number kept; optional
 * as for a CSV 責任者), the others 指定医. Messages carry filename and the sheet's row. */
nsdb_err inst_import_parse_xlsx(const void *data, size_t len, const char *filename, arena *a,
                                inst_import *out);

/* Either of the above, chosen by content (an .xlsx is a zip): for an upload of several files. */
nsdb_err inst_import_parse_file(const void *data, size_t len, const char *filename, arena *a,
                                inst_import *out);

/* Appends from to into (rows, errors, files, warnings; strings are shared, not copied, so from's
 * arena must live as long as into's) and applies the checks across rows to the union: a person
 * or a 責任者 in from that clashes with a row of into is reported on from's row. into may be
 * zero-initialised. NSDB_ERR_INVALID when into then has errors. */
nsdb_err inst_import_merge(inst_import *into, const inst_import *from, arena *a);

/* The CSV template: UTF-8 with BOM, CRLF, the header and one example row (with a valid check
 * digit). The example row, if left in a file, is refused as such. */
nsdb_err inst_import_csv_template(strbuf *out);

/* ---- the 医療機関ユーザデータファイル (SPEC §5.2a) ----------------------------------------- */

/* Layout of the form, as 1-based sheet rows and columns (A = 1): the title; the labels
 * 医療機関コード, 医療機関名, 郵便番号, 所在地, 電話番号 in column A with their values in column B;
 * an instruction line; the header No, 氏名, 氏名カナ, 難病/小慢, 指定医番号, 診療科, メールアドレス;
 * one row per doctor below. The reader finds the labels and the header by their text (rows may
 * have been inserted), so these positions are what the writer produces. */
#define INST_FORM_TITLE_ROW 1
#define INST_FORM_FIRST_LABEL_ROW 3 /* 医療機関コード; the other four follow */
#define INST_FORM_NOTE_ROW 9
#define INST_FORM_HEADER_ROW 10
#define INST_FORM_FIRST_DATA_ROW 11
#define INST_FORM_DATA_ROWS 100 /* rows numbered and formatted in the blank form */
#define INST_FORM_LABEL_COUNT 5
#define INST_FORM_COLUMN_COUNT 7 /* A No .. G メールアドレス */

extern const char *const INST_FORM_LABELS[INST_FORM_LABEL_COUNT];
extern const char *const INST_FORM_HEADERS[INST_FORM_COLUMN_COUNT];

/* Values to fill in, as a person would type them; NULL cells stay empty. */
typedef struct inst_import_form_doctor {
    const char *name, *name_kana, *category, *doctor_number, *specialty, *email;
} inst_import_form_doctor;

typedef struct inst_import_form_data {
    const char *inst_code, *inst_name, *inst_postal, *inst_address, *inst_phone;
    const inst_import_form_doctor *doctors;
    size_t doctor_count;
} inst_import_form_data;

/* Writes the blank form (.xlsx) to path: text-formatted code, postal, phone and doctor-number
 * cells (so that Excel keeps leading zeros), a drop-down for 難病/小慢, the 責任者 row marked.
 * NSDB_ERR_IO on failure. */
nsdb_err inst_import_form_xlsx(const char *path);
/* The same form filled with data (every value written as text): examples and tests. */
nsdb_err inst_import_form_xlsx_filled(const char *path, const inst_import_form_data *data);

#endif
