/*
 * cycle_chart.c — see cycle_chart.h. The chart is laid out on a fixed viewBox (CSS scales it to
 * the page): a label column on the left, one column per calendar day on the right, a row of week
 * ticks (Mondays) on top, then per cycle a heading row and the three windows as bars. A bar's
 * dates are written inside it in white when they fit, else beside it in dark grey. Only
 * presentation attributes are used (the pages' Content-Security-Policy allows no inline style).
 * Every number written comes from a date parsed here, and every text goes through the HTML
 * escaper, so nothing from the caller reaches the markup unchecked.
 */
#include "domain/cycle_chart.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "domain/holiday.h"

enum {
    CHART_WIDTH = 980,
    LABEL_WIDTH = 260, /* the row labels; bars start here */
    RIGHT_PAD = 16,
    AXIS_HEIGHT = 46, /* today's label and the week ticks */
    HEADING_HEIGHT = 24,
    ROW_HEIGHT = 26,
    BAR_HEIGHT = 18,
    FONT_SIZE = 12,
    TODAY_LEAD_DAYS = 14, /* the chart starts early to show a today this close before it */
};

#define COLOR_TEXT "#1a1a1a"
#define COLOR_GRID "#cccccc"
#define COLOR_TODAY "#ce0000"

/* The seed's three rows (参考②: 分類 作業項目 分担), in its words. */
static const struct {
    const char *label; /* row label in the chart */
    const char *desc;  /* the same in the text alternative */
    const char *color; /* white text on it has a contrast of at least 4.5:1 */
} KINDS[3] = {
    {"[1] ID・パスワード発行（自治体）", "ID・パスワード発行（自治体が指定医を登録）", "#0017c1"},
    {"[2] 媒体作成・送付（運用事業者）",
     "媒体作成・送付（運用事業者が媒体を作成して自治体へ送付、最終日までに自治体に届く）",
     "#115a36"},
    {"[3] ID/パスワード、媒体送付（自治体）",
     "ID/パスワード、媒体送付（自治体が通知書と媒体を医療機関へ送付）", "#9a3c00"},
};

typedef struct chart_cycle {
    int64_t from[3], to[3]; /* days since 1970-01-01: registration, media, delivery */
} chart_cycle;

/* Strict YYYY-MM-DD of a real day. */
static bool parse_day(const char *s, int64_t *day)
{
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (!holiday_date_valid(y, m, d))
        return false;
    *day = holiday_days_from_civil(y, m, d);
    return true;
}

static bool parse_cycle(const cycle_window *w, chart_cycle *out)
{
    const char *from[3] = {w->registration_from, w->media_from, w->delivery_from};
    const char *to[3] = {w->registration_to, w->media_to, w->delivery_to};
    for (int k = 0; k < 3; k++)
        if (!parse_day(from[k], &out->from[k]) || !parse_day(to[k], &out->to[k]) ||
            out->to[k] < out->from[k])
            return false;
    return true;
}

static bool id_prefix_valid(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
            return false;
    return true;
}

static void put_text(strbuf *sb, const char *s)
{
    strbuf_append_html(sb, s, strlen(s));
}

/* "M/D", as the seed writes dates in its chart. */
static void put_short_date(strbuf *sb, int64_t day)
{
    int y, m, d;
    holiday_civil_from_days(day, &y, &m, &d);
    strbuf_printf(sb, "%d/%d", m, d);
}

static void put_iso_date(strbuf *sb, int64_t day)
{
    int y, m, d;
    holiday_civil_from_days(day, &y, &m, &d);
    strbuf_printf(sb, "%04d-%02d-%02d", y, m, d);
}

/* Rough width in pixels of "M/D〜M/D" at FONT_SIZE: digits and '/' about 0.6 em, 〜 one em. */
static int range_text_width(int64_t from, int64_t to)
{
    int y, m1, d1, m2, d2;
    holiday_civil_from_days(from, &y, &m1, &d1);
    holiday_civil_from_days(to, &y, &m2, &d2);
    int ascii = 2 + (m1 > 9) + (d1 > 9) + 1 + 2 + (m2 > 9) + (d2 > 9);
    return ascii * FONT_SIZE * 6 / 10 + FONT_SIZE;
}

