/*
 * inst_import.c — reading the 指定医一括登録ファイル (CSV, SPEC §5.2) into checked rows: the
 * encoding decision (UTF-8, or CP932 converted with a warning), the header, one row per record,
 * each cell checked by the field table (fields.h) with its location; the row checks are shared
 * with the xlsx form reader (inst_form.c) through inst_import_int.h. Also the blank CSV template.
 *
 * Validation allocates in a scratch arena renewed every row; the institution cells of a CSV row
 * usually repeat the previous row's verbatim and are then not checked again. Spreadsheet damage is
 * repaired only where the intent is certain: a 9-digit institution code gets its leading 0 back
 * only when the check digit then agrees (and a warning says so); postal codes and phone numbers
 * only when the xlsx cell is a number.
 */
#include "domain/inst_import_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/csv.h"
#include "domain/encoding.h"
#include "domain/ids.h"
#include "domain/text.h"

static const char MSG_CP932_CONVERTED[] =
    "Shift_JIS（CP932）のファイルを UTF-8 に変換して読み込みました。今後は「CSV UTF-8（コンマ区切り）」"
    "で保存してください。";
static const char MSG_BAD_ENCODING[] =
    "文字コードを読み取れません（UTF-8 でも Shift_JIS でもありません）。UTF-8 の CSV ファイルにして"
    "ください。Excel では「ファイル」→「名前を付けて保存」で、ファイルの種類に「CSV UTF-8（コンマ区切り）」"
    "を選んで保存します。";

/* The example row of the CSV template: a file that still holds it is refused on that row. */
#define EXAMPLE_PAYLOAD "131234567" /* Tokyo (13), 医科 (1), 234567; the check digit is computed */
static const char *const CSV_EXAMPLE[INST_IMPORT_COLUMN_COUNT] = {
    NULL, "見本記念病院", "100-0001", "東京都千代田区千代田1-1", "03-1234-5678", "指定医",
    "見本 太郎", "ミホン タロウ", "難病", "AB-12345", "内科", "taro.mihon@example.jp",
};

const char *inst_import_header(unsigned index)
{
    return index < INST_IMPORT_COLUMN_COUNT ? field_get((field_id)index)->csv_header : NULL;
}

/* ---- validating a row ------------------------------------------------------------------------ */

/* Checks cell in[f] as field f (flags added) into r's slot, recording its error. True when valid. */
static bool check_cell(import_ctx *c, arena *work, const cell_in in[], inst_import_row *r,
                       field_id f, unsigned flags, bool *repaired)
{
    if (in[f].is_number)
        flags |= FIELD_FROM_NUMBER;
    const char *reason = field_check_repaired(work, f, in[f].text, flags,
                                              inst_import_row_slot(r, f), repaired);
    if (reason != NULL)
        inst_import_error_add(c->out, c->a, c->file, in[f].at, reason);
    return reason == NULL;
}

void inst_import_check_institution(import_ctx *c, arena *work, const cell_in in[],
                                   inst_import_row *r)
{
    bool padded = false, repaired;
    check_cell(c, work, in, r, FIELD_INST_CODE, 0, &padded);
    if (padded && c->padded_codes++ == 0)
        c->first_padded_record = in[FIELD_INST_CODE].at.record;
    for (field_id f = FIELD_INST_NAME; f <= FIELD_INST_PHONE; f++)
        check_cell(c, work, in, r, f, 0, &repaired);
}

void inst_import_check_person(import_ctx *c, const cell_in in[], inst_import_row *r)
{
    arena *w = c->scratch;
    bool repaired;
    check_cell(c, w, in, r, FIELD_USER_TYPE, 0, &repaired);
    check_cell(c, w, in, r, FIELD_NAME, 0, &repaired);
    check_cell(c, w, in, r, FIELD_NAME_KANA, 0, &repaired);
    check_cell(c, w, in, r, FIELD_CATEGORY, 0, &repaired);
    /* a 責任者 need not be a designated doctor; when the type is unreadable, do not insist */
    bool doctor = r->user_type != NULL && strcmp(r->user_type, "doctor") == 0;
    check_cell(c, w, in, r, FIELD_DOCTOR_NUMBER, doctor ? FIELD_REQUIRED : 0, &repaired);
    check_cell(c, w, in, r, FIELD_SPECIALTY, 0, &repaired);
    check_cell(c, w, in, r, FIELD_EMAIL, FIELD_OPTIONAL, &repaired);
    if (r->name != NULL && r->name_kana != NULL)
        r->search_key = field_search_key(w, r->name, r->name_kana);
    if (r->name != NULL && r->name_kana != NULL && r->doctor_number != NULL &&
        strcmp(r->name, CSV_EXAMPLE[FIELD_NAME]) == 0 &&
        strcmp(r->name_kana, CSV_EXAMPLE[FIELD_NAME_KANA]) == 0 &&
        strcmp(r->doctor_number, CSV_EXAMPLE[FIELD_DOCTOR_NUMBER]) == 0)
        inst_import_error_add(c->out, c->a, c->file, (cell_ref){in[FIELD_NAME].at.record, 0, NULL},
                              "テンプレートの記入例の行です。この行を削除してから登録してください。");
}

