/*
 * test_inst_form.c — the 医療機関ユーザデータファイル (domain/inst_form.c): the blank and the
 * filled form written by the module's own writer and read back (the first doctor becomes the
 * 責任者, and with a 指定医番号 a doctor too), errors that name the file, the sheet's row and the cell, number cells that lost their
 * leading zeros (written here with libxlsxwriter, as Excel stores what looks like a number), rows
 * inserted above the header, and a moved column, a missing label or a broken workbook refused.
 * Every fixture is made at run time (inst_import_rows.h).
 */
#include "inst_import_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "domain/inst_import.h"
#include "util/arena.h"
#include "util/str.h"

/* ---- the xlsx form ------------------------------------------------------------------------- */

/* Issue 12, item 7: the first row is the 責任者 and, with its 指定医番号, a doctor too: two
   rows (never a doctor dropped), and a warning that says so. */
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
    assert_int_equal(imp.row_count, 4);
    assert_string_equal(imp.files[0], "filled.xlsx");
    static const char *const TYPES[] = {"inst_manager", "doctor", "doctor", "doctor"};
    static const unsigned ROWS[] = {0, 0, 1, 2};
    for (size_t i = 0; i < 4; i++) {
        const inst_import_row *r = &imp.rows[i];
        assert_int_equal(r->record, INST_FORM_FIRST_DATA_ROW + ROWS[i]);
        assert_string_equal(r->inst_code, CODE_TOKYO);
        assert_string_equal(r->inst_name, "さくら記念病院");
        assert_string_equal(r->inst_postal, "100-0001");
        assert_string_equal(r->inst_address, "東京都千代田区千代田1-1");
        assert_string_equal(r->inst_phone, "03-1234-5678");
        assert_string_equal(r->user_type, TYPES[i]);
    }
    for (size_t i = 0; i < 2; i++) { /* the same person, once per role */
        assert_string_equal(imp.rows[i].name, "院長 一郎");
        assert_string_equal(imp.rows[i].doctor_number, "M-100");
        assert_string_equal(imp.rows[i].category, "both");
        assert_string_equal(imp.rows[i].email, "incho@example.jp");
    }
    assert_string_equal(imp.rows[2].name_kana, "イシ ジロウ");
    assert_null(imp.rows[2].specialty);
    assert_null(imp.rows[2].email);
    assert_string_equal(imp.rows[3].category, "shoman");
    assert_ptr_equal(imp.rows[3].inst_name, imp.rows[0].inst_name);
    assert_int_equal(imp.warning_count, 1);
    assert_contains(imp.warnings[0], "「filled.xlsx」: ");
    assert_contains(imp.warnings[0], "責任者と指定医の2つのIDを登録します");
    arena_free(a);
}

/* A first row without a 指定医番号 is the 責任者 only, without a warning. */
static void form_first_row_without_a_doctor_number_is_the_manager_only(void **state)
{
    (void)state;
    arena *a = arena_new();
    const char *path = tmp_path("manager_only.xlsx");
    inst_import_form_doctor doctors[3];
    memcpy(doctors, DOCTORS, sizeof doctors);
    doctors[0].doctor_number = NULL;
    inst_import_form_data d = form_data();
    d.doctors = doctors;
    assert_int_equal(inst_import_form_xlsx_filled(path, &d), NSDB_OK);
    inst_import imp;
    assert_int_equal(parse_form_file(a, path, "manager_only.xlsx", &imp), NSDB_OK);
    assert_no_errors(&imp);
    assert_int_equal(imp.row_count, 3);
    assert_string_equal(imp.rows[0].user_type, "inst_manager");
    assert_null(imp.rows[0].doctor_number);
    assert_string_equal(imp.rows[1].user_type, "doctor");
    assert_int_equal(imp.warning_count, 0);
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
    assert_string_equal(imp.rows[2].name_kana, "イシ ジロウ");
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
    assert_int_equal(imp.row_count, 3); /* the first person as 責任者 and as 指定医 */
    const inst_import_row *r = &imp.rows[0];
    assert_string_equal(r->inst_code, CODE_HOKKAIDO);
    assert_string_equal(r->inst_postal, "060-0001");
    assert_string_equal(r->inst_phone, "0112111111");
    assert_string_equal(r->doctor_number, "12345");
    assert_string_equal(r->user_type, "inst_manager");
    assert_int_equal(r->record, INST_FORM_HEADER_ROW + 3);
    assert_string_equal(imp.rows[1].doctor_number, "12345");
    assert_string_equal(imp.rows[1].user_type, "doctor");
    assert_int_equal(imp.rows[2].record, INST_FORM_HEADER_ROW + 5);
    assert_string_equal(imp.rows[2].user_type, "doctor");
    assert_int_equal(imp.warning_count, 2);
    assert_contains(imp.warnings[1], "「numbers.xlsx」: 医療機関コードが9桁");
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
    assert_int_equal(inst_import_parse_xlsx("PK\x03\x04garbage", 11, "broken.xlsx", NULL, a, &imp),
                     NSDB_ERR_INVALID);
    assert_int_equal(imp.error_count, 1);
    assert_true(str_starts_with(imp.errors[0].message, "「broken.xlsx」: "));
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(form_round_trip_makes_the_first_doctor_the_manager),
        cmocka_unit_test(form_first_row_without_a_doctor_number_is_the_manager_only),
        cmocka_unit_test(blank_form_reads_back_asking_for_every_value),
        cmocka_unit_test(form_errors_name_the_file_the_row_and_the_cell),
        cmocka_unit_test(form_number_cells_get_their_leading_zeros_back),
        cmocka_unit_test(form_with_a_moved_column_or_a_missing_label_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
