/*
 * test_cycle_chart.c — the media cycle chart (domain/cycle_chart.c): the seed's cycles drawn
 * with every date written in the text alternative and on the bars, today's line where today
 * is, an SVG that is well formed as far as its tags go, and refusal of bad input (bad dates,
 * reversed windows, too many cycles, a bad id prefix) without touching the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/cycle.h"
#include "domain/cycle_chart.h"

/* The seed's fixed cycles of 2023-09-25 and 2023-10-10 (参考②). */
static void seed_cycles(cycle_window out[2])
{
    assert_true(cycle_find_by_id("2023-09-25", &out[0]));
    assert_true(cycle_find_by_id("2023-10-10", &out[1]));
}

static size_t count_of(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static char *render(const cycle_window *c, size_t n, const char *today)
{
    strbuf sb = STRBUF_INIT;
    assert_int_equal(cycle_chart_svg(c, n, today, "chart", &sb), NSDB_OK);
    strbuf_putc(&sb, '\0');
    return strbuf_detach(&sb, NULL);
}

static void seed_cycles_are_drawn_with_every_date(void **state)
{
    (void)state;
    cycle_window c[2];
    seed_cycles(c);
    char *svg = render(c, 2, "2023-10-12");
    assert_non_null(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(svg, "role=\"img\" aria-labelledby=\"chart-title chart-desc\""));
    assert_non_null(strstr(svg, "<title id=\"chart-title\">媒体送付サイクル（2023-09-25〜2023-11-21）</title>"));
    /* the text alternative names every window with full dates */
    const char *desc = strstr(svg, "<desc id=\"chart-desc\">");
    assert_non_null(desc);
    const char *expected[] = {"サイクル 2023-09-25：", "2023-09-25〜2023-10-06", "2023-10-10〜2023-10-23",
                              "2023-10-17〜2023-11-07", "サイクル 2023-10-10：",
                              "2023-10-24〜2023-11-08", "2023-10-31〜2023-11-21",
                              "今日は 2023-10-12。"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_non_null(strstr(desc, expected[i]));
    /* the bars carry the seed's short dates and its row names, three rows per cycle */
    assert_non_null(strstr(svg, ">9/25〜10/6</text>"));
    assert_non_null(strstr(svg, ">10/17〜11/7</text>"));
    assert_non_null(strstr(svg, ">10/31〜11/21</text>"));
    assert_int_equal(count_of(svg, "<rect "), 1 + 6); /* the background and six bars */
    assert_int_equal(count_of(svg, "[1] ID・パスワード発行（自治体）"), 2);
    assert_int_equal(count_of(svg, "[2] 媒体作成・送付（運用事業者）"), 2);
    assert_int_equal(count_of(svg, "[3] ID/パスワード、媒体送付（自治体）"), 2);
    /* today is marked once, with its date */
    assert_int_equal(count_of(svg, ">今日 10/12</text>"), 1);
    assert_int_equal(count_of(svg, "stroke-dasharray"), 1);
    /* no inline style (the Content-Security-Policy forbids it), tags balanced */
    assert_null(strstr(svg, "style="));
    assert_int_equal(count_of(svg, "<text"), count_of(svg, "</text>"));
    assert_int_equal(count_of(svg, "<svg"), 1);
    assert_int_equal(strcmp(svg + strlen(svg) - 6, "</svg>"), 0);
    free(svg);
}

static void today_outside_the_chart_is_not_marked(void **state)
{
    (void)state;
    cycle_window c[2];
    seed_cycles(c);
    char *svg = render(c, 2, "2024-05-01");
    assert_null(strstr(svg, "今日"));
    assert_null(strstr(svg, "stroke-dasharray"));
    free(svg);
    /* the weekend before a cycle opens widens the chart to show it */
    svg = render(&c[1], 1, "2023-10-07");
    assert_non_null(strstr(svg, ">今日 10/7</text>"));
    assert_non_null(strstr(svg, "媒体送付サイクル（2023-10-07〜2023-11-21）"));
    free(svg);
    svg = render(c, 1, NULL);
    assert_null(strstr(svg, "今日"));
    assert_null(strstr(svg, "サイクル 2023-10-10"));
    free(svg);
}

static void values_are_escaped(void **state)
{
    (void)state;
    cycle_window c[2];
    seed_cycles(c);
    strcpy(c[0].id, "<a&\"b>");
    char *svg = render(c, 1, NULL);
    assert_null(strstr(svg, "<a&"));
    assert_non_null(strstr(svg, "&lt;a&amp;&quot;b&gt;"));
    free(svg);
}

static void bad_input_is_refused_and_out_untouched(void **state)
{
    (void)state;
    cycle_window c[2];
    seed_cycles(c);
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "kept");
    cycle_window bad = c[0];
    strcpy(bad.media_to, "2023-02-30");
    assert_int_equal(cycle_chart_svg(&bad, 1, NULL, "chart", &sb), NSDB_ERR_INVALID);
    bad = c[0];
    strcpy(bad.delivery_to, "2023-10-01"); /* before delivery_from */
    assert_int_equal(cycle_chart_svg(&bad, 1, NULL, "chart", &sb), NSDB_ERR_INVALID);
    bad = c[0];
    strcpy(bad.registration_from, "2023-9-25");
    assert_int_equal(cycle_chart_svg(&bad, 1, NULL, "chart", &sb), NSDB_ERR_INVALID);
    assert_int_equal(cycle_chart_svg(c, 0, NULL, "chart", &sb), NSDB_ERR_INVALID);
    assert_int_equal(cycle_chart_svg(c, 2, "today", "chart", &sb), NSDB_ERR_INVALID);
    assert_int_equal(cycle_chart_svg(c, 2, NULL, "Chart\"", &sb), NSDB_ERR_INVALID);
    assert_int_equal(cycle_chart_svg(c, 2, NULL, "", &sb), NSDB_ERR_INVALID);
    cycle_window many[CYCLE_CHART_MAX_CYCLES + 1];
    for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
        many[i] = c[i % 2];
    assert_int_equal(cycle_chart_svg(many, CYCLE_CHART_MAX_CYCLES + 1, NULL, "chart", &sb),
                     NSDB_ERR_INVALID);
    assert_int_equal(cycle_chart_svg(many, CYCLE_CHART_MAX_CYCLES, NULL, "chart", &sb), NSDB_OK);
    assert_memory_equal(sb.data, "kept", 4);
    strbuf_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_cycles_are_drawn_with_every_date),
        cmocka_unit_test(today_outside_the_chart_is_not_marked),
        cmocka_unit_test(values_are_escaped),
        cmocka_unit_test(bad_input_is_refused_and_out_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
