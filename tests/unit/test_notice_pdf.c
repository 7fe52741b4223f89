/*
 * test_notice_pdf.c — the ID・PW発行通知書 PDF (domain/notice_pdf.c). The PDFs are checked the way
 * a person or a script sees them, through poppler-utils: pdfinfo (pages, title), pdftotext (the
 * printed text, including hostile names verbatim) and pdffonts (embedded subsets). Also the
 * input checks, long values staying on their page, and renders from four threads at once.
 */
#include "test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/notice_pdf.h"

#define TITLE "難病・小慢DB IDPW発行通知書"
#define FIRST_LOGIN "初回ログイン時にパスワードを変更してください"

enum { THREADS = 4, THREAD_ROUNDS = 3, THREAD_NOTICES = 5 };

static notice sample_notice(void)
{
    return (notice){
        .municipality_name = "北海道札幌市",
        .category_label = "難病・小慢",
        .department_label = "部署",
        .department = "保健福祉局 保健所 疾病対策課",
        .name = "山田 太郎",
        .user_id = "AB23CD45EF6G",
        .initial_password = "XY89ZW7VTU6S",
        .issue_date = "2026年11月25日",
        .login_url = "https://nsdb.example.go.jp/login",
    };
}

static void one_notice_is_a_one_page_a4_pdf_with_title(void **state)
{
    (void)state;
    notice n = sample_notice();
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(notice_pdf_render(&n, 1, &pdf), NSDB_OK);
    assert_true(pdf.len > 1000);
    assert_memory_equal(pdf.data, "%PDF-", 5);
    assert_int_equal(raw_page_objects(&pdf), 1);
    if (poppler_missing()) {
        strbuf_free(&pdf);
        skip();
    }
    assert_int_equal(pdf_pages(&pdf), 1);
    char *info = run_tool(&pdf, "pdfinfo", "", false);
    const char *title = strstr(info, "Title:");
    assert_non_null(title);
    title += strspn(title + 6, " ") + 6;
    assert_memory_equal(title, TITLE "\n", strlen(TITLE) + 1);
    assert_contains(info, "A4");
    free(info);
    strbuf_free(&pdf);
}

static void notice_text_has_every_field_and_the_instruction(void **state)
{
    (void)state;
    if (poppler_missing())
        skip();
    notice n = sample_notice();
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(notice_pdf_render(&n, 1, &pdf), NSDB_OK);
    char *text = pdf_text(&pdf);
    const char *expected[] = {TITLE,          "自治体",         "北海道札幌市",
                              "難病/小慢",    "難病・小慢",     "部署",
                              "保健福祉局 保健所 疾病対策課", "氏名", "山田 太郎 様",
                              "ID",           "AB23CD45EF6G",   "初期パスワード",
                              "XY89ZW7VTU6S", "発行日",         "2026年11月25日",
                              "https://nsdb.example.go.jp/login", FIRST_LOGIN,
                              "大切に保管",   "所属の自治体担当窓口"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_contains(text, expected[i]);
    free(text);
    strbuf_free(&pdf);
}

static void three_notices_are_three_pages_in_order(void **state)
{
    (void)state;
    if (poppler_missing())
        skip();
    notice notices[3] = {sample_notice(), sample_notice(), sample_notice()};
    const char *ids[3] = {"222222222222", "32222222222Y", "22222222223N"};
    const char *names[3] = {"佐藤 花子", "鈴木 一郎", "髙橋 美咲"};
    for (int i = 0; i < 3; i++) {
        notices[i].user_id = ids[i];
        notices[i].name = names[i];
        notices[i].department_label = "医療機関名";
        notices[i].department = "医療法人社団 さくら会 さくら病院";
    }
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(notice_pdf_render(notices, 3, &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 3);
    assert_int_equal(pdf_pages(&pdf), 3);
    for (int i = 0; i < 3; i++) {
        char *page = pdf_page_text(&pdf, i + 1);
        assert_contains(page, ids[i]);
        assert_contains(page, names[i]);
        assert_contains(page, "医療機関名");
        assert_contains(page, TITLE);
        for (int j = 0; j < 3; j++)
            if (j != i)
                assert_null(strstr(page, ids[j]));
        free(page);
    }
    strbuf_free(&pdf);
}

static void fonts_are_embedded_subsets_with_the_monospace_for_secrets(void **state)
{
    (void)state;
    if (poppler_missing())
        skip();
    notice n = sample_notice();
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(notice_pdf_render(&n, 1, &pdf), NSDB_OK);
    char *fonts = run_tool(&pdf, "pdffonts", "", false);
    int lines = 0;
    for (char *line = strtok(fonts, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "name", 4) == 0 || strncmp(line, "----", 4) == 0)
            continue;
        lines++;
        /* "ABCDEF+Family ... emb sub uni": a six-letter subset tag, then "yes yes". */
        for (int i = 0; i < 6; i++)
            assert_true(line[i] >= 'A' && line[i] <= 'Z');
        assert_int_equal(line[6], '+');
        assert_non_null(strstr(line, " yes yes "));
    }
    assert_true(lines >= 2);
    free(fonts);
    fonts = run_tool(&pdf, "pdffonts", "", false);
    assert_contains(fonts, "+IPAexGothic");
    assert_contains(fonts, "+DejaVuSansMono-Bold");
    free(fonts);
    strbuf_free(&pdf);
}

static void hostile_name_prints_literally(void **state)
{
    (void)state;
    if (poppler_missing())
        skip();
    notice n = sample_notice();
    n.name = "<b>&amp;</b>'\"";
    n.department = "<span foreground=\"red\">赤</span> & %s %n";
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(notice_pdf_render(&n, 1, &pdf), NSDB_OK);
    char *text = pdf_text(&pdf);
    assert_contains(text, "<b>&amp;</b>'\" 様");
    assert_contains(text, "<span foreground=\"red\">赤</span> & %s %n");
    free(text);
    strbuf_free(&pdf);
}

static char *repeat_utf8(const char *unit, size_t times)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < times; i++)
        strbuf_puts(&sb, unit);
    return strbuf_detach(&sb, NULL);
}

