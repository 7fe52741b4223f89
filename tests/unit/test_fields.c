/*
 * test_fields.c — the field table (domain/fields.c) gives one answer on every path: each numbered
 * case is a raw value of one field that goes through the form path (field_check as the web forms
 * call it), a CSV built here and parsed by inst_import_parse_csv, and an xlsx form written by
 * inst_import_form_xlsx_filled and parsed; all three must give the same normalised value or the
 * same reason (the files add only their location). Cases 29– are the character rule: a line
 * break or tab becomes a space on every path, every other control character and every bidi
 * control is refused with one sentence naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/fields.h"
#include "domain/ids.h"
#include "domain/inst_import.h"
#include "util/arena.h"
#include "util/str.h"

#define GOOD_CODE "1312345679" /* 13-1-2345679 with a valid check digit (asserted below) */

typedef struct field_case {
    int number;
    field_id id;
    const char *raw;
    const char *value;  /* expected normalised value; NULL: refused (or empty optional) */
    const char *reason; /* part of the expected reason; NULL: accepted */
} field_case;

static char long_name[301 * 3 + 1];

static const field_case CASES[] = {
    {1, FIELD_INST_CODE, "13-1-2345679", GOOD_CODE, NULL},
    {2, FIELD_INST_CODE, GOOD_CODE, GOOD_CODE, NULL},
    {3, FIELD_INST_CODE, "１３１２３４５６７９", GOOD_CODE, NULL},
    {4, FIELD_INST_CODE, "13 1 2345679", GOOD_CODE, NULL},
    {5, FIELD_INST_CODE, "1312345670", NULL, "検査数字"},
    {6, FIELD_INST_CODE, "110000031", "0110000031", NULL}, /* leading 0 lost, check digit agrees */
    {7, FIELD_INST_CODE, "12345", NULL, "10桁"},
    {8, FIELD_INST_CODE, "", NULL, "入力されていません"},
    {9, FIELD_NAME_KANA, "やまだ たろう", "ヤマダ タロウ", NULL},
    {10, FIELD_NAME_KANA, "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ", NULL},
    {11, FIELD_NAME_KANA, "Yamada Taro", NULL, "全角カタカナ"},
    {12, FIELD_EMAIL, "not-an-email", NULL, "メールアドレスの形式"},
    {13, FIELD_EMAIL, "Taro@Example.JP", "Taro@example.jp", NULL},
    {14, FIELD_EMAIL, "", NULL, NULL}, /* optional for institution users */
    {15, FIELD_NAME, NULL /* long_name */, NULL, "100文字以内"},
    {16, FIELD_NAME, "山田　太郎", "山田 太郎", NULL},
    {17, FIELD_CATEGORY, "難病", "nanbyo", NULL},
    {18, FIELD_CATEGORY, "小慢", "shoman", NULL},
    {19, FIELD_CATEGORY, "難病・小慢", "both", NULL},
    {20, FIELD_CATEGORY, "両方", "both", NULL},
    {21, FIELD_CATEGORY, "その他", NULL, "「難病」「小慢」「両方」"},
    {22, FIELD_INST_POSTAL, "〒100-0001", "100-0001", NULL},
    {23, FIELD_INST_POSTAL, "１０００００１", "100-0001", NULL},
    {24, FIELD_INST_POSTAL, "1000", NULL, "郵便番号"},
    {25, FIELD_INST_PHONE, "０３－１２３４－５６７８", "03-1234-5678", NULL},
    {26, FIELD_DOCTOR_NUMBER, "", NULL, "指定医番号を入力してください"},
    {27, FIELD_DOCTOR_NUMBER, "ＡＢ－１２", "AB-12", NULL},
    {28, FIELD_SPECIALTY, "内科", "内科", NULL},
    /* the character rule: a line break or a tab becomes a space on every path ... */
    {29, FIELD_INST_NAME, "さくら\n記念病院", "さくら 記念病院", NULL},
    {30, FIELD_INST_NAME, "さくら\r\n記念病院", "さくら 記念病院", NULL},
    {31, FIELD_INST_NAME, "さくら\t記念病院", "さくら 記念病院", NULL},
    {32, FIELD_NAME, "山田\r太郎", "山田 太郎", NULL},
    /* ... every other control character and every bidi control is refused, naming the field */
    {33, FIELD_INST_NAME, "さくら\xE2\x80\xAE院病念記", NULL, "医療機関名に使用できない文字（U+202E）"},
    {34, FIELD_NAME, "山田\x01太郎", NULL, "氏名に使用できない文字（U+0001）"},
    {35, FIELD_NAME, "山田\x1B[31m太郎", NULL, "氏名に使用できない文字（U+001B）"},
    {36, FIELD_NAME, "山田\x7F太郎", NULL, "氏名に使用できない文字（U+007F）"},
    {37, FIELD_NAME, "山田\xC2\x85太郎", NULL, "氏名に使用できない文字（U+0085）"},
    {38, FIELD_NAME, "山田\xC2\x9B太郎", NULL, "氏名に使用できない文字（U+009B）"},
    {39, FIELD_NAME, "山田\xE2\x80\x8F太郎", NULL, "氏名に使用できない文字（U+200F）"},
    {40, FIELD_NAME, "\xE2\x80\x8E山田太郎", NULL, "氏名に使用できない文字（U+200E）"},
    {41, FIELD_NAME, "山田\xE2\x80\xA8太郎", NULL, "氏名に使用できない文字（U+2028）"},
    {42, FIELD_NAME_KANA, "ヤマダ\xE2\x81\xA6タロウ", NULL, "氏名カナに使用できない文字（U+2066）"},
    {43, FIELD_SPECIALTY, "内科\xE2\x81\xA9", NULL, "診療科に使用できない文字（U+2069）"},
    {44, FIELD_INST_ADDRESS, "東京都\xE2\x80\xAA千代田区", NULL, "医療機関所在地に使用できない文字（U+202A）"},
    {45, FIELD_INST_CODE, "1312345679\xE2\x80\xAE", NULL, "医療機関コードに使用できない文字（U+202E）"},
    {46, FIELD_CATEGORY, "難病\xD8\x9C", NULL, "難病/小慢に使用できない文字（U+061C）"},
    {47, FIELD_EMAIL, "taro\xE2\x80\x8E@example.jp", NULL, "メールアドレスに使用できない文字（U+200E）"},
    {48, FIELD_INST_PHONE, "03-1234-5678\x08", NULL, "医療機関電話番号に使用できない文字（U+0008）"},
    {49, FIELD_NAME, "山田\xE2\x80\x8D太郎", "山田\xE2\x80\x8D太郎", NULL}, /* ZWJ is no control */
};
#define CASE_COUNT (sizeof CASES / sizeof CASES[0])

