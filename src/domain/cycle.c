/*
 * cycle.c — the cycle calendar as a rule. "Open day" below means a day government offices work:
 * not Saturday, Sunday, a public holiday or 12/29–1/3 (holiday_is_office_closed_on); the
 * municipalities issue IDs and forward media, so their calendar is the one that counts.
 *
 * 先行リリース (2023-08-21 … 2023-09-22): the seed's four cycles, copied from its chart.
 *
 * Fixed cycles (from 2023-09-25), reproducing every date of the seed's chart:
 *   registration  opens on the first open day after the previous window closes (the first on
 *                 2023-09-25) and lasts ten open days plus one more open day for every weekday
 *                 inside it on which offices are closed. (Plain ten-open-day blocks give
 *                 10/24–11/7 for the third cycle; the seed says 10/24–11/8: 文化の日 11/3 is
 *                 skipped *and* made up.)
 *   media         is the next cycle's registration window (as in every cycle of the chart).
 *   delivery      opens on the sixth open day of the media window and lasts fifteen open days.
 * Checked against the seed (tests/unit/test_cycle.c):
 *   9/25–10/6    ten open days, no holiday              media 10/10–10/23, delivery 10/17–11/7
 *   10/10–10/23  opens after スポーツの日 10/9 (outside   media 10/24–11/8,  delivery 10/31–11/21
 *                the window, so no extension); ten days
 *   10/24–11/8   contains 文化の日 11/3: eleven open days
 * Delivery: 10/10 + five open days = 10/17, and 10/17 … 11/7 is fifteen open days (11/3 skipped);
 * 10/24 + five = 10/31, and 10/31 … 11/21 is fifteen. As the windows are counted in open days
 * they never start or end on a closed day, and no two overlap. A registration on a closed day
 * between two windows belongs to the next cycle. The windows do not stay on Mondays: the seed's
 * own third window closes on a Wednesday, so the fourth opens on Thursday 2023-11-09. A window
 * over the New Year closure runs about four weeks (2023-12-22 … 2024-01-18).
 *
 * Nothing is cached: finding a cycle walks the calendar from 2023 (about half a millisecond for
 * a date in 2035). The database keeps the generated list for operators to adjust; this file is
 * the rule it is seeded from, and the answer for dates beyond the stored list.
 */
#include "domain/cycle.h"

#include "domain/holiday.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum {
    REGISTRATION_OPEN_DAYS = 10,
    DELIVERY_OFFSET_OPEN_DAYS = 5, /* into the media window */
    DELIVERY_OPEN_DAYS = 15,
};

typedef struct cycle_days {
    int64_t registration_from, registration_to;
    int64_t media_from, media_to;
    int64_t delivery_from, delivery_to;
} cycle_days;

/* The seed's 先行リリース windows: registration, media creation, delivery (参考②). */
static const struct {
    int dates[6][3];
} PRE_RELEASE[] = {
    {{{2023, 8, 21}, {2023, 8, 22}, {2023, 8, 23}, {2023, 8, 30}, {2023, 8, 29}, {2023, 9, 14}}},
    {{{2023, 8, 23}, {2023, 8, 30}, {2023, 8, 31}, {2023, 9, 7}, {2023, 9, 1}, {2023, 9, 20}}},
    {{{2023, 8, 31}, {2023, 9, 7}, {2023, 9, 8}, {2023, 9, 22}, {2023, 9, 15}, {2023, 10, 10}}},
    {{{2023, 9, 8}, {2023, 9, 22}, {2023, 9, 25}, {2023, 10, 6}, {2023, 10, 2}, {2023, 10, 23}}},
};
#define PRE_RELEASE_COUNT (sizeof PRE_RELEASE / sizeof PRE_RELEASE[0])

static int64_t civil(const int date[3])
{
    return holiday_days_from_civil(date[0], date[1], date[2]);
}

static cycle_days pre_release_days(size_t i)
{
    const int(*d)[3] = PRE_RELEASE[i].dates;
    return (cycle_days){civil(d[0]), civil(d[1]), civil(d[2]),
                        civil(d[3]), civil(d[4]), civil(d[5])};
}

