/*
 * test_media_pdf.c — the papers of the media cycle (domain/media_pdf.c): the per-institution
 * user-ID list (PDF and CSV), the Letter Pack Plus label and the passphrase sheet. PDFs are
 * checked the way a person or a script sees them, through poppler-utils: pdfinfo (pages, title,
 * size), pdftotext (the printed text, hostile names verbatim) and pdffonts (embedded subsets).
 * Also the input checks, long values staying on their page, and renders from four threads.
 */
#include "test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/media_pdf.h"

#define LIST_TITLE "医療機関毎の指定医のユーザID一覧"
#define LIST_SUBTITLE "2026-11-16 サイクル / 梱包 131016-1/2"
#define PASS_TITLE "VPN接続用証明書のパスフレーズ"
#define PASS_INSTRUCTION "VPN クライアントに証明書を読み込むときに入力します。"
#define HOSTILE_A "<b>&amp;</b>'\""
#define HOSTILE_B "<span foreground=\"red\">赤</span> & %s %n"

enum { THREADS = 4, THREAD_ROUNDS = 2, THREAD_ROWS = 30, MANY = 120, PER_INSTITUTION = 9 };

static size_t count_occurrences(const char *haystack, const char *needle)
{
    size_t count = 0;
    for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        count++;
    return count;
}

/* pdftotext prints the footer "2 / 3" with or without its spaces: compare without them. */
static void assert_page_number(const char *page_text, int page, int pages)
{
    char *squeezed = strdup(page_text);
    char *w = squeezed;
    for (const char *r = page_text; *r; r++)
        if (*r != ' ')
            *w++ = *r;
    *w = '\0';
    char expected[32];
    snprintf(expected, sizeof expected, "\n%d/%d\n", page, pages);
    assert_contains(squeezed, expected);
    free(squeezed);
}

static char *repeat_utf8(const char *unit, size_t times)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < times; i++)
        strbuf_puts(&sb, unit);
    return strbuf_detach(&sb, NULL);
}

/* ---- fixtures --------------------------------------------------------------------------- */

/* Rows for n users, PER_INSTITUTION per institution, eight institutions per municipality, with
 * unique user IDs that are not substrings of one another. */
typedef struct list_fixture {
    media_list_row *rows;
    char (*ids)[32];
    char (*inst_codes)[32];
    char (*inst_names)[64];
    size_t n;
} list_fixture;

static list_fixture list_fixture_make(size_t n, const char *tag)
{
    static const char *const CODES[] = {"131016", "131024", "131032"};
    static const char *const NAMES[] = {"千代田区", "中央区", "港区"};
    list_fixture f = {calloc(n, sizeof *f.rows), calloc(n, sizeof *f.ids),
                      calloc(n, sizeof *f.inst_codes), calloc(n, sizeof *f.inst_names), n};
    for (size_t i = 0; i < n; i++) {
        size_t inst = i / PER_INSTITUTION, muni = (inst / 8) % 3;
        snprintf(f.ids[i], sizeof f.ids[i], "%.2sQ%05zuZK", tag, i);
        snprintf(f.inst_codes[i], sizeof f.inst_codes[i], "13%08zu", inst);
        snprintf(f.inst_names[i], sizeof f.inst_names[i], "医療法人 第%zu病院", inst);
        f.rows[i] =
            (media_list_row){CODES[muni], NAMES[muni], f.inst_codes[i], f.inst_names[i], f.ids[i]};
    }
    return f;
}

static void list_fixture_free(list_fixture *f)
{
    free(f->rows);
    free(f->ids);
    free(f->inst_codes);
    free(f->inst_names);
}

static media_list_row sample_row(void)
{
    return (media_list_row){"131016", "千代田区", "1310000012", "医療法人社団 さくら会 さくら病院",
                            "AB23CD45EF6G"};
}

static media_label sample_label(void)
{
    return (media_label){
        .sender_name = "難病・小慢DB 運用事業者 ヘルプデスク",
        .sender_postal = "1050011",
        .sender_address = "東京都港区芝公園一丁目2番3号 芝公園ビル5階",
        .sender_phone = "03-1234-5678",
        .to_postal = "1008601",
        .to_address = "東京都千代田区九段南一丁目2番1号",
        .to_name = "千代田区 保健福祉部 御中",
        .to_phone = "03-3264-2111",
        .package_ref = "2026-11-16 / 131016 / 1/2",
        .tracking_number = "1234-5678-9012",
        .media_count = 15,
    };
}

static media_passphrase_row sample_passphrase(void)
{
    return (media_passphrase_row){"1310000012", "医療法人社団 さくら会 さくら病院", "M2026-000123",
                                  "k7Qz-9XmP#4vTb$8RwN"};
}

/* ---- the list --------------------------------------------------------------------------- */

