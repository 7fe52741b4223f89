/*
 * test_csv.c — the RFC 4180 reader (domain/csv.c) against the csv-spectrum data from npm and
 * against line-break and quoting cases of its own.
 */
#include "test_support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "domain/csv.h"

#define SPECTRUM "node_modules/csv-spectrum"

/* Compares one csv-spectrum file with its JSON (an array of objects keyed by the header). */
static void check_spectrum_file(const char *name)
{
    char path[512];
    size_t len = 0;
    snprintf(path, sizeof path, SPECTRUM "/csvs/%s.csv", name);
    char *data = test_slurp_maybe(path, &len);
    assert_non_null(data);
    csv_reader *r = csv_reader_new(data, len);
    if (strcmp(name, "location_coordinates") == 0) {
        /* 37�36'37.8"N: a quote inside an unquoted field, which RFC 4180 (2.5) forbids and we
         * refuse on purpose (csv-spectrum's JSON for this file is itself wrong: upstream issues
         * max-mapper/csv-spectrum#20 and #22). */
        assert_true(csv_reader_next_row(r));
        assert_false(csv_reader_next_row(r));
        assert_non_null(csv_reader_error(r));
        assert_int_equal(csv_reader_record(r), 2);
        assert_int_equal(csv_reader_error_column(r), 2);
        csv_reader_free(r);
        free(data);
        return;
    }
    snprintf(path, sizeof path, SPECTRUM "/json/%s.json", name);
    json_error_t jerr;
    json_t *want = json_load_file(path, 0, &jerr);
    if (want == NULL)
        fail_msg("%s: %s", path, jerr.text);
    assert_true(json_is_array(want));

    assert_true(csv_reader_next_row(r));
    size_t columns = csv_reader_field_count(r);
    char **header = calloc(columns, sizeof *header);
    for (size_t i = 0; i < columns; i++)
        header[i] = strdup(csv_reader_field(r, i));
    size_t n = 0;
    while (csv_reader_next_row(r)) {
        assert_true(n < json_array_size(want));
        json_t *obj = json_array_get(want, n);
        assert_int_equal(csv_reader_field_count(r), json_object_size(obj));
        for (size_t i = 0; i < columns; i++) {
            const char *expected = json_string_value(json_object_get(obj, header[i]));
            assert_non_null(expected);
            if (strcmp(csv_reader_field(r, i), expected) != 0)
                fail_msg("%s record %zu field %s: \"%s\", want \"%s\"", name, n + 2, header[i],
                         csv_reader_field(r, i), expected);
            assert_int_equal(csv_reader_field_length(r, i), strlen(expected));
        }
        n++;
    }
    assert_null(csv_reader_error(r));
    assert_int_equal(n, json_array_size(want));
    for (size_t i = 0; i < columns; i++)
        free(header[i]);
    free(header);
    json_decref(want);
    csv_reader_free(r);
    free(data);
}

static void reader_matches_csv_spectrum(void **state)
{
    (void)state;
    DIR *dir = opendir(SPECTRUM "/csvs");
    if (dir == NULL) {
        print_message("node_modules/csv-spectrum is missing (npm install): skipping\n");
        skip();
    }
    size_t files = 0;
    struct dirent *d;
    while ((d = readdir(dir)) != NULL) {
        size_t n = strlen(d->d_name);
        if (n < 5 || strcmp(d->d_name + n - 4, ".csv") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(n - 4), d->d_name);
        check_spectrum_file(name);
        files++;
    }
    closedir(dir);
    assert_true(files >= 12);
}

static void reader_counts_records_not_lines_across_quoted_line_breaks(void **state)
{
    (void)state;
    const char data[] = "a,b\r\n\"x\r\ny\",2\n\"p\nq\rr\",3\nlast,\"4\"";
    csv_reader *r = csv_reader_new(data, sizeof data - 1);
    static const struct {
        unsigned record, line;
        const char *a, *b;
    } want[] = {{1, 1, "a", "b"}, {2, 2, "x\r\ny", "2"}, {3, 4, "p\nq\rr", "3"}, {4, 7, "last", "4"}};
    for (size_t i = 0; i < 4; i++) {
        assert_true(csv_reader_next_row(r));
        assert_int_equal(csv_reader_record(r), want[i].record);
        assert_int_equal(csv_reader_line(r), want[i].line);
        assert_int_equal(csv_reader_field_count(r), 2);
        assert_string_equal(csv_reader_field(r, 0), want[i].a);
        assert_string_equal(csv_reader_field(r, 1), want[i].b);
    }
    assert_false(csv_reader_next_row(r));
    assert_null(csv_reader_error(r));
    csv_reader_free(r);
}

static void reader_accepts_lf_crlf_cr_and_no_final_line_end(void **state)
{
    (void)state;
    const char data[] = "\xEF\xBB\xBF" "a\nb\r\nc\rd,\"e,\"\"f\"\"\",";
    csv_reader *r = csv_reader_new(data, sizeof data - 1);
    const char *firsts[] = {"a", "b", "c", "d"};
    for (size_t i = 0; i < 4; i++) {
        assert_true(csv_reader_next_row(r));
        assert_string_equal(csv_reader_field(r, 0), firsts[i]);
    }
    assert_int_equal(csv_reader_field_count(r), 3);
    assert_string_equal(csv_reader_field(r, 1), "e,\"f\"");
    assert_string_equal(csv_reader_field(r, 2), "");
    assert_false(csv_reader_next_row(r));
    assert_null(csv_reader_error(r));
    csv_reader_free(r);

    /* empty lines are records of one empty field; nothing at all is no record */
    r = csv_reader_new("\n\n", 2);
    assert_true(csv_reader_next_row(r));
    assert_int_equal(csv_reader_field_count(r), 1);
    assert_string_equal(csv_reader_field(r, 0), "");
    assert_true(csv_reader_next_row(r));
    assert_false(csv_reader_next_row(r));
    csv_reader_free(r);
    r = csv_reader_new("", 0);
    assert_false(csv_reader_next_row(r));
    assert_null(csv_reader_error(r));
    csv_reader_free(r);
}

static void reader_reports_bad_quoting_with_record_and_column(void **state)
{
    (void)state;
    static const struct {
        const char *data;
        size_t len;
        unsigned record, column;
        const char *part;
    } cases[] = {
        {"a,b\n1,x\"y\n", 0, 2, 2, "囲まれていない項目の中に"},
        {"a,b\n\"1\"x,2\n", 0, 2, 1, "閉じる「\"」の後に文字"},
        {"a,b\n1,\"open\nstill\n", 0, 2, 2, "ファイルの2行目から"},
        {"a,b\n\"q\nq\",2\n3,\"never\n", 0, 3, 2, "ファイルの4行目から"},
        {"a,b\n1,x\0y\n", 10, 2, 2, "NUL"}, /* len 0: up to the NUL */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].data);
        csv_reader *r = csv_reader_new(cases[i].data, len);
        while (csv_reader_next_row(r))
            ;
        assert_non_null(csv_reader_error(r));
        assert_int_equal(csv_reader_record(r), cases[i].record);
        assert_int_equal(csv_reader_error_column(r), cases[i].column);
        assert_contains(csv_reader_error(r), cases[i].part);
        assert_false(csv_reader_next_row(r));
        csv_reader_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reader_matches_csv_spectrum),
        cmocka_unit_test(reader_counts_records_not_lines_across_quoted_line_breaks),
        cmocka_unit_test(reader_accepts_lf_crlf_cr_and_no_final_line_end),
        cmocka_unit_test(reader_reports_bad_quoting_with_record_and_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