static char tmpdir[] = "/tmp/nsdb-test-fields-XXXXXX";

static const char *raw_of(const field_case *c)
{
    return c->raw ? c->raw : long_name;
}

/* The flags of the 個別登録 form for a 指定医. */
static unsigned form_flags(field_id id)
{
    return id == FIELD_EMAIL ? FIELD_OPTIONAL : id == FIELD_DOCTOR_NUMBER ? FIELD_REQUIRED : 0;
}

typedef struct answer {
    const char *value, *reason;
} answer;

static void assert_answer(const field_case *c, const char *path, answer got)
{
    if (c->reason == NULL) {
        if (got.reason != NULL)
            fail_msg("case %d (%s): refused: %s", c->number, path, got.reason);
        if (c->value == NULL ? got.value != NULL : got.value == NULL || strcmp(got.value, c->value))
            fail_msg("case %d (%s): \"%s\", want \"%s\"", c->number, path,
                     got.value ? got.value : "(null)", c->value ? c->value : "(null)");
    } else if (got.reason == NULL || strstr(got.reason, c->reason) == NULL) {
        fail_msg("case %d (%s): reason \"%s\", want one with \"%s\"", c->number, path,
                 got.reason ? got.reason : "(accepted)", c->reason);
    }
}

static answer form_path(arena *a, const field_case *c)
{
    answer r = {NULL, NULL};
    r.reason = field_check(a, c->id, raw_of(c), form_flags(c->id), &r.value);
    return r;
}

/* The value of c's field in a parsed row. */
static const char *row_value(const inst_import_row *row, field_id id)
{
    static const struct {
        field_id id;
        size_t offset;
    } COLUMNS[] = {{FIELD_INST_CODE, offsetof(inst_import_row, inst_code)},
                   {FIELD_INST_NAME, offsetof(inst_import_row, inst_name)},
                   {FIELD_INST_ADDRESS, offsetof(inst_import_row, inst_address)},
                   {FIELD_INST_POSTAL, offsetof(inst_import_row, inst_postal)},
                   {FIELD_INST_PHONE, offsetof(inst_import_row, inst_phone)},
                   {FIELD_NAME, offsetof(inst_import_row, name)},
                   {FIELD_NAME_KANA, offsetof(inst_import_row, name_kana)},
                   {FIELD_CATEGORY, offsetof(inst_import_row, category)},
                   {FIELD_DOCTOR_NUMBER, offsetof(inst_import_row, doctor_number)},
                   {FIELD_SPECIALTY, offsetof(inst_import_row, specialty)},
                   {FIELD_EMAIL, offsetof(inst_import_row, email)}};
    for (size_t i = 0; i < sizeof COLUMNS / sizeof COLUMNS[0]; i++)
        if (COLUMNS[i].id == id)
            return *(const char *const *)(const void *)((const char *)row + COLUMNS[i].offset);
    fail_msg("no column for field %d", (int)id);
    return NULL;
}