/* One scratch arena per row keeps validation's garbage within one block. */
size_t inst_import_row_done(import_ctx *c, const inst_import_row *tmp)
{
    size_t idx = inst_import_row_commit(c->out, c->a, tmp);
    inst_import_check_across(c->out, c->a, idx, SIZE_MAX);
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
        *inst_import_row_slot(r, f) = c->inst_value[f];
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
        c->inst_value[f] = inst_import_row_get(r, f);
    }
    c->inst_padded = padded;
}

void inst_import_ctx_open(import_ctx *c, inst_import *out, arena *a, const char *filename, bool xlsx)
{
    memset(out, 0, sizeof *out);
    memset(c, 0, sizeof *c);
    c->out = out;
    c->a = a;
    c->scratch = arena_new();
    file_info info = {.xlsx = xlsx};
    c->file = inst_import_file_add(out, a, filename, &info);
}

nsdb_err inst_import_ctx_close(import_ctx *c)
{
    if (c->padded_codes > 0)
        inst_import_warning_add(c->out, c->a, c->file,
                    arena_printf(c->scratch,
                                 "医療機関コードが9桁だった%zu件（最初は%u行目）は、表計算ソフトで"
                                 "先頭の0が消えたものとして0を補いました（検査数字で確認済み）。"
                                 "医療機関コードを確かめてください。",
                                 c->padded_codes, c->first_padded_record));
    arena_free(c->scratch);
    inst_cache_clear(c);
    return inst_import_finish(c->out, c->a);
}

bool inst_import_blank_text(const char *s)
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
            inst_import_error_add(c->out, c->a, c->file, (cell_ref){0, 0, NULL}, MSG_CSV_EMPTY);
        return false; /* a reader error is reported by the caller */
    }
    arena *w = c->scratch;
    size_t count = csv_reader_field_count(r);
    for (size_t f = 0; f < INST_IMPORT_COLUMN_COUNT; f++) {
        const char *have = f < count ? text_header_key(w, csv_reader_field(r, f)) : "";
        if (strcmp(have, text_header_key(w, inst_import_header((unsigned)(f)))) == 0)
            continue;
        const char *raw = f < count ? str_trim(text_one_line(w, csv_reader_field(r, f))) : "";
        const char *reason;
        if (*raw == '\0')
            reason = arena_printf(w, "見出し「%s」がありません。", inst_import_header((unsigned)(f)));
        else if (strlen(raw) <= 90)
            reason = arena_printf(w, "見出しが「%s」ではありません（「%s」になっています）。",
                                  inst_import_header((unsigned)(f)), raw);
        else
            reason = arena_printf(w, "見出しが「%s」ではありません。", inst_import_header((unsigned)(f)));
        reason = arena_printf(w,
                              "%s1行目の見出しは、テンプレートどおり「医療機関コード,医療機関名,"
                              "医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別,氏名,"
                              "氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス」の12列にして"
                              "ください。",
                              reason);
        inst_import_error_add(c->out, c->a, c->file, (cell_ref){1, (unsigned)f + 1, inst_import_header((unsigned)(f))},
                  reason);
        return false;
    }
    for (size_t f = INST_IMPORT_COLUMN_COUNT; f < count; f++) {
        if (inst_import_blank_text(csv_reader_field(r, f)))
            continue;
        inst_import_error_add(c->out, c->a, c->file, (cell_ref){1, 0, NULL},
                  "見出しが13列以上あります。1行目の見出しは、テンプレートどおり「医療機関コード」から"
                  "「メールアドレス」までの12列にしてください。");
        return false;
    }
    return true;
}

static bool csv_record_blank(const csv_reader *r)
{
    for (size_t f = 0; f < csv_reader_field_count(r); f++)
        if (!inst_import_blank_text(csv_reader_field(r, f)))
            return false;
    return true;
}

