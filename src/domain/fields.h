/*
 * fields.h — every input field of nsdb declared once: its form and option name, its Japanese
 * label, its column headers in the files (指定医一括登録ファイル CSV, 医療機関ユーザデータファイル
 * xlsx form, 管理者権限のユーザID申請リスト), its limit, whether it is required, and the one
 * function that normalises and validates it. Forms, both file readers, the admin list and the CLI
 * call field_check, so a value gets the same answer and the same sentence on every path (a file
 * path adds its location: file, row, column, header).
 *
 * The rule is the most forgiving correct one: NFKC (full-width digits, half-width kana), line
 * breaks made spaces, codes typed in groups ("13-1-2345679"), a leading 0 a spreadsheet dropped
 * when a check digit confirms it, "〒" before a postal code, Japanese words for choices.
 *
 * One character rule for every field (text_chars.h), on every path: a line break (CR, LF, CRLF)
 * or a tab becomes a space, in a form field exactly as in a file cell (a name typed on two lines
 * of a cell, or pasted with its line break, is one line with a space); every other control
 * character (C0, DEL, C1), U+2028/U+2029 and every bidi control (U+061C, U+200E, U+200F,
 * U+202A–U+202E, U+2066–U+2069) is refused with one sentence naming the field and the character
 * ("医療機関名に使用できない文字（U+202E）が含まれています。…"). So no stored value holds a
 * character that could end a line of a file nsdb writes or make a name read backwards.
 */
#ifndef NSDB_FIELDS_H
#define NSDB_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

typedef enum field_id {
    /* the institution of a 医療機関ユーザ */
    FIELD_INST_CODE,    /* 10 digits, Luhn check digit */
    FIELD_INST_NAME,    /* ≤ 100 */
    FIELD_INST_POSTAL,  /* NNN-NNNN */
    FIELD_INST_ADDRESS, /* ≤ 200 */
    FIELD_INST_PHONE,   /* digits and hyphens, required */
    /* a person */
    FIELD_USER_TYPE,     /* "doctor" | "inst_manager" */
    FIELD_NAME,          /* NFKC, ≤ 100 */
    FIELD_NAME_KANA,     /* full-width katakana, ≤ 100 */
    FIELD_CATEGORY,      /* "nanbyo" | "shoman" | "both" */
    FIELD_DOCTOR_NUMBER, /* ASCII letters, digits, hyphens, ≤ 20; required with FIELD_REQUIRED */
    FIELD_SPECIALTY,     /* optional, ≤ 50 */
    FIELD_EMAIL,         /* required; optional with FIELD_OPTIONAL (institution users) */
    FIELD_DEPARTMENT,    /* optional, ≤ 100 */
    FIELD_TITLE,         /* optional, ≤ 100 */
    FIELD_PHONE,         /* optional, digits and hyphens */
    FIELD_EXTENSION,     /* optional, ≤ 20 */
    FIELD_ROLE,          /* "muni_staff" | "muni_admin" */
    /* a municipality and the rest of the admin list */
    FIELD_MUNI_CODE,     /* 6 digits, check digit */
    FIELD_MUNI_NAME,     /* ≤ 100 */
    FIELD_POSTAL,        /* NNN-NNNN */
    FIELD_ADDRESS,       /* ≤ 200 */
    FIELD_REQUEST_TYPE,  /* "new" | "change" | "delete" */
    FIELD_LIST_NO,       /* optional, ≤ 20, as written */
    FIELD_NOTE,          /* optional, ≤ 1000 */
    /* 発送 of a package */
    FIELD_TRACKING_NUMBER, /* Letter Pack: 12 digits, mod-7 check digit; hyphens and spaces dropped */
    FIELD_COUNT
} field_id;

/* Flags of field_check. */
#define FIELD_FROM_NUMBER 0x1u /* an xlsx number cell: leading zeros may have been lost */
#define FIELD_REQUIRED 0x2u    /* required here although the table says optional */
#define FIELD_OPTIONAL 0x4u    /* optional here although the table says required */

struct field_def;
/* Normalises text (one line, not NULL) and validates it; text is not empty (emptiness is
 * decided by field_check). NULL and *out set, or a reason. */
typedef const char *field_checker(arena *a, const struct field_def *f, char *text, unsigned flags,
                                  const char **out, bool *repaired);

typedef struct field_def {
    field_id id;
    const char *name;        /* form field and CLI option name: "inst_code" */
    const char *label;       /* for error summaries and messages: "医療機関コード" */
    const char *csv_header;  /* 指定医一括登録ファイル column, NULL when not a column */
    const char *form_label;  /* 医療機関ユーザデータファイル label or header, or NULL */
    const char *list_header; /* 管理者権限のユーザID申請リスト header, or NULL */
    size_t max_chars;        /* 0: the checker knows the shape */
    bool required;
    const char *if_empty; /* the reason when required and empty */
    field_checker *check;
} field_def;

/* The table row of id (never NULL for id < FIELD_COUNT). */
const field_def *field_get(field_id id);
/* The field whose name is name, or NULL. */
const field_def *field_find(const char *name);

/* Checks raw (NULL reads as "") as field id: NULL and *out set to the normalised value (in a;
 * NULL for an empty optional field; choices give their static key), or ONE Japanese reason
 * without location. */
const char *field_check(arena *a, field_id id, const char *raw, unsigned flags, const char **out);
/* The same; *repaired tells whether a lost leading 0 was put back (for a warning). */
const char *field_check_repaired(arena *a, field_id id, const char *raw, unsigned flags,
                                 const char **out, bool *repaired);

/* True when s is 12 ASCII digits whose last is the first eleven's remainder mod 7 (the check
   digit of Japan Post's Letter Pack numbers). */
bool field_tracking_number_valid(const char *s);

/* The search key stored with a user (users.name_search): text_search_key("氏名 氏名カナ"). */
char *field_search_key(arena *a, const char *name, const char *name_kana);

#endif