/* The answer of a parse: the row's value, or the reason of the one error (which must be about
 * the field's column and carry the same reason after its location). */
static answer file_answer(const inst_import *imp, const field_case *c, size_t row)
{
    answer r = {NULL, NULL};
    if (imp->error_count == 0) {
        assert_true(imp->row_count > row);
        r.value = row_value(&imp->rows[row], c->id);
        return r;
    }
    if (imp->error_count != 1)
        fail_msg("case %d: %zu errors, first: %s", c->number, imp->error_count,
                 imp->errors[0].message);
    const inst_import_error *e = &imp->errors[0];
    assert_non_null(strstr(e->message, e->reason));
    r.reason = e->reason;
    return r;
}

static answer csv_path(arena *a, const field_case *c)
{
    const char *cells[INST_IMPORT_COLUMN_COUNT] = {
        GOOD_CODE, "さくら記念病院", "100-0001", "東京都千代田区千代田1-1", "03-1234-5678",
        "指定医",  "山田 太郎",      "ヤマダ タロウ", "難病", "D-0001", "内科",
        "taro.yamada@example.jp",
    };
    cells[c->id] = raw_of(c); /* the CSV columns are the fields 0 .. 11 */
    strbuf sb = STRBUF_INIT;
    for (unsigned i = 0; i < INST_IMPORT_COLUMN_COUNT; i++) {
        strbuf_puts(&sb, inst_import_header(i));
        strbuf_puts(&sb, i + 1 < INST_IMPORT_COLUMN_COUNT ? "," : "\r\n");
    }
    for (unsigned i = 0; i < INST_IMPORT_COLUMN_COUNT; i++) {
        strbuf_putc(&sb, '"');
        strbuf_puts(&sb, cells[i]);
        strbuf_puts(&sb, i + 1 < INST_IMPORT_COLUMN_COUNT ? "\"," : "\"\r\n");
    }
    inst_import imp;
    nsdb_err e = inst_import_parse_csv(sb.data, sb.len, a, &imp);
    assert_int_equal(e, imp.error_count > 0 ? NSDB_ERR_INVALID : NSDB_OK);
    strbuf_free(&sb);
    if (imp.error_count == 1)
        assert_int_equal(imp.errors[0].column, (unsigned)c->id + 1);
    return file_answer(&imp, c, 0);
}

static answer xlsx_path(arena *a, const field_case *c)
{
    inst_import_form_doctor doctors[2] = {
        {"鈴木 花子", "スズキ ハナコ", "難病", "M-0001", "内科", NULL},
        {"山田 太郎", "ヤマダ タロウ", "難病", "D-0001", "内科", "taro.yamada@example.jp"},
    };
    inst_import_form_data d = {GOOD_CODE, "さくら記念病院", "100-0001", "東京都千代田区千代田1-1",
                               "03-1234-5678", doctors, 2};
    const char *raw = raw_of(c);
    inst_import_form_doctor *doc = &doctors[1]; /* a 指定医: the doctor number is required */
    const char **cell = c->id == FIELD_INST_CODE        ? &d.inst_code
                        : c->id == FIELD_INST_NAME      ? &d.inst_name
                        : c->id == FIELD_INST_ADDRESS   ? &d.inst_address
                        : c->id == FIELD_INST_POSTAL    ? &d.inst_postal
                        : c->id == FIELD_INST_PHONE     ? &d.inst_phone
                        : c->id == FIELD_NAME           ? &doc->name
                        : c->id == FIELD_NAME_KANA      ? &doc->name_kana
                        : c->id == FIELD_CATEGORY       ? &doc->category
                        : c->id == FIELD_DOCTOR_NUMBER  ? &doc->doctor_number
                        : c->id == FIELD_SPECIALTY      ? &doc->specialty
                        : c->id == FIELD_EMAIL          ? &doc->email
                                                        : NULL;
    if (cell == NULL)
        fail_msg("case %d: no cell for field %d", c->number, (int)c->id);
    *cell = raw;
    char path[600];
    snprintf(path, sizeof path, "%s/case%d.xlsx", tmpdir, c->number);
    assert_int_equal(inst_import_form_xlsx_filled(path, &d), NSDB_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc(len);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, len, f), len);
    fclose(f);
    unlink(path);
    inst_import imp;
    nsdb_err e = inst_import_parse_xlsx(data, len, "case.xlsx", NULL, a, &imp);
    free(data);
    assert_int_equal(e, imp.error_count > 0 ? NSDB_ERR_INVALID : NSDB_OK);
    /* the 責任者 with a 指定医番号 is two rows (責任者 and 指定医, issue 12 item 7): 山田 is the third */
    return file_answer(&imp, c, 2);
}

