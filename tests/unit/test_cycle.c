/*
 * test_cycle.c — the media cycle calendar (domain/cycle.c): every window of the seed's chart
 * (参考②), the 2023-10-09 holiday, and over 2023-08-21 … 2035-12-31 the invariants the rest of
 * the system relies on: each calendar day belongs to exactly one cycle, windows open and close on
 * open days, ids are unique and increasing, media follows registration and delivery overlaps it.
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
#include "domain/holiday.h"

enum { LAST_YEAR = 2035 };

typedef struct cycle_list {
    cycle_window *items;
    size_t count;
} cycle_list;

static int64_t day_of(const char *iso)
{
    int y, m, d;
    if (sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return INT64_MIN;
    return holiday_days_from_civil(y, m, d);
}

static void iso_of(int64_t day, char out[11])
{
    int y, m, d;
    holiday_civil_from_days(day, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* Cycles through 2036, so that the last days of 2035 have theirs. */
static int generate_list(void **state)
{
    cycle_list *list = calloc(1, sizeof *list);
    if (list == NULL)
        return -1;
    list->count = cycle_generate(2023, LAST_YEAR + 1, NULL, 0);
    list->items = calloc(list->count, sizeof *list->items);
    if (list->items == NULL || cycle_generate(2023, LAST_YEAR + 1, list->items, list->count) !=
                                   list->count) {
        free(list->items);
        free(list);
        return -1;
    }
    *state = list;
    return 0;
}

static int free_list(void **state)
{
    cycle_list *list = *state;
    free(list->items);
    free(list);
    return 0;
}

static void assert_window(const cycle_window *c, const char *reg_from, const char *reg_to,
                          const char *media_from, const char *media_to, const char *del_from,
                          const char *del_to)
{
    assert_string_equal(c->id, reg_from);
    assert_string_equal(c->registration_from, reg_from);
    assert_string_equal(c->registration_to, reg_to);
    assert_string_equal(c->media_from, media_from);
    assert_string_equal(c->media_to, media_to);
    assert_string_equal(c->delivery_from, del_from);
    assert_string_equal(c->delivery_to, del_to);
}

static void pre_release_cycles_are_the_seeds(void **state)
{
    const cycle_list *list = *state;
    assert_true(list->count > 7);
    assert_window(&list->items[0], "2023-08-21", "2023-08-22", "2023-08-23", "2023-08-30",
                  "2023-08-29", "2023-09-14");
    assert_window(&list->items[1], "2023-08-23", "2023-08-30", "2023-08-31", "2023-09-07",
                  "2023-09-01", "2023-09-20");
    assert_window(&list->items[2], "2023-08-31", "2023-09-07", "2023-09-08", "2023-09-22",
                  "2023-09-15", "2023-10-10");
    assert_window(&list->items[3], "2023-09-08", "2023-09-22", "2023-09-25", "2023-10-06",
                  "2023-10-02", "2023-10-23");
    assert_string_equal(list->items[0].id, CYCLE_FIRST_DAY);
    assert_string_equal(list->items[4].id, CYCLE_FIXED_FROM);
}

static void fixed_cycles_reproduce_the_seeds_chart(void **state)
{
    const cycle_list *list = *state;
    assert_window(&list->items[4], "2023-09-25", "2023-10-06", "2023-10-10", "2023-10-23",
                  "2023-10-17", "2023-11-07");
    assert_window(&list->items[5], "2023-10-10", "2023-10-23", "2023-10-24", "2023-11-08",
                  "2023-10-31", "2023-11-21");
    /* the chart's third: ID・パスワード発行 (10/24～11/8), 文化の日 11/3 inside */
    assert_string_equal(list->items[6].registration_from, "2023-10-24");
    assert_string_equal(list->items[6].registration_to, "2023-11-08");
}

