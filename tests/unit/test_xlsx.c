/*
 * test_xlsx.c — the .xlsx reader (domain/xlsx.c) on workbooks made here at run time: by
 * libxlsxwriter (shared strings, rich text, numbers, booleans, formula results; inline strings
 * in constant-memory mode), by hand with libzip (inline strings, phonetic guides, unusual part
 * names and relationship targets, numbers written as Excel and LibreOffice write them), and by
 * LibreOffice itself (soffice --convert-to xlsx; skipped with a message when soffice is absent).
 * The hostile cases — random bytes, CSV, truncated zips, zips without a workbook, DTDs, a zip
 * bomb, too many rows, mutated bytes — must end in a Japanese message, never in a crash. The
 * request budget (upload_limits.h): a workbook of millions of empty shared strings is refused
 * quickly and in bounded memory, and several workbooks read with one budget share it.
 */
#include "test_support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xlsxwriter.h>
#include <zip.h>

#include "domain/xlsx.h"

static char tmpdir[] = "/tmp/nsdb-test-xlsx-XXXXXX";

/* ---- fixtures ---------------------------------------------------------------------------- */

TEST_TMPDIR_FIXTURES(tmpdir)

static char *path_in_tmp(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

typedef struct part {
    const char *name;
    const char *data;
    size_t len; /* 0: strlen(data) */
} part;

/* Writes a zip of the given parts to path and returns its bytes. */
static char *zip_parts(const char *path, const part *parts, size_t count, size_t *len)
{
    int zerr;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    for (size_t i = 0; i < count; i++) {
        size_t n = parts[i].len ? parts[i].len : strlen(parts[i].data);
        zip_source_t *src = zip_source_buffer(z, parts[i].data, n, 0);
        assert_non_null(src);
        assert_true(zip_file_add(z, parts[i].name, src, ZIP_FL_ENC_UTF_8) >= 0);
    }
    assert_int_equal(zip_close(z), 0);
    return test_slurp(path, len);
}

static const char CONTENT_TYPES[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
    "</Types>";
static const char ROOT_RELS[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/>"
    "</Relationships>";
/* Two sheets; the first in workbook order is rId7 → data.xml (not sheet1.xml). */
static const char WORKBOOK[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
    "<sheets><sheet name=\"申請\" sheetId=\"2\" r:id=\"rId7\"/>"
    "<sheet name=\"other\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
static const char WORKBOOK_RELS[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId7\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"/xl/worksheets/data.xml\"/>"
    "<Relationship Id=\"rId9\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"strings/../sharedStrings.xml\"/>"
    "</Relationships>";
static const char SHARED_STRINGS[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"3\" uniqueCount=\"3\">"
    "<si><t>札幌市</t></si>"
    "<si><r><rPr><b/></rPr><t>難病</t></r><r><t xml:space=\"preserve\">・小慢 </t></r>"
    "<rPh sb=\"0\" eb=\"2\"><t>ナンビョウ</t></rPh><phoneticPr fontId=\"1\"/></si>"
    "<si><t>a_x000D_b_x005F_x0041_</t></si>"
    "</sst>";
static const char OTHER_SHEET[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
    "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>wrong sheet</t></is></c></row>"
    "</sheetData></worksheet>";
/* Inline strings with runs and phonetic guides; numbers as Excel and LibreOffice write them;
 * cells without r; a row without r; an empty row; shared strings; booleans; errors; formulas. */
static const char DATA_SHEET[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<x:worksheet xmlns:x=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><x:sheetData>"
    "<x:row r=\"2\"><x:c r=\"A2\" t=\"inlineStr\"><x:is><x:t>No</x:t></x:is></x:c>"
    "<x:c r=\"C2\" t=\"inlineStr\"><x:is><x:r><x:t>山田</x:t></x:r><x:r><x:t xml:space=\"preserve\"> 太郎</x:t></x:r>"
    "<x:rPh sb=\"0\" eb=\"2\"><x:t>ヤマダ</x:t></x:rPh></x:is></x:c>"
    "<x:c r=\"B2\" t=\"s\"><x:v>0</x:v></x:c></x:row>"
    "<x:row r=\"3\"><x:c r=\"A3\"><x:v>1.31016E5</x:v></x:c><x:c r=\"B3\" t=\"n\"><x:v>131016.0</x:v></x:c>"
    "<x:c r=\"C3\"><x:v>0.25</x:v></x:c><x:c r=\"D3\"><x:v>-0</x:v></x:c><x:c r=\"E3\"><x:v>1E+20</x:v></x:c>"
    "<x:c r=\"F3\"><x:v>11002</x:v></x:c></x:row>"
    "<x:row r=\"4\" spans=\"1:3\"/>"
    "<x:row><x:c t=\"b\"><x:v>1</x:v></x:c><x:c t=\"b\"><x:v>0</x:v></x:c><x:c t=\"e\"><x:v>#N/A</x:v></x:c>"
    "<x:c t=\"str\"><x:f>CONCAT(\"a\",\"b\")</x:f><x:v>ab</x:v></x:c><x:c t=\"s\"><x:v>1</x:v></x:c>"
    "<x:c t=\"s\"><x:v>2</x:v></x:c><x:c/><x:c><x:f>1+1</x:f></x:c><x:c t=\"inlineStr\"><x:is><x:t/></x:is></x:c>"
    "<x:c r=\"AB5\" t=\"inlineStr\"><x:is><x:t>far</x:t></x:is></x:c></x:row>"
    "</x:sheetData></x:worksheet>";

static const part HANDMADE[] = {
    {"[Content_Types].xml", CONTENT_TYPES, 0},
    {"_rels/.rels", ROOT_RELS, 0},
    {"xl/workbook.xml", WORKBOOK, 0},
    {"xl/_rels/workbook.xml.rels", WORKBOOK_RELS, 0},
    {"xl/sharedStrings.xml", SHARED_STRINGS, 0},
    {"xl/worksheets/sheet1.xml", OTHER_SHEET, 0},
    {"xl/worksheets/data.xml", DATA_SHEET, 0},
};
enum { HANDMADE_COUNT = sizeof HANDMADE / sizeof HANDMADE[0] };

/* A workbook with HANDMADE's parts but the sheet replaced by sheet_xml. */
static char *zip_with_sheet(const char *name, const char *sheet_xml, size_t sheet_len, size_t *len)
{
    part parts[HANDMADE_COUNT];
    memcpy(parts, HANDMADE, sizeof parts);
    parts[HANDMADE_COUNT - 1].data = sheet_xml;
    parts[HANDMADE_COUNT - 1].len = sheet_len;
    return zip_parts(path_in_tmp(name), parts, HANDMADE_COUNT, len);
}

/* The libxlsxwriter workbook most tests share. */
static void write_libxlsxwriter_book(const char *path, bool constant_memory)
{
    lxw_workbook_options options = {.constant_memory = constant_memory};
    lxw_workbook *wb = workbook_new_opt(path, &options);
    assert_non_null(wb);
    lxw_worksheet *first = workbook_add_worksheet(wb, "申請リスト");
    lxw_worksheet *second = workbook_add_worksheet(wb, "other");
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    worksheet_write_string(first, 0, 0, "管理者権限のユーザID申請リスト", NULL);
    worksheet_write_string(first, 2, 0, "No", NULL);
    worksheet_write_string(first, 2, 1, "地方公共団体コード", NULL);
    worksheet_write_number(first, 3, 0, 1, NULL);
    worksheet_write_number(first, 3, 1, 11002, NULL);
    worksheet_write_string(first, 3, 2, "札幌市", NULL);
    worksheet_write_number(first, 3, 3, 131016, NULL);
    worksheet_write_number(first, 3, 4, 0.5, NULL);
    worksheet_write_boolean(first, 3, 5, 1, NULL);
    worksheet_write_formula_str(first, 3, 6, "=\"a\"&\"b\"", NULL, "ab");
    if (!constant_memory) {
        lxw_rich_string_tuple f1 = {.format = bold, .string = "難病"};
        lxw_rich_string_tuple f2 = {.format = NULL, .string = "・小慢"};
        lxw_rich_string_tuple *rich[] = {&f1, &f2, NULL};
        worksheet_write_rich_string(first, 3, 7, rich, NULL);
    } else {
        worksheet_write_string(first, 3, 7, "難病・小慢", NULL);
    }
    worksheet_write_string(first, 3, 8, "", NULL);
    worksheet_write_string(first, 11, 27, "AB12", NULL);
    worksheet_write_string(second, 0, 0, "second sheet", NULL);
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
}

static void check_libxlsxwriter_book(const xlsx_table *t, bool rich)
{
    assert_int_equal(xlsx_table_rows(t), 4);
    assert_int_equal(xlsx_table_row_number(t, 0), 1);
    assert_string_equal(xlsx_table_cell(t, 0, 0), "管理者権限のユーザID申請リスト");
    assert_int_equal(xlsx_table_row_number(t, 1), 3);
    assert_string_equal(xlsx_table_cell(t, 1, 0), "No");
    assert_string_equal(xlsx_table_cell(t, 1, 1), "地方公共団体コード");
    assert_int_equal(xlsx_table_row_number(t, 2), 4);
    assert_string_equal(xlsx_table_cell(t, 2, 0), "1");
    assert_string_equal(xlsx_table_cell(t, 2, 1), "11002");
    assert_true(xlsx_table_cell_is_number(t, 2, 1));
    assert_string_equal(xlsx_table_cell(t, 2, 2), "札幌市");
    assert_false(xlsx_table_cell_is_number(t, 2, 2));
    assert_string_equal(xlsx_table_cell(t, 2, 3), "131016");
    assert_string_equal(xlsx_table_cell(t, 2, 4), "0.5");
    assert_string_equal(xlsx_table_cell(t, 2, 5), "TRUE");
    assert_string_equal(xlsx_table_cell(t, 2, 6), "ab");
    if (rich)
        assert_string_equal(xlsx_table_cell(t, 2, 7), "難病・小慢");
    assert_null(xlsx_table_cell(t, 2, 8)); /* the empty string is an empty cell */
    assert_null(xlsx_table_cell(t, 2, 9));
    assert_int_equal(xlsx_table_row_number(t, 3), 12);
    assert_string_equal(xlsx_table_cell(t, 3, 27), "AB12");
    assert_null(xlsx_table_cell(t, 3, 26));
    assert_null(xlsx_table_cell(t, 4, 0)); /* past the last row */
}

static xlsx_table *read_ok(const char *data, size_t len)
{
    xlsx_table *t = NULL;
    char *error = NULL;
    nsdb_err err = xlsx_read(data, len, &t, &error);
    if (err != NSDB_OK)
        fail_msg("xlsx_read: %s", error ? error : "(no message)");
    assert_null(error);
    assert_non_null(t);
    return t;
}

/* Reads bytes that must be refused; returns the message (caller frees). */
static char *read_fails(const char *data, size_t len, nsdb_err expected)
{
    xlsx_table *t = (xlsx_table *)1;
    char *error = NULL;
    nsdb_err err = xlsx_read(data, len, &t, &error);
    assert_int_equal(err, expected);
    assert_null(t);
    assert_non_null(error);
    assert_true(strlen(error) > 10);
    return error;
}

/* ---- well-formed workbooks ------------------------------------------------------------------ */

static void reads_libxlsxwriter_shared_strings_numbers_and_formulas(void **state)
{
    (void)state;
    const char *path = path_in_tmp("lxw.xlsx");
    write_libxlsxwriter_book(path, false);
    size_t len;
    char *data = test_slurp(path, &len);
    xlsx_table *t = read_ok(data, len);
    check_libxlsxwriter_book(t, true);
    xlsx_table_free(t);
    free(data);
}

static void reads_libxlsxwriter_inline_strings(void **state)
{
    (void)state;
    const char *path = path_in_tmp("lxw-constant.xlsx");
    write_libxlsxwriter_book(path, true); /* constant memory mode writes t="inlineStr" */
    size_t len;
    char *data = test_slurp(path, &len);
    xlsx_table *t = read_ok(data, len);
    check_libxlsxwriter_book(t, false);
    assert_string_equal(xlsx_table_cell(t, 2, 7), "難病・小慢");
    xlsx_table_free(t);
    free(data);
}

static void follows_relationships_to_the_first_sheet_in_workbook_order(void **state)
{
    (void)state;
    size_t len;
    char *data = zip_parts(path_in_tmp("handmade.xlsx"), HANDMADE, HANDMADE_COUNT, &len);
    xlsx_table *t = read_ok(data, len);
    assert_int_equal(xlsx_table_rows(t), 3); /* row 4 is empty */
    assert_int_equal(xlsx_table_row_number(t, 0), 2);
    assert_string_equal(xlsx_table_cell(t, 0, 0), "No");
    assert_string_equal(xlsx_table_cell(t, 0, 1), "札幌市");
    assert_string_equal(xlsx_table_cell(t, 0, 2), "山田 太郎"); /* runs joined, no furigana */
    xlsx_table_free(t);
    free(data);
}

static void renders_integral_numbers_plainly_and_keeps_other_numbers(void **state)
{
    (void)state;
    size_t len;
    char *data = zip_parts(path_in_tmp("numbers.xlsx"), HANDMADE, HANDMADE_COUNT, &len);
    xlsx_table *t = read_ok(data, len);
    assert_int_equal(xlsx_table_row_number(t, 1), 3);
    assert_string_equal(xlsx_table_cell(t, 1, 0), "131016");
    assert_string_equal(xlsx_table_cell(t, 1, 1), "131016");
    assert_string_equal(xlsx_table_cell(t, 1, 2), "0.25");
    assert_string_equal(xlsx_table_cell(t, 1, 3), "0");
    assert_string_equal(xlsx_table_cell(t, 1, 4), "1E+20");
    assert_string_equal(xlsx_table_cell(t, 1, 5), "11002");
    for (unsigned col = 0; col < 6; col++)
        assert_true(xlsx_table_cell_is_number(t, 1, col));
    xlsx_table_free(t);
    free(data);
}

static void reads_booleans_errors_formulas_rich_text_and_missing_references(void **state)
{
    (void)state;
    size_t len;
    char *data = zip_parts(path_in_tmp("misc.xlsx"), HANDMADE, HANDMADE_COUNT, &len);
    xlsx_table *t = read_ok(data, len);
    assert_int_equal(xlsx_table_row_number(t, 2), 5); /* <row> without r follows row 4 */
    assert_string_equal(xlsx_table_cell(t, 2, 0), "TRUE");
    assert_string_equal(xlsx_table_cell(t, 2, 1), "FALSE");
    assert_string_equal(xlsx_table_cell(t, 2, 2), "#N/A");
    assert_string_equal(xlsx_table_cell(t, 2, 3), "ab");
    assert_false(xlsx_table_cell_is_number(t, 2, 3));
    assert_string_equal(xlsx_table_cell(t, 2, 4), "難病・小慢 ");
    assert_string_equal(xlsx_table_cell(t, 2, 5), "a\rb_x0041_"); /* _xHHHH_ escapes decoded */
    assert_null(xlsx_table_cell(t, 2, 6));                      /* <c/> */
    assert_null(xlsx_table_cell(t, 2, 7));                      /* formula without a result */
    assert_null(xlsx_table_cell(t, 2, 8));                      /* empty inline string */
    assert_string_equal(xlsx_table_cell(t, 2, 27), "far");
    xlsx_table_free(t);
    free(data);
}

static void reads_exactly_the_row_limit(void **state)
{
    (void)state;
    size_t cap = (size_t)XLSX_MAX_ROWS * 64 + 1024, n = 0;
    char *xml = malloc(cap);
    assert_non_null(xml);
    n += (size_t)sprintf(xml + n, "<worksheet><sheetData>");
    for (unsigned r = 1; r <= XLSX_MAX_ROWS; r++)
        n += (size_t)sprintf(xml + n, "<row r=\"%u\"><c r=\"A%u\"><v>%u</v></c></row>", r, r, r);
    n += (size_t)sprintf(xml + n, "</sheetData></worksheet>");
    size_t len;
    char *data = zip_with_sheet("limit.xlsx", xml, n, &len);
    xlsx_table *t = read_ok(data, len);
    assert_int_equal(xlsx_table_rows(t), XLSX_MAX_ROWS);
    assert_string_equal(xlsx_table_cell(t, XLSX_MAX_ROWS - 1, 0), "100000");
    xlsx_table_free(t);
    free(data);

    /* One more row is refused. */
    n -= strlen("</sheetData></worksheet>");
    n += (size_t)sprintf(xml + n, "<row><c><v>1</v></c></row></sheetData></worksheet>");
    data = zip_with_sheet("over-limit.xlsx", xml, n, &len);
    char *error = read_fails(data, len, NSDB_ERR_TOO_LARGE);
    assert_non_null(strstr(error, "100,000"));
    free(error);
    free(data);
    free(xml);
}

static void reads_a_workbook_written_by_libreoffice_from_csv(void **state)
{
    (void)state;
    if (!have_soffice()) {
        print_message("soffice is not installed (apt-get install libreoffice-calc-nogui): "
                      "skipping the LibreOffice-written workbook\n");
        skip();
    }
    const char *csv = path_in_tmp("lo.csv");
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fputs("管理者権限のユーザID申請リスト,,\nNo,地方公共団体コード,地方公共団体名\n"
          "1,011002,札幌市\n2,131016,千代田区\n",
          f);
    fclose(f);
    size_t len;
    char *data = test_slurp(soffice_convert(tmpdir, csv, "lo.xlsx"), &len);
    xlsx_table *t = read_ok(data, len);
    assert_int_equal(xlsx_table_rows(t), 4);
    assert_string_equal(xlsx_table_cell(t, 0, 0), "管理者権限のユーザID申請リスト");
    assert_string_equal(xlsx_table_cell(t, 1, 1), "地方公共団体コード");
    /* LibreOffice reads 011002 as the number 11002: the leading zero is gone. */
    assert_string_equal(xlsx_table_cell(t, 2, 1), "11002");
    assert_true(xlsx_table_cell_is_number(t, 2, 1));
    assert_string_equal(xlsx_table_cell(t, 3, 0), "2");
    assert_string_equal(xlsx_table_cell(t, 3, 2), "千代田区");
    assert_int_equal(xlsx_table_row_number(t, 3), 4);
    xlsx_table_free(t);
    free(data);
}

static void reads_a_libxlsxwriter_workbook_saved_again_by_libreoffice(void **state)
{
    (void)state;
    if (!have_soffice()) {
        print_message("soffice is not installed (apt-get install libreoffice-calc-nogui): "
                      "skipping the LibreOffice-written workbook\n");
        skip();
    }
    const char *path = path_in_tmp("resaved.xlsx");
    write_libxlsxwriter_book(path, false);
    size_t len;
    char *data = test_slurp(soffice_convert(tmpdir, path, "resaved.xlsx"), &len);
    xlsx_table *t = read_ok(data, len);
    check_libxlsxwriter_book(t, true);
    xlsx_table_free(t);
    free(data);
}

/* ---- refused input ------------------------------------------------------------------------- */

static void refuses_bytes_that_are_not_a_zip(void **state)
{
    (void)state;
    char *error = read_fails("", 0, NSDB_ERR_PARSE);
    free(error);
    static const char csv[] = "No,地方公共団体コード\n1,011002\n";
    error = read_fails(csv, sizeof csv - 1, NSDB_ERR_PARSE);
    assert_non_null(strstr(error, "Excel ファイル（.xlsx）として読めません。"));
    free(error);
    unsigned char random[4096];
    srand(42);
    for (size_t i = 0; i < sizeof random; i++)
        random[i] = (unsigned char)rand();
    error = read_fails((const char *)random, sizeof random, NSDB_ERR_PARSE);
    free(error);
    random[0] = 'P'; /* looks like a zip but is not one */
    random[1] = 'K';
    error = read_fails((const char *)random, sizeof random, NSDB_ERR_PARSE);
    free(error);
    static const unsigned char xls[] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0};
    error = read_fails((const char *)xls, sizeof xls, NSDB_ERR_PARSE);
    assert_non_null(strstr(error, ".xls"));
    free(error);
}

static void refuses_a_truncated_zip(void **state)
{
    (void)state;
    const char *path = path_in_tmp("truncated.xlsx");
    write_libxlsxwriter_book(path, false);
    size_t len;
    char *data = test_slurp(path, &len);
    static const size_t cuts[] = {4, 22, 100};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        free(read_fails(data, len - cuts[i], NSDB_ERR_PARSE));
    }
    free(read_fails(data, len / 2, NSDB_ERR_PARSE));
    free(data);
}

static void refuses_a_zip_without_a_workbook(void **state)
{
    (void)state;
    static const part parts[] = {{"hello.txt", "hello", 0}};
    size_t len;
    char *data = zip_parts(path_in_tmp("plain.zip"), parts, 1, &len);
    char *error = read_fails(data, len, NSDB_ERR_PARSE);
    assert_non_null(strstr(error, "workbook.xml"));
    free(error);
    free(data);
}

static void refuses_a_workbook_whose_sheet_is_missing_or_broken(void **state)
{
    (void)state;
    size_t len;
    /* The relationships name a sheet part the zip does not hold. */
    char *data = zip_parts(path_in_tmp("nosheet.xlsx"), HANDMADE, HANDMADE_COUNT - 1, &len);
    free(read_fails(data, len, NSDB_ERR_PARSE));
    free(data);
    static const char *const broken[] = {
        "<worksheet><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></row></sheetData></worksheet>",
        "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>99</v></c></row></sheetData>"
        "</worksheet>",
        "<worksheet><sheetData><row r=\"0\"><c r=\"A1\"><v>1</v></c></row></sheetData></worksheet>",
        "<worksheet><sheetData><row r=\"1\"><c r=\"XFE1\"><v>1</v></c></row></sheetData>"
        "</worksheet>",
        "<worksheet><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c><c r=\"A1\"><v>2</v></c>"
        "</row></sheetData></worksheet>",
        "not xml at all",
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        data = zip_with_sheet("broken.xlsx", broken[i], 0, &len);
        free(read_fails(data, len, NSDB_ERR_PARSE));
        free(data);
    }
}

static void refuses_a_document_type_declaration(void **state)
{
    (void)state;
    static const char laughs[] =
        "<?xml version=\"1.0\"?><!DOCTYPE worksheet [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
        "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
        "]><worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>&e;&e;&e;</t>"
        "</is></c></row></sheetData></worksheet>";
    static const char external[] =
        "<?xml version=\"1.0\"?><!DOCTYPE worksheet SYSTEM \"file:///etc/passwd\">"
        "<worksheet><sheetData/></worksheet>";
    size_t len;
    char *data = zip_with_sheet("laughs.xlsx", laughs, 0, &len);
    char *error = read_fails(data, len, NSDB_ERR_PARSE);
    assert_non_null(strstr(error, "DTD"));
    free(error);
    free(data);
    data = zip_with_sheet("external.xlsx", external, 0, &len);
    free(read_fails(data, len, NSDB_ERR_PARSE));
    free(data);
}

static void refuses_a_zip_bomb(void **state)
{
    (void)state;
    size_t n = (size_t)XLSX_MAX_PART_BYTES + 4096;
    char *xml = malloc(n);
    assert_non_null(xml);
    static const char head[] = "<worksheet><sheetData>";
    static const char tail[] = "</sheetData></worksheet>";
    memcpy(xml, head, sizeof head - 1);
    memset(xml + sizeof head - 1, ' ', n - (sizeof head - 1) - (sizeof tail - 1));
    memcpy(xml + n - (sizeof tail - 1), tail, sizeof tail - 1);
    size_t len;
    char *data = zip_with_sheet("bomb.xlsx", xml, n, &len);
    free(xml);
    assert_true(len < 1024 * 1024); /* 50 MB of blanks deflate to a few dozen KB */
    char *error = read_fails(data, len, NSDB_ERR_TOO_LARGE);
    assert_non_null(strstr(error, "50 MB"));
    free(error);
    free(data);
}

/* ---- the request budget ------------------------------------------------------------------- */

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long current_rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld %ld", &pages, &resident), 2);
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* How much the resident set grows while reading data with a fresh budget: the read runs in a
 * child, which starts with this process's resident set and reports its peak when it ends. */
static long read_rss_growth_mb(const char *data, size_t len)
{
    long before = current_rss_kb();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        upload_budget budget = upload_budget_for_request();
        xlsx_table *t = NULL;
        char *error = NULL;
        _exit(xlsx_read_limited(data, len, &budget, &t, &error) == NSDB_ERR_TOO_LARGE ? 0 : 1);
    }
    int status = 0;
    struct rusage ru;
    assert_int_equal(wait4(pid, &status, 0, &ru), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return (ru.ru_maxrss - before) / 1024;
}

/* Reads with budget bytes that must be refused for passing it; returns the message (free it). */
static char *read_over_budget(const char *data, size_t len, upload_budget *budget,
                              const char *expected_message)
{
    xlsx_table *t = (xlsx_table *)1;
    char *error = NULL;
    assert_int_equal(xlsx_read_limited(data, len, budget, &t, &error), NSDB_ERR_TOO_LARGE);
    assert_null(t);
    assert_non_null(error);
    assert_ptr_equal(budget->exceeded, expected_message);
    assert_string_equal(error, expected_message);
    return error;
}

/* The attack of issue 14: a small zip whose shared-strings part is ten million empty <si/>.
 * Before the budget it cost 1.7 s and 337 MB; now every <si/> takes a cell of the budget and the
 * reader stops at UPLOAD_MAX_CELLS, with the message that names the limit and says to split. */
static void refuses_millions_of_empty_shared_strings_quickly(void **state)
{
    (void)state;
    static const char head[] =
        "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">";
    static const char tail[] = "</sst>";
    size_t count = 10u * 1000u * 1000u;
    size_t n = sizeof head - 1 + count * 5 + sizeof tail - 1;
    assert_true(n < XLSX_MAX_PART_BYTES && n < UPLOAD_MAX_UNPACKED_BYTES);
    char *xml = malloc(n);
    assert_non_null(xml);
    memcpy(xml, head, sizeof head - 1);
    for (size_t i = 0; i < count; i++)
        memcpy(xml + sizeof head - 1 + i * 5, "<si/>", 5);
    memcpy(xml + n - (sizeof tail - 1), tail, sizeof tail - 1);
    part parts[HANDMADE_COUNT];
    memcpy(parts, HANDMADE, sizeof parts);
    parts[4].data = xml; /* xl/sharedStrings.xml */
    parts[4].len = n;
    size_t len;
    char *data = zip_parts(path_in_tmp("strings-bomb.xlsx"), parts, HANDMADE_COUNT, &len);
    free(xml);
    assert_true(len < 1024 * 1024); /* 50 MB of <si/> deflate to a few dozen KB */

    double start = seconds_now();
    upload_budget budget = upload_budget_for_request();
    char *error = read_over_budget(data, len, &budget, UPLOAD_MSG_TOO_MANY_CELLS);
    double elapsed = seconds_now() - start;
    long rss_growth_mb = read_rss_growth_mb(data, len);
    print_message("strings bomb: %zu bytes refused in %.3f s; resident set +%ld MB while reading\n", len, elapsed,
                  rss_growth_mb);
    assert_contains(error, "セルの数が多すぎます");
    assert_contains(error, "分けて");
    assert_int_equal(budget.cells_left, 0);
#ifdef TEST_ASAN
    assert_true(elapsed < 10.0); /* sanitizers and a shared machine: only "it does not hang" */
#else
    assert_true(elapsed < 1.0);
#endif
    /* the inflated part (≤ 50 MB) and one pointer per string read (≤ 1M); not 337 MB */
#ifdef TEST_ASAN
    assert_true(rss_growth_mb < 256); /* ASan's shadow memory and quarantine come on top */
#else
    assert_true(rss_growth_mb < 128);
#endif
    free(error);
    free(data);
}

/* The size the zip directory claims is checked against what is left before inflating. */
static void refuses_a_part_larger_than_the_bytes_left(void **state)
{
    (void)state;
    size_t len;
    char *data = zip_parts(path_in_tmp("bytes.xlsx"), HANDMADE, HANDMADE_COUNT, &len);
    upload_budget budget = upload_budget_for_request();
    budget.bytes_left = 100; /* less than _rels/.rels */
    char *error = read_over_budget(data, len, &budget, UPLOAD_MSG_TOO_MANY_BYTES);
    assert_contains(error, "展開後の合計");
    assert_int_equal(budget.bytes_left, 100); /* nothing taken by the refused part */
    free(error);
    free(data);
}

/* Files of one request share the budget: what the first took is gone for the second, and once a
 * limit is passed every later file of the request is refused with the same message. */
static void workbooks_of_one_request_share_the_budget(void **state)
{
    (void)state;
    size_t len;
    char *data = zip_parts(path_in_tmp("shared.xlsx"), HANDMADE, HANDMADE_COUNT, &len);
    upload_budget budget = upload_budget_for_request();
    xlsx_table *t = NULL;
    char *error = NULL;
    assert_int_equal(xlsx_read_limited(data, len, &budget, &t, &error), NSDB_OK);
    xlsx_table_free(t);
    size_t bytes_one = UPLOAD_MAX_UNPACKED_BYTES - budget.bytes_left;
    size_t cells_one = UPLOAD_MAX_CELLS - budget.cells_left;
    size_t rows_one = UPLOAD_MAX_ROWS - budget.rows_left;
    assert_true(bytes_one > strlen(DATA_SHEET) + strlen(SHARED_STRINGS));
    assert_true(cells_one >= 3 + 17); /* 3 shared strings, 17 <c> elements, empty ones too */
    assert_int_equal(rows_one, 4);    /* the empty <row/> too */

    assert_int_equal(xlsx_read_limited(data, len, &budget, &t, &error), NSDB_OK);
    xlsx_table_free(t);
    assert_int_equal(UPLOAD_MAX_UNPACKED_BYTES - budget.bytes_left, 2 * bytes_one);
    assert_int_equal(UPLOAD_MAX_CELLS - budget.cells_left, 2 * cells_one);

    budget.rows_left = 3; /* the third workbook passes the row limit on its fourth row */
    error = read_over_budget(data, len, &budget, UPLOAD_MSG_TOO_MANY_ROWS);
    assert_contains(error, "行が多すぎます");
    free(error);
    budget.rows_left = UPLOAD_MAX_ROWS; /* once passed, the request stays refused */
    error = read_over_budget(data, len, &budget, UPLOAD_MSG_TOO_MANY_ROWS);
    free(error);
    free(data);
}

static void limit_messages_name_the_limit(void **state)
{
    (void)state;
    assert_contains(UPLOAD_MSG_TOO_MANY_FILES, "20 個まで");
    assert_contains(UPLOAD_MSG_TOO_MANY_BYTES, "64 MB まで");
    assert_contains(UPLOAD_MSG_TOO_MANY_CELLS, "100 万個まで");
    assert_contains(UPLOAD_MSG_TOO_MANY_ROWS, "20 万行まで");
    assert_true(upload_files_fit(UPLOAD_MAX_FILES));
    assert_false(upload_files_fit(UPLOAD_MAX_FILES + 1));
}

static void survives_mutated_bytes(void **state)
{
    (void)state;
    size_t len;
    char *data = zip_parts(path_in_tmp("fuzz.xlsx"), HANDMADE, HANDMADE_COUNT, &len);
    char *copy = malloc(len);
    assert_non_null(copy);
    srand(7);
    for (int round = 0; round < 300; round++) {
        memcpy(copy, data, len);
        for (int k = 0; k < 1 + round % 8; k++)
            copy[(size_t)rand() % len] = (char)rand();
        size_t cut = round % 5 == 0 ? (size_t)rand() % len : len;
        xlsx_table *t = NULL;
        char *error = NULL;
        nsdb_err err = xlsx_read(copy, cut, &t, &error);
        if (err == NSDB_OK) {
            assert_null(error);
            for (size_t i = 0; i < xlsx_table_rows(t); i++)
                (void)xlsx_table_cell(t, i, 0);
            xlsx_table_free(t);
        } else {
            assert_null(t);
            assert_non_null(error);
            free(error);
        }
    }
    free(copy);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_libxlsxwriter_shared_strings_numbers_and_formulas),
        cmocka_unit_test(reads_libxlsxwriter_inline_strings),
        cmocka_unit_test(follows_relationships_to_the_first_sheet_in_workbook_order),
        cmocka_unit_test(renders_integral_numbers_plainly_and_keeps_other_numbers),
        cmocka_unit_test(reads_booleans_errors_formulas_rich_text_and_missing_references),
        cmocka_unit_test(reads_exactly_the_row_limit),
        cmocka_unit_test(reads_a_workbook_written_by_libreoffice_from_csv),
        cmocka_unit_test(reads_a_libxlsxwriter_workbook_saved_again_by_libreoffice),
        cmocka_unit_test(refuses_bytes_that_are_not_a_zip),
        cmocka_unit_test(refuses_a_truncated_zip),
        cmocka_unit_test(refuses_a_zip_without_a_workbook),
        cmocka_unit_test(refuses_a_workbook_whose_sheet_is_missing_or_broken),
        cmocka_unit_test(refuses_a_document_type_declaration),
        cmocka_unit_test(refuses_a_zip_bomb),
        cmocka_unit_test(refuses_millions_of_empty_shared_strings_quickly),
        cmocka_unit_test(refuses_a_part_larger_than_the_bytes_left),
        cmocka_unit_test(workbooks_of_one_request_share_the_budget),
        cmocka_unit_test(limit_messages_name_the_limit),
        cmocka_unit_test(survives_mutated_bytes),
    };
    return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