static void the_code_typed_in_groups_is_a_valid_code(void **state)
{
    (void)state;
    assert_true(ids_institution_code_valid(GOOD_CODE));
    assert_true(ids_institution_code_valid("0110000031"));
}

static void form_csv_and_xlsx_give_the_same_answer(void **state)
{
    (void)state;
    for (size_t i = 0; i < CASE_COUNT; i++) {
        const field_case *c = &CASES[i];
        arena *a = arena_new();
        answer form = form_path(a, c), csv = csv_path(a, c), xlsx = xlsx_path(a, c);
        assert_answer(c, "form", form);
        assert_answer(c, "csv", csv);
        assert_answer(c, "xlsx", xlsx);
        /* the same sentence, not only the same gist */
        if (form.reason != NULL) {
            assert_string_equal(csv.reason, form.reason);
            assert_string_equal(xlsx.reason, form.reason);
        }
        arena_free(a);
    }
}

static void required_and_optional_depend_on_the_flags(void **state)
{
    (void)state;
    arena *a = arena_new();
    const char *out = "x";
    /* e-mail: required for municipal users, optional for institution users */
    assert_non_null(field_check(a, FIELD_EMAIL, "", 0, &out));
    assert_null(field_check(a, FIELD_EMAIL, " ", FIELD_OPTIONAL, &out));
    assert_null(out);
    /* 指定医番号: required for a doctor only */
    assert_null(field_check(a, FIELD_DOCTOR_NUMBER, "", 0, &out));
    assert_non_null(field_check(a, FIELD_DOCTOR_NUMBER, "", FIELD_REQUIRED, &out));
    /* a number cell lost the leading zeros of a postal code and a phone number */
    assert_null(field_check(a, FIELD_POSTAL, "10001", FIELD_FROM_NUMBER, &out));
    assert_string_equal(out, "001-0001");
    assert_non_null(field_check(a, FIELD_POSTAL, "10001", 0, &out));
    assert_null(field_check(a, FIELD_PHONE, "312345678", FIELD_FROM_NUMBER, &out));
    assert_string_equal(out, "0312345678");
    arena_free(a);
}

static void the_table_names_every_field_once(void **state)
{
    (void)state;
    for (int i = 0; i < FIELD_COUNT; i++) {
        const field_def *f = field_get((field_id)i);
        assert_int_equal(f->id, i);
        assert_non_null(f->name);
        assert_non_null(f->label);
        assert_non_null(f->check);
        assert_ptr_equal(field_find(f->name), f);
        if (f->required)
            assert_non_null(f->if_empty);
    }
    assert_null(field_find("no_such_field"));
    /* what a CLI `user add` needs */
    static const char *const CLI[] = {"name", "name_kana", "email", "department", "category",
                                      "municipality_code"};
    for (size_t i = 0; i < sizeof CLI / sizeof CLI[0]; i++)
        assert_non_null(field_find(CLI[i]));
    arena *a = arena_new();
    assert_string_equal(field_search_key(a, "山田 太郎", "ﾔﾏﾀﾞ ﾀﾛｳ"),
                        field_search_key(a, "山田太郎", "やまだ たろう"));
    arena_free(a);
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < 300; i++)
        memcpy(long_name + i * 3, "山", 3); /* 300 characters (the limit is 100) */
    long_name[300 * 3] = '\0';
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_code_typed_in_groups_is_a_valid_code),
        cmocka_unit_test(form_csv_and_xlsx_give_the_same_answer),
        cmocka_unit_test(required_and_optional_depend_on_the_flags),
        cmocka_unit_test(the_table_names_every_field_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
