/*
 * test_admin_list.c — 管理者権限のユーザID申請リスト (domain/admin_list.c): every sheet here is
 * written at run time with libxlsxwriter (a cell "#n:11002" is written as a number, as Excel
 * stores what it thinks is one) or converted by LibreOffice from CSV, then read with xlsx_read
 * and validated. Covers title rows above the header, leading zeros Excel dropped from codes and
 * postal codes, full-width and half-width input, each column's errors with their Japanese
 * message, duplicate addresses, a missing header, an empty list, and the blank template.
 */
#include "test_support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "domain/admin_list.h"
#include "domain/xlsx.h"
#include "util/arena.h"

typedef const char *sheet_row[ADMIN_LIST_COLUMN_COUNT];

static char tmpdir[] = "/tmp/nsdb-test-admin-list-XXXXXX";

static const sheet_row HEADER = {
    "No",   "地方公共団体コード", "地方公共団体名", "難病/小慢", "部署名",
    "役職", "氏名",               "氏名カナ",       "メールアドレス", "電話番号",
    "内線", "申請区分",           "備考",           "郵便番号", "所属先住所",
};
/* A valid row; tests copy it and change one cell. */
static const sheet_row GOOD = {
    "1",        "011002",       "札幌市",         "難病",
    "保健福祉局 健康企画課",    "係長",           "札幌 花子",
    "サッポロ ハナコ",          "hanako.sapporo@example.lg.jp",   "011-211-2111",
    "123",      "新規",         NULL,             "060-0001",
    "北海道札幌市中央区北1条西2丁目",
};

/* ---- fixtures ------------------------------------------------------------------------------ */

TEST_TMPDIR_FIXTURES(tmpdir)

/* Writes rows[i] to sheet row i (0-based); NULL cells are left out. */
static void write_sheet(const char *path, const sheet_row *rows, size_t count)
{
    lxw_workbook *wb = workbook_new(path);
    assert_non_null(wb);
    lxw_worksheet *ws = workbook_add_worksheet(wb, NULL);
    for (size_t r = 0; r < count; r++) {
        for (lxw_col_t c = 0; c < ADMIN_LIST_COLUMN_COUNT; c++) {
            const char *v = rows[r][c];
            if (v == NULL)
                continue;
            if (strncmp(v, "#n:", 3) == 0)
                worksheet_write_number(ws, (lxw_row_t)r, c, strtod(v + 3, NULL), NULL);
            else
                worksheet_write_string(ws, (lxw_row_t)r, c, v, NULL);
        }
    }
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
}

static xlsx_table *read_path(const char *path)
{
    size_t len;
    char *data = test_slurp(path, &len);
    xlsx_table *t = NULL;
    char *error = NULL;
    nsdb_err err = xlsx_read(data, len, &t, &error);
    free(data);
    if (err != NSDB_OK)
        fail_msg("xlsx_read: %s", error ? error : "?");
    return t;
}

/* Writes rows, reads them back and parses them into *list (strings in a). */
static nsdb_err parse_rows(arena *a, const sheet_row *rows, size_t count, admin_list *list)
{
    char path[256];
    snprintf(path, sizeof path, "%s/sheet.xlsx", tmpdir);
    write_sheet(path, rows, count);
    xlsx_table *t = read_path(path);
    nsdb_err err = admin_list_parse(t, a, list);
    xlsx_table_free(t);
    return err;
}

/* The header on sheet row 2 (1-based) and GOOD with column col replaced by value on row 3. */
static nsdb_err parse_one(arena *a, int col, const char *value, admin_list *list)
{
    sheet_row rows[3] = {{ADMIN_LIST_TITLE}};
    memcpy(rows[1], HEADER, sizeof HEADER);
    memcpy(rows[2], GOOD, sizeof GOOD);
    if (col >= 0)
        rows[2][col] = value;
    return parse_rows(a, rows, 3, list);
}