static void list_of_one_row_is_one_a4_page_with_title_columns_and_page_number(void **state)
{
    (void)state;
    media_list_row row = sample_row();
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_user_list_pdf(&row, 1, LIST_TITLE, LIST_SUBTITLE, &pdf), NSDB_OK);
    assert_memory_equal(pdf.data, "%PDF-", 5);
    assert_int_equal(raw_page_objects(&pdf), 1);
    if (poppler_missing()) {
        strbuf_free(&pdf);
        skip();
    }
    assert_int_equal(pdf_pages(&pdf), 1);
    char *title = pdf_info_field(&pdf, "Title");
    assert_string_equal(title, LIST_TITLE);
    free(title);
    char *size = pdf_info_field(&pdf, "Page size");
    assert_contains(size, "(A4)");
    free(size);
    char *text = pdf_text(&pdf);
    const char *expected[] = {LIST_TITLE,    LIST_SUBTITLE, "#",          "公共団体ID",
                              "公共団体名",  "医療機関ID",  "医療機関名", "ユーザID",
                              "131016",      "千代田区",    "1310000012", "さくら病院",
                              "AB23CD45EF6G"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_contains(text, expected[i]);
    assert_page_number(text, 1, 1);
    free(text);
    strbuf_free(&pdf);
}

/* The package's list with a 追加分: the list's page, then the 追加分's with its own title and
 * columns, every user's name and date on their row, pages numbered through; alone when the
 * package has no media; and the label of such a package says it holds the list only. */
static void package_list_adds_the_supplement_after_the_list(void **state)
{
    (void)state;
    media_list_row rows[2] = {sample_row(), sample_row()};
    rows[1].user_id = "ZZ23CD45EF6H";
    media_supplement_row extra[3] = {
        {"1310000012", "医療法人社団 さくら会 さくら病院", "追加 一郎", "AD23CD45EF61", "2026-12-01"},
        {"1310000012", "医療法人社団 さくら会 さくら病院", "追加 二郎", "AD23CD45EF62", "2026-12-02"},
        {"1310000020", "つばき診療所", "追加 三郎", "AD23CD45EF63", "2026-12-03"}};
    strbuf pdf = STRBUF_INIT, alone = STRBUF_INIT, label_pdf = STRBUF_INIT;
    assert_int_equal(media_package_list_pdf(rows, NULL, 2, extra, 3, LIST_TITLE, LIST_SUBTITLE, &pdf),
                     NSDB_OK);
    assert_int_equal(media_package_list_pdf(NULL, NULL, 0, extra, 3, LIST_TITLE, LIST_SUBTITLE, &alone),
                     NSDB_OK);
    media_label label = sample_label();
    label.media_count = 0;
    assert_int_equal(media_label_pdf(&label, 1, &label_pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 2);
    assert_int_equal(raw_page_objects(&alone), 1);
    strbuf empty = STRBUF_INIT;
    assert_int_equal(media_package_list_pdf(NULL, NULL, 0, NULL, 0, LIST_TITLE, NULL, &empty),
                     NSDB_ERR_INVALID);
    extra[2].registered_on = "2026/12/03";
    assert_int_equal(media_package_list_pdf(rows, NULL, 2, extra, 3, LIST_TITLE, NULL, &empty),
                     NSDB_ERR_INVALID);
    assert_int_equal(empty.len, 0);
    if (poppler_missing()) {
        strbuf_free(&pdf);
        strbuf_free(&alone);
        strbuf_free(&label_pdf);
        skip();
    }
    char *text = pdf_text(&pdf);
    const char *expected[] = {"ZZ23CD45EF6H", "追加分", "登録日", "氏名", "追加 一郎",
                              "AD23CD45EF61", "2026-12-02", "追加 三郎", "つばき診療所"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_contains(text, expected[i]);
    assert_true(strstr(text, "ZZ23CD45EF6H") < strstr(text, "AD23CD45EF61"));
    assert_int_equal(count_occurrences(text, "さくら病院"), 2); /* the list's and the 追加分's */
    assert_page_number(text, 2, 2);
    free(text);
    text = pdf_text(&alone);
    assert_contains(text, "追加 二郎");
    assert_page_number(text, 1, 1);
    free(text);
    text = pdf_text(&label_pdf);
    assert_contains(text, "追加分");
    assert_contains(text, "媒体なし");
    free(text);
    strbuf_free(&pdf);
    strbuf_free(&alone);
    strbuf_free(&label_pdf);
}

static void list_names_each_institution_on_its_first_row_only(void **state)
{
    (void)state;
    if (poppler_missing())
        skip();
    /* Two institutions of one municipality, three users each: one page. */
    list_fixture f = list_fixture_make(2 * PER_INSTITUTION, "NM");
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_user_list_pdf(f.rows, f.n, LIST_TITLE, "", &pdf), NSDB_OK);
    assert_int_equal(pdf_pages(&pdf), 1);
    char *text = pdf_text(&pdf);
    assert_int_equal(count_occurrences(text, "第0病院"), 1);
    assert_int_equal(count_occurrences(text, "第1病院"), 1);
    assert_int_equal(count_occurrences(text, "1300000000"), 1);
    assert_int_equal(count_occurrences(text, "1300000001"), 1);
    assert_int_equal(count_occurrences(text, "千代田区"), 2); /* once per institution */
    for (size_t i = 0; i < f.n; i++)
        assert_int_equal(count_occurrences(text, f.ids[i]), 1);
    free(text);
    strbuf_free(&pdf);
    list_fixture_free(&f);
}

static void list_of_120_rows_flows_over_pages_with_the_header_on_each(void **state)
{
    (void)state;
    list_fixture f = list_fixture_make(MANY, "MY");
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_user_list_pdf(f.rows, f.n, LIST_TITLE, LIST_SUBTITLE, &pdf), NSDB_OK);
    int pages = raw_page_objects(&pdf);
    assert_true(pages > 1);
    if (poppler_missing()) {
        strbuf_free(&pdf);
        list_fixture_free(&f);
        skip();
    }
    assert_int_equal(pdf_pages(&pdf), pages);
    char *text = pdf_text(&pdf);
    for (size_t i = 0; i < f.n; i++)
        if (count_occurrences(text, f.ids[i]) != 1)
            fail_msg("user ID %s printed %zu times", f.ids[i], count_occurrences(text, f.ids[i]));
    free(text);

    /* Every page: title, subtitle, column headings, its number; rows in order across pages. */
    size_t next_row = 0;
    for (int page = 1; page <= pages; page++) {
        char *page_text = pdf_page_text(&pdf, page);
        assert_contains(page_text, LIST_TITLE);
        assert_contains(page_text, LIST_SUBTITLE);
        assert_contains(page_text, "公共団体ID");
        assert_contains(page_text, "ユーザID");
        assert_page_number(page_text, page, pages);
        size_t on_page = 0;
        while (next_row < f.n && strstr(page_text, f.ids[next_row]) != NULL) {
            next_row++;
            on_page++;
        }
        assert_true(on_page > 10);
        free(page_text);
    }
    assert_int_equal(next_row, f.n);
    strbuf_free(&pdf);
    list_fixture_free(&f);
}