static size_t csv_record_width(const csv_reader *r)
{
    size_t n = csv_reader_field_count(r);
    while (n > INST_IMPORT_COLUMN_COUNT && inst_import_blank_text(csv_reader_field(r, n - 1)))
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
        inst_import_rows_reserve(c->out, c->a, c->out->row_count + lines);
        while (csv_reader_next_row(r)) {
            if (csv_record_blank(r))
                continue;
            data_rows++;
            unsigned record = csv_reader_record(r);
            size_t width = csv_record_width(r);
            if (width != INST_IMPORT_COLUMN_COUNT) {
                inst_import_error_add(c->out, c->a, c->file, (cell_ref){record, 0, NULL},
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
                                  {record, (unsigned)f + 1, inst_import_header((unsigned)(f))}};
            inst_import_row row = {.file = c->file, .record = record};
            size_t errors = c->out->error_count + c->out->errors_omitted;
            size_t padded = c->padded_codes;
            bool cached = inst_cache_use(c, in, &row);
            if (!cached)
                inst_import_check_institution(c, c->scratch, in, &row);
            bool inst_ok = errors == c->out->error_count + c->out->errors_omitted;
            inst_import_check_person(c, in, &row);
            size_t idx = inst_import_row_done(c, &row);
            if (!cached && inst_ok)
                inst_cache_store(c, in, &c->out->rows[idx], c->padded_codes > padded);
            else if (!cached)
                inst_cache_clear(c);
        }
    }
    if (csv_reader_error(r) != NULL) {
        unsigned col = csv_reader_error_column(r);
        const char *name = col >= 1 && col <= INST_IMPORT_COLUMN_COUNT ? inst_import_header((unsigned)(col - 1))
                                                                       : "見出しのない列";
        inst_import_error_add(c->out, c->a, c->file, (cell_ref){csv_reader_record(r), col, name},
                  arena_printf(c->scratch, "%sこの行から後は読み込んでいません。",
                               csv_reader_error(r)));
    } else if (data_rows == 0 && c->out->error_count == 0) {
        inst_import_error_add(c->out, c->a, c->file, (cell_ref){0, 0, NULL}, MSG_NO_ROWS);
    }
    csv_reader_free(r);
}

nsdb_err inst_import_parse_csv_named(const char *data, size_t len, const char *filename, arena *a,
                                     inst_import *out)
{
    import_ctx c;
    inst_import_ctx_open(&c, out, a, filename, false);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    char *converted = NULL;
    if (!encoding_is_utf8(data, len)) {
        size_t converted_len = 0;
        converted = encoding_cp932_to_utf8(data, len, &converted_len);
        if (converted == NULL) {
            inst_import_error_add(out, a, c.file, (cell_ref){0, 0, NULL}, MSG_BAD_ENCODING);
            return inst_import_ctx_close(&c);
        }
        data = converted;
        len = converted_len;
        out->converted_from_cp932 = true;
        inst_import_warning_add(out, a, c.file, MSG_CP932_CONVERTED);
    }
    csv_read_rows(&c, data, len);
    free(converted);
    return inst_import_ctx_close(&c);
}

nsdb_err inst_import_parse_csv(const char *data, size_t len, arena *a, inst_import *out)
{
    return inst_import_parse_csv_named(data, len, NULL, a, out);
}


nsdb_err inst_import_parse_file(const void *data, size_t len, const char *filename,
                                upload_budget *budget, arena *a, inst_import *out)
{
    upload_budget own = upload_budget_for_request();
    if (budget == NULL)
        budget = &own;
    if (len >= 4 && memcmp(data, "PK\x03\x04", 4) == 0)
        return inst_import_parse_xlsx(data, len, filename, budget, a, out);
    /* a CSV costs its bytes and lines (which bound its records), taken before any work */
    size_t lines = 1;
    for (const char *p = data; (p = memchr(p, '\n', len - (size_t)(p - (const char *)data)));
         p++)
        lines++;
    if (!upload_budget_take_bytes(budget, len) || !upload_budget_take_rows(budget, lines))
        return NSDB_ERR_TOO_LARGE;
    return inst_import_parse_csv_named(data, len, filename, a, out);
}


/* ==== templates ================================================================================ */

nsdb_err inst_import_csv_template(strbuf *out)
{
    char code[IDS_INSTITUTION_CODE_LEN + 1] = EXAMPLE_PAYLOAD;
    code[9] = ids_luhn_check_digit(EXAMPLE_PAYLOAD);
    code[10] = '\0';
    strbuf_puts(out, "\xEF\xBB\xBF");
    for (int f = 0; f < INST_IMPORT_COLUMN_COUNT; f++) {
        strbuf_puts(out, inst_import_header((unsigned)(f)));
        strbuf_puts(out, f + 1 < INST_IMPORT_COLUMN_COUNT ? "," : "\r\n");
    }
    for (int f = 0; f < INST_IMPORT_COLUMN_COUNT; f++) {
        strbuf_puts(out, f == FIELD_INST_CODE ? code : CSV_EXAMPLE[f]);
        strbuf_puts(out, f + 1 < INST_IMPORT_COLUMN_COUNT ? "," : "\r\n");
    }
    return NSDB_OK;
}

