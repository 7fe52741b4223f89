/*
 * test_inst_import.c — 一括登録 files (domain/inst_import.c, inst_import_result.c, inst_form.c;
 * the RFC 4180 reader is test_csv.c, the field rules test_fields.c): the 指定医一括登録ファイル (CSV) with its BOM, line ends, CP932 conversion, header, every column's error with
 * row, column and Japanese reason, the checks across rows, the error cap and the template; the
 * 医療機関ユーザデータファイル (xlsx) written by the module's own form writer (or, for number
 * cells, by libxlsxwriter here) and read back; and merging several files. Every fixture is made
 * at run time.
 */
#include "test_support.h"

#include <dirent.h>
#include <ftw.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <xlsxwriter.h>

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

static void make_code(const char *payload, char out[11])
{
    memcpy(out, payload, 9);
    out[9] = ids_luhn_check_digit(payload);
    out[10] = '\0';
    assert_true(ids_institution_code_valid(out));
}

static int setup(void **state)
{
    (void)state;
    make_code("131000001", CODE_TOKYO);
    make_code("271000002", CODE_OSAKA);
    make_code("011000003", CODE_HOKKAIDO); /* a spreadsheet drops its leading 0 */
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    return test_remove_tree(tmpdir);
}

/* A valid 指定医 row of the Tokyo hospital; tests copy it and change cells. */
static void good_row(csv_row row)
{
    const csv_row good = {
        CODE_TOKYO, "さくら記念病院", "100-0001", "東京都千代田区千代田1-1", "03-1234-5678",
        "指定医",   "山田 太郎",      "ヤマダ タロウ", "難病", "D-0001", "内科",
        "taro.yamada@example.jp",
    };
    memcpy(row, good, sizeof good);
}

static void append_field(strbuf *sb, const char *v)
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
static char *csv_text(const csv_row *rows, size_t count, const char *eol, size_t *len)
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

static nsdb_err parse_text(arena *a, const char *text, inst_import *out)
{
    return inst_import_parse_csv(text, strlen(text), a, out);
}

static nsdb_err parse_rows(arena *a, const csv_row *rows, size_t count, inst_import *out)
{
    size_t len;
    char *text = csv_text(rows, count, "\r\n", &len);
    nsdb_err err = inst_import_parse_csv(text, len, a, out);
    free(text);
    return err;
}

static void print_errors(const inst_import *imp)
{
    for (size_t i = 0; i < imp->error_count; i++)
        print_message("error: %s\n", imp->errors[i].message);
}

static void assert_no_errors(const inst_import *imp)
{
    if (imp->error_count != 0) {
        print_errors(imp);
        fail_msg("expected no errors, got %zu", imp->error_count);
    }
}

/* Asserts one error, on record in column col (1-based; 0 = the whole row) of the CSV. */
static const inst_import_error *only_error(const inst_import *imp, unsigned record, unsigned col)
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

/* The good row with cell col set to value, as row 2 of a file. */
static nsdb_err parse_one(arena *a, int col, const char *value, inst_import *imp)
{
    csv_row row;
    good_row(row);
    if (col >= 0)
        row[col] = value;
    return parse_rows(a, (const csv_row *)&row, 1, imp);
}

static const inst_import_error *refused(arena *a, int col, const char *value, inst_import *imp)
{
    assert_int_equal(parse_one(a, col, value, imp), NSDB_ERR_INVALID);
    return only_error(imp, 2, (unsigned)col + 1);
}

static const inst_import_row *accepted(arena *a, int col, const char *value, inst_import *imp)
{
    nsdb_err err = parse_one(a, col, value, imp);
    assert_no_errors(imp);
    assert_int_equal(err, NSDB_OK);
    assert_int_equal(imp->row_count, 1);
    return &imp->rows[0];
}

/* ---- the CSV: valid files -------------------------------------------------------------------- */

static void parses_a_valid_file_with_bom_and_crlf(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row rows[3];
    good_row(rows[0]);
    good_row(rows[1]);
    rows[1][C_TYPE] = "責任者";
    rows[1][C_NAME] = "佐藤 花子";
    rows[1][C_KANA] = "サトウ ハナコ";
    rows[1][C_CATEGORY] = "両方";
    rows[1][C_DOCTOR_NUMBER] = "";
    rows[1][C_SPECIALTY] = "";
    rows[1][C_EMAIL] = "";
    good_row(rows[2]);
    rows[2][C_CODE] = CODE_OSAKA;
    rows[2][C_INST_NAME] = "なにわ診療所, 本院"; /* quoted: holds a comma */
    rows[2][C_POSTAL] = "5300001";
    rows[2][C_ADDRESS] = "大阪府大阪市北区梅田1-1";
    rows[2][C_PHONE] = "06-1234-5678";
    rows[2][C_CATEGORY] = "小慢";
    size_t len;
    char *text = csv_text(rows, 3, "\r\n", &len);
    char *bom = malloc(len + 4);
    memcpy(bom, "\xEF\xBB\xBF", 3);
    memcpy(bom + 3, text, len + 1);
    inst_import imp;
    assert_int_equal(inst_import_parse_csv(bom, len + 3, a, &imp), NSDB_OK);
    free(text);
    free(bom);
    assert_no_errors(&imp);
    assert_false(imp.converted_from_cp932);
    assert_int_equal(imp.warning_count, 0);
    assert_int_equal(imp.file_count, 1);
    assert_string_equal(imp.files[0], "");
    assert_int_equal(imp.row_count, 3);

    const inst_import_row *r = &imp.rows[0];
    assert_int_equal(r->record, 2);
    assert_int_equal(r->file, 0);
    assert_string_equal(r->inst_code, CODE_TOKYO);
    assert_string_equal(r->inst_name, "さくら記念病院");
    assert_string_equal(r->inst_postal, "100-0001");
    assert_string_equal(r->inst_address, "東京都千代田区千代田1-1");
    assert_string_equal(r->inst_phone, "03-1234-5678");
    assert_string_equal(r->user_type, "doctor");
    assert_string_equal(r->name, "山田 太郎");
    assert_string_equal(r->name_kana, "ヤマダ タロウ");
    assert_string_equal(r->category, "nanbyo");
    assert_string_equal(r->doctor_number, "D-0001");
    assert_string_equal(r->specialty, "内科");
    assert_string_equal(r->email, "taro.yamada@example.jp");
    assert_string_equal(r->search_key, "山田太郎ヤマダタロウ");

    r = &imp.rows[1];
    assert_int_equal(r->record, 3);
    assert_string_equal(r->user_type, "inst_manager");
    assert_string_equal(r->category, "both");
    assert_null(r->doctor_number); /* optional for a 責任者 */
    assert_null(r->specialty);
    assert_null(r->email);
    /* rows of one institution share its strings */
    assert_ptr_equal(r->inst_code, imp.rows[0].inst_code);
    assert_ptr_equal(r->inst_name, imp.rows[0].inst_name);
    assert_ptr_equal(r->inst_address, imp.rows[0].inst_address);

    r = &imp.rows[2];
    assert_int_equal(r->record, 4);
    assert_string_equal(r->inst_code, CODE_OSAKA);
    assert_string_equal(r->inst_name, "なにわ診療所, 本院");
    assert_string_equal(r->inst_postal, "530-0001");
    assert_string_equal(r->category, "shoman");
    arena_free(a);
}

