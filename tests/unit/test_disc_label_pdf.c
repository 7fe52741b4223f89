/*
 * test_disc_label_pdf.c — the disc labels of a package (domain/disc_label_pdf.c) and the 媒体番号
 * on the printed list (media_user_list_pdf_numbered): every field of each label in pdftotext's
 * text, two labels to an A4 page, hostile names printed literally, a name at its limit cut with
 * an ellipsis inside its ring, and bad input refused with the output left as it was.
 */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/disc_label_pdf.h"
#include "domain/media_pdf.h"
#include "domain/pdf_util.h"

/* Text without spaces or line breaks, as a person reads it across pdftotext's lines. */
static char *squeezed(const char *text)
{
    char *out = strdup(text);
    char *w = out;
    for (const char *r = text; *r; r++)
        if (*r != ' ' && *r != '\n' && *r != '\f')
            *w++ = *r;
    *w = '\0';
    return out;
}

static char *repeat_utf8(const char *unit, size_t times)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < times; i++)
        strbuf_puts(&sb, unit);
    return strbuf_detach(&sb, NULL);
}

/* Every word pdftotext places on page 1 lies on the first label's printable ring: inside the
 * circle, clear of the hole (a word is above or below it). Returns the number of words. */
static int assert_words_on_the_first_ring(const strbuf *pdf)
{
    char *out = run_tool(pdf, "pdftotext", "-q -bbox -f 1 -l 1", true);
    const double mm = 72.0 / 25.4, cx = PDF_A4_WIDTH / 2, cy = 80.0 * mm;
    const double r = DISC_LABEL_DIAMETER_MM / 2 * mm, hole = DISC_LABEL_HOLE_MM / 2 * mm;
    int words = 0;
    for (const char *p = out; (p = strstr(p, "<word ")) != NULL; p++) {
        double x0, y0, x1, y1;
        assert_int_equal(sscanf(p, "<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" yMax=\"%lf\"", &x0,
                                &y0, &x1, &y1),
                         4);
        double xs[] = {x0, x1}, ys[] = {y0, y1};
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                if (hypot(xs[i] - cx, ys[j] - cy) > r)
                    fail_msg("a word leaves the label: %.60s", p);
        if (!(y1 <= cy - hole || y0 >= cy + hole))
            fail_msg("a word is on the hole: %.60s", p);
        words++;
    }
    free(out);
    return words;
}

static const disc_label LABELS[] = {
    {"1310000012", "医療法人 九段坂病院", "131016", "千代田区", "2026-12-04", "101"},
    {"1310000020", "<b>&amp;</b> 赤十字病院", "131016", "千代田区", "2026-12-04", "102"},
    {"1310000038", "神田診療所", "131016", "千代田区", "2026-12-04", "103"},
};

