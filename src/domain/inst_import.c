/*
 * inst_import.c — 一括登録 files of medical-institution users (SPEC §5.2, §5.2a): the RFC 4180
 * reader, the encoding decision (UTF-8, or CP932 converted with a warning), the per-cell checks
 * shared by the CSV and the xlsx form, the checks across rows and files, and the blank template
 * and form.
 *
 * Memory is bounded by the result, not by the work: each record's fields live in one reused
 * buffer of the reader, validation allocates in a scratch arena dropped every few hundred rows,
 * and a row's surviving strings are copied into the caller's arena in one block (the institution
 * strings of later rows of the same institution point at the first row's). The checks across
 * rows use hash tables keyed by institution code and by (institution, person, category), so a
 * file is read in one linear pass. Spreadsheet damage is repaired only where the intent is certain:
 * a 9-digit institution code gets its leading 0 back only when the check digit then agrees (and a
 * warning says so); postal codes and phone numbers only when the xlsx cell is a number.
 */
#include "domain/inst_import.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xlsxwriter.h>

#include "domain/ids.h"
#include "domain/text.h"
#include "domain/validate.h"
#include "domain/xlsx.h"

/* ==== RFC 4180 reader ========================================================================= */

struct csv_reader {
    const char *data;
    size_t len, pos;
    unsigned record;    /* of the current record */
    unsigned line;      /* physical line the current record starts on */
    unsigned next_line; /* physical line at pos */
    char *text;         /* the current record's fields, each NUL-terminated */
    size_t text_len, text_cap;
    size_t *starts; /* offset of each field in text */
    size_t field_count, field_cap;
    const char *error; /* reason of the failure, or NULL */
    char error_buf[256];
    unsigned error_column;
};

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size);
    if (q == NULL) {
        fputs("nsdb: out of memory\n", stderr);
        abort();
    }
    return q;
}

static void reader_append(csv_reader *r, const char *s, size_t n)
{
    if (r->text_cap - r->text_len < n + 1) {
        size_t cap = r->text_cap ? r->text_cap : 256;
        while (cap - r->text_len < n + 1)
            cap *= 2;
        r->text = xrealloc(r->text, cap);
        r->text_cap = cap;
    }
    memcpy(r->text + r->text_len, s, n);
    r->text_len += n;
}

static void reader_field_begin(csv_reader *r)
{
    if (r->field_count == r->field_cap) {
        r->field_cap = r->field_cap ? r->field_cap * 2 : 16;
        r->starts = xrealloc(r->starts, r->field_cap * sizeof *r->starts);
    }
    r->starts[r->field_count++] = r->text_len;
}

static bool reader_fail(csv_reader *r, const char *reason)
{
    r->error = reason;
    r->error_column = (unsigned)r->field_count;
    r->pos = r->len;
    return false;
}

csv_reader *csv_reader_new(const char *data, size_t len)
{
    csv_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        abort();
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    r->data = data;
    r->len = len;
    r->next_line = 1;
    return r;
}

void csv_reader_free(csv_reader *r)
{
    if (r == NULL)
        return;
    free(r->text);
    free(r->starts);
    free(r);
}

static bool is_record_end(char c)
{
    return c == '\r' || c == '\n';
}

static bool read_unquoted(csv_reader *r)
{
    size_t start = r->pos;
    while (r->pos < r->len) {
        char c = r->data[r->pos];
        if (c == ',' || is_record_end(c))
            break;
        if (c == '"')
            return reader_fail(r, "引用符（\"）で囲まれていない項目の中に「\"」があります。"
                                  "「\"」を含む項目は全体を「\"」で囲み、中の「\"」は「\"\"」と"
                                  "2つ重ねてください。");
        if (c == '\0')
            return reader_fail(r, "使用できない文字（NUL）が含まれています。");
        r->pos++;
    }
    reader_append(r, r->data + start, r->pos - start);
    return true;
}

static bool read_quoted(csv_reader *r)
{
    unsigned start_line = r->next_line;
    r->pos++; /* the opening quote */
    for (;;) {
        size_t start = r->pos;
        while (r->pos < r->len && r->data[r->pos] != '"' && r->data[r->pos] != '\0' &&
               !is_record_end(r->data[r->pos]))
            r->pos++;
        reader_append(r, r->data + start, r->pos - start);
        if (r->pos >= r->len) {
            snprintf(r->error_buf, sizeof r->error_buf,
                     "「\"」で始まる項目（ファイルの%u行目から）が閉じられないまま、ファイルが"
                     "終わっています。閉じる「\"」を補ってください。",
                     start_line);
            return reader_fail(r, r->error_buf);
        }
        char c = r->data[r->pos];
        if (c == '\0')
            return reader_fail(r, "使用できない文字（NUL）が含まれています。");
        if (c == '"') {
            if (r->pos + 1 < r->len && r->data[r->pos + 1] == '"') {
                reader_append(r, "\"", 1);
                r->pos += 2;
                continue;
            }
            r->pos++;
            break;
        }
        /* a line break inside the field is kept as written (CR, LF or CRLF) */
        r->pos++;
        if (c == '\r' && r->pos < r->len && r->data[r->pos] == '\n') {
            reader_append(r, "\r\n", 2);
            r->pos++;
        } else {
            reader_append(r, &c, 1);
        }
        r->next_line++;
    }
    if (r->pos < r->len && r->data[r->pos] != ',' && !is_record_end(r->data[r->pos]))
        return reader_fail(r, "「\"」で囲まれた項目の、閉じる「\"」の後に文字があります。"
                              "項目の中で「\"」を使うときは「\"\"」と2つ重ねてください。");
    return true;
}

bool csv_reader_next_row(csv_reader *r)
{
    if (r->error != NULL || r->pos >= r->len)
        return false;
    r->record++;
    r->line = r->next_line;
    r->text_len = 0;
    r->field_count = 0;
    for (;;) {
        reader_field_begin(r);
        bool ok = r->pos < r->len && r->data[r->pos] == '"' ? read_quoted(r) : read_unquoted(r);
        if (!ok)
            return false;
        reader_append(r, "", 1); /* the field's NUL */
        if (r->pos >= r->len)
            return true;
        char c = r->data[r->pos++];
        if (c == ',')
            continue;
        if (c == '\r' && r->pos < r->len && r->data[r->pos] == '\n')
            r->pos++;
        r->next_line++;
        return true;
    }
}

size_t csv_reader_field_count(const csv_reader *r)
{
    return r->field_count;
}

const char *csv_reader_field(const csv_reader *r, size_t i)
{
    return i < r->field_count ? r->text + r->starts[i] : NULL;
}

size_t csv_reader_field_length(const csv_reader *r, size_t i)
{
    if (i >= r->field_count)
        return 0;
    size_t end = i + 1 < r->field_count ? r->starts[i + 1] : r->text_len;
    return end - r->starts[i] - 1;
}

unsigned csv_reader_record(const csv_reader *r)
{
    return r->record;
}

unsigned csv_reader_line(const csv_reader *r)
{
    return r->line;
}

const char *csv_reader_error(const csv_reader *r)
{
    return r->error;
}

unsigned csv_reader_error_column(const csv_reader *r)
{
    return r->error_column;
}

/* ==== encoding ================================================================================ */

static const char MSG_CP932_CONVERTED[] =
    "Shift_JIS（CP932）のファイルを UTF-8 に変換して読み込みました。今後は「CSV UTF-8（コンマ区切り）」"
    "で保存してください。";
static const char MSG_BAD_ENCODING[] =
    "文字コードを読み取れません（UTF-8 でも Shift_JIS でもありません）。UTF-8 の CSV ファイルにして"
    "ください。Excel では「ファイル」→「名前を付けて保存」で、ファイルの種類に「CSV UTF-8（コンマ区切り）」"
    "を選んで保存します。";

