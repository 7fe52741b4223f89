/*
 * test_inst_import_result.c — what domain/inst_import_result.c does with the rows of 一括登録:
 * the checks across rows (one institution code with two names, postal codes or addresses; the
 * same person twice; two 責任者), the error cap with its summary, the file named in every
 * sentence, and merging several files (CSV and xlsx forms) with the same checks and cap over all
 * of them, within one request budget of bytes and lines (upload_limits.h). Every fixture is made
 * at run time (inst_import_rows.h).
 */
#include "inst_import_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/inst_import.h"
#include "util/arena.h"
#include "util/str.h"

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

/* n rows of different people, each with a bad e-mail and the first short_phones also with a
   phone number that is too short: many errors (names in a). */
static csv_row *rows_with_bad_emails(arena *a, int n, int short_phones)
{
    csv_row *rows = calloc((size_t)n, sizeof *rows);
    assert_non_null(rows);
    for (int i = 0; i < n; i++) {
        good_row(rows[i]);
        rows[i][C_NAME] = arena_printf(a, "人%d", i);
        rows[i][C_EMAIL] = "bad";
        if (i < short_phones)
            rows[i][C_PHONE] = "1";
    }
    return rows;
}

static void caps_errors_and_summarises_the_rest(void **state)
{
    (void)state;
    arena *a = arena_new();
    enum { ROWS = 1100 };
    csv_row *rows = rows_with_bad_emails(a, ROWS, 50);
    inst_import imp;
    assert_int_equal(parse_rows(a, rows, ROWS, &imp), NSDB_ERR_INVALID);
    free(rows);
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
    assert_int_equal(inst_import_parse_file(csv, len, "c.csv", NULL, a, &one), NSDB_OK);
    assert_int_equal(inst_import_merge(&all, &one, a), NSDB_ERR_INVALID);
    free(csv);

    print_errors(&all);
    assert_int_equal(all.file_count, 3);
    assert_string_equal(all.files[2], "c.csv");
    /* each form's first person is both 責任者 and 指定医 (two rows) */
    assert_int_equal(all.row_count, 8);
    assert_int_equal(all.rows[7].file, 2);
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
    assert_int_equal(inst_import_parse_file(bytes, len_b, "renamed.csv", NULL, a, &one), NSDB_OK);
    assert_int_equal(one.row_count, 3);
    free(bytes);
    arena_free(a);
}

static void merge_keeps_the_error_cap_over_files(void **state)
{
    (void)state;
    arena *a = arena_new();
    enum { ROWS = 700 };
    csv_row *rows = rows_with_bad_emails(a, ROWS, 0);
    size_t len;
    char *text = csv_text(rows, ROWS, "\n", &len);
    free(rows);
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

/* The files of one request share its budget: a CSV takes its bytes and lines before it is read,
 * and a file that does not fit is refused with the limit's message, as is every later file. */
static void csv_files_share_the_request_budget(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row rows[3];
    for (int i = 0; i < 3; i++)
        good_row(rows[i]);
    rows[1][C_NAME] = "医師 二郎";
    rows[2][C_NAME] = "医師 三郎";
    size_t len;
    char *text = csv_text((const csv_row *)rows, 3, "\r\n", &len); /* header + 3 rows */
    upload_budget budget = upload_budget_for_request();
    inst_import one;
    memset(&one, 0, sizeof one);
    assert_int_equal(inst_import_parse_file(text, len, "a.csv", &budget, a, &one), NSDB_OK);
    assert_int_equal(one.row_count, 3);
    assert_int_equal(UPLOAD_MAX_UNPACKED_BYTES - budget.bytes_left, len);
    assert_int_equal(UPLOAD_MAX_ROWS - budget.rows_left, 5); /* 4 line ends, then the end */
    assert_null(budget.exceeded);

    budget.rows_left = 4; /* the next file has 5 lines */
    memset(&one, 0, sizeof one);
    assert_int_equal(inst_import_parse_file(text, len, "b.csv", &budget, a, &one),
                     NSDB_ERR_TOO_LARGE);
    assert_ptr_equal(budget.exceeded, UPLOAD_MSG_TOO_MANY_ROWS);
    assert_int_equal(one.row_count, 0); /* refused before it was read */
    assert_int_equal(budget.rows_left, 4);

    budget = upload_budget_for_request();
    budget.bytes_left = len - 1;
    assert_int_equal(inst_import_parse_file(text, len, "c.csv", &budget, a, &one),
                     NSDB_ERR_TOO_LARGE);
    assert_ptr_equal(budget.exceeded, UPLOAD_MSG_TOO_MANY_BYTES);
    free(text);
    arena_free(a);
}

/* Issue 12 item 5: rows of one institution compare name and address as the master does
   (inst_master.h): 「千代田１丁目１番」 is 「千代田1-1」, a leading prefecture does not matter. */
static void rows_compare_the_institution_as_the_master_does(void **state)
{
    (void)state;
    arena *a = arena_new();
    csv_row rows[4];
    const char *names[] = {"一 人", "二 人", "三 人", "四 人"};
    for (int i = 0; i < 4; i++) {
        good_row(rows[i]);
        rows[i][C_NAME] = names[i];
    }
    rows[1][C_ADDRESS] = "千代田区千代田１丁目１番";
    rows[2][C_ADDRESS] = "東京都 千代田区千代田1ー1";
    rows[3][C_ADDRESS] = "千代田区千代田1-2"; /* another address */
    inst_import imp;
    assert_int_equal(parse_rows(a, rows, 4, &imp), NSDB_ERR_INVALID);
    const inst_import_error *e = only_error(&imp, 5, 4);
    assert_contains(e->reason, "所在地が、2行目");
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reports_an_institution_with_two_names_on_the_later_row),
        cmocka_unit_test(rows_compare_the_institution_as_the_master_does),
        cmocka_unit_test(reports_the_same_person_twice_naming_the_earlier_row),
        cmocka_unit_test(reports_a_second_manager_of_one_institution),
        cmocka_unit_test(caps_errors_and_summarises_the_rest),
        cmocka_unit_test(names_the_file_in_messages),
        cmocka_unit_test(merge_applies_the_checks_across_files),
        cmocka_unit_test(merge_keeps_the_error_cap_over_files),
        cmocka_unit_test(csv_files_share_the_request_budget),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
