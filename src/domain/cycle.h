/*
 * cycle.h — the media cycle calendar (媒体送付サイクル, seed 参考②): which cycle a registration
 * falls into, and when the media for it is made and delivered. The seed's four 先行リリース
 * cycles (registrations from 2023-08-21) are data; from 2023-09-25 cycles follow the fixed rule
 * described in cycle.c, counted in the days government offices are open (domain/holiday.h).
 * The id of a cycle is the first day of its registration window. Every calendar day from
 * 2023-08-21 through 2099 belongs to exactly one cycle: a day outside every window (a weekend
 * or holiday between two windows) belongs to the next cycle.
 */
#ifndef NSDB_CYCLE_H
#define NSDB_CYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CYCLE_FIRST_DAY "2023-08-21" /* the first registration window opens (先行リリース) */
#define CYCLE_FIXED_FROM "2023-09-25" /* the first cycle of the fixed rule */
#define CYCLE_LAST_YEAR 2099          /* the holiday rules' range */

typedef struct cycle_window {
    char id[11];                /* YYYY-MM-DD, = registration_from */
    char registration_from[11]; /* [1] ID・パスワード発行 by the municipality */
    char registration_to[11];
    char media_from[11]; /* [2] 媒体作成・送付 by the operator */
    char media_to[11];
    char delivery_from[11]; /* [3] ID/パスワード、媒体送付 by the municipality to institutions */
    char delivery_to[11];
} cycle_window;

/* The cycle of a registration made at unix_time (Japan time). Before 2023-08-21: the first cycle;
   after 2099: the cycle of 2099-12-31. */
void cycle_for_time(int64_t unix_time, cycle_window *out);

/* The cycle of a registration made on date (YYYY-MM-DD); false when date is not a valid date. */
bool cycle_for_date(const char *date, cycle_window *out);

/* The cycle whose id is id; false when there is none. */
bool cycle_find_by_id(const char *id, cycle_window *out);

/* Every cycle whose registration window opens in from_year … to_year_inclusive, in order (the
   先行リリース cycles first when 2023 is included). Writes at most cap of them to out (may be
   NULL when cap is 0) and returns how many there are, so that a count larger than cap means the
   list was cut short. Years are clamped to 2023 … CYCLE_LAST_YEAR. */
size_t cycle_generate(int from_year, int to_year_inclusive, cycle_window *out, size_t cap);

/* The six dates of a cycle as form fields, in form order: name (= the cycle_window member) and
   the label the screens show. Declared once here for the form, its errors and its warnings. */
#define CYCLE_DATE_FIELD_COUNT 6
typedef struct cycle_date_field {
    const char *name;  /* "registration_from" … "delivery_to" */
    const char *label; /* 登録開始 … 送付終了 */
    size_t offset;     /* of the char[11] in cycle_window */
} cycle_date_field;
extern const cycle_date_field CYCLE_DATE_FIELDS[CYCLE_DATE_FIELD_COUNT];

/* The first day strictly between after and before (YYYY-MM-DD) on which government offices are
   open, written to first_open: a day a registration could be made on that no registration
   window holds. False when every such day is closed, there is none, or a date is not valid. */
bool cycle_gap_first_open_day(const char *after, const char *before, char first_open[11]);

/* A window boundary of a cycle that falls on a day government offices are closed. */
typedef struct cycle_closed_day {
    const cycle_date_field *field;
    char date[11];
    const char *why; /* 土曜日, 日曜日, 年末年始 or the holiday's name (static strings) */
} cycle_closed_day;
/* The boundaries of w on closed days, in field order (at most CYCLE_DATE_FIELD_COUNT); invalid
   dates are skipped. */
size_t cycle_closed_boundaries(const cycle_window *w, cycle_closed_day out[CYCLE_DATE_FIELD_COUNT]);

/* The day (YYYY-MM-DD, Japan time) of unix_time. */
void cycle_day_of_time(int64_t unix_time, char out[11]);

/* Whether w's registration window is still open on today (YYYY-MM-DD): today is on or before its
   last day (a window not yet opened counts as open). *open_days_left gets the days government
   offices are open from today (or the window's first day, if later) through its last day; 0
   when closed. A date that is not valid answers false (closed) with 0. */
bool cycle_registration_open_on(const cycle_window *w, const char *today, int *open_days_left);

#endif