static int64_t fixed_start(void)
{
    return holiday_days_from_civil(2023, 9, 25);
}

static int64_t last_day(void)
{
    return holiday_days_from_civil(CYCLE_LAST_YEAR, 12, 31);
}

static bool is_open(int64_t day)
{
    return !holiday_is_office_closed_on(day);
}

static int64_t first_open_after(int64_t day)
{
    do
        day++;
    while (!is_open(day));
    return day;
}

/* The open day n open days after from (from itself open). */
static int64_t add_open_days(int64_t from, int n)
{
    for (int i = 0; i < n; i++)
        from = first_open_after(from);
    return from;
}

/* Last day of a registration window opening on from: ten open days, plus one open day for
   each weekday inside the window on which offices are closed. */
static int64_t registration_end(int64_t from)
{
    assert(is_open(from));
    int open = 0, needed = REGISTRATION_OPEN_DAYS;
    for (int64_t day = from;; day++) {
        if (is_open(day)) {
            if (++open == needed)
                return day;
        } else {
            int w = holiday_weekday(day);
            needed += w != 0 && w != 6;
        }
    }
}

static cycle_days fixed_cycle_days(int64_t registration_from)
{
    cycle_days c;
    c.registration_from = registration_from;
    c.registration_to = registration_end(registration_from);
    c.media_from = first_open_after(c.registration_to);
    c.media_to = registration_end(c.media_from);
    c.delivery_from = add_open_days(c.media_from, DELIVERY_OFFSET_OPEN_DAYS);
    c.delivery_to = add_open_days(c.delivery_from, DELIVERY_OPEN_DAYS - 1);
    return c;
}