typedef struct layout {
    int64_t first, days; /* the first day drawn and how many */
    double scale;        /* pixels per day */
} layout;

static double x_of(const layout *l, int64_t day)
{
    return LABEL_WIDTH + (double)(day - l->first) * l->scale;
}

static void draw_axis(strbuf *sb, const layout *l, int height)
{
    /* week ticks on Mondays, so that the bars can be read against the calendar */
    for (int64_t day = l->first; day < l->first + l->days; day++) {
        if (holiday_weekday(day) != 1)
            continue;
        double x = x_of(l, day);
        strbuf_printf(sb,
                      "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"" COLOR_GRID
                      "\" stroke-width=\"1\"/>",
                      x, AXIS_HEIGHT - 8, x, height);
        strbuf_printf(sb, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" fill=\"" COLOR_TEXT "\" "
                          "text-anchor=\"middle\">",
                      x, AXIS_HEIGHT - 12);
        put_short_date(sb, day);
        strbuf_puts(sb, "</text>");
    }
}

static void draw_bar(strbuf *sb, const layout *l, int k, int64_t from, int64_t to, int y)
{
    double x1 = x_of(l, from), x2 = x_of(l, to + 1), width = x2 - x1;
    strbuf_printf(sb, "<text x=\"8\" y=\"%d\" font-size=\"%d\" fill=\"" COLOR_TEXT "\">", y + 13,
                  FONT_SIZE);
    put_text(sb, KINDS[k].label);
    strbuf_puts(sb, "</text>");
    strbuf_printf(sb,
                  "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"3\" fill=\"%s\"/>",
                  x1, y, width, BAR_HEIGHT, KINDS[k].color);
    int text_width = range_text_width(from, to);
    if (width >= text_width + 8)
        strbuf_printf(sb,
                      "<text x=\"%.1f\" y=\"%d\" font-size=\"%d\" fill=\"#ffffff\" "
                      "text-anchor=\"middle\">",
                      x1 + width / 2, y + 13, FONT_SIZE);
    else if (x2 + 4 + text_width <= CHART_WIDTH - 2)
        strbuf_printf(sb, "<text x=\"%.1f\" y=\"%d\" font-size=\"%d\" fill=\"" COLOR_TEXT "\">",
                      x2 + 4, y + 13, FONT_SIZE);
    else
        strbuf_printf(sb,
                      "<text x=\"%.1f\" y=\"%d\" font-size=\"%d\" fill=\"" COLOR_TEXT "\" "
                      "text-anchor=\"end\">",
                      x1 - 4, y + 13, FONT_SIZE);
    put_short_date(sb, from);
    strbuf_puts(sb, "〜");
    put_short_date(sb, to);
    strbuf_puts(sb, "</text>");
}

static void draw_cycle(strbuf *sb, const layout *l, const cycle_window *w, const chart_cycle *c,
                       int y)
{
    strbuf_printf(sb,
                  "<text x=\"8\" y=\"%d\" font-size=\"%d\" font-weight=\"bold\" fill=\"" COLOR_TEXT
                  "\">サイクル ",
                  y + 17, FONT_SIZE);
    put_text(sb, w->id);
    strbuf_puts(sb, "</text>");
    strbuf_printf(sb,
                  "<line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"" COLOR_GRID
                  "\" stroke-width=\"1\"/>",
                  y, CHART_WIDTH, y);
    for (int k = 0; k < 3; k++)
        draw_bar(sb, l, k, c->from[k], c->to[k], y + HEADING_HEIGHT + k * ROW_HEIGHT + 4);
}

static void draw_today(strbuf *sb, const layout *l, int64_t today, int height)
{
    double x = x_of(l, today) + l->scale / 2;
    strbuf_printf(sb,
                  "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"" COLOR_TODAY
                  "\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/>",
                  x, 18, x, height);
    const char *anchor = x > CHART_WIDTH - 60 ? "end" : x < LABEL_WIDTH + 40 ? "start" : "middle";
    strbuf_printf(sb,
                  "<text x=\"%.1f\" y=\"14\" font-size=\"%d\" font-weight=\"bold\" fill=\"" COLOR_TODAY
                  "\" text-anchor=\"%s\">今日 ",
                  x, FONT_SIZE, anchor);
    put_short_date(sb, today);
    strbuf_puts(sb, "</text>");
}