static void registration_on_sports_day_belongs_to_the_cycle_from_10_10(void **state)
{
    (void)state;
    static const struct {
        const char *date, *cycle;
    } CASES[] = {
        {"2023-08-20", "2023-08-21"}, /* before the first window: the first cycle */
        {"2023-08-21", "2023-08-21"}, {"2023-08-22", "2023-08-21"}, {"2023-08-23", "2023-08-23"},
        {"2023-09-07", "2023-08-31"}, {"2023-09-08", "2023-09-08"}, {"2023-09-22", "2023-09-08"},
        {"2023-09-23", "2023-09-25"}, /* 秋分の日, a Saturday */
        {"2023-10-06", "2023-09-25"}, {"2023-10-07", "2023-10-10"}, {"2023-10-08", "2023-10-10"},
        {"2023-10-09", "2023-10-10"}, /* スポーツの日 */
        {"2023-10-10", "2023-10-10"}, {"2023-10-23", "2023-10-10"}, {"2023-10-24", "2023-10-24"},
        {"2023-11-03", "2023-10-24"}, /* 文化の日, inside the window */
        {"2023-11-08", "2023-10-24"}, {"2023-11-09", "2023-11-09"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        cycle_window c;
        assert_true(cycle_for_date(CASES[i].date, &c));
        if (strcmp(c.id, CASES[i].cycle) != 0)
            fail_msg("%s: cycle %s, expected %s", CASES[i].date, c.id, CASES[i].cycle);
    }
}

static void cycle_for_time_uses_japan_time(void **state)
{
    (void)state;
    cycle_window c;
    cycle_for_time(1696777200, &c); /* 2023-10-09 00:00:00 JST, スポーツの日 */
    assert_string_equal(c.id, "2023-10-10");
    cycle_for_time(1696604399, &c); /* 2023-10-06 23:59:59 JST, a Friday */
    assert_string_equal(c.id, "2023-09-25");
    cycle_for_time(1696604400, &c); /* 2023-10-07 00:00:00 JST (still the 6th in UTC) */
    assert_string_equal(c.id, "2023-10-10");
    cycle_for_time(0, &c);
    assert_string_equal(c.id, CYCLE_FIRST_DAY);
    cycle_for_time(-86400 * 400, &c);
    assert_string_equal(c.id, CYCLE_FIRST_DAY);
    cycle_for_time(INT64_C(253402300799), &c); /* 9999-12-31: clamped to 2099 */
    assert_memory_equal(c.registration_from, "2099-", 5);
}

static void every_day_falls_into_exactly_one_cycle(void **state)
{
    const cycle_list *list = *state;
    int64_t first = day_of(CYCLE_FIRST_DAY), last = day_of("2035-12-31");
    size_t k = 0;
    for (int64_t day = first; day <= last; day++) {
        /* the cycles a day can belong to: whose window holds it, or the next after a gap */
        size_t owners = 0, owner = 0;
        for (size_t i = 0; i < list->count; i++) {
            int64_t from = day_of(list->items[i].registration_from);
            int64_t to = day_of(list->items[i].registration_to);
            int64_t previous_to = i == 0 ? first - 1 : day_of(list->items[i - 1].registration_to);
            if (day > previous_to && day <= to) {
                owners++;
                owner = i;
                if (day < from) /* a gap is only ever closed days */
                    assert_true(holiday_is_office_closed_on(day));
            }
            if (from > day + 60)
                break;
        }
        assert_int_equal(owners, 1);
        assert_true(owner >= k); /* cycles follow each other in date order */
        k = owner;
        /* and the lookup agrees */
        char iso[11];
        iso_of(day, iso);
        cycle_window c;
        assert_true(cycle_for_date(iso, &c));
        assert_memory_equal(&c, &list->items[owner], sizeof c);
    }
}

static void assert_open(const char *iso)
{
    int y, m, d;
    assert_int_equal(sscanf(iso, "%4d-%2d-%2d", &y, &m, &d), 3);
    if (!holiday_is_business_day(y, m, d) || holiday_is_office_closed(y, m, d))
        fail_msg("%s is a weekend, a holiday or in the year-end closure", iso);
}

static void windows_open_and_close_on_open_days(void **state)
{
    const cycle_list *list = *state;
    for (size_t i = 0; i < list->count; i++) {
        const cycle_window *c = &list->items[i];
        assert_open(c->registration_from);
        assert_open(c->registration_to);
        assert_open(c->media_from);
        assert_open(c->media_to);
        assert_open(c->delivery_from);
        assert_open(c->delivery_to);
    }
}

static void ids_are_unique_increasing_and_found(void **state)
{
    const cycle_list *list = *state;
    for (size_t i = 0; i < list->count; i++) {
        const cycle_window *c = &list->items[i];
        assert_string_equal(c->id, c->registration_from);
        if (i > 0)
            assert_true(strcmp(list->items[i - 1].id, c->id) < 0);
        if (i < 40 || i % 10 == 0) {
            cycle_window found;
            assert_true(cycle_find_by_id(c->id, &found));
            assert_memory_equal(&found, c, sizeof found);
        }
    }
    cycle_window c;
    assert_false(cycle_find_by_id("2023-10-09", &c)); /* a holiday, no cycle opens then */
    assert_false(cycle_find_by_id("2023-10-11", &c));
    assert_false(cycle_find_by_id("2023-08-20", &c));
    assert_false(cycle_find_by_id("2023-8-21", &c));
    assert_false(cycle_find_by_id("2023-02-29", &c));
    assert_false(cycle_find_by_id("", &c));
    assert_false(cycle_find_by_id(NULL, &c));
    assert_false(cycle_find_by_id("2123-01-05", &c));
    assert_false(cycle_for_date("2023-10-9", &c));
    assert_false(cycle_for_date("2023/10/09", &c));
    assert_false(cycle_for_date("2023-10-09x", &c));
    assert_false(cycle_for_date("2023-13-01", &c));
}

/* Closed weekdays (holidays, 12/29–1/3) and open days in from … to. */
static void count_days(const char *from, const char *to, int *open, int *closed_weekdays)
{
    *open = *closed_weekdays = 0;
    for (int64_t day = day_of(from); day <= day_of(to); day++) {
        int w = holiday_weekday(day);
        if (!holiday_is_office_closed_on(day))
            (*open)++;
        else if (w != 0 && w != 6)
            (*closed_weekdays)++;
    }
}

static void media_follows_registration_and_delivery_overlaps_media(void **state)
{
    const cycle_list *list = *state;
    for (size_t i = 0; i < list->count; i++) {
        const cycle_window *c = &list->items[i];
        int64_t reg_to = day_of(c->registration_to), media_from = day_of(c->media_from);
        int64_t media_to = day_of(c->media_to);
        int64_t del_from = day_of(c->delivery_from), del_to = day_of(c->delivery_to);
        assert_true(day_of(c->registration_from) <= reg_to);
        assert_true(media_from > reg_to);
        for (int64_t day = reg_to + 1; day < media_from; day++)
            assert_true(holiday_is_office_closed_on(day)); /* media starts the next open day */
        assert_true(media_from <= media_to);
        assert_true(del_from > media_from && del_from <= media_to); /* overlaps … */
        assert_true(del_to > media_to);                               /* … and outlasts */
        if (i + 1 < list->count) { /* media is the next cycle's registration window */
            assert_string_equal(c->media_from, list->items[i + 1].registration_from);
            assert_string_equal(c->media_to, list->items[i + 1].registration_to);
        }
        if (i < 4)
            continue;
        int open, closed;
        count_days(c->registration_from, c->registration_to, &open, &closed);
        assert_int_equal(open, 10 + closed);
        count_days(c->delivery_from, c->delivery_to, &open, &closed);
        assert_int_equal(open, 15);
        count_days(c->media_from, c->delivery_from, &open, &closed);
        assert_int_equal(open, 6);
    }
}

static void generate_counts_and_clamps(void **state)
{
    const cycle_list *list = *state;
    cycle_window two[2];
    memset(two, 0, sizeof two);
    size_t n2023 = cycle_generate(2023, 2023, two, 2);
    assert_true(n2023 > 2);
    assert_string_equal(two[0].id, "2023-08-21");
    assert_string_equal(two[1].id, "2023-08-23");
    assert_int_equal(cycle_generate(1990, 2023, NULL, 0), n2023);
    assert_int_equal(cycle_generate(2024, 2023, NULL, 0), 0);
    assert_int_equal(cycle_generate(2100, 2200, NULL, 0), 0);
    size_t n2024 = cycle_generate(2024, 2024, NULL, 0);
    cycle_window *y2024 = calloc(n2024, sizeof *y2024);
    assert_non_null(y2024);
    assert_int_equal(cycle_generate(2024, 2024, y2024, n2024), n2024);
    assert_memory_equal(y2024, &list->items[n2023], n2024 * sizeof *y2024);
    for (size_t i = 0; i < n2024; i++)
        assert_memory_equal(y2024[i].id, "2024-", 5);
    free(y2024);
    assert_true(n2024 >= 20 && n2024 <= 26); /* about one every two weeks */
    size_t all = cycle_generate(2023, CYCLE_LAST_YEAR, NULL, 0);
    assert_true(all > 1500);
}

/* The coverage check of a cycle adjustment: between two registration windows only closed days
   may lie. */
static void gap_between_windows_names_the_first_open_day(void **state)
{
    (void)state;
    char open[11] = "";
    /* the seed: 9/25–10/6 then 10/10 (10/7–10/9 is a weekend and スポーツの日) */
    assert_false(cycle_gap_first_open_day("2023-10-06", "2023-10-10", open));
    /* adjacent windows leave no day at all */
    assert_false(cycle_gap_first_open_day("2023-10-06", "2023-10-07", open));
    /* starting on Wednesday 10/11 leaves Tuesday 10/10 outside */
    assert_true(cycle_gap_first_open_day("2023-10-06", "2023-10-11", open));
    assert_string_equal(open, "2023-10-10");
    /* the year-end closure is not a gap: 2023-12-28 … 2024-01-04 */
    assert_false(cycle_gap_first_open_day("2023-12-28", "2024-01-04", open));
    assert_true(cycle_gap_first_open_day("2023-12-27", "2024-01-04", open));
    assert_string_equal(open, "2023-12-28");
    assert_false(cycle_gap_first_open_day("2023-13-01", "2024-01-04", open));
    assert_false(cycle_gap_first_open_day("2024-01-04", NULL, open));
    /* every generated cycle joins the next with no open day between */
    cycle_window c[60];
    size_t n = cycle_generate(2024, 2025, c, 60);
    assert_true(n > 40 && n <= 60);
    for (size_t i = 0; i + 1 < n; i++)
        assert_false(cycle_gap_first_open_day(c[i].registration_to, c[i + 1].registration_from, open));
}

static void closed_boundaries_say_why(void **state)
{
    (void)state;
    cycle_window w;
    assert_true(cycle_find_by_id("2023-09-25", &w));
    cycle_closed_day closed[CYCLE_DATE_FIELD_COUNT];
    assert_int_equal(cycle_closed_boundaries(&w, closed), 0);
    strcpy(w.registration_from, "2023-09-23"); /* 秋分の日, a Saturday */
    strcpy(w.media_from, "2023-10-09");        /* スポーツの日 */
    strcpy(w.delivery_to, "2023-12-30");       /* a Saturday in the year-end closure */
    strcpy(w.media_to, "2024-01-02");          /* Tuesday, year-end closure */
    strcpy(w.delivery_from, "2023-10-15");     /* Sunday */
    assert_int_equal(cycle_closed_boundaries(&w, closed), 5);
    assert_string_equal(closed[0].field->name, "registration_from");
    assert_string_equal(closed[0].date, "2023-09-23");
    assert_string_equal(closed[0].why, "秋分の日");
    assert_string_equal(closed[1].field->label, "媒体作成開始");
    assert_string_equal(closed[1].why, "スポーツの日");
    assert_string_equal(closed[2].field->name, "media_to");
    assert_string_equal(closed[2].why, "年末年始");
    assert_string_equal(closed[3].why, "日曜日");
    assert_string_equal(closed[4].field->name, "delivery_to");
    assert_string_equal(closed[4].why, "土曜日");
}

static void registration_open_counts_the_open_days_left(void **state)
{
    (void)state;
    cycle_window w;
    assert_true(cycle_find_by_id("2023-10-24", &w)); /* 10/24–11/8, 文化の日 11/3 inside */
    int left = -1;
    assert_true(cycle_registration_open_on(&w, "2023-10-20", &left)); /* not opened yet */
    assert_int_equal(left, 11);
    assert_true(cycle_registration_open_on(&w, "2023-11-03", &left)); /* a holiday */
    assert_int_equal(left, 3);                                         /* 11/6, 11/7, 11/8 */
    assert_true(cycle_registration_open_on(&w, "2023-11-08", &left)); /* the last day */
    assert_int_equal(left, 1);
    assert_false(cycle_registration_open_on(&w, "2023-11-09", &left));
    assert_int_equal(left, 0);
    left = -1;
    assert_false(cycle_registration_open_on(&w, "2023-11-31", &left));
    assert_int_equal(left, 0);
}

static void day_of_time_is_japan_time(void **state)
{
    (void)state;
    char day[11];
    cycle_day_of_time(1699023599, day); /* 2023-11-03 14:59:59 UTC = 23:59:59 JST */
    assert_string_equal(day, "2023-11-03");
    cycle_day_of_time(1699023600, day);
    assert_string_equal(day, "2023-11-04");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pre_release_cycles_are_the_seeds),
        cmocka_unit_test(fixed_cycles_reproduce_the_seeds_chart),
        cmocka_unit_test(registration_on_sports_day_belongs_to_the_cycle_from_10_10),
        cmocka_unit_test(cycle_for_time_uses_japan_time),
        cmocka_unit_test(every_day_falls_into_exactly_one_cycle),
        cmocka_unit_test(windows_open_and_close_on_open_days),
        cmocka_unit_test(ids_are_unique_increasing_and_found),
        cmocka_unit_test(media_follows_registration_and_delivery_overlaps_media),
        cmocka_unit_test(generate_counts_and_clamps),
        cmocka_unit_test(gap_between_windows_names_the_first_open_day),
        cmocka_unit_test(closed_boundaries_say_why),
        cmocka_unit_test(registration_open_counts_the_open_days_left),
        cmocka_unit_test(day_of_time_is_japan_time),
    };
    return cmocka_run_group_tests(tests, generate_list, free_list);
}
