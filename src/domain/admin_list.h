/*
 * admin_list.h — 管理者権限のユーザID申請リスト (SPEC §5.1): turning the first worksheet of an
 * uploaded .xlsx (see xlsx.h) into validated rows, with one Japanese error per bad cell that names
 * its row, column and header and says how to put it right; and writing the blank template that
 * the Ministry hands out. No storage, no HTTP.
 */
#ifndef NSDB_ADMIN_LIST_H
#define NSDB_ADMIN_LIST_H

#include <stddef.h>

#include "domain/fields.h"
#include "domain/xlsx.h"
#include "util/arena.h"
#include "util/err.h"

#define ADMIN_LIST_COLUMN_COUNT 15  /* A..O */
#define ADMIN_LIST_MAX_ERRORS 1000  /* more are summarised in one file-level error */
#define ADMIN_LIST_TITLE "管理者権限のユーザID申請リスト"
#define ADMIN_LIST_EXAMPLE_MARK "記入例" /* a data row whose A cell says this is skipped */

/* One data row, normalised. Optional cells that were empty are NULL. Values of a row that has
 * errors are NULL where the cell was invalid: use rows only when error_count is 0. */
typedef struct admin_list_row {
    unsigned row_number;     /* the sheet's 1-based row */
    const char *no;          /* A No, as written */
    const char *municipality_code;  /* B: 6 digits with a valid check digit */
    const char *municipality_name;  /* C */
    const char *category;    /* D: "nanbyo" | "shoman" | "both" */
    const char *department, *title; /* E, F (optional) */
    const char *name;        /* G */
    const char *name_kana;   /* H: full-width katakana */
    const char *email;       /* I */
    const char *phone;       /* J (optional): digits and hyphens */
    const char *extension;   /* K (optional) */
    const char *request_type; /* L: "new" | "change" | "delete" */
    const char *note;        /* M (optional) */
    const char *postal;      /* N: NNN-NNNN */
    const char *address;     /* O */
} admin_list_row;

typedef struct admin_list_error {
    unsigned row_number;     /* 0 for a file-level error */
    char column;             /* 'A'..'O', or 0 for a row- or file-level error */
    const char *column_name; /* the header ("地方公共団体コード"), NULL when column is 0 */
    /* The whole sentence: "3行目 B列（地方公共団体コード）: 検査数字が正しくありません。…" */
    const char *message;
    /* The same without the location ("検査数字が正しくありません。…"), for a table that shows
     * the row and column in their own cells. */
    const char *reason;
} admin_list_error;

typedef struct admin_list {
    admin_list_row *rows;
    size_t row_count;
    admin_list_error *errors; /* sorted by row, then column */
    size_t error_count;
} admin_list;

/* The fields of columns A..O; their headers, exactly as SPEC §5.1 and the template write them, are
 * the field table's list_header: admin_list_header(0) is A's. */
extern const field_id ADMIN_LIST_COLUMNS[ADMIN_LIST_COLUMN_COUNT];
const char *admin_list_header(unsigned col);

/* Finds the header row (the first row whose A cell is "No"; rows above are titles), validates
 * every data row below it (fully empty rows and the 記入例 row are skipped) and fills *out with
 * strings in a. NSDB_ERR_INVALID when error_count > 0 (out is filled either way). */
NSDB_MUST_CHECK nsdb_err admin_list_parse(const xlsx_table *t, arena *a, admin_list *out);

/* Adds an error about a cell (column 'A'..'O') or a row (column 0) of a parsed list, keeping
 * the errors in row order (the checks that need the database add theirs after the parse). */
void admin_list_add_error(admin_list *l, arena *a, unsigned row, char column, const char *reason);

/* Who a 変更 or 削除 row means: one of the existing muni_admins of the row's municipality. */
typedef struct admin_list_candidate {
    const char *email, *name_kana, *category; /* as stored */
} admin_list_candidate;

typedef enum admin_list_match {
    ADMIN_LIST_MATCH_ONE,
    ADMIN_LIST_MATCH_NONE,
    ADMIN_LIST_MATCH_MANY,
} admin_list_match;

/* Among the candidates of a category that fits the row's (the same, or either is "both";
 * an exact category wins a tie), the one with the row's e-mail address (case aside), else the one
 * with its 氏名カナ (spaces aside). *index_out is set for ADMIN_LIST_MATCH_ONE. */
admin_list_match admin_list_match_target(const char *category, const char *email,
                                         const char *name_kana, const admin_list_candidate *c,
                                         size_t n, size_t *index_out);
/* The sentence for a row whose target is NONE or MANY (request_type "change" or "delete"). */
const char *admin_list_match_reason(arena *a, const char *request_type, const char *category,
                                    const char *email, const char *name_kana, admin_list_match m);

/* Writes the blank template (.xlsx) to path: title, instructions, header row A..O, a greyed
 * example row, text-formatted code columns and drop-down lists. NSDB_ERR_IO on failure. */
NSDB_MUST_CHECK nsdb_err admin_list_template_xlsx(const char *path);

#endif
