/*
 * holiday.h — Japanese public holidays computed from the rules of 国民の祝日に関する法律 (and the
 * special laws of 1959, 1989, 1990, 1993 and 2019, and the Olympic moves of 2020 and 2021), plus
 * the civil-date arithmetic the cycle calendar needs. Pure functions, no tables to load: the
 * equinox days come from the standard approximation formulas, so results are right from the law's
 * start (1948-07-20) through 2099; tests/unit/test_holiday.c checks every date of 1970–2050
 * against npm's @holiday-jp/holiday_jp. A future change of the law means a change here.
 */
#ifndef NSDB_HOLIDAY_H
#define NSDB_HOLIDAY_H

#include <stdbool.h>
#include <stdint.h>

#define HOLIDAY_FIRST_YEAR 1948 /* the law took effect on 1948-07-20 */
#define HOLIDAY_LAST_YEAR 2099  /* the equinox formulas' range */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t holiday_days_from_civil(int year, int month, int day);
void holiday_civil_from_days(int64_t days, int *year, int *month, int *day);
/* 0 = Sunday … 6 = Saturday. */
int holiday_weekday(int64_t days);
/* True when year-month-day is a real calendar date. */
bool holiday_date_valid(int year, int month, int day);

/* Japan Standard Time is UTC+9 all year (no daylight saving). */
#define JST_OFFSET_SECONDS (9 * 3600)

/* True when the date is a public holiday (祝日, 振替休日, 国民の休日 or a special 休日);
   *name_out (may be NULL) gets its Japanese name, a static string. */
bool holiday_is(int year, int month, int day, const char **name_out);
bool holiday_is_on_day(int64_t days, const char **name_out);

/* Neither Saturday, Sunday nor a public holiday. */
bool holiday_is_business_day(int year, int month, int day);
bool holiday_is_business_day_on(int64_t days);

/* 行政機関の休日 (行政機関の休日に関する法律 第1条): Saturday, Sunday, a public holiday, or the
   year-end closure 12/29–1/3. Government offices — the municipalities — are shut. */
bool holiday_is_office_closed(int year, int month, int day);
bool holiday_is_office_closed_on(int64_t days);

#endif