static void parses_lf_line_ends_blank_lines_and_no_final_line_end(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row rows[2];
    good_row(rows[0]);
    good_row(rows[1]);
    rows[1][C_NAME] = "山本 太郎";
    rows[1][C_KANA] = "ヤマモト タロウ";
    size_t len;
    char *text = csv_text(rows, 2, "\n", &len);
    /* blank records (an empty line, Excel's row of commas, spaces) between the two rows, and no
     * line end after the last */
    char *second = strchr(strchr(text, '\n') + 1, '\n') + 1;
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, text, (size_t)(second - text));
    strbuf_puts(&sb, "\n,,,,,,,,,,,\n   \n");
    strbuf_append(&sb, second, strlen(second) - 1);
    free(text);
    inst_import imp;
    assert_int_equal(inst_import_parse_csv(sb.data, sb.len, a, &imp), NSDB_OK);
    strbuf_free(&sb);
    assert_no_errors(&imp);
    assert_int_equal(imp.row_count, 2);
    assert_int_equal(imp.rows[0].record, 2);
    assert_int_equal(imp.rows[1].record, 6); /* the blank records 3–5 count */
    assert_string_equal(imp.rows[1].name, "山本 太郎");
    assert_string_equal(imp.rows[1].email, "taro.yamada@example.jp");
    arena_free(a);
}

static void normalises_full_width_digits_and_half_width_kana(void **state)
{
    (void)state;
    arena *a = arena_new();
    char wide_code[64] = "";
    for (const char *p = CODE_TOKYO; *p; p++) { /* "１３…": U+FF10 + digit */
        char ch[4] = {(char)0xEF, (char)0xBC, (char)(0x90 + (*p - '0')), 0};
        strcat(wide_code, ch);
    }
    csv_row row;
    good_row(row);
    row[C_CODE] = wide_code;
    row[C_INST_NAME] = "　さくら記念病院　";
    row[C_POSTAL] = "〒１００ー０００１";
    row[C_PHONE] = "０３－１２３４－５６７８";
    row[C_TYPE] = " 責任者 ";
    row[C_NAME] = "山田　太郎";
    row[C_KANA] = "ﾔﾏﾀﾞ ﾀﾛｳ";
    row[C_CATEGORY] = "難病・小慢";
    row[C_DOCTOR_NUMBER] = "ＡＢ－１２３";
    row[C_EMAIL] = "Taro@EXAMPLE.JP";
    inst_import imp;
    assert_int_equal(parse_rows(a, (const csv_row *)&row, 1, &imp), NSDB_OK);
    assert_no_errors(&imp);
    const inst_import_row *r = &imp.rows[0];
    assert_string_equal(r->inst_code, CODE_TOKYO);
    assert_string_equal(r->inst_name, "さくら記念病院");
    assert_string_equal(r->inst_postal, "100-0001");
    assert_string_equal(r->inst_phone, "03-1234-5678");
    assert_string_equal(r->user_type, "inst_manager");
    assert_string_equal(r->name, "山田 太郎");
    assert_string_equal(r->name_kana, "ヤマダ タロウ");
    assert_string_equal(r->category, "both");
    assert_string_equal(r->doctor_number, "AB-123");
    assert_string_equal(r->email, "Taro@example.jp");
    assert_string_equal(r->search_key, "山田太郎ヤマダタロウ");
    arena_free(a);
}

/* ---- encodings ------------------------------------------------------------------------------ */