/* Asserts that exactly one error was reported, on row 3 in column letter, and returns it. */
static const admin_list_error *only_error(const admin_list *list, char letter)
{
    if (list->error_count != 1) {
        for (size_t i = 0; i < list->error_count; i++)
            print_message("error: %s\n", list->errors[i].message);
        fail_msg("expected one error in column %c, got %zu", letter, list->error_count);
    }
    const admin_list_error *e = &list->errors[0];
    assert_int_equal(e->row_number, 3);
    assert_int_equal(e->column, letter);
    assert_string_equal(e->column_name, admin_list_header((unsigned)(letter - 'A')));
    char prefix[128];
    snprintf(prefix, sizeof prefix, "3行目 %c列（%s）: ", letter, e->column_name);
    assert_true(strncmp(e->message, prefix, strlen(prefix)) == 0);
    assert_string_equal(e->message + strlen(prefix), e->reason);
    return e;
}

/* Parses GOOD with one cell changed and expects it refused in that column. */
static const admin_list_error *refused(arena *a, int col, const char *value, admin_list *list)
{
    assert_int_equal(parse_one(a, col, value, list), NSDB_ERR_INVALID);
    return only_error(list, (char)('A' + col));
}

/* Parses GOOD with one cell changed, expects no error, returns the row. */
static const admin_list_row *accepted(arena *a, int col, const char *value, admin_list *list)
{
    nsdb_err err = parse_one(a, col, value, list);
    for (size_t i = 0; i < list->error_count; i++)
        print_message("unexpected error: %s\n", list->errors[i].message);
    assert_int_equal(err, NSDB_OK);
    assert_int_equal(list->row_count, 1);
    return &list->rows[0];
}

#define SKIP_WITHOUT_SOFFICE()                                                                    \
    do {                                                                                          \
        if (!have_soffice()) {                                                                    \
            print_message("soffice is not installed (apt-get install libreoffice-calc-nogui): "   \
                          "skipping the LibreOffice-written workbook\n");                         \
            skip();                                                                               \
        }                                                                                         \
    } while (0)

/* ---- valid lists --------------------------------------------------------------------------- */

static void parses_a_valid_list_below_title_rows(void **state)
{
    (void)state;
    arena *a = arena_new();
    sheet_row rows[9] = {{ADMIN_LIST_TITLE}, {"提出日：2025年4月1日"}};
    memcpy(rows[3], HEADER, sizeof HEADER);
    memcpy(rows[4], GOOD, sizeof GOOD);
    rows[4][0] = ADMIN_LIST_EXAMPLE_MARK; /* the template's example row is skipped */
    memcpy(rows[5], GOOD, sizeof GOOD);
    /* rows[6] is blank, rows[7] holds only a No: both are skipped */
    rows[7][0] = "2";
    memcpy(rows[8], GOOD, sizeof GOOD);
    const char *changed[] = {"3", "131016", "千代田区", "両方", NULL, NULL, "千代田 一郎",
                             "チヨダ イチロウ", "ichiro@example.lg.jp", NULL, NULL, "変更",
                             "異動のため", "100-8111", "東京都千代田区九段南1-2-1"};
    memcpy(rows[8], changed, sizeof changed);
    admin_list list;
    assert_int_equal(parse_rows(a, rows, 9, &list), NSDB_OK);
    assert_int_equal(list.error_count, 0);
    assert_int_equal(list.row_count, 2);
    const admin_list_row *r = &list.rows[0];
    assert_int_equal(r->row_number, 6);
    assert_string_equal(r->no, "1");
    assert_string_equal(r->municipality_code, "011002");
    assert_string_equal(r->municipality_name, "札幌市");
    assert_string_equal(r->category, "nanbyo");
    assert_string_equal(r->department, "保健福祉局 健康企画課");
    assert_string_equal(r->title, "係長");
    assert_string_equal(r->name, "札幌 花子");
    assert_string_equal(r->name_kana, "サッポロ ハナコ");
    assert_string_equal(r->email, "hanako.sapporo@example.lg.jp");
    assert_string_equal(r->phone, "011-211-2111");
    assert_string_equal(r->extension, "123");
    assert_string_equal(r->request_type, "new");
    assert_null(r->note);
    assert_string_equal(r->postal, "060-0001");
    assert_string_equal(r->address, "北海道札幌市中央区北1条西2丁目");
    r = &list.rows[1];
    assert_int_equal(r->row_number, 9);
    assert_string_equal(r->municipality_code, "131016");
    assert_string_equal(r->category, "both");
    assert_string_equal(r->request_type, "change");
    assert_null(r->department);
    assert_null(r->phone);
    assert_string_equal(r->note, "異動のため");
    arena_free(a);
}