static void long_values_wrap_or_shrink_and_stay_on_one_page(void **state)
{
    (void)state;
    char *department = repeat_utf8("医", 200);
    char *name = repeat_utf8("長", 60);
    notice n = sample_notice();
    n.department = department;
    n.name = name;
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(notice_pdf_render(&n, 1, &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 1);
    if (!poppler_missing()) {
        assert_int_equal(pdf_pages(&pdf), 1);
        char *text = pdf_text(&pdf);
        assert_contains(text, "AB23CD45EF6G"); /* the table below still prints */
        assert_contains(text, FIRST_LOGIN);
        free(text);
    }
    strbuf_free(&pdf);
    free(department);
    free(name);
}

static void every_field_at_its_limit_still_fits_one_page(void **state)
{
    (void)state;
    /* 682 × 3 bytes = 2046 ≤ NOTICE_PDF_MAX_FIELD, in every text field, and a URL that wraps. */
    char *huge = repeat_utf8("鬱", NOTICE_PDF_MAX_FIELD / 3);
    char *url = repeat_utf8("https://x/", NOTICE_PDF_MAX_FIELD / 10);
    notice n = {huge, huge, huge, huge, huge, "AB23CD45EF6G", "XY89ZW7VTU6S", huge, url, NULL};
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(notice_pdf_render(&n, 1, &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 1);
    if (!poppler_missing()) {
        char *text = pdf_text(&pdf);
        assert_contains(text, "XY89ZW7VTU6S");
        assert_contains(text, FIRST_LOGIN);
        free(text);
    }
    strbuf_free(&pdf);
    free(huge);
    free(url);
}

static void helpdesk_is_printed_and_fits_with_every_field_at_its_limit(void **state)
{
    (void)state;
    notice n = sample_notice();
    n.helpdesk = "電話 03-0000-0000（平日9時〜17時）";
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(notice_pdf_render(&n, 1, &pdf), NSDB_OK);
    if (!poppler_missing()) {
        char *text = pdf_text(&pdf);
        assert_contains(text, "ヘルプデスク");
        assert_contains(text, "03-0000-0000");
        free(text);
    }
    strbuf_free(&pdf);
    /* the longest fields and the longest contact (and more) still make one page */
    char *huge = repeat_utf8("鬱", NOTICE_PDF_MAX_FIELD / 3);
    char *url = repeat_utf8("https://x/", NOTICE_PDF_MAX_FIELD / 10);
    notice big = {huge, huge, huge, huge, huge, "AB23CD45EF6G", "XY89ZW7VTU6S", huge, url, huge};
    pdf = (strbuf)STRBUF_INIT;
    assert_int_equal(notice_pdf_render(&big, 1, &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 1);
    strbuf_free(&pdf);
    big.helpdesk = "bad\x01control";
    assert_int_equal(notice_pdf_render(&big, 1, &pdf), NSDB_ERR_INVALID);
    strbuf_free(&pdf);
    free(huge);
    free(url);
}

static void bad_input_is_refused_and_leaves_out_unchanged(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    strbuf_puts(&out, "prefix");
    notice n = sample_notice();
    assert_int_equal(notice_pdf_render(&n, 0, &out), NSDB_ERR_INVALID);
    assert_int_equal(notice_pdf_render(NULL, 1, &out), NSDB_ERR_INVALID);
    assert_int_equal(notice_pdf_render(&n, 1, NULL), NSDB_ERR_INVALID);
    assert_int_equal(notice_pdf_render(&n, NOTICE_PDF_MAX_NOTICES + 1, &out), NSDB_ERR_TOO_LARGE);

    const char *bad_secrets[] = {"", "AB23CD45EF6O", "AB23CD45EF60", "ab23cd45ef6g",
                                 "AB23 CD45EF6", "AB23CD45EF61"};
    for (size_t i = 0; i < sizeof bad_secrets / sizeof bad_secrets[0]; i++) {
        notice bad = sample_notice();
        bad.user_id = bad_secrets[i];
        assert_int_equal(notice_pdf_render(&bad, 1, &out), NSDB_ERR_INVALID);
        bad = sample_notice();
        bad.initial_password = bad_secrets[i];
        assert_int_equal(notice_pdf_render(&bad, 1, &out), NSDB_ERR_INVALID);
    }
    notice bad = sample_notice();
    bad.name = NULL;
    assert_int_equal(notice_pdf_render(&bad, 1, &out), NSDB_ERR_INVALID);
    bad = sample_notice();
    bad.department = "\xff\xfe broken";
    assert_int_equal(notice_pdf_render(&bad, 1, &out), NSDB_ERR_INVALID);
    bad = sample_notice();
    bad.municipality_name = "a\x01b";
    assert_int_equal(notice_pdf_render(&bad, 1, &out), NSDB_ERR_INVALID);
    char *too_long = repeat_utf8("x", NOTICE_PDF_MAX_FIELD + 1);
    bad = sample_notice();
    bad.name = too_long;
    assert_int_equal(notice_pdf_render(&bad, 1, &out), NSDB_ERR_TOO_LARGE);
    free(too_long);

    /* A bad notice anywhere in a bulk print refuses the whole print. */
    notice bulk[3] = {sample_notice(), sample_notice(), sample_notice()};
    bulk[2].user_id = "AB23CD45EF6I";
    assert_int_equal(notice_pdf_render(bulk, 3, &out), NSDB_ERR_INVALID);
    assert_string_equal(out.data, "prefix");
    assert_int_equal(out.len, 6);

    /* Empty optional values are fine, and the PDF is appended after what out held. */
    bad = sample_notice();
    bad.department = "";
    assert_int_equal(notice_pdf_render(&bad, 1, &out), NSDB_OK);
    assert_memory_equal(out.data, "prefix%PDF-", 11);
    strbuf_free(&out);
}

typedef struct thread_job {
    char ids[THREAD_NOTICES][13];
    char names[THREAD_NOTICES][64];
    strbuf pdf;
    nsdb_err err;
} thread_job;

static void *render_in_thread(void *arg)
{
    thread_job *job = arg;
    notice notices[THREAD_NOTICES];
    for (int i = 0; i < THREAD_NOTICES; i++) {
        notices[i] = sample_notice();
        notices[i].user_id = job->ids[i];
        notices[i].name = job->names[i];
    }
    for (int round = 0; round < THREAD_ROUNDS && job->err == NSDB_OK; round++) {
        strbuf_reset(&job->pdf);
        job->err = notice_pdf_render(notices, THREAD_NOTICES, &job->pdf);
    }
    return NULL;
}

static void renders_from_four_threads_at_once_are_correct(void **state)
{
    (void)state;
    static const char SYMBOLS[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    thread_job jobs[THREADS];
    pthread_t threads[THREADS];
    memset(jobs, 0, sizeof jobs);
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < THREAD_NOTICES; i++) {
            for (int k = 0; k < 12; k++)
                jobs[t].ids[i][k] = SYMBOLS[(t * 7 + i * 3 + k) % 31];
            snprintf(jobs[t].names[i], sizeof jobs[t].names[i], "スレッド%d 利用者%d", t, i);
        }
        assert_int_equal(pthread_create(&threads[t], NULL, render_in_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(jobs[t].err, NSDB_OK);
        assert_memory_equal(jobs[t].pdf.data, "%PDF-", 5);
        assert_int_equal(raw_page_objects(&jobs[t].pdf), THREAD_NOTICES);
        if (!poppler_missing()) {
            assert_int_equal(pdf_pages(&jobs[t].pdf), THREAD_NOTICES);
            for (int i = 0; i < THREAD_NOTICES; i++) {
                char *page = pdf_page_text(&jobs[t].pdf, i + 1);
                assert_contains(page, jobs[t].ids[i]);
                assert_contains(page, jobs[t].names[i]);
                free(page);
            }
        }
        strbuf_free(&jobs[t].pdf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_notice_is_a_one_page_a4_pdf_with_title),
        cmocka_unit_test(notice_text_has_every_field_and_the_instruction),
        cmocka_unit_test(three_notices_are_three_pages_in_order),
        cmocka_unit_test(fonts_are_embedded_subsets_with_the_monospace_for_secrets),
        cmocka_unit_test(hostile_name_prints_literally),
        cmocka_unit_test(long_values_wrap_or_shrink_and_stay_on_one_page),
        cmocka_unit_test(every_field_at_its_limit_still_fits_one_page),
        cmocka_unit_test(helpdesk_is_printed_and_fits_with_every_field_at_its_limit),
        cmocka_unit_test(bad_input_is_refused_and_leaves_out_unchanged),
        cmocka_unit_test(renders_from_four_threads_at_once_are_correct),
    };
    return cmocka_run_group_tests(tests, load_fontconfig_untracked, NULL);
}