static void list_names_an_institution_again_when_it_continues_on_a_new_page(void **state)
{
    (void)state;
    if (poppler_missing())
        skip();
    enum { USERS = 100 };
    media_list_row rows[USERS];
    char ids[USERS][32];
    for (int i = 0; i < USERS; i++) {
        snprintf(ids[i], sizeof ids[i], "CT%04dXYZ", i);
        rows[i] = sample_row();
        rows[i].user_id = ids[i];
    }
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_user_list_pdf(rows, USERS, LIST_TITLE, NULL, &pdf), NSDB_OK);
    int pages = pdf_pages(&pdf);
    assert_true(pages >= 3);
    for (int page = 1; page <= pages; page++) {
        char *page_text = pdf_page_text(&pdf, page);
        assert_int_equal(count_occurrences(page_text, "1310000012"), 1);
        free(page_text);
    }
    strbuf_free(&pdf);
}

static void list_csv_has_bom_header_crlf_and_every_cell(void **state)
{
    (void)state;
    media_list_row rows[2] = {sample_row(), sample_row()};
    rows[1].user_id = "ZZ23CD45EF6G";
    rows[1].institution_name = "クリニック, \"本院\"";
    strbuf csv = STRBUF_INIT;
    strbuf_puts(&csv, "prefix");
    assert_int_equal(media_user_list_csv(rows, 2, &csv), NSDB_OK);
    assert_string_equal(
        csv.data, "prefix\xEF\xBB\xBF#,公共団体ID,公共団体名,医療機関ID,医療機関名,ユーザID\r\n"
                  "1,131016,千代田区,1310000012,医療法人社団 さくら会 さくら病院,"
                  "AB23CD45EF6G\r\n"
                  "2,131016,千代田区,1310000012,\"クリニック, \"\"本院\"\"\",ZZ23CD45EF6G\r\n");
    strbuf_free(&csv);
}

static void list_csv_of_no_rows_is_the_header_line(void **state)
{
    (void)state;
    strbuf csv = STRBUF_INIT;
    assert_int_equal(media_user_list_csv(NULL, 0, &csv), NSDB_OK);
    assert_string_equal(csv.data,
                        "\xEF\xBB\xBF#,公共団体ID,公共団体名,医療機関ID,医療機関名,ユーザID\r\n");
    strbuf_free(&csv);
}

static void list_csv_defuses_formulas(void **state)
{
    (void)state;
    media_list_row row = sample_row();
    row.institution_name = "=cmd|' /C calc'!A0";
    row.municipality_name = "@SUM(1+1)";
    strbuf csv = STRBUF_INIT;
    assert_int_equal(media_user_list_csv(&row, 1, &csv), NSDB_OK);
    assert_contains(csv.data, ",\"'=cmd|' /C calc'!A0\",");
    assert_contains(csv.data, ",\"'@SUM(1+1)\",");
    assert_null(strstr(csv.data, ",=cmd"));
    strbuf_free(&csv);
}

/* ---- the label -------------------------------------------------------------------------- */