static char *to_cp932(const char *utf8, size_t len, size_t *out_len)
{
    iconv_t cd = iconv_open("CP932", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    size_t cap = len * 2 + 16, left = cap;
    char *out = malloc(cap), *o = out;
    char *in = (char *)utf8;
    size_t in_left = len;
    assert_true(iconv(cd, &in, &in_left, &o, &left) != (size_t)-1);
    iconv_close(cd);
    *out_len = cap - left;
    return out;
}

static void converts_a_cp932_file_with_a_warning(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row rows[2];
    good_row(rows[0]);
    good_row(rows[1]);
    rows[1][C_NAME] = "髙橋 ～ 一郎"; /* 髙 and ～ exist in CP932 only, not in plain Shift_JIS */
    rows[1][C_KANA] = "ﾀｶﾊｼ ｲﾁﾛｳ";   /* half-width katakana: one byte each in CP932 */
    size_t len, sjis_len;
    char *text = csv_text(rows, 2, "\r\n", &len);
    char *sjis = to_cp932(text, len, &sjis_len);
    free(text);
    inst_import imp;
    assert_int_equal(inst_import_parse_csv(sjis, sjis_len, a, &imp), NSDB_OK);
    free(sjis);
    assert_no_errors(&imp);
    assert_true(imp.converted_from_cp932);
    assert_int_equal(imp.warning_count, 1);
    assert_string_equal(imp.warnings[0],
                        "Shift_JIS（CP932）のファイルを UTF-8 に変換して読み込みました。今後は"
                        "「CSV UTF-8（コンマ区切り）」で保存してください。");
    assert_int_equal(imp.row_count, 2);
    assert_string_equal(imp.rows[0].inst_name, "さくら記念病院");
    assert_string_equal(imp.rows[1].name, "髙橋 ~ 一郎");
    assert_string_equal(imp.rows[1].name_kana, "タカハシ イチロウ");
    arena_free(a);
}

static void refuses_a_file_in_neither_encoding(void **state)
{
    (void)state;
    static const struct {
        const char *data;
        size_t len;
    } files[] = {
        {"\x81\x20\xff\xfe abc\n", 9},                      /* not UTF-8, not CP932 */
        {"\xFF\xFE\x3B\x53\x42\x76\n\0", 8},               /* UTF-16LE with BOM */
        {"PK\x03\x04\x14\0\0\0\x08\0", 10},                /* a zip (an .xlsx) read as CSV */
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        arena *a = arena_new();
        inst_import imp;
        assert_int_equal(inst_import_parse_csv(files[i].data, files[i].len, a, &imp),
                         NSDB_ERR_INVALID);
        assert_int_equal(imp.row_count, 0);
        assert_false(imp.converted_from_cp932);
        assert_int_equal(imp.error_count, 1);
        assert_int_equal(imp.errors[0].record, 0);
        assert_contains(imp.errors[0].message, "「ファイル」→「名前を付けて保存」");
        assert_contains(imp.errors[0].message, "「CSV UTF-8（コンマ区切り）」");
        arena_free(a);
    }
}

/* ---- the CSV: file-level errors --------------------------------------------------------------- */

static void reports_a_wrong_header_once_naming_the_first_bad_column(void **state)
{
    (void)state;
    arena *a = arena_new();
    inst_import imp;
    /* column 3 renamed; the rows below are bad too but are not read */
    assert_int_equal(parse_text(a,
                                "医療機関コード,医療機関名,郵便番号,医療機関所在地,医療機関電話番号,"
                                "ユーザ種別,氏名,氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス\n"
                                "x,,,,,,,,,,,\n",
                                &imp),
                     NSDB_ERR_INVALID);
    const inst_import_error *e = only_error(&imp, 1, 3);
    assert_contains(e->reason, "見出しが「医療機関郵便番号」ではありません（「郵便番号」になっています）");
    assert_int_equal(imp.row_count, 0);

    /* a missing last column */
    assert_int_equal(parse_text(a,
                                "医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,"
                                "医療機関電話番号,ユーザ種別,氏名,氏名カナ,難病/小慢,指定医番号,"
                                "診療科\n",
                                &imp),
                     NSDB_ERR_INVALID);
    assert_contains(only_error(&imp, 1, 12)->reason, "見出し「メールアドレス」がありません");

    /* a thirteenth header */
    char text[1024];
    snprintf(text, sizeof text, "%s,備考\n", HEADER_LINE);
    assert_int_equal(parse_text(a, text, &imp), NSDB_ERR_INVALID);
    assert_contains(only_error(&imp, 1, 0)->reason, "13列以上");

    /* data where the header belongs */
    csv_row row;
    good_row(row);
    strbuf sb = STRBUF_INIT;
    for (int c = 0; c < INST_IMPORT_COLUMN_COUNT; c++) {
        if (c)
            strbuf_putc(&sb, ',');
        strbuf_puts(&sb, row[c]);
    }
    assert_int_equal(parse_text(a, sb.data, &imp), NSDB_ERR_INVALID);
    strbuf_free(&sb);
    assert_contains(only_error(&imp, 1, 1)->reason, "見出しが「医療機関コード」ではありません");

    /* spaces around names and a full-width slash are fine */
    assert_int_equal(parse_text(a,
                                " 医療機関コード ,医療機関名,医療機関郵便番号,医療機関所在地,"
                                "医療機関電話番号,ユーザ種別,氏名,氏名カナ,難病／小慢,指定医番号,"
                                "診療科,メールアドレス\n",
                                &imp),
                     NSDB_ERR_INVALID); /* no rows */
    assert_contains(only_error(&imp, 0, 0)->reason, "登録する行がありません");
    arena_free(a);
}

static void reports_an_empty_file(void **state)
{
    (void)state;
    arena *a = arena_new();
    inst_import imp;
    assert_int_equal(inst_import_parse_csv("", 0, a, &imp), NSDB_ERR_INVALID);
    assert_contains(only_error(&imp, 0, 0)->reason, "ファイルが空です");
    assert_int_equal(inst_import_parse_csv("\xEF\xBB\xBF", 3, a, &imp), NSDB_ERR_INVALID);
    assert_contains(only_error(&imp, 0, 0)->reason, "ファイルが空です");
    arena_free(a);
}

static void reports_malformed_quoting_with_the_record_number(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row rows[2];
    good_row(rows[0]);
    rows[0][C_ADDRESS] = "東京都千代田区\n千代田1-1"; /* a quoted line break: record 2, lines 2–3 */
    good_row(rows[1]);
    rows[1][C_NAME] = "別の 人";
    size_t len;
    char *text = csv_text(rows, 2, "\n", &len);
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, text, len);
    strbuf_puts(&sb, CODE_TOKYO);
    strbuf_puts(&sb, ",病院,100-0001,住所,03-1234-5678,指定医,名前 \"あだ名\",カナ\n");
    free(text);
    inst_import imp;
    assert_int_equal(inst_import_parse_csv(sb.data, sb.len, a, &imp), NSDB_ERR_INVALID);
    strbuf_free(&sb);
    const inst_import_error *e = only_error(&imp, 4, 7); /* record 4 is physical line 5 */
    assert_contains(e->reason, "囲まれていない項目の中に");
    assert_contains(e->reason, "この行から後は読み込んでいません");
    assert_int_equal(imp.row_count, 2);
    assert_string_equal(imp.rows[0].inst_address, "東京都千代田区 千代田1-1");
    arena_free(a);
}

static void quoted_line_breaks_keep_row_numbers_right(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row rows[3];
    good_row(rows[0]);
    rows[0][C_SPECIALTY] = "内科\r\n外科\r\n小児科";
    good_row(rows[1]);
    rows[1][C_NAME] = "鈴木 一郎";
    rows[1][C_KANA] = "スズキ イチロウ";
    rows[1][C_ADDRESS] = "東京都千代田区千代田1-1";
    good_row(rows[2]);
    rows[2][C_NAME] = "田中 花子";
    rows[2][C_KANA] = "タナカ ハナコ";
    rows[2][C_EMAIL] = "not an address";
    inst_import imp;
    assert_int_equal(parse_rows(a, rows, 3, &imp), NSDB_ERR_INVALID);
    only_error(&imp, 4, 12); /* physical line 6 */
    assert_string_equal(imp.rows[0].specialty, "内科 外科 小児科");
    arena_free(a);
}

static void reports_a_wrong_number_of_columns(void **state)
{
    (void)state;
    arena *a = arena_new();
    char text[4096];
    csv_row row;
    good_row(row);
    /* 11 columns: the comma-free version of a row whose name held an unquoted comma */
    snprintf(text, sizeof text, "%s\n%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", HEADER_LINE, row[0],
             row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10]);
    inst_import imp;
    assert_int_equal(parse_text(a, text, &imp), NSDB_ERR_INVALID);
    assert_contains(only_error(&imp, 2, 0)->reason, "列の数が11個です");
    /* 13 with something in the 13th */
    snprintf(text, sizeof text, "%s\n%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,x\n", HEADER_LINE,
             row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
             row[10], row[11]);
    assert_int_equal(parse_text(a, text, &imp), NSDB_ERR_INVALID);
    assert_contains(only_error(&imp, 2, 0)->reason, "列の数が13個です");
    /* empty columns after the twelfth are harmless */
    snprintf(text, sizeof text, "%s,,\n%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,,\n", HEADER_LINE,
             row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
             row[10], row[11]);
    assert_int_equal(parse_text(a, text, &imp), NSDB_OK);
    assert_int_equal(imp.row_count, 1);
    arena_free(a);
}