static void restores_leading_zeros_excel_dropped(void **state)
{
    (void)state;
    arena *a = arena_new();
    admin_list list;
    assert_string_equal(accepted(a, 1, "#n:11002", &list)->municipality_code, "011002");
    assert_string_equal(accepted(a, 1, "#n:10006", &list)->municipality_code, "010006");
    assert_string_equal(accepted(a, 1, "#n:131016", &list)->municipality_code, "131016");
    assert_string_equal(accepted(a, 13, "#n:600001", &list)->postal, "060-0001");
    assert_string_equal(accepted(a, 13, "#n:10001", &list)->postal, "001-0001");
    assert_string_equal(accepted(a, 13, "#n:1008111", &list)->postal, "100-8111");
    assert_string_equal(accepted(a, 13, "0600001", &list)->postal, "060-0001");
    assert_string_equal(accepted(a, 9, "#n:112112111", &list)->phone, "0112112111");
    assert_string_equal(accepted(a, 10, "#n:123", &list)->extension, "123");
    arena_free(a);
}

static void normalises_full_width_and_half_width_input(void **state)
{
    (void)state;
    arena *a = arena_new();
    admin_list list;
    assert_string_equal(accepted(a, 1, "０１１００２", &list)->municipality_code, "011002");
    assert_string_equal(accepted(a, 1, "　011002 ", &list)->municipality_code, "011002");
    assert_string_equal(accepted(a, 13, "０６０－０００１", &list)->postal, "060-0001");
    assert_string_equal(accepted(a, 13, "〒060ー0001", &list)->postal, "060-0001");
    assert_string_equal(accepted(a, 9, "０１１ー２１１ー２１１１", &list)->phone, "011-211-2111");
    assert_string_equal(accepted(a, 9, "011−211−2111", &list)->phone, "011-211-2111");
    assert_string_equal(accepted(a, 7, "ｻｯﾎﾟﾛ ﾊﾅｺ", &list)->name_kana, "サッポロ ハナコ");
    assert_string_equal(accepted(a, 8, "ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｌｇ．ｊｐ", &list)->email,
                        "hanako@example.lg.jp");
    assert_string_equal(accepted(a, 2, "　札幌市　", &list)->municipality_name, "札幌市");
    assert_string_equal(accepted(a, 14, "北海道札幌市\n中央区", &list)->address,
                        "北海道札幌市 中央区");
    static const char *const both[] = {"両方", "難病・小慢", "難病/小慢", "難病／小慢", "both"};
    for (size_t i = 0; i < sizeof both / sizeof both[0]; i++)
        assert_string_equal(accepted(a, 3, both[i], &list)->category, "both");
    assert_string_equal(accepted(a, 3, "小慢", &list)->category, "shoman");
    assert_string_equal(accepted(a, 11, "削除", &list)->request_type, "delete");
    assert_string_equal(accepted(a, 11, " 変更 ", &list)->request_type, "change");
    arena_free(a);
}

/* ---- refused cells ------------------------------------------------------------------------- */