static void label_marks_sender_and_destination_with_postal_codes_and_tracking(void **state)
{
    (void)state;
    media_label labels[2] = {sample_label(), sample_label()};
    labels[1].to_postal = "〒060-8611";
    labels[1].to_address = "北海道札幌市中央区北1条西2丁目";
    labels[1].to_name = "札幌市 保健福祉局 御中";
    labels[1].to_phone = "011-211-2111";
    labels[1].package_ref = "2026-11-16 / 011002 / 2/2";
    labels[1].tracking_number = "9876-5432-1098";
    labels[1].media_count = 3;
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_label_pdf(labels, 2, &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 2);
    if (poppler_missing()) {
        strbuf_free(&pdf);
        skip();
    }
    assert_int_equal(pdf_pages(&pdf), 2);
    char *title = pdf_info_field(&pdf, "Title");
    assert_string_equal(title, "難病・小慢DB 媒体送付ラベル");
    free(title);
    char *page = pdf_page_text(&pdf, 1);
    const char *first[] = {"発送先",
                           "〒100-8601",
                           "東京都千代田区九段南一丁目2番1号",
                           "千代田区 保健福祉部 御中",
                           "TEL 03-3264-2111",
                           "発送元",
                           "〒105-0011",
                           "東京都港区芝公園一丁目2番3号 芝公園ビル5階",
                           "難病・小慢DB 運用事業者 ヘルプデスク",
                           "TEL 03-1234-5678",
                           "2026-11-16 / 131016 / 1/2",
                           "1234-5678-9012",
                           "内容：DVD 15枚（難病・小慢DB 医療機関用媒体）"};
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++)
        assert_contains(page, first[i]);
    assert_null(strstr(page, "札幌"));
    free(page);
    page = pdf_page_text(&pdf, 2);
    assert_contains(page, "〒060-8611");
    assert_int_equal(count_occurrences(page, "〒〒"), 0);
    assert_contains(page, "札幌市 保健福祉局 御中");
    assert_contains(page, "TEL 011-211-2111");
    assert_null(strstr(page, "03-3264-2111"));
    assert_contains(page, "9876-5432-1098");
    assert_contains(page, "DVD 3枚");
    assert_null(strstr(page, "1234-5678-9012"));
    free(page);
    strbuf_free(&pdf);
}

static void label_without_tracking_number_or_phone_and_with_long_address_fits_its_page(void **state)
{
    (void)state;
    char *address = repeat_utf8("北海道札幌市中央区", 60);
    char *name = repeat_utf8("保健福祉局", 40);
    media_label label = sample_label();
    label.tracking_number = "";
    label.sender_phone = "";
    label.to_phone = "";
    label.to_address = address;
    label.to_name = name;
    label.sender_address = address;
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_label_pdf(&label, 1, &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 1);
    if (!poppler_missing()) {
        char *text = pdf_text(&pdf);
        assert_contains(text, "〒100-8601");
        assert_contains(text, "追跡番号");
        assert_contains(text, "DVD 15枚");
        assert_null(strstr(text, "TEL"));
        free(text);
    }
    strbuf_free(&pdf);
    free(address);
    free(name);
}

/* A department's long name takes two lines; its phone still prints below it, inside the
 * destination's part of the label (drawing asserts it stays above the rule). */
static void label_prints_the_departments_phone_below_a_long_addressee(void **state)
{
    (void)state;
    media_label label = sample_label();
    label.to_name = "札幌市 保健福祉局 保健所 健康安全部 難病対策課 小児慢性特定疾病医療費助成係 "
                    "データベース登録担当 御中";
    label.to_phone = "011-211-2111 内線 1234";
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_label_pdf(&label, 1, &pdf), NSDB_OK);
    if (!poppler_missing()) {
        char *text = pdf_text(&pdf);
        assert_contains(text, "TEL 011-211-2111 内線 1234");
        assert_contains(text, "データベース登録担当 御中"); /* the second line */
        free(text);
    }
    strbuf_free(&pdf);
}

/* ---- the passphrase sheet --------------------------------------------------------------- */