/* The text alternative: every date of the chart, in words. */
static void put_description(strbuf *sb, const cycle_window *cycles, const chart_cycle *parsed,
                            size_t count, const int64_t *today)
{
    strbuf text = STRBUF_INIT;
    strbuf_puts(&text, "媒体送付サイクルの日程。");
    for (size_t i = 0; i < count; i++) {
        strbuf_printf(&text, "サイクル %s：", cycles[i].id);
        for (int k = 0; k < 3; k++) {
            strbuf_printf(&text, "[%d] %s ", k + 1, KINDS[k].desc);
            put_iso_date(&text, parsed[i].from[k]);
            strbuf_puts(&text, "〜");
            put_iso_date(&text, parsed[i].to[k]);
            strbuf_puts(&text, k < 2 ? "、" : "。");
        }
    }
    if (today != NULL) {
        strbuf_puts(&text, "今日は ");
        put_iso_date(&text, *today);
        strbuf_puts(&text, "。");
    }
    strbuf_append_html(sb, text.data, text.len);
    strbuf_free(&text);
}

nsdb_err cycle_chart_svg(const cycle_window *cycles, size_t count, const char *today,
                         const char *id_prefix, strbuf *out)
{
    chart_cycle parsed[CYCLE_CHART_MAX_CYCLES];
    if (cycles == NULL || count == 0 || count > CYCLE_CHART_MAX_CYCLES ||
        !id_prefix_valid(id_prefix))
        return NSDB_ERR_INVALID;
    int64_t first = INT64_MAX, last = INT64_MIN, today_day = 0;
    for (size_t i = 0; i < count; i++) {
        if (!parse_cycle(&cycles[i], &parsed[i]))
            return NSDB_ERR_INVALID;
        for (int k = 0; k < 3; k++) {
            first = parsed[i].from[k] < first ? parsed[i].from[k] : first;
            last = parsed[i].to[k] > last ? parsed[i].to[k] : last;
        }
    }
    if (today != NULL && !parse_day(today, &today_day))
        return NSDB_ERR_INVALID;
    /* a day between two windows (a weekend before the current cycle opens) is still shown */
    if (today != NULL && today_day < first && first - today_day <= TODAY_LEAD_DAYS)
        first = today_day;
    bool today_shown = today != NULL && today_day >= first && today_day <= last;
    layout l = {first, last - first + 1, 0};
    l.scale = (double)(CHART_WIDTH - LABEL_WIDTH - RIGHT_PAD) / (double)l.days;
    int height = AXIS_HEIGHT + (int)count * (HEADING_HEIGHT + 3 * ROW_HEIGHT) + 8;

    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"cycle-chart\" "
                  "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"%s-title %s-desc\">",
                  CHART_WIDTH, height, id_prefix, id_prefix);
    strbuf_printf(&sb, "<title id=\"%s-title\">媒体送付サイクル（", id_prefix);
    put_iso_date(&sb, first);
    strbuf_puts(&sb, "〜");
    put_iso_date(&sb, last);
    strbuf_printf(&sb, "）</title><desc id=\"%s-desc\">", id_prefix);
    put_description(&sb, cycles, parsed, count, today_shown ? &today_day : NULL);
    strbuf_puts(&sb, "</desc>");
    strbuf_printf(&sb, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>", CHART_WIDTH, height);
    draw_axis(&sb, &l, height);
    for (size_t i = 0; i < count; i++)
        draw_cycle(&sb, &l, &cycles[i], &parsed[i],
                   AXIS_HEIGHT + (int)i * (HEADING_HEIGHT + 3 * ROW_HEIGHT));
    if (today_shown)
        draw_today(&sb, &l, today_day, height);
    strbuf_puts(&sb, "</svg>");
    strbuf_append(out, sb.data, sb.len);
    strbuf_free(&sb);
    return NSDB_OK;
}