static void reports_a_bad_check_digit(void **state)
{
    (void)state;
    arena *a = arena_new();
    admin_list list;
    const admin_list_error *e = refused(a, 1, "011003", &list);
    assert_string_equal(e->message, "3行目 B列（地方公共団体コード）: 検査数字が正しくありません。"
                                    "6桁の地方公共団体コードを入力してください。");
    refused(a, 1, "#n:11003", &list); /* 011003 is wrong as well */
    arena_free(a);
}

static void reports_codes_without_check_digit_and_wrong_lengths(void **state)
{
    (void)state;
    arena *a = arena_new();
    admin_list list;
    /* 13101 is 千代田区 without its check digit; with a zero in front it does not check. */
    const admin_list_error *e = refused(a, 1, "#n:13101", &list);
    assert_non_null(strstr(e->reason, "検査数字"));
    assert_non_null(strstr(e->reason, "「131016」"));
    e = refused(a, 1, "13101", &list);
    assert_non_null(strstr(e->reason, "「131016」"));
    /* A text 11002 could be 011002 without its zero or 11002x without the check digit. */
    e = refused(a, 1, "11002", &list);
    assert_non_null(strstr(e->reason, "「011002」"));
    assert_non_null(strstr(e->reason, "「110027」"));
    e = refused(a, 1, "1310160", &list);
    assert_non_null(strstr(e->reason, "7桁"));
    refused(a, 1, "#n:1002", &list);
    refused(a, 1, "13-1016", &list);
    refused(a, 1, "abcdef", &list);
    arena_free(a);
}

static void reports_missing_required_cells(void **state)
{
    (void)state;
    arena *a = arena_new();
    sheet_row rows[3] = {{ADMIN_LIST_TITLE}};
    memcpy(rows[1], HEADER, sizeof HEADER);
    sheet_row empty = {"1", NULL, NULL, NULL, "部署", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL};
    memcpy(rows[2], empty, sizeof empty);
    admin_list list;
    assert_int_equal(parse_rows(a, rows, 3, &list), NSDB_ERR_INVALID);
    char columns[16] = "";
    for (size_t i = 0; i < list.error_count && i < 15; i++) {
        assert_int_equal(list.errors[i].row_number, 3);
        columns[i] = list.errors[i].column;
        assert_non_null(strstr(list.errors[i].reason, "入力"));
    }
    assert_string_equal(columns, "BCDGHILNO"); /* in column order */
    arena_free(a);
}

