/*
 * test_inst_import.c — the 指定医一括登録ファイル (CSV) of 一括登録 (domain/inst_import.c, with
 * the CP932 conversion of domain/encoding.c; the RFC 4180 reader is test_csv.c, the field rules
 * test_fields.c, the checks across rows and merging test_inst_import_result.c, the xlsx form
 * test_inst_form.c): its BOM, line ends, CP932 conversion, header, every column's error with row,
 * column and Japanese reason, and the template. Every fixture is made at run time
 * (inst_import_rows.h).
 */
#include "inst_import_rows.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/ids.h"
#include "domain/inst_import.h"
#include "util/arena.h"
#include "util/str.h"

static nsdb_err parse_text(arena *a, const char *text, inst_import *out)
{
    return inst_import_parse_csv(text, strlen(text), a, out);
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
        cmocka_unit_test(template_is_bom_crlf_with_header_and_its_example_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