static void passphrase_sheet_has_a_page_per_media_with_the_passphrase_as_one_string(void **state)
{
    (void)state;
    media_passphrase_row rows[3] = {sample_passphrase(), sample_passphrase(), sample_passphrase()};
    rows[1].institution_code = "1310000020";
    rows[1].institution_name = "みなとクリニック";
    rows[1].media_id = "M2026-000124";
    rows[1].passphrase = "Zq8!vL2@pR6%tY4^wE9&uI3*oP7(aS1)dF5_gH0+jK2=xC4~";
    rows[2].media_id = "M2026-000125";
    rows[2].passphrase = "x";
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_passphrase_list_pdf(rows, 3, "", &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 3);
    if (poppler_missing()) {
        strbuf_free(&pdf);
        skip();
    }
    assert_int_equal(pdf_pages(&pdf), 3);
    char *title = pdf_info_field(&pdf, "Title");
    assert_string_equal(title, PASS_TITLE);
    free(title);
    for (int i = 0; i < 3; i++) {
        char *page = pdf_page_text(&pdf, i + 1);
        assert_contains(page, PASS_TITLE);
        assert_contains(page, "医療機関");
        assert_contains(page, "媒体番号");
        assert_contains(page, "証明書のパスフレーズ");
        assert_contains(page, rows[i].institution_code);
        assert_contains(page, rows[i].institution_name);
        assert_contains(page, rows[i].media_id);
        assert_contains(page, PASS_INSTRUCTION);
        assert_contains(page, "大切に保管してください。");
        assert_page_number(page, i + 1, 3);
        free(page);
    }
    /* Spaced for reading, but one string to pdftotext (and so to copy and paste). */
    char *page = pdf_page_text(&pdf, 1);
    assert_contains(page, "\nk7Qz-9XmP#4vTb$8RwN\n");
    free(page);
    page = pdf_page_text(&pdf, 2);
    assert_contains(page, "\nZq8!vL2@pR6%tY4^wE9&uI3*oP7(aS1)dF5_gH0+jK2=xC4~\n");
    assert_null(strstr(page, "k7Qz"));
    free(page);
    strbuf_free(&pdf);
}

static void passphrase_sheet_title_is_the_one_given(void **state)
{
    (void)state;
    if (poppler_missing())
        skip();
    media_passphrase_row row = sample_passphrase();
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_passphrase_list_pdf(&row, 1, "千代田区 2026-11-16 受領分", &pdf),
                     NSDB_OK);
    char *title = pdf_info_field(&pdf, "Title");
    assert_string_equal(title, "千代田区 2026-11-16 受領分");
    free(title);
    char *text = pdf_text(&pdf);
    assert_contains(text, "千代田区 2026-11-16 受領分");
    free(text);
    strbuf_free(&pdf);
}

/* ---- common properties ------------------------------------------------------------------ */

static void assert_fonts_embedded_subsets(const strbuf *pdf, const char *mono_name)
{
    char *fonts = run_tool(pdf, "pdffonts", "", false);
    int lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(fonts, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "name", 4) == 0 || strncmp(line, "----", 4) == 0)
            continue;
        lines++;
        for (int i = 0; i < 6; i++)
            assert_true(line[i] >= 'A' && line[i] <= 'Z');
        assert_int_equal(line[6], '+');
        assert_non_null(strstr(line, " yes yes "));
    }
    assert_true(lines >= 2);
    free(fonts);
    fonts = run_tool(pdf, "pdffonts", "", false);
    assert_contains(fonts, "+IPAexGothic");
    assert_contains(fonts, mono_name);
    free(fonts);
}

static void fonts_are_embedded_subsets_with_the_monospace_for_ids(void **state)
{
    (void)state;
    if (poppler_missing())
        skip();
    media_list_row row = sample_row();
    media_label label = sample_label();
    media_passphrase_row pass = sample_passphrase();
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_user_list_pdf(&row, 1, LIST_TITLE, LIST_SUBTITLE, &pdf), NSDB_OK);
    assert_fonts_embedded_subsets(&pdf, "+DejaVuSansMono ");
    strbuf_reset(&pdf);
    assert_int_equal(media_label_pdf(&label, 1, &pdf), NSDB_OK);
    assert_fonts_embedded_subsets(&pdf, "+DejaVuSansMono-Bold");
    strbuf_reset(&pdf);
    assert_int_equal(media_passphrase_list_pdf(&pass, 1, PASS_TITLE, &pdf), NSDB_OK);
    assert_fonts_embedded_subsets(&pdf, "+DejaVuSansMono-Bold");
    strbuf_free(&pdf);
}

static void hostile_text_prints_literally_everywhere(void **state)
{
    (void)state;
    if (poppler_missing())
        skip();
    /* The list's name columns are narrow: short hostile values, so that none wraps. */
    media_list_row row = sample_row();
    row.municipality_name = "<u>&lt;</u>";
    row.institution_name = HOSTILE_A;
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_user_list_pdf(&row, 1, "<i>" LIST_TITLE, "%s & <u>", &pdf), NSDB_OK);
    char *text = pdf_text(&pdf);
    assert_contains(text, "<u>&lt;</u>");
    assert_contains(text, HOSTILE_A);
    assert_contains(text, "<i>" LIST_TITLE);
    assert_contains(text, "%s & <u>");
    free(text);

    media_label label = sample_label();
    label.to_name = HOSTILE_A " 御中";
    label.sender_address = HOSTILE_B;
    label.package_ref = "%n%n <&>";
    strbuf_reset(&pdf);
    assert_int_equal(media_label_pdf(&label, 1, &pdf), NSDB_OK);
    text = pdf_text(&pdf);
    assert_contains(text, HOSTILE_A " 御中");
    assert_contains(text, HOSTILE_B);
    assert_contains(text, "%n%n <&>");
    free(text);

    media_passphrase_row pass = sample_passphrase();
    pass.institution_name = HOSTILE_B;
    pass.passphrase = "<b>&amp;</b>";
    strbuf_reset(&pdf);
    assert_int_equal(media_passphrase_list_pdf(&pass, 1, HOSTILE_A, &pdf), NSDB_OK);
    text = pdf_text(&pdf);
    assert_contains(text, HOSTILE_B);
    assert_contains(text, "<b>&amp;</b>");
    assert_contains(text, HOSTILE_A);
    free(text);
    strbuf_free(&pdf);
}