static void each_label_prints_every_field_two_to_an_a4_page(void **state)
{
    (void)state;
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(disc_label_pdf(LABELS, 3, &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 2);
    if (!poppler_missing()) {
        char *size = pdf_info_field(&pdf, "Page size");
        assert_contains(size, "595.276 x 841.89");
        free(size);
        for (int page = 1; page <= 2; page++) {
            char *text = pdf_page_text(&pdf, page);
            char *flat = squeezed(text);
            for (size_t i = (size_t)(page - 1) * 2; i < 3 && i < (size_t)page * 2; i++) {
                char expect[128];
                char *name = squeezed(LABELS[i].institution_name);
                assert_contains(flat, name);
                free(name);
                snprintf(expect, sizeof expect, "医療機関ID%s", LABELS[i].institution_code);
                assert_contains(flat, expect);
                assert_contains(flat, "131016千代田区");
                assert_contains(flat, "媒体送付サイクル2026-12-04");
                snprintf(expect, sizeof expect, "媒体番号%s", LABELS[i].media_number);
                assert_contains(flat, expect);
            }
            if (page == 2) /* the third label is alone on the second sheet */
                assert_null(strstr(flat, "媒体番号101"));
            free(flat);
            free(text);
        }
    }
    strbuf_free(&pdf);
}

static void a_name_at_its_limit_is_cut_inside_the_ring(void **state)
{
    (void)state;
    char *huge = repeat_utf8("鬱", MEDIA_PDF_MAX_FIELD / 3);
    char *muni = repeat_utf8("長", MEDIA_PDF_MAX_FIELD / 3);
    disc_label l = {"1310000012", huge, "131016", muni, "2026-12-04", "999999"};
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(disc_label_pdf(&l, 1, &pdf), NSDB_OK);
    assert_int_equal(raw_page_objects(&pdf), 1);
    if (!poppler_missing()) {
        /* the cut name (pdftotext reads the ellipsis as the text it stands for) stays on the
           ring, and so does everything after it */
        assert_true(assert_words_on_the_first_ring(&pdf) >= 8);
        char *text = pdf_text(&pdf);
        char *flat = squeezed(text);
        assert_contains(flat, "医療機関ID1310000012");
        assert_contains(flat, "媒体番号999999"); /* the number is never pushed off */
        assert_contains(flat, "媒体送付サイクル2026-12-04");
        free(flat);
        free(text);
    }
    strbuf_free(&pdf);
    free(huge);
    free(muni);
}

static void bad_input_is_refused_and_leaves_out_unchanged(void **state)
{
    (void)state;
    strbuf pdf = STRBUF_INIT;
    strbuf_puts(&pdf, "kept");
    disc_label bad[] = {
        {"1310000012", "病院", "131016", "千代田区", "2026-12-04", "1 2"},   /* space in a code */
        {"1310000012", NULL, "131016", "千代田区", "2026-12-04", "1"},       /* NULL name */
        {"13100/0012", "病院", "131016", "千代田区", "2026-12-04", "1"},     /* slash in a code */
        {"1310000012", "病院\xff", "131016", "千代田区", "2026-12-04", "1"}, /* not UTF-8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(disc_label_pdf(&bad[i], 1, &pdf), NSDB_ERR_INVALID);
        assert_string_equal(pdf.data, "kept");
    }
    assert_int_equal(disc_label_pdf(LABELS, 0, &pdf), NSDB_ERR_INVALID);
    assert_string_equal(pdf.data, "kept");
    strbuf_free(&pdf);
}

static void the_list_prints_each_institutions_media_number_before_its_name(void **state)
{
    (void)state;
    media_list_row rows[] = {{"131016", "千代田区", "1310000012", "医療法人 九段坂病院",
                              "AAAA1111"},
                             {"131016", "千代田区", "1310000012", "医療法人 九段坂病院",
                              "AAAA2222"},
                             {"131016", "千代田区", "1310000020", "神田診療所", "BBBB1111"}};
    const char *numbers[] = {"101", "101", "102"};
    strbuf pdf = STRBUF_INIT;
    assert_int_equal(media_user_list_pdf_numbered(rows, numbers, 3, "一覧", NULL, &pdf), NSDB_OK);
    if (!poppler_missing()) {
        char *text = pdf_text(&pdf);
        char *flat = squeezed(text);
        assert_contains(flat, "［媒体番号101］医療法人九段坂病院");
        assert_contains(flat, "［媒体番号102］神田診療所");
        /* once per institution, on its first row */
        assert_null(strstr(strstr(flat, "媒体番号101") + 1, "媒体番号101"));
        free(flat);
        free(text);
    }
    const char *bad[] = {"101", "1 01", "102"};
    strbuf_reset(&pdf);
    assert_int_equal(media_user_list_pdf_numbered(rows, bad, 3, "一覧", NULL, &pdf),
                     NSDB_ERR_INVALID);
    assert_int_equal(pdf.len, 0);
    strbuf_free(&pdf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_label_prints_every_field_two_to_an_a4_page),
        cmocka_unit_test(a_name_at_its_limit_is_cut_inside_the_ring),
        cmocka_unit_test(bad_input_is_refused_and_leaves_out_unchanged),
        cmocka_unit_test(the_list_prints_each_institutions_media_number_before_its_name),
    };
    return cmocka_run_group_tests(tests, load_fontconfig_untracked, NULL);
}
