/*
 * cycle.c — cycle arithmetic on civil dates (days since 1970-01-01, Japan time).
 */
#include "domain/cycle.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void format_day(int64_t days, char out[11])
{
    time_t t = (time_t)(days * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

/* The seed's 先行リリース windows: registration, media creation, delivery. */
static const struct {
    int reg_from[3], reg_to[3], media_from[3], media_to[3], del_from[3], del_to[3];
} PRE_RELEASE[] = {
    {{2023, 8, 21}, {2023, 8, 22}, {2023, 8, 23}, {2023, 8, 30}, {2023, 8, 29}, {2023, 9, 14}},
    {{2023, 8, 23}, {2023, 8, 30}, {2023, 8, 31}, {2023, 9, 7}, {2023, 9, 1}, {2023, 9, 20}},
    {{2023, 8, 31}, {2023, 9, 7}, {2023, 9, 8}, {2023, 9, 22}, {2023, 9, 15}, {2023, 10, 10}},
    {{2023, 9, 8}, {2023, 9, 22}, {2023, 9, 25}, {2023, 10, 6}, {2023, 10, 2}, {2023, 10, 23}},
};

#define CIVIL(a) days_from_civil((a)[0], (a)[1], (a)[2])

void cycle_for_time(int64_t unix_time, cycle_window *out)
{
    int64_t today = (unix_time + 9 * 3600) / 86400 - ((unix_time + 9 * 3600) < 0);
    for (size_t i = 0; i < sizeof PRE_RELEASE / sizeof PRE_RELEASE[0]; i++) {
        if (today <= CIVIL(PRE_RELEASE[i].reg_to)) {
            int64_t from = CIVIL(PRE_RELEASE[i].reg_from);
            format_day(from, out->id);
            format_day(from, out->registration_from);
            format_day(CIVIL(PRE_RELEASE[i].reg_to), out->registration_to);
            format_day(CIVIL(PRE_RELEASE[i].media_from), out->media_from);
            format_day(CIVIL(PRE_RELEASE[i].media_to), out->media_to);
            format_day(CIVIL(PRE_RELEASE[i].del_from), out->delivery_from);
            format_day(CIVIL(PRE_RELEASE[i].del_to), out->delivery_to);
            return;
        }
    }
    /* fixed cycles: 2023-09-25 + 14k; registration Mon..Fri of week 2, media the two weeks
       after, delivery from the Tuesday of week 4 to the Tuesday of week 7 (seed 参考②) */
    int64_t base = days_from_civil(2023, 9, 25);
    int64_t k = (today - base) / 14;
    int64_t from = base + k * 14;
    format_day(from, out->id);
    format_day(from, out->registration_from);
    format_day(from + 11, out->registration_to);
    format_day(from + 15, out->media_from);
    format_day(from + 28, out->media_to);
    format_day(from + 22, out->delivery_from);
    format_day(from + 43, out->delivery_to);
}