/* ---- the CSV: each column ------------------------------------------------------------------ */

static void reports_a_bad_check_digit_with_row_and_column(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row rows[4];
    const char *names[] = {"一 人", "二 人", "三 人", "四 人"};
    const char *kanas[] = {"イチ ニン", "ニ ニン", "サン ニン", "ヨ ニン"};
    for (int i = 0; i < 4; i++) {
        good_row(rows[i]);
        rows[i][C_NAME] = names[i];
        rows[i][C_KANA] = kanas[i];
    }
    char bad[11];
    memcpy(bad, CODE_OSAKA, 11);
    bad[9] = (char)('0' + (bad[9] - '0' + 1) % 10);
    rows[3][C_CODE] = bad;
    inst_import imp;
    assert_int_equal(parse_rows(a, rows, 4, &imp), NSDB_ERR_INVALID);
    const inst_import_error *e = only_error(&imp, 5, 1);
    assert_true(str_starts_with(e->message, "5行目 A列（医療機関コード）: 検査数字"));
    assert_null(imp.rows[3].inst_code);
    assert_int_equal(imp.row_count, 4);
    arena_free(a);
}

static void reports_each_column_with_a_reason(void **state)
{
    (void)state;
    char long_name[400] = "", long_address[700] = "", long_specialty[200] = "";
    for (int i = 0; i < 101; i++)
        strcat(long_name, "あ");
    for (int i = 0; i < 201; i++)
        strcat(long_address, "町");
    for (int i = 0; i < 51; i++)
        strcat(long_specialty, "科");
    static struct {
        int col;
        const char *value, *part;
    } cases[] = {
        {C_CODE, "", "入力されていません"},
        {C_CODE, "13100A0001", "数字だけで"},
        {C_CODE, "13100000012", "11桁になっています"},
        {C_CODE, "131000", "6桁になっています"},
        {C_INST_NAME, "", "医療機関名を入力してください"},
        {C_INST_NAME, NULL, "100文字以内"},
        {C_POSTAL, "", "郵便番号を「123-4567」"},
        {C_POSTAL, "12-34567", "7桁で"},
        {C_POSTAL, "600001", "先頭の0が抜けていませんか"},
        {C_ADDRESS, "", "所在地を入力してください"},
        {C_ADDRESS, NULL, "200文字以内"},
        {C_PHONE, "", "電話番号を「03-1234-5678」"},
        {C_PHONE, "03-1234-567x", "数字とハイフン"},
        {C_PHONE, "312345678", "先頭の0が抜けていませんか"},
        {C_TYPE, "", "「指定医」か「責任者」"},
        {C_TYPE, "医師", "「指定医」か「責任者」"},
        {C_NAME, "", "氏名を入力してください"},
        {C_NAME, "山田\x01太郎", "使用できない文字"},
        {C_KANA, "", "氏名カナを入力してください"},
        {C_KANA, "山田 太郎", "全角カタカナ"},
        {C_CATEGORY, "", "入力されていません"},
        {C_CATEGORY, "その他", "「難病」「小慢」「両方」"},
        {C_DOCTOR_NUMBER, "", "指定医番号を入力してください"},
        {C_DOCTOR_NUMBER, "AB 12", "英数字とハイフン"},
        {C_DOCTOR_NUMBER, "番号12", "英数字とハイフン"},
        {C_DOCTOR_NUMBER, "123456789012345678901", "20文字以内"},
        {C_SPECIALTY, NULL, "50文字以内"},
        {C_EMAIL, "taro.example.jp", "メールアドレスの形式"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *value = cases[i].value;
        if (value == NULL)
            value = cases[i].col == C_INST_NAME ? long_name
                    : cases[i].col == C_ADDRESS ? long_address
                                                : long_specialty;
        arena *a = arena_new();
        inst_import imp;
        const inst_import_error *e = refused(a, cases[i].col, value, &imp);
        assert_contains(e->reason, cases[i].part);
        arena_free(a);
    }
}

static void accepts_empty_optional_cells_and_a_manager_without_doctor_number(void **state)
{
    (void)state;
    arena *a = arena_new();
    inst_import imp;
    assert_null(accepted(a, C_SPECIALTY, "", &imp)->specialty);
    assert_null(accepted(a, C_EMAIL, " ", &imp)->email);
    const inst_import_row *r = accepted(a, C_TYPE, "責任者", &imp);
    assert_string_equal(r->doctor_number, "D-0001"); /* kept when given */
    csv_row row;
    good_row(row);
    row[C_TYPE] = "責任者";
    row[C_DOCTOR_NUMBER] = "";
    assert_int_equal(parse_rows(a, (const csv_row *)&row, 1, &imp), NSDB_OK);
    assert_null(imp.rows[0].doctor_number);
    /* the keys of the form fields are accepted as well as the Japanese words */
    assert_string_equal(accepted(a, C_TYPE, "doctor", &imp)->user_type, "doctor");
    assert_string_equal(accepted(a, C_CATEGORY, "shoman", &imp)->category, "shoman");
    char grouped[16];
    snprintf(grouped, sizeof grouped, "%.2s-%.1s-%s", CODE_TOKYO, CODE_TOKYO + 2, CODE_TOKYO + 3);
    assert_string_equal(accepted(a, C_CODE, grouped, &imp)->inst_code, CODE_TOKYO);
    arena_free(a);
}

static void restores_a_leading_zero_only_when_the_check_digit_agrees(void **state)
{
    (void)state;
    arena *a = arena_new();
    inst_import imp;
    const inst_import_row *r = accepted(a, C_CODE, CODE_HOKKAIDO + 1, &imp);
    assert_string_equal(r->inst_code, CODE_HOKKAIDO);
    assert_int_equal(imp.warning_count, 1);
    assert_contains(imp.warnings[0], "先頭の0が消えたものとして0を補いました");
    assert_contains(imp.warnings[0], "最初は2行目");
    /* nine digits that do not become a valid code with a 0: refused, with the check digit they
     * would need */
    char nine[10];
    memcpy(nine, CODE_HOKKAIDO + 1, 10);
    nine[8] = (char)('0' + (nine[8] - '0' + 1) % 10);
    char expected[64];
    snprintf(expected, sizeof expected, "「%s%c」", nine, ids_luhn_check_digit(nine));
    const inst_import_error *e = refused(a, C_CODE, nine, &imp);
    assert_contains(e->reason, "9桁しかありません");
    assert_contains(e->reason, expected);
    assert_int_equal(imp.warning_count, 0);
    arena_free(a);
}

/* ---- the CSV: across rows ------------------------------------------------------------------- */

static void reports_an_institution_with_two_names_on_the_later_row(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row rows[4];
    const char *names[] = {"一 人", "二 人", "三 人", "四 人"};
    for (int i = 0; i < 4; i++) {
        good_row(rows[i]);
        rows[i][C_NAME] = names[i];
    }
    rows[1][C_INST_NAME] = "さくら 記念病院"; /* spaces do not matter */
    rows[2][C_INST_NAME] = "さくら病院";
    rows[3][C_ADDRESS] = "東京都千代田区千代田2-2";
    rows[3][C_POSTAL] = "100-0002";
    rows[3][C_PHONE] = "03-9999-0000"; /* another line of the same hospital: fine */
    inst_import imp;
    assert_int_equal(parse_rows(a, rows, 4, &imp), NSDB_ERR_INVALID);
    print_errors(&imp);
    assert_int_equal(imp.error_count, 3);
    assert_int_equal(imp.errors[0].record, 4);
    assert_int_equal(imp.errors[0].column, 2);
    assert_contains(imp.errors[0].reason, "医療機関名が、2行目（「さくら記念病院」）と違います");
    assert_int_equal(imp.errors[1].record, 5);
    assert_int_equal(imp.errors[1].column, 3);
    assert_contains(imp.errors[1].reason, "郵便番号が、2行目");
    assert_int_equal(imp.errors[2].record, 5);
    assert_int_equal(imp.errors[2].column, 4);
    assert_contains(imp.errors[2].reason, "所在地が、2行目");
    arena_free(a);
}

static void reports_the_same_person_twice_naming_the_earlier_row(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row rows[5];
    for (int i = 0; i < 5; i++)
        good_row(rows[i]);
    rows[1][C_NAME] = "佐藤 花子";
    rows[1][C_KANA] = "サトウ ハナコ";
    rows[2][C_NAME] = "山田太郎"; /* the same person written differently */
    rows[2][C_KANA] = "ﾔﾏﾀﾞ ﾀﾛｳ";
    rows[2][C_DOCTOR_NUMBER] = "D-0002";
    rows[3][C_CATEGORY] = "小慢"; /* the same person for the other category: fine */
    rows[4][C_CODE] = CODE_OSAKA; /* and at another institution: fine */
    rows[4][C_INST_NAME] = "なにわ病院";
    inst_import imp;
    assert_int_equal(parse_rows(a, rows, 5, &imp), NSDB_ERR_INVALID);
    const inst_import_error *e = only_error(&imp, 4, 7);
    assert_contains(e->reason, "同じ方が2行目にもいます");
    arena_free(a);
}

static void reports_a_second_manager_of_one_institution(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row rows[4];
    const char *names[] = {"一 人", "二 人", "三 人", "四 人"};
    for (int i = 0; i < 4; i++) {
        good_row(rows[i]);
        rows[i][C_NAME] = names[i];
    }
    rows[0][C_TYPE] = "責任者";
    rows[2][C_TYPE] = "責任者";
    rows[3][C_TYPE] = "責任者"; /* the manager of another institution: fine */
    rows[3][C_CODE] = CODE_OSAKA;
    rows[3][C_INST_NAME] = "なにわ病院";
    inst_import imp;
    assert_int_equal(parse_rows(a, rows, 4, &imp), NSDB_ERR_INVALID);
    const inst_import_error *e = only_error(&imp, 4, 6);
    assert_contains(e->reason, "責任者が2行目にもいます");
    /* no manager at all is fine: the institution may have one already */
    for (int i = 0; i < 4; i++)
        rows[i][C_TYPE] = "指定医";
    assert_int_equal(parse_rows(a, rows, 4, &imp), NSDB_OK);
    arena_free(a);
}

static void caps_errors_and_summarises_the_rest(void **state)
{
    (void)state;
    arena *a = arena_new();
    enum { ROWS = 1100 };
    csv_row *rows = calloc(ROWS, sizeof *rows);
    char (*names)[32] = calloc(ROWS, 32);
    for (int i = 0; i < ROWS; i++) {
        good_row(rows[i]);
        snprintf(names[i], 32, "人%d", i);
        rows[i][C_NAME] = names[i];
        rows[i][C_EMAIL] = "bad";
        rows[i][C_PHONE] = i < 50 ? "1" : rows[i][C_PHONE];
    }
    inst_import imp;
    assert_int_equal(parse_rows(a, rows, ROWS, &imp), NSDB_ERR_INVALID);
    free(rows);
    free(names);
    assert_int_equal(imp.row_count, ROWS);
    assert_int_equal(imp.error_count, INST_IMPORT_MAX_ERRORS + 1);
    assert_int_equal(imp.errors_omitted, ROWS + 50 - INST_IMPORT_MAX_ERRORS);
    /* sorted: row 2 has the phone (E) before the address (L) */
    assert_int_equal(imp.errors[0].record, 2);
    assert_int_equal(imp.errors[0].column, 5);
    assert_int_equal(imp.errors[1].column, 12);
    const inst_import_error *last = &imp.errors[imp.error_count - 1];
    assert_int_equal(last->record, 0);
    assert_int_equal(last->column, 0);
    assert_contains(last->message, "最初の1000件だけを表示しています（ほかに150件あります）");
    arena_free(a);
}

static void names_the_file_in_messages(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row row;
    good_row(row);
    row[C_CODE] = "";
    size_t len;
    char *text = csv_text((const csv_row *)&row, 1, "\n", &len);
    inst_import imp;
    assert_int_equal(inst_import_parse_csv_named(text, len, "4月分.csv", a, &imp),
                     NSDB_ERR_INVALID);
    free(text);
    assert_int_equal(imp.error_count, 1);
    assert_true(str_starts_with(imp.errors[0].message, "「4月分.csv」2行目 A列（医療機関コード）: "));
    assert_string_equal(imp.files[0], "4月分.csv");
    arena_free(a);
}

static void template_is_bom_crlf_with_header_and_its_example_is_refused(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    assert_int_equal(inst_import_csv_template(&sb), NSDB_OK);
    assert_true(str_starts_with(sb.data, "\xEF\xBB\xBF"));
    assert_true(str_starts_with(sb.data + 3, HEADER_LINE));
    assert_true(str_starts_with(sb.data + 3 + strlen(HEADER_LINE), "\r\n"));
    assert_true(sb.len > 2 && strcmp(sb.data + sb.len - 2, "\r\n") == 0);
    size_t lines = 0;
    for (size_t i = 0; i < sb.len; i++)
        lines += sb.data[i] == '\n';
    assert_int_equal(lines, 2);
    char code[11];
    memcpy(code, sb.data + 3 + strlen(HEADER_LINE) + 2, 10);
    code[10] = '\0';
    assert_true(ids_institution_code_valid(code));

    arena *a = arena_new();
    inst_import imp;
    assert_int_equal(inst_import_parse_csv(sb.data, sb.len, a, &imp), NSDB_ERR_INVALID);
    assert_contains(only_error(&imp, 2, 0)->reason, "記入例の行です");
    assert_int_equal(imp.row_count, 1);
    assert_string_equal(imp.rows[0].inst_code, code);
    strbuf_free(&sb);
    arena_free(a);
}

/* ---- the xlsx form ------------------------------------------------------------------------- */

static const inst_import_form_doctor DOCTORS[] = {
    {"院長 一郎", "インチョウ イチロウ", "両方", "M-100", "内科", "incho@example.jp"},
    {"医師 二郎", "ｲｼ ｼﾞﾛｳ", "難病", "M-200", NULL, NULL},
    {"医師 三子", "イシ ミツコ", "小慢", "M-300", "小児科", "mitsuko@example.jp"},
};

static inst_import_form_data form_data(void)
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

static nsdb_err parse_form_file(arena *a, const char *path, const char *name, inst_import *imp)
{
    size_t len;
    char *data = test_slurp_maybe(path, &len);
    assert_non_null(data);
    nsdb_err err = inst_import_parse_xlsx(data, len, name, a, imp);
    free(data);
    return err;
}

static const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

static void form_round_trip_makes_the_first_doctor_the_manager(void **state)
{
    (void)state;
    arena *a = arena_new();
    const char *path = tmp_path("filled.xlsx");
    inst_import_form_data d = form_data();
    assert_int_equal(inst_import_form_xlsx_filled(path, &d), NSDB_OK);
    inst_import imp;
    assert_int_equal(parse_form_file(a, path, "filled.xlsx", &imp), NSDB_OK);
    assert_no_errors(&imp);
    assert_int_equal(imp.row_count, 3);
    assert_string_equal(imp.files[0], "filled.xlsx");
    for (size_t i = 0; i < 3; i++) {
        const inst_import_row *r = &imp.rows[i];
        assert_int_equal(r->record, INST_FORM_FIRST_DATA_ROW + i);
        assert_string_equal(r->inst_code, CODE_TOKYO);
        assert_string_equal(r->inst_name, "さくら記念病院");
        assert_string_equal(r->inst_postal, "100-0001");
        assert_string_equal(r->inst_address, "東京都千代田区千代田1-1");
        assert_string_equal(r->inst_phone, "03-1234-5678");
        assert_string_equal(r->user_type, i == 0 ? "inst_manager" : "doctor");
    }
    assert_string_equal(imp.rows[0].name, "院長 一郎");
    assert_string_equal(imp.rows[0].doctor_number, "M-100"); /* kept for the manager */
    assert_string_equal(imp.rows[0].category, "both");
    assert_string_equal(imp.rows[0].email, "incho@example.jp");
    assert_string_equal(imp.rows[1].name_kana, "イシ ジロウ");
    assert_null(imp.rows[1].specialty);
    assert_null(imp.rows[1].email);
    assert_string_equal(imp.rows[2].category, "shoman");
    assert_ptr_equal(imp.rows[2].inst_name, imp.rows[0].inst_name);
    arena_free(a);
}

static void blank_form_reads_back_asking_for_every_value(void **state)
{
    (void)state;
    arena *a = arena_new();
    const char *path = tmp_path("blank.xlsx");
    assert_int_equal(inst_import_form_xlsx(path), NSDB_OK);
    inst_import imp;
    assert_int_equal(parse_form_file(a, path, "blank.xlsx", &imp), NSDB_ERR_INVALID);
    print_errors(&imp);
    /* the five institution values, then the missing doctors; no complaint about the layout */
    assert_int_equal(imp.error_count, 6);
    assert_int_equal(imp.errors[0].record, 0);
    assert_contains(imp.errors[0].reason, "指定医の行がありません");
    for (int i = 0; i < INST_FORM_LABEL_COUNT; i++) {
        const inst_import_error *e = &imp.errors[1 + i];
        assert_int_equal(e->record, INST_FORM_FIRST_LABEL_ROW + i);
        assert_int_equal(e->column, 2);
        assert_string_equal(e->column_name, inst_form_label((unsigned)(i)));
        assert_contains(e->reason, "入力されていません");
    }
    assert_int_equal(imp.row_count, 0);
    arena_free(a);
}

static void form_errors_name_the_file_the_row_and_the_cell(void **state)
{
    (void)state;
    arena *a = arena_new();
    const char *path = tmp_path("bad.xlsx");
    inst_import_form_doctor doctors[3];
    memcpy(doctors, DOCTORS, sizeof doctors);
    doctors[1].name_kana = "いし じろう"; /* hiragana is converted: fine */
    doctors[2].name_kana = "医師";
    doctors[2].doctor_number = NULL;
    inst_import_form_data d = form_data();
    char bad_code[11];
    memcpy(bad_code, CODE_TOKYO, sizeof bad_code);
    bad_code[9] = (char)('0' + (bad_code[9] - '0' + 1) % 10);
    d.inst_code = bad_code;
    d.doctors = doctors;
    assert_int_equal(inst_import_form_xlsx_filled(path, &d), NSDB_OK);
    inst_import imp;
    assert_int_equal(parse_form_file(a, path, "さくら.xlsx", &imp), NSDB_ERR_INVALID);
    print_errors(&imp);
    assert_int_equal(imp.error_count, 3);
    assert_true(str_starts_with(imp.errors[0].message, "「さくら.xlsx」3行目 B列（医療機関コード）: 検査数字"));
    assert_true(str_starts_with(imp.errors[1].message, "「さくら.xlsx」13行目 C列（氏名カナ）: "));
    assert_true(str_starts_with(imp.errors[2].message, "「さくら.xlsx」13行目 E列（指定医番号）: "));
    assert_string_equal(imp.rows[1].name_kana, "イシ ジロウ");
    arena_free(a);
}

/* A workbook in the form's layout written here, so that cells can be numbers as Excel stores
 * what looks like one. "#n:" marks a number. */
static void write_form_by_hand(const char *path, const char *const inst[5],
                               const char *const (*people)[7], size_t count, int header_offset)
{
    lxw_workbook *wb = workbook_new(path);
    lxw_worksheet *ws = workbook_add_worksheet(wb, NULL);
    worksheet_write_string(ws, 0, 0, INST_IMPORT_FORM_TITLE, NULL);
    for (int i = 0; i < 5; i++) {
        lxw_row_t row = (lxw_row_t)(INST_FORM_FIRST_LABEL_ROW - 1 + i);
        worksheet_write_string(ws, row, 0, inst_form_label((unsigned)(i)), NULL);
        if (strncmp(inst[i], "#n:", 3) == 0)
            worksheet_write_number(ws, row, 1, strtod(inst[i] + 3, NULL), NULL);
        else
            worksheet_write_string(ws, row, 1, inst[i], NULL);
    }
    lxw_row_t header = (lxw_row_t)(INST_FORM_HEADER_ROW - 1 + header_offset);
    for (lxw_col_t c = 0; c < INST_FORM_COLUMN_COUNT; c++)
        worksheet_write_string(ws, header, c, inst_form_header((unsigned)(c)), NULL);
    for (size_t r = 0; r < count; r++)
        for (lxw_col_t c = 0; c < INST_FORM_COLUMN_COUNT; c++) {
            const char *v = people[r][c];
            if (v == NULL)
                continue;
            if (strncmp(v, "#n:", 3) == 0)
                worksheet_write_number(ws, header + 1 + (lxw_row_t)r, c, strtod(v + 3, NULL), NULL);
            else
                worksheet_write_string(ws, header + 1 + (lxw_row_t)r, c, v, NULL);
        }
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
}

static void form_number_cells_get_their_leading_zeros_back(void **state)
{
    (void)state;
    arena *a = arena_new();
    char code_number[16];
    snprintf(code_number, sizeof code_number, "#n:%s", CODE_HOKKAIDO + 1);
    const char *inst[5] = {code_number, "札幌北病院", "#n:600001", "北海道札幌市中央区北1条西2丁目",
                           "#n:112111111"};
    const char *const people[][7] = {
        {"#n:1", "北 一郎", "キタ イチロウ", "難病", "#n:12345", NULL, NULL},
        {NULL, NULL, NULL, NULL, NULL, NULL, NULL}, /* an empty row in between */
        {"#n:3", "北 二郎", "キタ ジロウ", "小慢", "A-1", NULL, NULL},
    };
    const char *path = tmp_path("numbers.xlsx");
    write_form_by_hand(path, inst, people, 3, 2); /* two rows inserted above the header */
    inst_import imp;
    assert_int_equal(parse_form_file(a, path, "numbers.xlsx", &imp), NSDB_OK);
    assert_no_errors(&imp);
    assert_int_equal(imp.row_count, 2);
    const inst_import_row *r = &imp.rows[0];
    assert_string_equal(r->inst_code, CODE_HOKKAIDO);
    assert_string_equal(r->inst_postal, "060-0001");
    assert_string_equal(r->inst_phone, "0112111111");
    assert_string_equal(r->doctor_number, "12345");
    assert_string_equal(r->user_type, "inst_manager");
    assert_int_equal(r->record, INST_FORM_HEADER_ROW + 3);
    assert_int_equal(imp.rows[1].record, INST_FORM_HEADER_ROW + 5);
    assert_string_equal(imp.rows[1].user_type, "doctor");
    assert_int_equal(imp.warning_count, 1);
    assert_contains(imp.warnings[0], "「numbers.xlsx」: 医療機関コードが9桁");
    arena_free(a);
}

static void form_with_a_moved_column_or_a_missing_label_is_refused(void **state)
{
    (void)state;
    arena *a = arena_new();
    const char *inst[5] = {CODE_TOKYO, "病院", "100-0001", "住所", "03-1234-5678"};
    const char *const people[][7] = {{"1", "北 一郎", "キタ イチロウ", "難病", "A-1", NULL, NULL}};
    const char *path = tmp_path("moved.xlsx");
    write_form_by_hand(path, inst, people, 1, 0);
    inst_import imp;
    assert_int_equal(parse_form_file(a, path, NULL, &imp), NSDB_OK);

    /* swap 難病/小慢 and 指定医番号 in the header */
    lxw_workbook *wb = workbook_new(path);
    lxw_worksheet *ws = workbook_add_worksheet(wb, NULL);
    for (int i = 0; i < 5; i++) {
        worksheet_write_string(ws, (lxw_row_t)(INST_FORM_FIRST_LABEL_ROW - 1 + i), 0,
                               inst_form_label((unsigned)(i)), NULL);
        worksheet_write_string(ws, (lxw_row_t)(INST_FORM_FIRST_LABEL_ROW - 1 + i), 1, inst[i],
                               NULL);
    }
    const char *header[] = {"No", "氏名", "氏名カナ", "指定医番号", "難病/小慢", "診療科",
                            "メールアドレス"};
    for (lxw_col_t c = 0; c < 7; c++)
        worksheet_write_string(ws, INST_FORM_HEADER_ROW - 1, c, header[c], NULL);
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
    assert_int_equal(parse_form_file(a, path, "moved.xlsx", &imp), NSDB_ERR_INVALID);
    assert_int_equal(imp.error_count, 1);
    assert_int_equal(imp.errors[0].record, INST_FORM_HEADER_ROW);
    assert_int_equal(imp.errors[0].column, 4);
    assert_contains(imp.errors[0].message, "「moved.xlsx」10行目 D列（難病/小慢）: 見出しが");

    /* without the 所在地 label */
    wb = workbook_new(path);
    ws = workbook_add_worksheet(wb, NULL);
    for (int i = 0; i < 5; i++) {
        if (i == 3)
            continue;
        worksheet_write_string(ws, (lxw_row_t)(INST_FORM_FIRST_LABEL_ROW - 1 + i), 0,
                               inst_form_label((unsigned)(i)), NULL);
        worksheet_write_string(ws, (lxw_row_t)(INST_FORM_FIRST_LABEL_ROW - 1 + i), 1, inst[i],
                               NULL);
    }
    for (lxw_col_t c = 0; c < 7; c++)
        worksheet_write_string(ws, INST_FORM_HEADER_ROW - 1, c, inst_form_header((unsigned)(c)), NULL);
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
    assert_int_equal(parse_form_file(a, path, "nolabel.xlsx", &imp), NSDB_ERR_INVALID);
    assert_int_equal(imp.error_count, 1);
    assert_contains(imp.errors[0].message, "「nolabel.xlsx」: 「所在地」の欄");

    /* not a workbook at all */
    assert_int_equal(inst_import_parse_xlsx("PK\x03\x04garbage", 11, "broken.xlsx", a, &imp),
                     NSDB_ERR_INVALID);
    assert_int_equal(imp.error_count, 1);
    assert_true(str_starts_with(imp.errors[0].message, "「broken.xlsx」: "));
    arena_free(a);
}

/* ---- several files ------------------------------------------------------------------------- */

static void merge_applies_the_checks_across_files(void **state)
{
    (void)state;
    arena *a = arena_new();
    /* a.xlsx: the hospital's manager and two doctors */
    const char *path_a = tmp_path("a.xlsx");
    inst_import_form_data d = form_data();
    assert_int_equal(inst_import_form_xlsx_filled(path_a, &d), NSDB_OK);
    /* b.xlsx: the same hospital, named differently, with a manager again and 医師 二郎 again */
    const char *path_b = tmp_path("b.xlsx");
    inst_import_form_doctor doctors_b[2] = {
        {"新任 四郎", "シンニン シロウ", "難病", "M-400", NULL, NULL},
        {"医師 二郎", "イシ ジロウ", "難病", "M-200", NULL, NULL},
    };
    inst_import_form_data db = form_data();
    db.inst_name = "さくら病院";
    db.doctors = doctors_b;
    db.doctor_count = 2;
    assert_int_equal(inst_import_form_xlsx_filled(path_b, &db), NSDB_OK);
    /* c.csv: one more doctor of the hospital, who is also in a.xlsx */
    csv_row row;
    good_row(row);
    row[C_NAME] = "医師 三子";
    row[C_KANA] = "イシ ミツコ";
    row[C_CATEGORY] = "小慢";
    size_t len;
    char *csv = csv_text((const csv_row *)&row, 1, "\r\n", &len);

    inst_import all = {0}, one;
    assert_int_equal(parse_form_file(a, path_a, "a.xlsx", &one), NSDB_OK);
    assert_int_equal(inst_import_merge(&all, &one, a), NSDB_OK);
    assert_int_equal(parse_form_file(a, path_b, "b.xlsx", &one), NSDB_OK);
    assert_int_equal(inst_import_merge(&all, &one, a), NSDB_ERR_INVALID);
    size_t len_b;
    char *bytes = test_slurp_maybe(path_b, &len_b);
    assert_int_equal(inst_import_parse_file(csv, len, "c.csv", a, &one), NSDB_OK);
    assert_int_equal(inst_import_merge(&all, &one, a), NSDB_ERR_INVALID);
    free(csv);

    print_errors(&all);
    assert_int_equal(all.file_count, 3);
    assert_string_equal(all.files[2], "c.csv");
    assert_int_equal(all.row_count, 6);
    assert_int_equal(all.rows[5].file, 2);
    assert_int_equal(all.error_count, 4);
    const inst_import_error *e = &all.errors[0]; /* b.xlsx, its 医療機関名 cell */
    assert_int_equal(e->file, 1);
    assert_int_equal(e->record, INST_FORM_FIRST_LABEL_ROW + 1);
    assert_contains(e->message, "「b.xlsx」4行目 B列（医療機関名）: ");
    assert_contains(e->reason, "「a.xlsx」の4行目（「さくら記念病院」）と違います");
    e = &all.errors[1]; /* b.xlsx's first doctor is a second manager */
    assert_int_equal(e->record, INST_FORM_FIRST_DATA_ROW);
    assert_int_equal(e->column, 0);
    assert_contains(e->reason, "責任者が「a.xlsx」の11行目にもいます");
    e = &all.errors[2]; /* 医師 二郎 twice */
    assert_int_equal(e->record, INST_FORM_FIRST_DATA_ROW + 1);
    assert_int_equal(e->column, 2);
    assert_contains(e->reason, "同じ方が「a.xlsx」の12行目にもいます");
    e = &all.errors[3]; /* 医師 三子 twice */
    assert_int_equal(e->file, 2);
    assert_true(str_starts_with(e->message, "「c.csv」2行目 G列（氏名）: 同じ方が「a.xlsx」の13行目"));

    /* parse_file tells an xlsx from a CSV by its content */
    assert_int_equal(inst_import_parse_file(bytes, len_b, "renamed.csv", a, &one), NSDB_OK);
    assert_int_equal(one.row_count, 2);
    free(bytes);
    arena_free(a);
}

static void merge_keeps_the_error_cap_over_files(void **state)
{
    (void)state;
    arena *a = arena_new();
    enum { ROWS = 700 };
    csv_row *rows = calloc(ROWS, sizeof *rows);
    char (*names)[32] = calloc(ROWS, 32);
    for (int i = 0; i < ROWS; i++) {
        good_row(rows[i]);
        snprintf(names[i], 32, "人%d", i);
        rows[i][C_NAME] = names[i];
        rows[i][C_EMAIL] = "bad";
    }
    size_t len;
    char *text = csv_text(rows, ROWS, "\n", &len);
    free(rows);
    free(names);
    inst_import all = {0}, one;
    for (int i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof name, "%d.csv", i);
        assert_int_equal(inst_import_parse_csv_named(text, len, name, a, &one), NSDB_ERR_INVALID);
        assert_int_equal(inst_import_merge(&all, &one, a), NSDB_ERR_INVALID);
    }
    free(text);
    /* 1400 bad e-mails; the second file's people are also the first file's */
    assert_int_equal(all.error_count, INST_IMPORT_MAX_ERRORS + 1);
    assert_int_equal(all.errors_omitted, 2 * ROWS + ROWS - INST_IMPORT_MAX_ERRORS);
    assert_contains(all.errors[all.error_count - 1].message, "ほかに1100件あります");
    assert_int_equal(all.row_count, 2 * ROWS);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_a_valid_file_with_bom_and_crlf),
        cmocka_unit_test(parses_lf_line_ends_blank_lines_and_no_final_line_end),
        cmocka_unit_test(normalises_full_width_digits_and_half_width_kana),
        cmocka_unit_test(converts_a_cp932_file_with_a_warning),
        cmocka_unit_test(refuses_a_file_in_neither_encoding),
        cmocka_unit_test(reports_a_wrong_header_once_naming_the_first_bad_column),
        cmocka_unit_test(reports_an_empty_file),
        cmocka_unit_test(reports_malformed_quoting_with_the_record_number),
        cmocka_unit_test(quoted_line_breaks_keep_row_numbers_right),
        cmocka_unit_test(reports_a_wrong_number_of_columns),
        cmocka_unit_test(reports_a_bad_check_digit_with_row_and_column),
        cmocka_unit_test(reports_each_column_with_a_reason),
        cmocka_unit_test(accepts_empty_optional_cells_and_a_manager_without_doctor_number),
        cmocka_unit_test(restores_a_leading_zero_only_when_the_check_digit_agrees),
        cmocka_unit_test(reports_an_institution_with_two_names_on_the_later_row),
        cmocka_unit_test(reports_the_same_person_twice_naming_the_earlier_row),
        cmocka_unit_test(reports_a_second_manager_of_one_institution),
        cmocka_unit_test(caps_errors_and_summarises_the_rest),
        cmocka_unit_test(names_the_file_in_messages),
        cmocka_unit_test(template_is_bom_crlf_with_header_and_its_example_is_refused),
        cmocka_unit_test(form_round_trip_makes_the_first_doctor_the_manager),
        cmocka_unit_test(blank_form_reads_back_asking_for_every_value),
        cmocka_unit_test(form_errors_name_the_file_the_row_and_the_cell),
        cmocka_unit_test(form_number_cells_get_their_leading_zeros_back),
        cmocka_unit_test(form_with_a_moved_column_or_a_missing_label_is_refused),
        cmocka_unit_test(merge_applies_the_checks_across_files),
        cmocka_unit_test(merge_keeps_the_error_cap_over_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
