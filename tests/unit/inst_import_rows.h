/*
 * inst_import_rows.h — the fixtures that the tests of 一括登録 (test_inst_import.c,
 * test_inst_import_result.c, test_inst_form.c) share, written once: valid institution codes made
 * at run time, a valid 指定医 row to copy and change, the 指定医一括登録ファイル written as CSV
 * text, checks on the errors an import reports (one error at a given row and column, with its
 * sentence), and a filled 医療機関ユーザデータファイル with the reading of one from a file in
 * the test's temporary folder. Everything is static inline, as in test_support.h; each test file
 * has its own temporary folder and codes, made by the group setup.
 */
#ifndef NSDB_TEST_INST_IMPORT_ROWS_H
#define NSDB_TEST_INST_IMPORT_ROWS_H

#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/ids.h"
#include "domain/inst_import.h"
#include "util/arena.h"
#include "util/str.h"

typedef const char *csv_row[INST_IMPORT_COLUMN_COUNT];

enum {
    C_CODE, C_INST_NAME, C_POSTAL, C_ADDRESS, C_PHONE, C_TYPE, C_NAME, C_KANA, C_CATEGORY,
    C_DOCTOR_NUMBER, C_SPECIALTY, C_EMAIL,
};

static char tmpdir[] = "/tmp/nsdb-test-inst-import-XXXXXX";
static char CODE_TOKYO[11], CODE_OSAKA[11], CODE_HOKKAIDO[11];

static const char HEADER_LINE[] =
    "医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別,氏名,"
    "氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス";

/* ---- fixtures ------------------------------------------------------------------------------ */

static inline void make_code(const char *payload, char out[11])
{
    memcpy(out, payload, 9);
    out[9] = ids_luhn_check_digit(payload);
    out[10] = '\0';
    assert_true(ids_institution_code_valid(out));
}

static inline int setup(void **state)
{
    (void)state;
    make_code("131000001", CODE_TOKYO);
    make_code("271000002", CODE_OSAKA);
    make_code("011000003", CODE_HOKKAIDO); /* a spreadsheet drops its leading 0 */
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static inline int teardown(void **state)
{
    (void)state;
    return test_remove_tree(tmpdir);
}

/* A valid 指定医 row of the Tokyo hospital; tests copy it and change cells. */
static inline void good_row(csv_row row)
{
    const csv_row good = {
        CODE_TOKYO, "さくら記念病院", "100-0001", "東京都千代田区千代田1-1", "03-1234-5678",
        "指定医",   "山田 太郎",      "ヤマダ タロウ", "難病", "D-0001", "内科",
        "taro.yamada@example.jp",
    };
    memcpy(row, good, sizeof good);
}

static inline void append_field(strbuf *sb, const char *v)
{
    if (v == NULL)
        return;
    if (strpbrk(v, ",\"\r\n") == NULL) {
        strbuf_puts(sb, v);
        return;
    }
    strbuf_putc(sb, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            strbuf_putc(sb, '"');
        strbuf_putc(sb, *p);
    }
    strbuf_putc(sb, '"');
}

/* The header and rows as CSV text (fields quoted when they must be), each line ending in eol;
 * malloc'd. */
static inline char *csv_text(const csv_row *rows, size_t count, const char *eol, size_t *len)
{
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, HEADER_LINE);
    strbuf_puts(&sb, eol);
    for (size_t r = 0; r < count; r++) {
        for (int c = 0; c < INST_IMPORT_COLUMN_COUNT; c++) {
            if (c)
                strbuf_putc(&sb, ',');
            append_field(&sb, rows[r][c]);
        }
        strbuf_puts(&sb, eol);
    }
    return strbuf_detach(&sb, len);
}
static inline nsdb_err parse_rows(arena *a, const csv_row *rows, size_t count, inst_import *out)
{
    size_t len;
    char *text = csv_text(rows, count, "\r\n", &len);
    nsdb_err err = inst_import_parse_csv(text, len, a, out);
    free(text);
    return err;
}

static inline void print_errors(const inst_import *imp)
{
    for (size_t i = 0; i < imp->error_count; i++)
        print_message("error: %s\n", imp->errors[i].message);
}

static inline void assert_no_errors(const inst_import *imp)
{
    if (imp->error_count != 0) {
        print_errors(imp);
        fail_msg("expected no errors, got %zu", imp->error_count);
    }
}

/* Asserts one error, on record in column col (1-based; 0 = the whole row) of the CSV. */
static inline const inst_import_error *only_error(const inst_import *imp, unsigned record,
                                                  unsigned col)
{
    if (imp->error_count != 1) {
        print_errors(imp);
        fail_msg("expected one error at row %u column %u, got %zu", record, col, imp->error_count);
    }
    const inst_import_error *e = &imp->errors[0];
    assert_int_equal(e->record, record);
    assert_int_equal(e->column, col);
    char prefix[160];
    if (record == 0) {
        assert_int_equal(col, 0);
        assert_string_equal(e->message, e->reason);
        return e;
    }
    if (col) {
        assert_string_equal(e->column_name, inst_import_header((unsigned)(col - 1)));
        snprintf(prefix, sizeof prefix, "%u行目 %c列（%s）: ", record, 'A' + col - 1,
                 e->column_name);
    } else {
        assert_null(e->column_name);
        snprintf(prefix, sizeof prefix, "%u行目: ", record);
    }
    if (strncmp(e->message, prefix, strlen(prefix)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\"", e->message, prefix);
    assert_string_equal(e->message + strlen(prefix), e->reason);
    return e;
}

/* ---- the xlsx form ------------------------------------------------------------------------- */

static const inst_import_form_doctor DOCTORS[] = {
    {"院長 一郎", "インチョウ イチロウ", "両方", "M-100", "内科", "incho@example.jp"},
    {"医師 二郎", "ｲｼ ｼﾞﾛｳ", "難病", "M-200", NULL, NULL},
    {"医師 三子", "イシ ミツコ", "小慢", "M-300", "小児科", "mitsuko@example.jp"},
};

static inline inst_import_form_data form_data(void)
{
    return (inst_import_form_data){
        .inst_code = CODE_TOKYO,
        .inst_name = "さくら記念病院",
        .inst_postal = "100-0001",
        .inst_address = "東京都千代田区千代田1-1",
        .inst_phone = "03-1234-5678",
        .doctors = DOCTORS,
        .doctor_count = 3,
    };
}

static inline nsdb_err parse_form_file(arena *a, const char *path, const char *name,
                                       inst_import *imp)
{
    size_t len;
    char *data = test_slurp_maybe(path, &len);
    assert_non_null(data);
    nsdb_err err = inst_import_parse_xlsx(data, len, name, NULL, a, imp);
    free(data);
    return err;
}

static inline const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

#endif