/* Well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF) without NUL bytes. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* The whole buffer converted from CP932 (malloc'd), or NULL when it is not CP932 text. */
static char *cp932_to_utf8(const char *data, size_t len, size_t *out_len)
{
    if (memchr(data, '\0', len) != NULL)
        return NULL; /* UTF-16 and binary files: NUL is no character of a CSV */
    iconv_t cd = iconv_open("UTF-8", "CP932");
    if (cd == (iconv_t)-1)
        return NULL;
    size_t cap = len + len / 2 + 16;
    char *out = xrealloc(NULL, cap);
    char *in = (char *)data; /* iconv's prototype; the input is not written */
    size_t in_left = len, done = 0;
    bool ok = true;
    while (in_left > 0) {
        char *o = out + done;
        size_t o_left = cap - done - 1;
        size_t rc = iconv(cd, &in, &in_left, &o, &o_left);
        done = (size_t)(o - out);
        if (rc != (size_t)-1)
            break;
        if (errno != E2BIG) {
            ok = false; /* EILSEQ or EINVAL: not CP932 */
            break;
        }
        cap *= 2;
        out = xrealloc(out, cap);
    }
    iconv_close(cd);
    if (!ok) {
        free(out);
        return NULL;
    }
    out[done] = '\0';
    *out_len = done;
    return out;
}

/* ==== shared state ============================================================================= */

enum {
    F_INST_CODE, F_INST_NAME, F_INST_POSTAL, F_INST_ADDRESS, F_INST_PHONE, F_USER_TYPE, F_NAME,
    F_KANA, F_CATEGORY, F_DOCTOR_NUMBER, F_SPECIALTY, F_EMAIL,
};
#define INST_FIELD_COUNT 5 /* F_INST_CODE .. F_INST_PHONE */

const char *const INST_IMPORT_HEADERS[INST_IMPORT_COLUMN_COUNT] = {
    "医療機関コード", "医療機関名", "医療機関郵便番号", "医療機関所在地", "医療機関電話番号",
    "ユーザ種別",     "氏名",       "氏名カナ",         "難病/小慢",      "指定医番号",
    "診療科",         "メールアドレス",
};
const char *const INST_FORM_LABELS[INST_FORM_LABEL_COUNT] = {
    "医療機関コード", "医療機関名", "郵便番号", "所在地", "電話番号",
};
const char *const INST_FORM_HEADERS[INST_FORM_COLUMN_COUNT] = {
    "No", "氏名", "氏名カナ", "難病/小慢", "指定医番号", "診療科", "メールアドレス",
};
/* Sheet column (A = 1) of the person fields F_NAME .. F_EMAIL in the form. */
static const unsigned FORM_COLUMN_OF[INST_IMPORT_COLUMN_COUNT] = {
    [F_NAME] = 2, [F_KANA] = 3, [F_CATEGORY] = 4, [F_DOCTOR_NUMBER] = 5, [F_SPECIALTY] = 6,
    [F_EMAIL] = 7,
};

#define INST_NAME_MAX 100
#define INST_ADDRESS_MAX 200
#define SPECIALTY_MAX 50
#define DOCTOR_NUMBER_MAX 20
#define POOL_CHUNK 65536 /* row strings are carved from chunks of this size */

/* The example row of the CSV template: a file that still holds it is refused on that row. */
#define EXAMPLE_PAYLOAD "131234567" /* Tokyo (13), 医科 (1), 234567; the check digit is computed */
static const char *const CSV_EXAMPLE[INST_IMPORT_COLUMN_COUNT] = {
    NULL, "見本記念病院", "100-0001", "東京都千代田区千代田1-1", "03-1234-5678", "指定医",
    "見本 太郎", "ミホン タロウ", "難病", "AB-12345", "内科", "taro.mihon@example.jp",
};

typedef struct file_info {
    bool xlsx;
    unsigned label_row[INST_FIELD_COUNT]; /* xlsx: sheet row of each institution value */
} file_info;

typedef struct inst_entry {
    const char *code; /* NULL: empty slot */
    uint64_t hash;
    size_t value_row[INST_FIELD_COUNT]; /* per field, the row that gave it first; SIZE_MAX: none */
    size_t manager_row;                 /* SIZE_MAX when none */
} inst_entry;

typedef struct person_entry {
    size_t row; /* the row's index + 1; 0: an empty slot */
    uint64_t hash;
} person_entry;

struct inst_import_state {
    inst_import_row *rows; /* what inst_import.rows points at; malloc'd, freed with the arena */
    size_t row_cap;
    inst_entry *insts;
    size_t inst_cap, inst_count;
    person_entry *persons;
    size_t person_cap, person_count;
    file_info *file_infos; /* parallel to inst_import.files */
    size_t file_cap;
    size_t error_cap, warning_cap; /* arena arrays that grow by doubling */
    char *pool;                    /* the current chunk for row strings */
    size_t pool_left;
};

static void state_free(void *p)
{
    struct inst_import_state *s = p;
    free(s->rows);
    free(s->insts);
    free(s->persons);
    free(s->file_infos);
}

static struct inst_import_state *state_of(inst_import *out, arena *a)
{
    if (out->state == NULL) {
        out->state = arena_calloc(a, 1, sizeof *out->state);
        arena_defer(a, state_free, out->state);
    }
    return out->state;
}

static void rows_reserve(inst_import *out, arena *a, size_t need)
{
    struct inst_import_state *s = state_of(out, a);
    if (need <= s->row_cap)
        return;
    size_t cap = s->row_cap * 2 > need ? s->row_cap * 2 : need;
    s->rows = xrealloc(s->rows, cap * sizeof *s->rows);
    s->row_cap = cap;
    out->rows = s->rows;
}

/* ---- files, warnings, errors ----------------------------------------------------------------- */

typedef struct cell_ref {
    unsigned record, column; /* column 0: the whole row (record > 0) or file (record 0) */
    const char *column_name;
} cell_ref;

static unsigned file_add(inst_import *out, arena *a, const char *name, const file_info *info)
{
    struct inst_import_state *s = state_of(out, a);
    if (out->file_count == s->file_cap) {
        s->file_cap = s->file_cap ? s->file_cap * 2 : 4;
        const char **files = arena_calloc(a, s->file_cap, sizeof *files);
        if (out->file_count)
            memcpy(files, out->files, out->file_count * sizeof *files);
        out->files = files;
        s->file_infos = xrealloc(s->file_infos, s->file_cap * sizeof *s->file_infos);
    }
    out->files[out->file_count] = arena_strdup(a, name ? name : "");
    s->file_infos[out->file_count] = *info;
    return (unsigned)out->file_count++;
}

/* "「a.csv」" for a named file, "" otherwise. */
static const char *file_prefix(const inst_import *out, arena *a, unsigned file)
{
    const char *name = file < out->file_count ? out->files[file] : "";
    return *name ? arena_printf(a, "「%s」", name) : "";
}

static void warning_push(inst_import *out, arena *a, const char *text)
{
    struct inst_import_state *s = state_of(out, a);
    if (out->warning_count == s->warning_cap) {
        s->warning_cap = s->warning_cap ? s->warning_cap * 2 : 4;
        const char **w = arena_calloc(a, s->warning_cap, sizeof *w);
        if (out->warning_count)
            memcpy(w, out->warnings, out->warning_count * sizeof *w);
        out->warnings = w;
    }
    out->warnings[out->warning_count++] = text;
}

static void warning_add(inst_import *out, arena *a, unsigned file, const char *text)
{
    const char *prefix = file_prefix(out, a, file);
    warning_push(out, a, *prefix ? arena_printf(a, "%s: %s", prefix, text) : arena_strdup(a, text));
}

/* Column letters as a spreadsheet shows them: 1 → A, 27 → AA. */
static void column_letters(unsigned col, char buf[8])
{
    char tmp[8];
    size_t n = 0;
    for (; col > 0 && n < sizeof tmp - 1; col = (col - 1) / 26)
        tmp[n++] = (char)('A' + (col - 1) % 26);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}

static void error_grow(inst_import *out, arena *a)
{
    struct inst_import_state *s = state_of(out, a);
    if (out->error_count < s->error_cap)
        return;
    s->error_cap = s->error_cap ? s->error_cap * 2 : 16;
    inst_import_error *e = arena_calloc(a, s->error_cap, sizeof *e);
    if (out->error_count)
        memcpy(e, out->errors, out->error_count * sizeof *e);
    out->errors = e;
}

/* Records an error about a cell, row or file; past the cap it is only counted. The reason is
 * copied (it may live in a scratch arena). */
static void error_add(inst_import *out, arena *a, unsigned file, cell_ref at, const char *reason)
{
    if (out->error_count >= INST_IMPORT_MAX_ERRORS) {
        out->errors_omitted++;
        return;
    }
    error_grow(out, a);
    inst_import_error *e = &out->errors[out->error_count++];
    const char *prefix = file_prefix(out, a, file);
    e->file = file;
    e->record = at.record;
    e->column = at.record ? at.column : 0;
    e->column_name = e->column ? at.column_name : NULL;
    e->reason = arena_strdup(a, reason);
    if (e->column) {
        char letters[8];
        column_letters(e->column, letters);
        e->message = arena_printf(a, "%s%u行目 %s列（%s）: %s", prefix, e->record, letters,
                                  e->column_name, reason);
    } else if (e->record) {
        e->message = arena_printf(a, "%s%u行目: %s", prefix, e->record, reason);
    } else {
        e->message = *prefix ? arena_printf(a, "%s: %s", prefix, reason) : e->reason;
    }
}