static void format_day(int64_t day, char out[11])
{
    int y, m, d;
    holiday_civil_from_days(day, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

static void window_from_days(const cycle_days *c, cycle_window *out)
{
    format_day(c->registration_from, out->id);
    format_day(c->registration_from, out->registration_from);
    format_day(c->registration_to, out->registration_to);
    format_day(c->media_from, out->media_from);
    format_day(c->media_to, out->media_to);
    format_day(c->delivery_from, out->delivery_from);
    format_day(c->delivery_to, out->delivery_to);
}

/* Walks the cycles in order: *index counts them, *next_from is the next fixed cycle's first day. */
typedef struct cycle_walk {
    size_t index;
    int64_t next_from;
} cycle_walk;

/* The registration window of the next cycle, without the (costlier) media and delivery days. */
static void walk_next(cycle_walk *walk, int64_t *from, int64_t *to)
{
    if (walk->index < PRE_RELEASE_COUNT) {
        cycle_days c = pre_release_days(walk->index);
        *from = c.registration_from;
        *to = c.registration_to;
    } else {
        *from = walk->index == PRE_RELEASE_COUNT ? fixed_start() : walk->next_from;
        *to = registration_end(*from);
        walk->next_from = first_open_after(*to);
    }
    walk->index++;
}

static cycle_days complete_days(size_t index, int64_t registration_from)
{
    return index < PRE_RELEASE_COUNT ? pre_release_days(index)
                                     : fixed_cycle_days(registration_from);
}

static void cycle_for_day(int64_t day, cycle_window *out)
{
    if (day > last_day())
        day = last_day();
    cycle_walk walk = {0, 0};
    for (;;) {
        size_t index = walk.index;
        int64_t from, to;
        walk_next(&walk, &from, &to);
        if (day <= to) {
            cycle_days c = complete_days(index, from);
            window_from_days(&c, out);
            return;
        }
    }
}

void cycle_for_time(int64_t unix_time, cycle_window *out)
{
    int64_t jst = unix_time + JST_OFFSET_SECONDS;
    int64_t day = jst / 86400 - (jst % 86400 < 0);
    cycle_for_day(day, out);
}

/* Strict YYYY-MM-DD of a valid date. */
static bool parse_date(const char *s, int64_t *day)
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

bool cycle_for_date(const char *date, cycle_window *out)
{
    int64_t day;
    if (!parse_date(date, &day))
        return false;
    cycle_for_day(day, out);
    return true;
}

bool cycle_find_by_id(const char *id, cycle_window *out)
{
    int64_t day;
    if (!parse_date(id, &day) || day > last_day())
        return false;
    cycle_walk walk = {0, 0};
    for (;;) {
        size_t index = walk.index;
        int64_t from, to;
        walk_next(&walk, &from, &to);
        if (from == day) {
            cycle_days c = complete_days(index, from);
            window_from_days(&c, out);
            return true;
        }
        if (from > day)
            return false;
    }
}

size_t cycle_generate(int from_year, int to_year_inclusive, cycle_window *out, size_t cap)
{
    if (from_year < 2023)
        from_year = 2023;
    if (to_year_inclusive > CYCLE_LAST_YEAR)
        to_year_inclusive = CYCLE_LAST_YEAR;
    if (from_year > to_year_inclusive)
        return 0;
    int64_t first = holiday_days_from_civil(from_year, 1, 1);
    int64_t last = holiday_days_from_civil(to_year_inclusive, 12, 31);
    size_t n = 0;
    cycle_walk walk = {0, 0};
    for (;;) {
        size_t index = walk.index;
        int64_t from, to;
        walk_next(&walk, &from, &to);
        if (from > last)
            return n;
        if (from < first)
            continue;
        if (n < cap) {
            cycle_days c = complete_days(index, from);
            window_from_days(&c, &out[n]);
        }
        n++;
    }
}

const cycle_date_field CYCLE_DATE_FIELDS[CYCLE_DATE_FIELD_COUNT] = {
    {"registration_from", "登録開始", offsetof(cycle_window, registration_from)},
    {"registration_to", "登録終了", offsetof(cycle_window, registration_to)},
    {"media_from", "媒体作成開始", offsetof(cycle_window, media_from)},
    {"media_to", "媒体作成終了", offsetof(cycle_window, media_to)},
    {"delivery_from", "送付開始", offsetof(cycle_window, delivery_from)},
    {"delivery_to", "送付終了", offsetof(cycle_window, delivery_to)},
};

bool cycle_gap_first_open_day(const char *after, const char *before, char first_open[11])
{
    int64_t from, to;
    if (!parse_date(after, &from) || !parse_date(before, &to))
        return false;
    for (int64_t day = from + 1; day < to; day++)
        if (is_open(day)) {
            format_day(day, first_open);
            return true;
        }
    return false;
}

/* Why offices are closed on day (which is closed). */
static const char *closed_reason(int64_t day)
{
    const char *name = NULL;
    if (holiday_is_on_day(day, &name) && name != NULL)
        return name;
    int w = holiday_weekday(day);
    if (w == 6)
        return "土曜日";
    if (w == 0)
        return "日曜日";
    return "年末年始";
}

size_t cycle_closed_boundaries(const cycle_window *w, cycle_closed_day out[CYCLE_DATE_FIELD_COUNT])
{
    size_t n = 0;
    for (size_t i = 0; i < CYCLE_DATE_FIELD_COUNT; i++) {
        const char *date = (const char *)w + CYCLE_DATE_FIELDS[i].offset;
        int64_t day;
        if (!parse_date(date, &day) || is_open(day))
            continue;
        out[n].field = &CYCLE_DATE_FIELDS[i];
        format_day(day, out[n].date);
        out[n].why = closed_reason(day);
        n++;
    }
    return n;
}

void cycle_day_of_time(int64_t unix_time, char out[11])
{
    int64_t jst = unix_time + JST_OFFSET_SECONDS;
    format_day(jst / 86400 - (jst % 86400 < 0), out);
}

bool cycle_registration_open_on(const cycle_window *w, const char *today, int *open_days_left)
{
    int64_t now, from, to;
    *open_days_left = 0;
    if (!parse_date(today, &now) || !parse_date(w->registration_from, &from) ||
        !parse_date(w->registration_to, &to))
        return false;
    for (int64_t day = now > from ? now : from; day <= to; day++)
        *open_days_left += is_open(day);
    return now <= to;
}