static void values_at_their_limits_stay_on_their_pages(void **state)
{
    (void)state;
    /* 682 × 3 bytes = 2046 ≤ MEDIA_PDF_MAX_FIELD. */
    char *huge = repeat_utf8("鬱", MEDIA_PDF_MAX_FIELD / 3);
    char *token = repeat_utf8("W", MEDIA_PDF_MAX_TOKEN);
    char *postal = repeat_utf8("〒", MEDIA_PDF_MAX_TOKEN / 3);
    media_list_row rows[3] = {{token, huge, token, huge, "AAAA1111"},
                              {token, huge, token, huge, "BBBB2222"},
                              {"131016", huge, "1310000012", huge, token}};
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_user_list_pdf(rows, 3, huge, huge, &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 1);
    if (!poppler_missing()) {
        char *text = pdf_text(&pdf);
        assert_contains(text, "AAAA1111");
        assert_contains(text, "BBBB2222");
        assert_contains(text, "ユーザID");
        free(text);
    }

    media_label label = {huge, postal, huge, postal, postal, huge, huge, postal, huge, token, 1};
    strbuf_reset(&pdf);
    assert_int_equal(media_label_pdf(&label, 1, &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 1);
    if (!poppler_missing()) {
        char *text = pdf_text(&pdf);
        assert_contains(text, "発送先");
        assert_contains(text, "発送元");
        assert_contains(text, "DVD 1枚");
        free(text);
    }

    /* The longest passphrase still prints whole, as one string. */
    char *passphrase = repeat_utf8("Wm", MEDIA_PDF_MAX_TOKEN / 2);
    media_passphrase_row pass = {token, huge, token, passphrase};
    strbuf_reset(&pdf);
    assert_int_equal(media_passphrase_list_pdf(&pass, 1, huge, &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 1);
    if (!poppler_missing()) {
        char *text = pdf_text(&pdf);
        assert_contains(text, passphrase);
        assert_contains(text, PASS_INSTRUCTION);
        free(text);
    }
    strbuf_free(&pdf);
    free(passphrase);
    free(huge);
    free(token);
    free(postal);
}

static void assert_refused(nsdb_err got, nsdb_err want, const strbuf *out)
{
    assert_int_equal(got, want);
    assert_string_equal(out->data, "prefix");
    assert_int_equal(out->len, 6);
}

static void bad_list_input_is_refused_and_leaves_out_unchanged(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    strbuf_puts(&out, "prefix");
    media_list_row row = sample_row();
    assert_refused(media_user_list_pdf(&row, 0, LIST_TITLE, NULL, &out), NSDB_ERR_INVALID, &out);
    assert_refused(media_user_list_pdf(NULL, 1, LIST_TITLE, NULL, &out), NSDB_ERR_INVALID, &out);
    assert_int_equal(media_user_list_pdf(&row, 1, LIST_TITLE, NULL, NULL), NSDB_ERR_INVALID);
    assert_refused(media_user_list_pdf(&row, 1, NULL, NULL, &out), NSDB_ERR_INVALID, &out);
    assert_refused(media_user_list_pdf(&row, 1, LIST_TITLE, "\xff", &out), NSDB_ERR_INVALID, &out);
    assert_refused(media_user_list_pdf(&row, MEDIA_PDF_MAX_ROWS + 1, LIST_TITLE, NULL, &out),
                   NSDB_ERR_TOO_LARGE, &out);
    assert_refused(media_user_list_csv(NULL, 1, &out), NSDB_ERR_INVALID, &out);
    assert_int_equal(media_user_list_csv(&row, 1, NULL), NSDB_ERR_INVALID);
    assert_refused(media_user_list_csv(&row, MEDIA_PDF_MAX_ROWS + 1, &out), NSDB_ERR_TOO_LARGE,
                   &out);

    char *too_long = repeat_utf8("x", MEDIA_PDF_MAX_FIELD + 1);
    char *long_code = repeat_utf8("1", MEDIA_PDF_MAX_TOKEN + 1);
    struct {
        media_list_row row;
        nsdb_err want;
    } cases[] = {
        {{NULL, "a", "1310000012", "b", "AB23CD45EF6G"}, NSDB_ERR_INVALID},
        {{"131016", NULL, "1310000012", "b", "AB23CD45EF6G"}, NSDB_ERR_INVALID},
        {{"131016", "a", NULL, "b", "AB23CD45EF6G"}, NSDB_ERR_INVALID},
        {{"131016", "a", "1310000012", NULL, "AB23CD45EF6G"}, NSDB_ERR_INVALID},
        {{"131016", "a", "1310000012", "b", NULL}, NSDB_ERR_INVALID},
        {{"131016", "a", "1310000012", "b", ""}, NSDB_ERR_INVALID},
        {{"", "a", "1310000012", "b", "AB23CD45EF6G"}, NSDB_ERR_INVALID},
        {{"131 016", "a", "1310000012", "b", "AB23CD45EF6G"}, NSDB_ERR_INVALID},
        {{"１３１０１６", "a", "1310000012", "b", "AB23CD45EF6G"}, NSDB_ERR_INVALID},
        {{"131016", "a", "1310000012", "b", "AB<23>"}, NSDB_ERR_INVALID},
        {{"131016", "a", long_code, "b", "AB23CD45EF6G"}, NSDB_ERR_INVALID},
        {{"131016", "\xe3\x81", "1310000012", "b", "AB23CD45EF6G"}, NSDB_ERR_INVALID},
        {{"131016", "a", "1310000012", "b\x01", "AB23CD45EF6G"}, NSDB_ERR_INVALID},
        {{"131016", too_long, "1310000012", "b", "AB23CD45EF6G"}, NSDB_ERR_TOO_LARGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* A bad row anywhere refuses the whole list. */
        media_list_row rows[3] = {sample_row(), sample_row(), cases[i].row};
        assert_refused(media_user_list_pdf(rows, 3, LIST_TITLE, NULL, &out), cases[i].want, &out);
        assert_refused(media_user_list_csv(rows, 3, &out), cases[i].want, &out);
    }
    free(too_long);
    free(long_code);

    /* The document is appended after what out held. */
    assert_int_equal(media_user_list_pdf(&row, 1, "", "", &out), NSDB_OK);
    assert_memory_equal(out.data, "prefix%PDF-", 11);
    strbuf_free(&out);
}

static void bad_label_and_passphrase_input_is_refused_and_leaves_out_unchanged(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    strbuf_puts(&out, "prefix");
    media_label label = sample_label();
    assert_refused(media_label_pdf(&label, 0, &out), NSDB_ERR_INVALID, &out);
    assert_refused(media_label_pdf(NULL, 1, &out), NSDB_ERR_INVALID, &out);
    assert_int_equal(media_label_pdf(&label, 1, NULL), NSDB_ERR_INVALID);
    const int bad_counts[] = {-1, MEDIA_LABEL_MAX_MEDIA + 1}; /* 0: the 追加分 alone */
    for (size_t i = 0; i < sizeof bad_counts / sizeof bad_counts[0]; i++) {
        media_label bad = sample_label();
        bad.media_count = bad_counts[i];
        assert_refused(media_label_pdf(&bad, 1, &out), NSDB_ERR_INVALID, &out);
    }
    media_label bad = sample_label();
    bad.to_postal = NULL;
    assert_refused(media_label_pdf(&bad, 1, &out), NSDB_ERR_INVALID, &out);
    bad = sample_label();
    bad.to_phone = NULL;
    assert_refused(media_label_pdf(&bad, 1, &out), NSDB_ERR_INVALID, &out);
    bad = sample_label();
    bad.to_address = "\xc0\xaf";
    assert_refused(media_label_pdf(&bad, 1, &out), NSDB_ERR_INVALID, &out);
    bad = sample_label();
    bad.tracking_number = "1234 5678";
    assert_refused(media_label_pdf(&bad, 1, &out), NSDB_ERR_INVALID, &out);
    bad = sample_label();
    bad.tracking_number = NULL;
    assert_refused(media_label_pdf(&bad, 1, &out), NSDB_ERR_INVALID, &out);

    media_passphrase_row pass = sample_passphrase();
    assert_refused(media_passphrase_list_pdf(&pass, 0, PASS_TITLE, &out), NSDB_ERR_INVALID, &out);
    assert_refused(media_passphrase_list_pdf(&pass, 1, NULL, &out), NSDB_ERR_INVALID, &out);
    const char *bad_passphrases[] = {"", "with space", "tab\there", "日本語", "\x7f"};
    for (size_t i = 0; i < sizeof bad_passphrases / sizeof bad_passphrases[0]; i++) {
        media_passphrase_row rows[2] = {sample_passphrase(), sample_passphrase()};
        rows[1].passphrase = bad_passphrases[i];
        assert_refused(media_passphrase_list_pdf(rows, 2, PASS_TITLE, &out), NSDB_ERR_INVALID,
                       &out);
    }
    char *long_passphrase = repeat_utf8("x", MEDIA_PDF_MAX_TOKEN + 1);
    media_passphrase_row bad_pass = sample_passphrase();
    bad_pass.passphrase = long_passphrase;
    assert_refused(media_passphrase_list_pdf(&bad_pass, 1, PASS_TITLE, &out), NSDB_ERR_INVALID,
                   &out);
    free(long_passphrase);
    bad_pass = sample_passphrase();
    bad_pass.media_id = "M 1";
    assert_refused(media_passphrase_list_pdf(&bad_pass, 1, PASS_TITLE, &out), NSDB_ERR_INVALID,
                   &out);
    bad_pass = sample_passphrase();
    bad_pass.institution_name = NULL;
    assert_refused(media_passphrase_list_pdf(&bad_pass, 1, PASS_TITLE, &out), NSDB_ERR_INVALID,
                   &out);
    strbuf_free(&out);
}

/* ---- threads ---------------------------------------------------------------------------- */

typedef struct thread_job {
    char tag[16];
    list_fixture rows;
    char passphrase[32];
    char tracking[32];
    strbuf list, label, sheet;
    nsdb_err err;
} thread_job;

static void *render_in_thread(void *arg)
{
    thread_job *job = arg;
    media_label label = sample_label();
    label.tracking_number = job->tracking;
    media_passphrase_row pass = sample_passphrase();
    pass.passphrase = job->passphrase;
    for (int round = 0; round < THREAD_ROUNDS && job->err == NSDB_OK; round++) {
        strbuf_reset(&job->list);
        strbuf_reset(&job->label);
        strbuf_reset(&job->sheet);
        job->err =
            media_user_list_pdf(job->rows.rows, job->rows.n, LIST_TITLE, job->tag, &job->list);
        if (job->err == NSDB_OK)
            job->err = media_label_pdf(&label, 1, &job->label);
        if (job->err == NSDB_OK)
            job->err = media_passphrase_list_pdf(&pass, 1, PASS_TITLE, &job->sheet);
    }
    return NULL;
}

static void renders_from_four_threads_at_once_are_correct(void **state)
{
    (void)state;
    thread_job jobs[THREADS];
    pthread_t threads[THREADS];
    memset(jobs, 0, sizeof jobs);
    for (int t = 0; t < THREADS; t++) {
        snprintf(jobs[t].tag, sizeof jobs[t].tag, "T%d", t);
        jobs[t].rows = list_fixture_make(THREAD_ROWS, jobs[t].tag);
        snprintf(jobs[t].passphrase, sizeof jobs[t].passphrase, "thread%d-Pass%d", t, t * 7);
        snprintf(jobs[t].tracking, sizeof jobs[t].tracking, "5555-0000-%04d", t);
        assert_int_equal(pthread_create(&threads[t], NULL, render_in_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(jobs[t].err, NSDB_OK);
        assert_memory_equal(jobs[t].list.data, "%PDF-", 5);
        assert_memory_equal(jobs[t].label.data, "%PDF-", 5);
        assert_memory_equal(jobs[t].sheet.data, "%PDF-", 5);
        if (!poppler_missing()) {
            char *text = pdf_text(&jobs[t].list);
            for (size_t i = 0; i < jobs[t].rows.n; i++)
                assert_int_equal(count_occurrences(text, jobs[t].rows.ids[i]), 1);
            free(text);
            text = pdf_text(&jobs[t].label);
            assert_contains(text, jobs[t].tracking);
            free(text);
            text = pdf_text(&jobs[t].sheet);
            assert_contains(text, jobs[t].passphrase);
            free(text);
        }
        strbuf_free(&jobs[t].list);
        strbuf_free(&jobs[t].label);
        strbuf_free(&jobs[t].sheet);
        list_fixture_free(&jobs[t].rows);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(list_of_one_row_is_one_a4_page_with_title_columns_and_page_number),
        cmocka_unit_test(list_names_each_institution_on_its_first_row_only),
        cmocka_unit_test(package_list_adds_the_supplement_after_the_list),
        cmocka_unit_test(list_of_120_rows_flows_over_pages_with_the_header_on_each),
        cmocka_unit_test(list_names_an_institution_again_when_it_continues_on_a_new_page),
        cmocka_unit_test(list_csv_has_bom_header_crlf_and_every_cell),
        cmocka_unit_test(list_csv_of_no_rows_is_the_header_line),
        cmocka_unit_test(list_csv_defuses_formulas),
        cmocka_unit_test(label_marks_sender_and_destination_with_postal_codes_and_tracking),
        cmocka_unit_test(
            label_without_tracking_number_or_phone_and_with_long_address_fits_its_page),
        cmocka_unit_test(label_prints_the_departments_phone_below_a_long_addressee),
        cmocka_unit_test(passphrase_sheet_has_a_page_per_media_with_the_passphrase_as_one_string),
        cmocka_unit_test(passphrase_sheet_title_is_the_one_given),
        cmocka_unit_test(fonts_are_embedded_subsets_with_the_monospace_for_ids),
        cmocka_unit_test(hostile_text_prints_literally_everywhere),
        cmocka_unit_test(values_at_their_limits_stay_on_their_pages),
        cmocka_unit_test(bad_list_input_is_refused_and_leaves_out_unchanged),
        cmocka_unit_test(bad_label_and_passphrase_input_is_refused_and_leaves_out_unchanged),
        cmocka_unit_test(renders_from_four_threads_at_once_are_correct),
    };
    return cmocka_run_group_tests(tests, load_fontconfig_untracked, NULL);
}