static void reports_bad_email_addresses(void **state)
{
    (void)state;
    arena *a = arena_new();
    admin_list list;
    char too_long[300];
    memset(too_long, 'a', 250);
    strcpy(too_long + 250, "@example.jp");
    static const char *const bad[] = {"hanako", "hanako@example", "hanako sapporo@example.jp",
                                      "hanako@@example.jp", "a@b@example.jp", "@example.jp",
                                      "hanako@.example.jp"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refused(a, 8, bad[i], &list);
    refused(a, 8, too_long, &list);
    arena_free(a);
}

static void reports_bad_category_request_type_and_kana(void **state)
{
    (void)state;
    arena *a = arena_new();
    admin_list list;
    const admin_list_error *e = refused(a, 11, "追加", &list);
    assert_non_null(strstr(e->reason, "「新規」「変更」「削除」"));
    e = refused(a, 3, "指定難病", &list);
    assert_non_null(strstr(e->reason, "「両方」"));
    refused(a, 7, "Sapporo Hanako", &list);
    refused(a, 7, "札幌 花子", &list);
    assert_string_equal(accepted(a, 7, "さっぽろ はなこ", &list)->name_kana, "サッポロ ハナコ");
    arena_free(a);
}

static void reports_bad_postal_codes_and_phone_numbers(void **state)
{
    (void)state;
    arena *a = arena_new();
    admin_list list;
    const admin_list_error *e = refused(a, 13, "600001", &list); /* text: not Excel's doing */
    assert_non_null(strstr(e->reason, "6桁"));
    refused(a, 13, "06-00001", &list);
    refused(a, 13, "060-00011", &list);
    refused(a, 13, "札幌", &list);
    refused(a, 9, "011(211)2111", &list);
    refused(a, 9, "211-2111", &list);
    assert_null(accepted(a, 9, NULL, &list)->phone); /* optional */
    arena_free(a);
}

static void reports_the_same_email_twice_on_new_rows(void **state)
{
    (void)state;
    arena *a = arena_new();
    sheet_row rows[6] = {{ADMIN_LIST_TITLE}};
    memcpy(rows[1], HEADER, sizeof HEADER);
    for (int i = 2; i < 6; i++)
        memcpy(rows[i], GOOD, sizeof GOOD);
    rows[3][8] = "Hanako.Sapporo@EXAMPLE.lg.jp"; /* the same mailbox */
    rows[4][11] = "変更";                         /* a change of the same person is fine */
    admin_list list;
    assert_int_equal(parse_rows(a, rows, 6, &list), NSDB_ERR_INVALID);
    assert_int_equal(list.error_count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(list.errors[i].column, 'I');
        assert_non_null(strstr(list.errors[i].reason, "3行目にもあります"));
    }
    assert_int_equal(list.errors[0].row_number, 4);
    assert_int_equal(list.errors[1].row_number, 6);
    arena_free(a);
}

static void reports_a_missing_header_once(void **state)
{
    (void)state;
    arena *a = arena_new();
    sheet_row rows[3] = {{ADMIN_LIST_TITLE}};
    memcpy(rows[1], HEADER, sizeof HEADER);
    rows[1][0] = "番号";
    memcpy(rows[2], GOOD, sizeof GOOD);
    admin_list list;
    assert_int_equal(parse_rows(a, rows, 3, &list), NSDB_ERR_INVALID);
    assert_int_equal(list.error_count, 1);
    assert_int_equal(list.errors[0].row_number, 0);
    assert_int_equal(list.errors[0].column, 0);
    assert_null(list.errors[0].column_name);
    assert_non_null(strstr(list.errors[0].message, "見出し行"));
    assert_int_equal(list.row_count, 0);
    arena_free(a);
}

static void reports_moved_columns_in_the_header(void **state)
{
    (void)state;
    arena *a = arena_new();
    sheet_row rows[2];
    memcpy(rows[0], HEADER, sizeof HEADER); /* header on row 1: no title */
    rows[0][6] = "氏名カナ";
    rows[0][7] = "氏名";
    memcpy(rows[1], GOOD, sizeof GOOD);
    admin_list list;
    assert_int_equal(parse_rows(a, rows, 2, &list), NSDB_ERR_INVALID);
    bool header_g = false, header_h = false;
    for (size_t i = 0; i < list.error_count; i++) {
        header_g |= list.errors[i].row_number == 1 && list.errors[i].column == 'G';
        header_h |= list.errors[i].row_number == 1 && list.errors[i].column == 'H';
    }
    /* "氏名カナ" contains "氏名", so G's header passes; H's does not. */
    assert_false(header_g);
    assert_true(header_h);
    arena_free(a);
}

static void reports_an_empty_list(void **state)
{
    (void)state;
    arena *a = arena_new();
    sheet_row rows[4] = {{ADMIN_LIST_TITLE}};
    memcpy(rows[1], HEADER, sizeof HEADER);
    rows[3][0] = "1"; /* only a number: blank */
    admin_list list;
    assert_int_equal(parse_rows(a, rows, 4, &list), NSDB_ERR_INVALID);
    assert_int_equal(list.error_count, 1);
    assert_int_equal(list.errors[0].row_number, 0);
    assert_non_null(strstr(list.errors[0].message, "申請する行がありません"));
    arena_free(a);
}

static void caps_the_number_of_errors(void **state)
{
    (void)state;
    arena *a = arena_new();
    enum { ROWS = 1200 };
    sheet_row *rows = calloc(ROWS + 1, sizeof *rows);
    assert_non_null(rows);
    memcpy(rows[0], HEADER, sizeof HEADER);
    for (size_t i = 1; i <= ROWS; i++) {
        memcpy(rows[i], GOOD, sizeof GOOD);
        rows[i][1] = "011003";
        rows[i][11] = "変更";
    }
    admin_list list;
    assert_int_equal(parse_rows(a, rows, ROWS + 1, &list), NSDB_ERR_INVALID);
    assert_int_equal(list.error_count, ADMIN_LIST_MAX_ERRORS);
    for (size_t i = 1; i < list.error_count - 1; i++)
        assert_true(list.errors[i - 1].row_number < list.errors[i].row_number);
    const admin_list_error *last = &list.errors[list.error_count - 1];
    assert_int_equal(last->row_number, 0);
    assert_non_null(strstr(last->message, "ほかに201件"));
    free(rows);
    arena_free(a);
}

static void tolerates_a_missing_table(void **state)
{
    (void)state;
    arena *a = arena_new();
    admin_list list;
    assert_int_equal(admin_list_parse(NULL, a, &list), NSDB_ERR_INVALID);
    assert_int_equal(list.error_count, 1);
    arena_free(a);
}

/* ---- the template and LibreOffice ---------------------------------------------------------- */

static void template_has_the_headers_and_reads_back_as_an_empty_list(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/template.xlsx", tmpdir);
    assert_int_equal(admin_list_template_xlsx(path), NSDB_OK);
    xlsx_table *t = read_path(path);
    assert_string_equal(xlsx_table_cell(t, 0, 0), ADMIN_LIST_TITLE);
    size_t header = 2;
    assert_int_equal(xlsx_table_row_number(t, header), 3);
    for (unsigned col = 0; col < ADMIN_LIST_COLUMN_COUNT; col++)
        assert_string_equal(xlsx_table_cell(t, header, col), admin_list_header((unsigned)(col)));
    assert_string_equal(xlsx_table_cell(t, header + 1, 0), ADMIN_LIST_EXAMPLE_MARK);

    arena *a = arena_new();
    admin_list list;
    assert_int_equal(admin_list_parse(t, a, &list), NSDB_ERR_INVALID);
    assert_int_equal(list.error_count, 1);
    assert_non_null(strstr(list.errors[0].message, "申請する行がありません"));

    /* The example itself is a valid row once it is numbered. */
    sheet_row rows[2];
    memcpy(rows[0], HEADER, sizeof HEADER);
    for (unsigned col = 0; col < ADMIN_LIST_COLUMN_COUNT; col++) {
        const char *v = xlsx_table_cell(t, header + 1, col);
        rows[1][col] = v ? arena_strdup(a, v) : NULL;
    }
    rows[1][0] = "1";
    xlsx_table_free(t);
    assert_int_equal(parse_rows(a, rows, 2, &list), NSDB_OK);
    assert_int_equal(list.row_count, 1);
    arena_free(a);
}

static void reads_a_list_written_by_libreoffice(void **state)
{
    (void)state;
    SKIP_WITHOUT_SOFFICE();
    char csv[256];
    snprintf(csv, sizeof csv, "%s/list.csv", tmpdir);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    /* LibreOffice reads 011002, 010006 and 0600001 as numbers and drops the zeros. */
    fputs("管理者権限のユーザID申請リスト\n"
          "No,地方公共団体コード,地方公共団体名,難病/小慢,部署名,役職,氏名,氏名カナ,メールアドレス,"
          "電話番号,内線,申請区分,備考,郵便番号,所属先住所\n"
          "1,011002,札幌市,難病,健康企画課,係長,札幌 花子,サッポロ ハナコ,hanako@example.lg.jp,"
          "011-211-2111,123,新規,,0600001,北海道札幌市中央区北1条西2丁目\n"
          "2,010006,北海道,両方,健康安全局,,北海 太郎,ﾎｯｶｲ ﾀﾛｳ,taro@example.lg.jp,"
          ",,新規,,060-8588,北海道札幌市中央区北3条西6丁目\n",
          f);
    fclose(f);
    xlsx_table *t = read_path(soffice_convert(tmpdir, csv, "list.xlsx"));
    assert_true(xlsx_table_cell_is_number(t, 2, 1));
    arena *a = arena_new();
    admin_list list;
    nsdb_err err = admin_list_parse(t, a, &list);
    xlsx_table_free(t);
    for (size_t i = 0; i < list.error_count; i++)
        print_message("unexpected error: %s\n", list.errors[i].message);
    assert_int_equal(err, NSDB_OK);
    assert_int_equal(list.row_count, 2);
    assert_string_equal(list.rows[0].municipality_code, "011002");
    assert_string_equal(list.rows[0].postal, "060-0001");
    assert_string_equal(list.rows[0].no, "1");
    assert_string_equal(list.rows[1].municipality_code, "010006");
    assert_string_equal(list.rows[1].name_kana, "ホッカイ タロウ");
    assert_string_equal(list.rows[1].postal, "060-8588");
    assert_string_equal(list.rows[1].category, "both");
    arena_free(a);
}

static void reads_the_template_saved_again_by_libreoffice(void **state)
{
    (void)state;
    SKIP_WITHOUT_SOFFICE();
    char path[256];
    snprintf(path, sizeof path, "%s/resaved-template.xlsx", tmpdir);
    assert_int_equal(admin_list_template_xlsx(path), NSDB_OK);
    xlsx_table *t = read_path(soffice_convert(tmpdir, path, "resaved-template.xlsx"));
    arena *a = arena_new();
    admin_list list;
    assert_int_equal(admin_list_parse(t, a, &list), NSDB_ERR_INVALID);
    xlsx_table_free(t);
    assert_int_equal(list.error_count, 1); /* only: no rows */
    assert_non_null(strstr(list.errors[0].message, "申請する行がありません"));
    arena_free(a);
}

/* Issue 12, items 1 and 2: which admin a 変更 or 削除 row means. */
static void matches_a_change_row_to_one_admin(void **state)
{
    (void)state;
    const admin_list_candidate admins[] = {
        {"ichiko@example.jp", "タイショウ イチコ", "nanbyo"},
        {"jiro@example.jp", "タイショウ ジロウ", "shoman"},
        {"mitsuko1@example.jp", "ドウメイ ミツコ", "nanbyo"},
        {"mitsuko2@example.jp", "ドウメイ ミツコ", "nanbyo"},
        {"shared@example.jp", "ナンビョウ タントウ", "nanbyo"},
        {"shared@example.jp", "ショウマン タントウ", "shoman"},
        {"both@example.jp", "リョウホウ タントウ", "both"},
    };
    size_t n = sizeof admins / sizeof admins[0], at = 99;
    /* by e-mail, case aside */
    assert_int_equal(admin_list_match_target("nanbyo", "Ichiko@Example.JP", "ベツ", admins, n, &at),
                     ADMIN_LIST_MATCH_ONE);
    assert_int_equal(at, 0);
    /* a new e-mail: by 氏名カナ, spaces aside (an admin's address can change) */
    assert_int_equal(admin_list_match_target("nanbyo", "new@example.jp", "タイショウ　イチコ", admins,
                                             n, &at),
                     ADMIN_LIST_MATCH_ONE);
    assert_int_equal(at, 0);
    assert_int_equal(admin_list_match_target("nanbyo", "new@example.jp", "タイショウイチコ", admins, n,
                                             &at),
                     ADMIN_LIST_MATCH_ONE);
    /* the category must fit: ジロウ is 小慢 */
    assert_int_equal(admin_list_match_target("nanbyo", "jiro@example.jp", "タイショウ ジロウ", admins,
                                             n, &at),
                     ADMIN_LIST_MATCH_NONE);
    /* one mailbox for both departments: the category decides */
    assert_int_equal(admin_list_match_target("shoman", "shared@example.jp", "x", admins, n, &at),
                     ADMIN_LIST_MATCH_ONE);
    assert_int_equal(at, 5);
    /* a 両方 row fits both of them, and neither is exactly 両方: two */
    assert_int_equal(admin_list_match_target("both", "shared@example.jp", "x", admins, n, &at),
                     ADMIN_LIST_MATCH_MANY);
    /* a 両方 admin is found by a 難病 row */
    assert_int_equal(admin_list_match_target("nanbyo", "both@example.jp", "x", admins, n, &at),
                     ADMIN_LIST_MATCH_ONE);
    assert_int_equal(at, 6);
    /* two with the same kana and an unknown e-mail */
    assert_int_equal(admin_list_match_target("nanbyo", "who@example.jp", "ドウメイ ミツコ", admins, n,
                                             &at),
                     ADMIN_LIST_MATCH_MANY);
    /* nobody, and no admins at all */
    assert_int_equal(admin_list_match_target("nanbyo", "who@example.jp", "ダレ", admins, n, &at),
                     ADMIN_LIST_MATCH_NONE);
    assert_int_equal(admin_list_match_target("nanbyo", "who@example.jp", "ダレ", admins, 0, &at),
                     ADMIN_LIST_MATCH_NONE);
    arena *a = arena_new();
    const char *none = admin_list_match_reason(a, "delete", "nanbyo", "who@example.jp", "ダレ",
                                               ADMIN_LIST_MATCH_NONE);
    assert_non_null(strstr(none, "削除の対象"));
    assert_non_null(strstr(none, "who@example.jp"));
    assert_non_null(strstr(none, "難病"));
    const char *many = admin_list_match_reason(a, "change", "nanbyo", "who@example.jp", "ダレ",
                                               ADMIN_LIST_MATCH_MANY);
    assert_non_null(strstr(many, "2人以上"));
    /* a row error added later lands in row order, with its column's header */
    admin_list l = {0};
    admin_list_add_error(&l, a, 5, 'I', "後");
    admin_list_add_error(&l, a, 3, 'B', "前");
    assert_int_equal(l.error_count, 2);
    assert_int_equal(l.errors[0].row_number, 3);
    assert_string_equal(l.errors[1].message, "5行目 I列（メールアドレス）: 後");
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_a_valid_list_below_title_rows),
        cmocka_unit_test(restores_leading_zeros_excel_dropped),
        cmocka_unit_test(normalises_full_width_and_half_width_input),
        cmocka_unit_test(reports_a_bad_check_digit),
        cmocka_unit_test(reports_codes_without_check_digit_and_wrong_lengths),
        cmocka_unit_test(reports_missing_required_cells),
        cmocka_unit_test(reports_bad_email_addresses),
        cmocka_unit_test(reports_bad_category_request_type_and_kana),
        cmocka_unit_test(reports_bad_postal_codes_and_phone_numbers),
        cmocka_unit_test(reports_the_same_email_twice_on_new_rows),
        cmocka_unit_test(reports_a_missing_header_once),
        cmocka_unit_test(reports_moved_columns_in_the_header),
        cmocka_unit_test(reports_an_empty_list),
        cmocka_unit_test(caps_the_number_of_errors),
        cmocka_unit_test(tolerates_a_missing_table),
        cmocka_unit_test(template_has_the_headers_and_reads_back_as_an_empty_list),
        cmocka_unit_test(reads_a_list_written_by_libreoffice),
        cmocka_unit_test(reads_the_template_saved_again_by_libreoffice),
        cmocka_unit_test(matches_a_change_row_to_one_admin),
    };
    return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