typedef struct error_item {
    inst_import_error e;
    size_t seq;
} error_item;

static int error_compare(const void *x, const void *y)
{
    const error_item *a = x, *b = y;
    if (a->e.file != b->e.file)
        return a->e.file < b->e.file ? -1 : 1;
    if (a->e.record != b->e.record)
        return a->e.record < b->e.record ? -1 : 1;
    if (a->e.column != b->e.column)
        return a->e.column < b->e.column ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorts the errors (stable: the errors of one cell keep their order) and appends the summary of
 * the omitted ones. */
static nsdb_err import_finish(inst_import *out, arena *a)
{
    if (out->error_count > 1) {
        error_item *items = xrealloc(NULL, out->error_count * sizeof *items);
        for (size_t i = 0; i < out->error_count; i++)
            items[i] = (error_item){out->errors[i], i};
        qsort(items, out->error_count, sizeof *items, error_compare);
        for (size_t i = 0; i < out->error_count; i++)
            out->errors[i] = items[i].e;
        free(items);
    }
    if (out->errors_omitted > 0) {
        error_grow(out, a);
        inst_import_error *e = &out->errors[out->error_count++];
        memset(e, 0, sizeof *e);
        e->message = e->reason = arena_printf(
            a,
            "誤りが多いため、最初の%d件だけを表示しています（ほかに%zu件あります）。表示された誤りを"
            "直してから、もう一度アップロードしてください。",
            INST_IMPORT_MAX_ERRORS, out->errors_omitted);
    }
    return out->error_count > 0 ? NSDB_ERR_INVALID : NSDB_OK;
}

/* Removes the summary that import_finish appended, before more errors are added. */
static void import_reopen(inst_import *out)
{
    if (out->errors_omitted > 0 && out->error_count > 0)
        out->error_count--;
}

/* ---- cell checks: NULL and *out set, or a Japanese reason ------------------------------------- */

static const char MSG_BAD_CHARS[] = "使用できない文字（制御文字など）が含まれています。";

/* The cell's text with each line break (CR, LF or CRLF) and tab made one space: every field is
 * one line. In a. */
static char *cell_text(arena *a, const char *s)
{
    char *t = arena_strdup(a, s ? s : ""), *w = t;
    for (const char *p = t; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        char ch = *p;
        if (ch == '\r' || ch == '\n' || ch == '\t')
            ch = ' ';
        *w++ = ch;
    }
    *w = '\0';
    return t;
}

/* text_nfkc, but printable ASCII (most cells: codes, numbers, addresses) is its own NFKC and is
 * only trimmed, which saves a round through utf8proc. */
static char *norm_text(arena *a, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p >= 0x7F)
            return text_nfkc(a, s);
    return str_trim(arena_strdup(a, s));
}

/* Removes hyphens and spaces: "13-1-2345678" is a code typed in groups. */
static void squeeze_code(char *s)
{
    char *w = s;
    for (const char *p = s; *p; p++)
        if (*p != '-' && *p != ' ')
            *w++ = *p;
    *w = '\0';
}

static const char *check_inst_code(arena *a, const char *in, const char **out, bool *padded)
{
    char *s = text_code(a, in);
    if (s == NULL)
        return MSG_BAD_CHARS;
    squeeze_code(s);
    if (*s == '\0')
        return "入力されていません。10桁の医療機関コード（都道府県2桁・点数表1桁・医療機関7桁、"
               "最後の桁が検査数字）を入力してください。";
    if (!text_all_digits(s))
        return "数字だけで入力してください。医療機関コードは10桁の数字です。";
    size_t n = strlen(s);
    if (n == IDS_INSTITUTION_CODE_LEN) {
        if (!ids_institution_code_valid(s))
            return "検査数字（最後の桁）が正しくありません。10桁の医療機関コードを確かめてください。";
        *out = s;
        return NULL;
    }
    if (n == IDS_INSTITUTION_CODE_LEN - 1) {
        char *zero = arena_printf(a, "0%s", s);
        if (ids_institution_code_valid(zero)) {
            *out = zero; /* a spreadsheet dropped the leading 0; the check digit confirms it */
            *padded = true;
            return NULL;
        }
        return arena_printf(a,
                            "9桁しかありません。検査数字を含む10桁の医療機関コードを入力してください"
                            "（検査数字が抜けている場合は「%s%c」）。",
                            s, ids_luhn_check_digit(s));
    }
    return arena_printf(a, "%zu桁になっています。10桁の医療機関コードを入力してください。", n);
}

static const char *check_required_text(arena *a, const char *in, size_t max, const char *what,
                                       const char **out)
{
    const char *reason = validate_optional_text(a, in, max, out);
    if (reason != NULL)
        return reason;
    if (*out == NULL)
        return arena_printf(a, "入力されていません。%sを入力してください。", what);
    return NULL;
}

static const char *check_postal(arena *a, const char *in, bool is_number, const char **out)
{
    char *s = text_code(a, in);
    if (s == NULL)
        return MSG_BAD_CHARS;
    if (strncmp(s, "〒", 3) == 0)
        s = str_trim(s + 3);
    if (*s == '\0')
        return "入力されていません。郵便番号を「123-4567」の形で入力してください。";
    size_t n = strlen(s);
    if (is_number && text_all_digits(s) && (n == 5 || n == 6))
        s = arena_printf(a, "%07d", atoi(s)); /* the xlsx cell was a number: zeros were dropped */
    char *postal = text_postal_normalize(a, s);
    if (postal != NULL) {
        *out = postal;
        return NULL;
    }
    if (text_all_digits(s) && strlen(s) < 7)
        return arena_printf(a, "%zu桁しかありません。郵便番号は7桁で「123-4567」の形で入力してくだ"
                               "さい（先頭の0が抜けていませんか）。",
                            strlen(s));
    return "郵便番号は7桁で「123-4567」の形で入力してください。";
}

static const char *check_phone(arena *a, const char *in, bool is_number, const char **out)
{
    char *s = text_code(a, in);
    if (s == NULL)
        return MSG_BAD_CHARS;
    if (*s == '\0')
        return "入力されていません。医療機関の電話番号を「03-1234-5678」の形で入力してください。";
    if (is_number && text_all_digits(s) && s[0] != '0')
        s = arena_printf(a, "0%s", s); /* Japanese numbers start with 0, which a number loses */
    const char *reason = validate_phone(a, s, out);
    if (reason != NULL && text_all_digits(s) && s[0] != '0')
        return "先頭の0が抜けていませんか。電話番号は市外局番から「03-1234-5678」の形で入力して"
               "ください（10桁または11桁）。";
    return reason;
}

static const char *check_user_type(arena *a, const char *in, const char **out)
{
    static const struct {
        const char *text, *key;
    } WORDS[] = {{"指定医", "doctor"},       {"責任者", "inst_manager"},
                 {"管理者", "inst_manager"}, {"doctor", "doctor"},
                 {"inst_manager", "inst_manager"}};
    char *n = norm_text(a, in);
    if (n == NULL)
        return MSG_BAD_CHARS;
    if (*n == '\0')
        return "入力されていません。「指定医」か「責任者」を入力してください。";
    for (size_t i = 0; i < sizeof WORDS / sizeof WORDS[0]; i++) {
        if (strcmp(n, WORDS[i].text) == 0) {
            *out = WORDS[i].key;
            return NULL;
        }
    }
    return "「指定医」か「責任者」を入力してください。";
}

static const char *check_category(arena *a, const char *in, const char **out)
{
    char *n = norm_text(a, in);
    if (n == NULL)
        return MSG_BAD_CHARS;
    if (*n == '\0')
        return "入力されていません。「難病」「小慢」「両方」のいずれかを入力してください。";
    /* 難病・小慢, 難病／小慢 (NFKC: /), 難病、小慢 and 難病 小慢 all mean both */
    char *w = n;
    for (const char *p = n; *p;) {
        if (strncmp(p, "・", 3) == 0 || strncmp(p, "、", 3) == 0) {
            *w++ = '/';
            p += 3;
        } else if (*p == ' ' || *p == ',') {
            *w++ = '/';
            p++;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    if (validate_category(a, n, out) != NULL)
        return "「難病」「小慢」「両方」のいずれかを入力してください。";
    return NULL;
}

static const char *check_doctor_number(arena *a, const char *in, bool required, const char **out)
{
    char *s = text_code(a, in);
    if (s == NULL)
        return MSG_BAD_CHARS;
    if (*s == '\0') {
        *out = NULL;
        return required ? "入力されていません。指定医の方は指定医番号を入力してください。" : NULL;
    }
    size_t n = strlen(s);
    bool ok = n <= DOCTOR_NUMBER_MAX;
    for (const char *p = s; ok && *p; p++)
        ok = (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
             *p == '-';
    if (!ok)
        return "指定医番号は英数字とハイフンで、20文字以内で入力してください。";
    *out = s;
    return NULL;
}

static const char *check_optional_email(arena *a, const char *in, const char **out)
{
    char *n = norm_text(a, in);
    if (n == NULL)
        return MSG_BAD_CHARS;
    if (*n == '\0') {
        *out = NULL;
        return NULL;
    }
    return validate_email(a, n, out);
}

/* ---- rows and the checks across them ------------------------------------------------------ */

#define F_SEARCH_KEY INST_IMPORT_COLUMN_COUNT
#define ROW_STRING_COUNT (INST_IMPORT_COLUMN_COUNT + 1)

static const size_t FIELD_OFFSET[ROW_STRING_COUNT] = {
    offsetof(inst_import_row, inst_code),     offsetof(inst_import_row, inst_name),
    offsetof(inst_import_row, inst_postal),   offsetof(inst_import_row, inst_address),
    offsetof(inst_import_row, inst_phone),    offsetof(inst_import_row, user_type),
    offsetof(inst_import_row, name),          offsetof(inst_import_row, name_kana),
    offsetof(inst_import_row, category),      offsetof(inst_import_row, doctor_number),
    offsetof(inst_import_row, specialty),     offsetof(inst_import_row, email),
    offsetof(inst_import_row, search_key),
};

static const char **row_slot(inst_import_row *r, int f)
{
    return (const char **)(void *)((char *)r + FIELD_OFFSET[f]);
}

static const char *row_get(const inst_import_row *r, int f)
{
    return *(const char *const *)(const void *)((const char *)r + FIELD_OFFSET[f]);
}

#define HASH_SEED 0xcbf29ce484222325ULL
#define HASH_PRIME 0x100000001b3ULL

static uint64_t hash_text(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * HASH_PRIME;
    return (h ^ 0xFFu) * HASH_PRIME; /* a separator, so that ("ab","c") ≠ ("a","bc") */
}

static void inst_table_grow(struct inst_import_state *s)
{
    size_t cap = s->inst_cap ? s->inst_cap * 2 : 64;
    inst_entry *t = calloc(cap, sizeof *t);
    if (t == NULL)
        abort();
    for (size_t i = 0; i < s->inst_cap; i++) {
        if (s->insts[i].code == NULL)
            continue;
        size_t j = s->insts[i].hash & (cap - 1);
        while (t[j].code != NULL)
            j = (j + 1) & (cap - 1);
        t[j] = s->insts[i];
    }
    free(s->insts);
    s->insts = t;
    s->inst_cap = cap;
}

/* The entry of an institution code; a fresh one when create is set, else NULL if unknown. The
 * pointer is valid until the next call with create. */
static inst_entry *inst_lookup(struct inst_import_state *s, const char *code, bool create)
{
    if (create && (s->inst_count + 1) * 2 > s->inst_cap)
        inst_table_grow(s);
    if (s->inst_cap == 0)
        return NULL;
    uint64_t h = hash_text(HASH_SEED, code);
    size_t i = h & (s->inst_cap - 1);
    for (; s->insts[i].code != NULL; i = (i + 1) & (s->inst_cap - 1))
        if (s->insts[i].hash == h && strcmp(s->insts[i].code, code) == 0)
            return &s->insts[i];
    if (!create)
        return NULL;
    inst_entry *e = &s->insts[i];
    e->code = code;
    e->hash = h;
    for (int f = 0; f < INST_FIELD_COUNT; f++)
        e->value_row[f] = SIZE_MAX;
    e->manager_row = SIZE_MAX;
    s->inst_count++;
    return e;
}

static uint64_t person_hash(const inst_import_row *r)
{
    return hash_text(hash_text(hash_text(HASH_SEED, r->inst_code), r->search_key), r->category);
}

static bool same_person(const inst_import_row *x, const inst_import_row *y)
{
    return strcmp(x->inst_code, y->inst_code) == 0 && strcmp(x->search_key, y->search_key) == 0 &&
           strcmp(x->category, y->category) == 0;
}

static void person_table_grow(struct inst_import_state *s)
{
    size_t cap = s->person_cap ? s->person_cap * 2 : 256;
    person_entry *t = calloc(cap, sizeof *t);
    if (t == NULL)
        abort();
    for (size_t i = 0; i < s->person_cap; i++) {
        if (s->persons[i].row == 0)
            continue;
        size_t j = s->persons[i].hash & (cap - 1);
        while (t[j].row != 0)
            j = (j + 1) & (cap - 1);
        t[j] = s->persons[i];
    }
    free(s->persons);
    s->persons = t;
    s->person_cap = cap;
}

/* The earlier row with the same person, or SIZE_MAX after recording row idx as the first. */
static size_t person_find_or_add(struct inst_import_state *s, size_t idx)
{
    if ((s->person_count + 1) * 2 > s->person_cap)
        person_table_grow(s);
    const inst_import_row *r = &s->rows[idx];
    uint64_t h = person_hash(r);
    size_t i = h & (s->person_cap - 1);
    for (; s->persons[i].row != 0; i = (i + 1) & (s->person_cap - 1)) {
        size_t other = s->persons[i].row - 1;
        if (s->persons[i].hash == h && same_person(&s->rows[other], r))
            return other;
    }
    s->persons[i] = (person_entry){idx + 1, h}; /* row + 1, so that 0 marks an empty slot */
    s->person_count++;
    return SIZE_MAX;
}

/* Where field f of row idx was written: a CSV column, or a cell of the xlsx form. */
static cell_ref cell_of(const inst_import *out, size_t idx, int f)
{
    const inst_import_row *r = &out->rows[idx];
    const file_info *fi = &out->state->file_infos[r->file];
    if (!fi->xlsx)
        return (cell_ref){r->record, (unsigned)f + 1, INST_IMPORT_HEADERS[f]};
    if (f < INST_FIELD_COUNT)
        return (cell_ref){fi->label_row[f], 2, INST_FORM_LABELS[f]};
    if (f == F_USER_TYPE)
        return (cell_ref){r->record, 0, NULL};
    return (cell_ref){r->record, FORM_COLUMN_OF[f], INST_FORM_HEADERS[FORM_COLUMN_OF[f] - 1]};
}

/* "3行目", or "「b.xlsx」の3行目" when the earlier row is in another file than row idx. */
static const char *place_of(const inst_import *out, arena *a, size_t earlier, int f, size_t idx)
{
    unsigned file = out->rows[earlier].file;
    unsigned record = cell_of(out, earlier, f).record;
    if (file == out->rows[idx].file)
        return arena_printf(a, "%u行目", record);
    const char *name = out->files[file];
    return *name ? arena_printf(a, "「%s」の%u行目", name, record)
                 : arena_printf(a, "別のファイルの%u行目", record);
}

/* Equal but for spaces (the values are NFKC already). */
static bool same_text(const char *x, const char *y)
{
    for (;;) {
        while (*x == ' ')
            x++;
        while (*y == ' ')
            y++;
        if (*x != *y)
            return false;
        if (*x == '\0')
            return true;
        x++, y++;
    }
}

/* Checks row idx against the rows before it, and records it for the rows after. A clash whose
 * earlier row has index >= checked_from is not reported: both rows come from one result whose own
 * checks reported it already (a merge). */
static void check_across(inst_import *out, arena *a, size_t idx, size_t checked_from)
{
    struct inst_import_state *s = out->state;
    const inst_import_row *r = &out->rows[idx];
    if (r->inst_code == NULL)
        return;
    inst_entry *e = inst_lookup(s, r->inst_code, true);
    bool xlsx = s->file_infos[r->file].xlsx;
    /* an xlsx form states its institution once: check it on the file's first row only */
    bool check_inst = !xlsx || idx == 0 || out->rows[idx - 1].file != r->file;
    static const char *const WHAT[INST_FIELD_COUNT] = {
        [F_INST_NAME] = "医療機関名", [F_INST_POSTAL] = "郵便番号", [F_INST_ADDRESS] = "所在地"};
    for (int f = F_INST_NAME; f <= F_INST_PHONE; f++) {
        const char *value = row_get(r, f);
        if (value == NULL)
            continue;
        size_t earlier = e->value_row[f];
        if (earlier == SIZE_MAX) {
            e->value_row[f] = idx;
            continue;
        }
        if (f == F_INST_PHONE || !check_inst || earlier >= checked_from)
            continue; /* the phone of the first row is kept: an institution has several lines */
        const char *first = row_get(&out->rows[earlier], f);
        if (same_text(first, value))
            continue;
        error_add(out, a, r->file, cell_of(out, idx, f),
                  arena_printf(a,
                               "医療機関コード %s の%sが、%s（「%s」）と違います。同じ医療機関は"
                               "同じ%sで入力してください。",
                               r->inst_code, WHAT[f], place_of(out, a, earlier, f, idx), first,
                               WHAT[f]));
    }
    if (r->user_type != NULL && strcmp(r->user_type, "inst_manager") == 0) {
        if (e->manager_row == SIZE_MAX) {
            e->manager_row = idx;
        } else if (e->manager_row < checked_from) {
            const char *where = place_of(out, a, e->manager_row, F_USER_TYPE, idx);
            error_add(out, a, r->file, cell_of(out, idx, F_USER_TYPE),
                      xlsx ? arena_printf(a,
                                          "医療機関コード %s の責任者が%sにもいます（このファイルでは"
                                          "1人目の方が責任者になります）。責任者は1つの医療機関に"
                                          "1人です。",
                                          r->inst_code, where)
                           : arena_printf(a,
                                          "医療機関コード %s の責任者が%sにもいます。責任者は1つの"
                                          "医療機関に1人です。ほかの方は「指定医」にしてください。",
                                          r->inst_code, where));
        }
    }
    if (r->search_key != NULL && r->category != NULL) {
        size_t earlier = person_find_or_add(s, idx);
        if (earlier != SIZE_MAX && earlier < checked_from)
            error_add(out, a, r->file, cell_of(out, idx, F_NAME),
                      arena_printf(a,
                                   "同じ方が%sにもいます（医療機関・氏名・氏名カナ・難病/小慢が同じ）。"
                                   "1人につき1行にしてください。",
                                   place_of(out, a, earlier, F_NAME, idx)));
    }
}

/* Appends a validated row (strings in a scratch arena) with its strings copied into a in one
 * block; institution strings equal to those already stored for its code are shared. */
static size_t row_commit(inst_import *out, arena *a, const inst_import_row *tmp)
{
    struct inst_import_state *s = state_of(out, a);
    rows_reserve(out, a, out->row_count + 1);
    size_t idx = out->row_count;
    inst_import_row *r = &s->rows[idx];
    *r = *tmp;
    bool keep[ROW_STRING_COUNT] = {false};
    /* user_type and category point at static words of their validators */
    keep[F_USER_TYPE] = keep[F_CATEGORY] = true;
    const inst_entry *e = r->inst_code ? inst_lookup(s, r->inst_code, false) : NULL;
    if (e != NULL) {
        r->inst_code = e->code;
        keep[F_INST_CODE] = true;
        for (int f = F_INST_NAME; f <= F_INST_PHONE; f++) {
            const char *v = row_get(r, f);
            if (v == NULL || e->value_row[f] == SIZE_MAX)
                continue;
            const char *stored = row_get(&s->rows[e->value_row[f]], f);
            if (strcmp(stored, v) == 0) {
                *row_slot(r, f) = stored;
                keep[f] = true;
            }
        }
    }
    size_t total = 0;
    for (int f = 0; f < ROW_STRING_COUNT; f++)
        if (!keep[f] && row_get(r, f) != NULL)
            total += strlen(row_get(r, f)) + 1;
    char *block = NULL;
    if (total > POOL_CHUNK / 4) {
        block = arena_alloc(a, total);
    } else if (total > 0) {
        /* one chunk holds hundreds of rows: far fewer, larger arena blocks */
        if (s->pool_left < total) {
            s->pool = arena_alloc(a, POOL_CHUNK);
            s->pool_left = POOL_CHUNK;
        }
        block = s->pool;
        s->pool += total;
        s->pool_left -= total;
    }
    for (int f = 0; f < ROW_STRING_COUNT; f++) {
        const char *v = row_get(r, f);
        if (keep[f] || v == NULL)
            continue;
        size_t n = strlen(v) + 1;
        memcpy(block, v, n);
        *row_slot(r, f) = block;
        block += n;
    }
    out->row_count++;
    return idx;
}

/* ---- validating a row ------------------------------------------------------------------------ */

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

#define CHECK(c, cell, expr)                                                                      \
    do {                                                                                          \
        const char *reason_ = (expr);                                                             \
        if (reason_ != NULL)                                                                      \
            error_add((c)->out, (c)->a, (c)->file, (cell).at, reason_);                           \
    } while (0)

/* Fields F_INST_CODE .. F_INST_PHONE of in into r, allocating in work. */
static void validate_institution(import_ctx *c, arena *work, const cell_in in[], inst_import_row *r)
{
    bool padded = false;
    CHECK(c, in[F_INST_CODE],
          check_inst_code(work, cell_text(work, in[F_INST_CODE].text), &r->inst_code, &padded));
    if (padded && c->padded_codes++ == 0)
        c->first_padded_record = in[F_INST_CODE].at.record;
    CHECK(c, in[F_INST_NAME],
          check_required_text(work, cell_text(work, in[F_INST_NAME].text), INST_NAME_MAX,
                              "医療機関名", &r->inst_name));
    CHECK(c, in[F_INST_POSTAL],
          check_postal(work, cell_text(work, in[F_INST_POSTAL].text), in[F_INST_POSTAL].is_number,
                       &r->inst_postal));
    CHECK(c, in[F_INST_ADDRESS],
          check_required_text(work, cell_text(work, in[F_INST_ADDRESS].text), INST_ADDRESS_MAX,
                              "医療機関の所在地", &r->inst_address));
    CHECK(c, in[F_INST_PHONE],
          check_phone(work, cell_text(work, in[F_INST_PHONE].text), in[F_INST_PHONE].is_number,
                      &r->inst_phone));
}

/* Fields F_USER_TYPE .. F_EMAIL of in into r (in the scratch arena), and the search key. */
static void validate_person(import_ctx *c, const cell_in in[], inst_import_row *r)
{
    arena *w = c->scratch;
    CHECK(c, in[F_USER_TYPE], check_user_type(w, cell_text(w, in[F_USER_TYPE].text), &r->user_type));
    CHECK(c, in[F_NAME], validate_person_name(w, cell_text(w, in[F_NAME].text), &r->name));
    CHECK(c, in[F_KANA], validate_name_kana(w, cell_text(w, in[F_KANA].text), &r->name_kana));
    CHECK(c, in[F_CATEGORY], check_category(w, cell_text(w, in[F_CATEGORY].text), &r->category));
    /* a 責任者 need not be a designated doctor; when the type is unreadable, do not insist */
    bool required = r->user_type != NULL && strcmp(r->user_type, "doctor") == 0;
    CHECK(c, in[F_DOCTOR_NUMBER],
          check_doctor_number(w, cell_text(w, in[F_DOCTOR_NUMBER].text), required,
                              &r->doctor_number));
    CHECK(c, in[F_SPECIALTY],
          validate_optional_text(w, cell_text(w, in[F_SPECIALTY].text), SPECIALTY_MAX,
                                 &r->specialty));
    CHECK(c, in[F_EMAIL], check_optional_email(w, cell_text(w, in[F_EMAIL].text), &r->email));
    if (r->name != NULL && r->name_kana != NULL)
        r->search_key = text_search_key(w, arena_printf(w, "%s %s", r->name, r->name_kana));
    if (r->name != NULL && r->name_kana != NULL && r->doctor_number != NULL &&
        strcmp(r->name, CSV_EXAMPLE[F_NAME]) == 0 &&
        strcmp(r->name_kana, CSV_EXAMPLE[F_KANA]) == 0 &&
        strcmp(r->doctor_number, CSV_EXAMPLE[F_DOCTOR_NUMBER]) == 0)
        error_add(c->out, c->a, c->file, (cell_ref){in[F_NAME].at.record, 0, NULL},
                  "テンプレートの記入例の行です。この行を削除してから登録してください。");
}

/* Commits the row, checks it against the earlier ones, and renews the scratch arena (one per
 * row keeps validation's garbage within one block). Returns the row's index. */
static size_t row_done(import_ctx *c, const inst_import_row *tmp)
{
    size_t idx = row_commit(c->out, c->a, tmp);
    check_across(c->out, c->a, idx, SIZE_MAX);
    arena_free(c->scratch);
    c->scratch = arena_new();
    return idx;
}

static void inst_cache_clear(import_ctx *c)
{
    for (int f = 0; f < INST_FIELD_COUNT; f++) {
        free(c->inst_raw[f]);
        c->inst_raw[f] = NULL;
    }
}

/* True (and r's institution filled) when in's institution cells are the cached ones. */
static bool inst_cache_use(import_ctx *c, const cell_in in[], inst_import_row *r)
{
    for (int f = 0; f < INST_FIELD_COUNT; f++)
        if (c->inst_raw[f] == NULL || strcmp(c->inst_raw[f], in[f].text) != 0)
            return false;
    for (int f = 0; f < INST_FIELD_COUNT; f++)
        *row_slot(r, f) = c->inst_value[f];
    if (c->inst_padded)
        c->padded_codes++;
    return true;
}

static void inst_cache_store(import_ctx *c, const cell_in in[], const inst_import_row *r,
                             bool padded)
{
    inst_cache_clear(c);
    for (int f = 0; f < INST_FIELD_COUNT; f++) {
        c->inst_raw[f] = strdup(in[f].text);
        if (c->inst_raw[f] == NULL)
            abort();
        c->inst_value[f] = row_get(r, f);
    }
    c->inst_padded = padded;
}

static void ctx_open(import_ctx *c, inst_import *out, arena *a, const char *filename, bool xlsx)
{
    memset(out, 0, sizeof *out);
    memset(c, 0, sizeof *c);
    c->out = out;
    c->a = a;
    c->scratch = arena_new();
    file_info info = {.xlsx = xlsx};
    c->file = file_add(out, a, filename, &info);
}

static nsdb_err ctx_close(import_ctx *c)
{
    if (c->padded_codes > 0)
        warning_add(c->out, c->a, c->file,
                    arena_printf(c->scratch,
                                 "医療機関コードが9桁だった%zu件（最初は%u行目）は、表計算ソフトで"
                                 "先頭の0が消えたものとして0を補いました（検査数字で確認済み）。"
                                 "医療機関コードを確かめてください。",
                                 c->padded_codes, c->first_padded_record));
    arena_free(c->scratch);
    inst_cache_clear(c);
    return import_finish(c->out, c->a);
}

static bool blank_text(const char *s)
{
    for (;;) {
        if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
            s++;
        else if (strncmp(s, "\xE3\x80\x80", 3) == 0)
            s += 3;
        else
            return *s == '\0';
    }
}

/* ==== the CSV (SPEC §5.2) ====================================================================== */

static const char MSG_CSV_EMPTY[] =
    "ファイルが空です。1行目に見出し、2行目から1人につき1行を入力してください（テンプレートを"
    "お使いください）。";
static const char MSG_NO_ROWS[] =
    "登録する行がありません。見出しの下に、1人につき1行を入力してください。";

static bool csv_header_ok(import_ctx *c, csv_reader *r)
{
    if (!csv_reader_next_row(r)) {
        if (csv_reader_error(r) == NULL)
            error_add(c->out, c->a, c->file, (cell_ref){0, 0, NULL}, MSG_CSV_EMPTY);
        return false; /* a reader error is reported by the caller */
    }
    arena *w = c->scratch;
    size_t count = csv_reader_field_count(r);
    for (size_t f = 0; f < INST_IMPORT_COLUMN_COUNT; f++) {
        const char *have = f < count ? text_header_key(w, csv_reader_field(r, f)) : "";
        if (strcmp(have, text_header_key(w, INST_IMPORT_HEADERS[f])) == 0)
            continue;
        const char *raw = f < count ? str_trim(cell_text(w, csv_reader_field(r, f))) : "";
        const char *reason;
        if (*raw == '\0')
            reason = arena_printf(w, "見出し「%s」がありません。", INST_IMPORT_HEADERS[f]);
        else if (strlen(raw) <= 90)
            reason = arena_printf(w, "見出しが「%s」ではありません（「%s」になっています）。",
                                  INST_IMPORT_HEADERS[f], raw);
        else
            reason = arena_printf(w, "見出しが「%s」ではありません。", INST_IMPORT_HEADERS[f]);
        reason = arena_printf(w,
                              "%s1行目の見出しは、テンプレートどおり「医療機関コード,医療機関名,"
                              "医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別,氏名,"
                              "氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス」の12列にして"
                              "ください。",
                              reason);
        error_add(c->out, c->a, c->file, (cell_ref){1, (unsigned)f + 1, INST_IMPORT_HEADERS[f]},
                  reason);
        return false;
    }
    for (size_t f = INST_IMPORT_COLUMN_COUNT; f < count; f++) {
        if (blank_text(csv_reader_field(r, f)))
            continue;
        error_add(c->out, c->a, c->file, (cell_ref){1, 0, NULL},
                  "見出しが13列以上あります。1行目の見出しは、テンプレートどおり「医療機関コード」から"
                  "「メールアドレス」までの12列にしてください。");
        return false;
    }
    return true;
}

static bool csv_record_blank(const csv_reader *r)
{
    for (size_t f = 0; f < csv_reader_field_count(r); f++)
        if (!blank_text(csv_reader_field(r, f)))
            return false;
    return true;
}

static size_t csv_record_width(const csv_reader *r)
{
    size_t n = csv_reader_field_count(r);
    while (n > INST_IMPORT_COLUMN_COUNT && blank_text(csv_reader_field(r, n - 1)))
        n--; /* empty columns after the last one are harmless */
    return n;
}

static void csv_read_rows(import_ctx *c, const char *text, size_t len)
{
    csv_reader *r = csv_reader_new(text, len);
    size_t data_rows = 0;
    if (csv_header_ok(c, r)) {
        /* lines bound the records: reserve once instead of growing */
        size_t lines = 1;
        for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL; p++)
            lines++;
        rows_reserve(c->out, c->a, c->out->row_count + lines);
        while (csv_reader_next_row(r)) {
            if (csv_record_blank(r))
                continue;
            data_rows++;
            unsigned record = csv_reader_record(r);
            size_t width = csv_record_width(r);
            if (width != INST_IMPORT_COLUMN_COUNT) {
                error_add(c->out, c->a, c->file, (cell_ref){record, 0, NULL},
                          arena_printf(c->scratch,
                                       "列の数が%zu個です。「医療機関コード」から「メールアドレス」"
                                       "までの12列にしてください（項目の中にコンマがあるときは、"
                                       "項目全体を「\"」で囲みます）。",
                                       width));
                continue;
            }
            cell_in in[INST_IMPORT_COLUMN_COUNT];
            for (int f = 0; f < INST_IMPORT_COLUMN_COUNT; f++)
                in[f] = (cell_in){csv_reader_field(r, (size_t)f), false,
                                  {record, (unsigned)f + 1, INST_IMPORT_HEADERS[f]}};
            inst_import_row row = {.file = c->file, .record = record};
            size_t errors = c->out->error_count + c->out->errors_omitted;
            size_t padded = c->padded_codes;
            bool cached = inst_cache_use(c, in, &row);
            if (!cached)
                validate_institution(c, c->scratch, in, &row);
            bool inst_ok = errors == c->out->error_count + c->out->errors_omitted;
            validate_person(c, in, &row);
            size_t idx = row_done(c, &row);
            if (!cached && inst_ok)
                inst_cache_store(c, in, &c->out->rows[idx], c->padded_codes > padded);
            else if (!cached)
                inst_cache_clear(c);
        }
    }
    if (csv_reader_error(r) != NULL) {
        unsigned col = csv_reader_error_column(r);
        const char *name = col >= 1 && col <= INST_IMPORT_COLUMN_COUNT ? INST_IMPORT_HEADERS[col - 1]
                                                                       : "見出しのない列";
        error_add(c->out, c->a, c->file, (cell_ref){csv_reader_record(r), col, name},
                  arena_printf(c->scratch, "%sこの行から後は読み込んでいません。",
                               csv_reader_error(r)));
    } else if (data_rows == 0 && c->out->error_count == 0) {
        error_add(c->out, c->a, c->file, (cell_ref){0, 0, NULL}, MSG_NO_ROWS);
    }
    csv_reader_free(r);
}

nsdb_err inst_import_parse_csv_named(const char *data, size_t len, const char *filename, arena *a,
                                     inst_import *out)
{
    import_ctx c;
    ctx_open(&c, out, a, filename, false);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    char *converted = NULL;
    if (!utf8_valid((const unsigned char *)data, len)) {
        size_t converted_len = 0;
        converted = cp932_to_utf8(data, len, &converted_len);
        if (converted == NULL) {
            error_add(out, a, c.file, (cell_ref){0, 0, NULL}, MSG_BAD_ENCODING);
            return ctx_close(&c);
        }
        data = converted;
        len = converted_len;
        out->converted_from_cp932 = true;
        warning_add(out, a, c.file, MSG_CP932_CONVERTED);
    }
    csv_read_rows(&c, data, len);
    free(converted);
    return ctx_close(&c);
}

nsdb_err inst_import_parse_csv(const char *data, size_t len, arena *a, inst_import *out)
{
    return inst_import_parse_csv_named(data, len, NULL, a, out);
}

/* ==== the xlsx form (SPEC §5.2a) ============================================================== */

static const char MSG_FORM_NO_HEADER[] =
    "見出しの行（A列が「No」、B列が「氏名」の行）が見つかりません。医療機関ユーザデータファイルの"
    "様式に入力してください。";
static const char MSG_FORM_NO_ROWS[] =
    "指定医の行がありません。見出しの下に、1人につき1行を入力してください（1人目の方が医療機関の"
    "責任者になります）。";

static bool label_matches(const char *key, const char *label)
{
    if (strcmp(key, label) == 0)
        return true;
    /* "医療機関郵便番号", "医療機関所在地" as in the CSV */
    size_t k = strlen(key), l = strlen(label);
    return k > l && str_starts_with(key, "医療機関") && strcmp(key + k - l, label) == 0;
}

static bool form_header_is_no(arena *a, const char *cell)
{
    const char *k = text_header_key(a, cell);
    return strcasecmp(k, "No") == 0 || strcasecmp(k, "No.") == 0;
}

static void form_read(import_ctx *c, const xlsx_table *t)
{
    arena *w = c->scratch;
    size_t rows = xlsx_table_rows(t), header = SIZE_MAX;
    for (size_t i = 0; i < rows && header == SIZE_MAX; i++)
        if (form_header_is_no(w, xlsx_table_cell(t, i, 0)) &&
            strcmp(text_header_key(w, xlsx_table_cell(t, i, 1)), INST_FORM_HEADERS[1]) == 0)
            header = i;
    if (header == SIZE_MAX) {
        error_add(c->out, c->a, c->file, (cell_ref){0, 0, NULL}, MSG_FORM_NO_HEADER);
        return;
    }
    unsigned header_row = xlsx_table_row_number(t, header);
    for (unsigned col = 3; col <= INST_FORM_COLUMN_COUNT; col++) {
        const char *want = INST_FORM_HEADERS[col - 1];
        if (strcmp(text_header_key(w, xlsx_table_cell(t, header, col - 1)), text_header_key(w, want)) == 0)
            continue;
        error_add(c->out, c->a, c->file, (cell_ref){header_row, col, want},
                  arena_printf(w, "見出しが「%s」ではありません。列の順番を変えずに、様式どおり"
                                  "に入力してください。",
                               want));
        return;
    }

    cell_in inst[INST_FIELD_COUNT];
    bool missing = false;
    file_info *info = &c->out->state->file_infos[c->file];
    for (int f = 0; f < INST_FIELD_COUNT; f++) {
        size_t found = SIZE_MAX;
        for (size_t i = 0; i < header && found == SIZE_MAX; i++)
            if (label_matches(text_header_key(w, xlsx_table_cell(t, i, 0)), INST_FORM_LABELS[f]))
                found = i;
        if (found == SIZE_MAX) {
            error_add(c->out, c->a, c->file, (cell_ref){0, 0, NULL},
                      arena_printf(w, "「%s」の欄（A列の見出しとB列の値）が見つかりません。様式の"
                                      "上の部分を消さずに、B列に入力してください。",
                                   INST_FORM_LABELS[f]));
            missing = true;
            continue;
        }
        unsigned row = xlsx_table_row_number(t, found);
        info->label_row[f] = row;
        inst[f] = (cell_in){xlsx_table_cell(t, found, 1), xlsx_table_cell_is_number(t, found, 1),
                            {row, 2, INST_FORM_LABELS[f]}};
    }
    if (missing)
        return;
    inst_import_row base = {.file = c->file};
    validate_institution(c, c->a, inst, &base); /* once per file, so into the result's arena */

    size_t people = 0;
    for (size_t i = header + 1; i < rows; i++) {
        bool blank = true;
        for (unsigned col = 2; col <= INST_FORM_COLUMN_COUNT && blank; col++) {
            const char *v = xlsx_table_cell(t, i, col - 1);
            blank = v == NULL || blank_text(v);
        }
        if (blank)
            continue; /* numbered but unused rows of the form */
        unsigned row = xlsx_table_row_number(t, i);
        cell_in in[INST_IMPORT_COLUMN_COUNT];
        memcpy(in, inst, sizeof inst);
        in[F_USER_TYPE] = (cell_in){people == 0 ? "責任者" : "指定医", false, {row, 0, NULL}};
        for (int f = F_NAME; f <= F_EMAIL; f++) {
            unsigned col = FORM_COLUMN_OF[f];
            in[f] = (cell_in){xlsx_table_cell(t, i, col - 1),
                              xlsx_table_cell_is_number(t, i, col - 1),
                              {row, col, INST_FORM_HEADERS[col - 1]}};
        }
        inst_import_row r = base;
        r.record = row;
        validate_person(c, in, &r);
        row_done(c, &r);
        people++;
    }
    if (people == 0)
        error_add(c->out, c->a, c->file, (cell_ref){0, 0, NULL}, MSG_FORM_NO_ROWS);
}

nsdb_err inst_import_parse_xlsx(const void *data, size_t len, const char *filename, arena *a,
                                inst_import *out)
{
    import_ctx c;
    ctx_open(&c, out, a, filename, true);
    xlsx_table *t = NULL;
    char *message = NULL;
    if (xlsx_read(data, len, &t, &message) != NSDB_OK) {
        error_add(out, a, c.file, (cell_ref){0, 0, NULL},
                  message ? message : "Excel ファイル（.xlsx）として読み込めません。");
        free(message);
        return ctx_close(&c);
    }
    form_read(&c, t);
    xlsx_table_free(t);
    return ctx_close(&c);
}

nsdb_err inst_import_parse_file(const void *data, size_t len, const char *filename, arena *a,
                                inst_import *out)
{
    if (len >= 4 && memcmp(data, "PK\x03\x04", 4) == 0)
        return inst_import_parse_xlsx(data, len, filename, a, out);
    return inst_import_parse_csv_named(data, len, filename, a, out);
}

/* ==== several files ============================================================================ */

nsdb_err inst_import_merge(inst_import *into, const inst_import *from, arena *a)
{
    if (into == from)
        abort(); /* a result cannot be merged into itself */
    state_of(into, a);
    import_reopen(into);
    unsigned file_base = (unsigned)into->file_count;
    for (size_t i = 0; i < from->file_count; i++)
        file_add(into, a, from->files[i], &from->state->file_infos[i]);
    size_t from_errors = from->error_count - (from->errors_omitted > 0 && from->error_count > 0);
    for (size_t i = 0; i < from_errors; i++) {
        if (into->error_count >= INST_IMPORT_MAX_ERRORS) {
            into->errors_omitted++;
            continue;
        }
        error_grow(into, a);
        inst_import_error *e = &into->errors[into->error_count++];
        *e = from->errors[i];
        e->file += file_base;
    }
    into->errors_omitted += from->errors_omitted;
    for (size_t i = 0; i < from->warning_count; i++)
        warning_push(into, a, from->warnings[i]);
    into->converted_from_cp932 |= from->converted_from_cp932;
    size_t base = into->row_count;
    rows_reserve(into, a, base + from->row_count);
    for (size_t i = 0; i < from->row_count; i++) {
        size_t idx = into->row_count++;
        into->rows[idx] = from->rows[i];
        into->rows[idx].file += file_base;
        check_across(into, a, idx, base);
    }
    return import_finish(into, a);
}

/* ==== templates ================================================================================ */

nsdb_err inst_import_csv_template(strbuf *out)
{
    char code[IDS_INSTITUTION_CODE_LEN + 1] = EXAMPLE_PAYLOAD;
    code[9] = ids_luhn_check_digit(EXAMPLE_PAYLOAD);
    code[10] = '\0';
    strbuf_puts(out, "\xEF\xBB\xBF");
    for (int f = 0; f < INST_IMPORT_COLUMN_COUNT; f++) {
        strbuf_puts(out, INST_IMPORT_HEADERS[f]);
        strbuf_puts(out, f + 1 < INST_IMPORT_COLUMN_COUNT ? "," : "\r\n");
    }
    for (int f = 0; f < INST_IMPORT_COLUMN_COUNT; f++) {
        strbuf_puts(out, f == F_INST_CODE ? code : CSV_EXAMPLE[f]);
        strbuf_puts(out, f + 1 < INST_IMPORT_COLUMN_COUNT ? "," : "\r\n");
    }
    return NSDB_OK;
}

static const char FORM_NOTE[] =
    "指定医の方を1人につき1行で入力してください。1人目（No 1）の方が、この医療機関の責任者（管理者）"
    "になります。氏名カナは全角カタカナ、「難病/小慢」はセルの一覧から選びます。指定医番号は英数字と"
    "ハイフンです。診療科とメールアドレスは空欄でも構いません。行と列の順番は変えないでください。";
static const char FORM_INST_HINT[] =
    "医療機関の情報（1回だけ入力。医療機関コードは検査数字を含む10桁、郵便番号は「123-4567」の形）";
static const double FORM_WIDTHS[INST_FORM_COLUMN_COUNT] = {16, 18, 20, 11, 14, 14, 32};

static nsdb_err form_write(const char *path, const inst_import_form_data *d)
{
    lxw_workbook *wb = workbook_new(path);
    if (wb == NULL)
        return NSDB_ERR_IO;
    lxw_worksheet *ws = workbook_add_worksheet(wb, "医療機関ユーザ");

    lxw_format *title = workbook_add_format(wb);
    format_set_bold(title);
    format_set_font_size(title, 14);
    lxw_format *hint = workbook_add_format(wb);
    format_set_font_size(hint, 10);
    lxw_format *label = workbook_add_format(wb);
    format_set_bold(label);
    format_set_bg_color(label, 0xD9E1F2);
    format_set_border(label, LXW_BORDER_THIN);
    lxw_format *value = workbook_add_format(wb);
    format_set_num_format(value, "@"); /* Excel keeps leading zeros of text */
    format_set_border(value, LXW_BORDER_THIN);
    lxw_format *note = workbook_add_format(wb);
    format_set_text_wrap(note);
    format_set_align(note, LXW_ALIGN_VERTICAL_TOP);
    format_set_font_size(note, 10);
    lxw_format *header = workbook_add_format(wb);
    format_set_bold(header);
    format_set_align(header, LXW_ALIGN_CENTER);
    format_set_bg_color(header, 0xD9E1F2);
    format_set_border(header, LXW_BORDER_THIN);
    lxw_format *cell = workbook_add_format(wb);
    format_set_num_format(cell, "@");
    format_set_border(cell, LXW_BORDER_THIN);
    lxw_format *manager = workbook_add_format(wb); /* the 責任者's row */
    format_set_num_format(manager, "@");
    format_set_border(manager, LXW_BORDER_THIN);
    format_set_bg_color(manager, 0xFFF2CC);

    for (lxw_col_t col = 0; col < INST_FORM_COLUMN_COUNT; col++)
        worksheet_set_column(ws, col, col, FORM_WIDTHS[col], NULL);
    worksheet_write_string(ws, INST_FORM_TITLE_ROW - 1, 0, INST_IMPORT_FORM_TITLE, title);
    worksheet_write_string(ws, INST_FORM_FIRST_LABEL_ROW - 2, 0, FORM_INST_HINT, hint);
    const char *inst_values[INST_FORM_LABEL_COUNT] = {NULL};
    if (d != NULL) {
        inst_values[0] = d->inst_code, inst_values[1] = d->inst_name;
        inst_values[2] = d->inst_postal, inst_values[3] = d->inst_address;
        inst_values[4] = d->inst_phone;
    }
    for (int i = 0; i < INST_FORM_LABEL_COUNT; i++) {
        lxw_row_t row = (lxw_row_t)(INST_FORM_FIRST_LABEL_ROW - 1 + i);
        worksheet_write_string(ws, row, 0, INST_FORM_LABELS[i], label);
        worksheet_merge_range(ws, row, 1, row, INST_FORM_COLUMN_COUNT - 1,
                              inst_values[i] ? inst_values[i] : "", value);
    }
    worksheet_set_row(ws, INST_FORM_NOTE_ROW - 1, 42, NULL);
    worksheet_merge_range(ws, INST_FORM_NOTE_ROW - 1, 0, INST_FORM_NOTE_ROW - 1,
                          INST_FORM_COLUMN_COUNT - 1, FORM_NOTE, note);
    for (lxw_col_t col = 0; col < INST_FORM_COLUMN_COUNT; col++)
        worksheet_write_string(ws, INST_FORM_HEADER_ROW - 1, col, INST_FORM_HEADERS[col], header);

    size_t count = d && d->doctor_count > INST_FORM_DATA_ROWS ? d->doctor_count
                                                               : INST_FORM_DATA_ROWS;
    for (size_t i = 0; i < count; i++) {
        lxw_row_t row = (lxw_row_t)(INST_FORM_FIRST_DATA_ROW - 1 + i);
        lxw_format *f = i == 0 ? manager : cell;
        char no[32];
        snprintf(no, sizeof no, i == 0 ? "%zu（責任者）" : "%zu", i + 1);
        worksheet_write_string(ws, row, 0, no, f);
        const inst_import_form_doctor *doc = d && i < d->doctor_count ? &d->doctors[i] : NULL;
        const char *cells[INST_FORM_COLUMN_COUNT - 1] = {NULL};
        if (doc != NULL) {
            cells[0] = doc->name, cells[1] = doc->name_kana, cells[2] = doc->category;
            cells[3] = doc->doctor_number, cells[4] = doc->specialty, cells[5] = doc->email;
        }
        for (lxw_col_t col = 1; col < INST_FORM_COLUMN_COUNT; col++) {
            if (cells[col - 1] != NULL && *cells[col - 1] != '\0')
                worksheet_write_string(ws, row, col, cells[col - 1], f);
            else
                worksheet_write_blank(ws, row, col, f);
        }
    }
    char *categories[] = {"難病", "小慢", "両方", NULL};
    lxw_data_validation category = {
        .validate = LXW_VALIDATION_TYPE_LIST,
        .value_list = categories,
        .input_title = "難病/小慢",
        .input_message = "一覧から選んでください。",
        .error_title = "難病/小慢",
        .error_message = "「難病」「小慢」「両方」のいずれかを選んでください。",
    };
    worksheet_data_validation_range(ws, INST_FORM_FIRST_DATA_ROW - 1, 3,
                                    (lxw_row_t)(INST_FORM_FIRST_DATA_ROW - 2 + count), 3,
                                    &category);
    worksheet_freeze_panes(ws, INST_FORM_HEADER_ROW, 0);
    worksheet_set_paper(ws, 9); /* A4 landscape, one page wide, the header on every page */
    worksheet_set_landscape(ws);
    worksheet_fit_to_pages(ws, 1, 0);
    worksheet_repeat_rows(ws, INST_FORM_HEADER_ROW - 1, INST_FORM_HEADER_ROW - 1);
    workbook_set_properties(wb, &(lxw_doc_properties){.title = INST_IMPORT_FORM_TITLE});
    return workbook_close(wb) == LXW_NO_ERROR ? NSDB_OK : NSDB_ERR_IO;
}

nsdb_err inst_import_form_xlsx(const char *path)
{
    return form_write(path, NULL);
}

nsdb_err inst_import_form_xlsx_filled(const char *path, const inst_import_form_data *data)
{
    return form_write(path, data);
}
