/*
 * holiday.c — the rules of 国民の祝日に関する法律 as code. A date is a holiday when it is
 *   1. a 国民の祝日 of its year (fixed dates and Happy Mondays with the years each applied,
 *      equinoxes by formula, the Olympic moves of 2020/2021) or a one-off 休日 by special law;
 *   2. a 振替休日: from 1973-04-12 the day after a 祝日 falling on a Sunday; from 2007 the first
 *      day after such a Sunday that is not itself a 祝日;
 *   3. a 国民の休日: from 1985-12-27 a day whose previous and next days are both 祝日 (until 2006
 *      not if it is a Sunday).
 * Rules 2 and 3 look only at rule 1 (a 振替休日 is not a 祝日), and 2 takes precedence over 3,
 * as the law says. The one-offs (1959, 1989, 1990, 1993, 2019) count as 祝日 for rule 3: the
 * 2019 special law made 5/1 one, which is what turned 4/30 and 5/2 into 国民の休日.
 */
#include "domain/holiday.h"

#include <stddef.h>

/* Days since 1970-01-01 (Howard Hinnant, "chrono-compatible low-level date algorithms"). */
int64_t holiday_days_from_civil(int year, int month, int day)
{
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void holiday_civil_from_days(int64_t days, int *year, int *month, int *day)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = (int)m;
    *day = (int)d;
}

int holiday_weekday(int64_t days)
{
    int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

static int days_in_month(int year, int month)
{
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : DAYS[month - 1];
}

bool holiday_date_valid(int year, int month, int day)
{
    return month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month);
}

/* Day of the month of the n-th Monday (Happy Monday system, 2000 and 2003 amendments). */
static int nth_monday(int year, int month, int n)
{
    int first = holiday_weekday(holiday_days_from_civil(year, month, 1));
    return 1 + (8 - first) % 7 + 7 * (n - 1);
}

/* 春分日 and 秋分日 are fixed each February by the National Astronomical Observatory; these are
   the usual approximations of its ephemeris, exact for every year the observatory has announced
   and for 1900–2099 as far as anyone has checked. Integer division truncates toward zero, which
   is what the formulas were written for. 0 outside their range. */
static int vernal_equinox_day(int year)
{
    double t = 0.242194 * (year - 1980);
    if (year >= 1900 && year <= 1979)
        return (int)(20.8357 + t - (year - 1983) / 4);
    if (year >= 1980 && year <= 2099)
        return (int)(20.8431 + t - (year - 1980) / 4);
    if (year >= 2100 && year <= 2150)
        return (int)(21.8510 + t - (year - 1980) / 4);
    return 0;
}

static int autumnal_equinox_day(int year)
{
    double t = 0.242194 * (year - 1980);
    if (year >= 1900 && year <= 1979)
        return (int)(23.2588 + t - (year - 1983) / 4);
    if (year >= 1980 && year <= 2099)
        return (int)(23.2488 + t - (year - 1980) / 4);
    if (year >= 2100 && year <= 2150)
        return (int)(24.2488 + t - (year - 1980) / 4);
    return 0;
}

/* 海の日, スポーツの日 and 山の日 in the Olympic years (平成三十二年東京オリンピック特別措置法 and its
   2020 amendment); every other year follows the general rule. */
static int marine_day(int year)
{
    if (year == 2020)
        return 23;
    if (year == 2021)
        return 22;
    return year <= 2002 ? 20 : nth_monday(year, 7, 3);
}

static int mountain_day(int year)
{
    return year == 2020 ? 10 : year == 2021 ? 8 : 11;
}

/* Rule 1: the 祝日 (and one-off 休日) of a date, or NULL. */
static const char *national_holiday(int y, int m, int d)
{
    if (y < 1948 || (y == 1948 && (m < 7 || (m == 7 && d < 20))))
        return NULL;
    switch (m) {
    case 1:
        if (d == 1)
            return "元日";
        if (y >= 1949 && d == (y <= 1999 ? 15 : nth_monday(y, 1, 2)))
            return "成人の日";
        break;
    case 2:
        if (d == 11 && y >= 1967)
            return "建国記念の日";
        if (d == 23 && y >= 2020)
            return "天皇誕生日";
        if (y == 1989 && d == 24)
            return "昭和天皇の大喪の礼";
        break;
    case 3:
        if (d == vernal_equinox_day(y))
            return "春分の日";
        break;
    case 4:
        if (d == 29)
            return y <= 1988 ? "天皇誕生日" : y <= 2006 ? "みどりの日" : "昭和の日";
        if (y == 1959 && d == 10)
            return "皇太子明仁親王の結婚の儀";
        break;
    case 5:
        if (d == 3)
            return "憲法記念日";
        if (d == 4 && y >= 2007)
            return "みどりの日";
        if (d == 5)
            return "こどもの日";
        if (y == 2019 && d == 1)
            return "天皇の即位の日";
        break;
    case 6:
        if (y == 1993 && d == 9)
            return "皇太子徳仁親王の結婚の儀";
        break;
    case 7:
        if (y >= 1996 && d == marine_day(y))
            return "海の日";
        if ((y == 2020 && d == 24) || (y == 2021 && d == 23))
            return "スポーツの日";
        break;
    case 8:
        if (y >= 2016 && d == mountain_day(y))
            return "山の日";
        break;
    case 9:
        if (y >= 1966 && d == (y <= 2002 ? 15 : nth_monday(y, 9, 3)))
            return "敬老の日";
        if (d == autumnal_equinox_day(y))
            return "秋分の日";
        break;
    case 10:
        if (y >= 1966 && y <= 1999 && d == 10)
            return "体育の日";
        if (y >= 2000 && y <= 2019 && d == nth_monday(y, 10, 2))
            return "体育の日";
        if (y >= 2022 && d == nth_monday(y, 10, 2))
            return "スポーツの日";
        if (y == 2019 && d == 22)
            return "即位礼正殿の儀";
        break;
    case 11:
        if (d == 3)
            return "文化の日";
        if (d == 23)
            return "勤労感謝の日";
        if (y == 1990 && d == 12)
            return "即位礼正殿の儀";
        break;
    case 12:
        if (d == 23 && y >= 1989 && y <= 2018)
            return "天皇誕生日";
        break;
    default:
        break;
    }
    return NULL;
}

static const char *national_holiday_on(int64_t days)
{
    int y, m, d;
    holiday_civil_from_days(days, &y, &m, &d);
    return national_holiday(y, m, d);
}

/* Rule 2. Until 2006 only the very next day; from 2007 the holiday walks forward past 祝日, so
   look back through consecutive 祝日 for a Sunday (at most a week back). */
static bool is_substitute_holiday(int64_t days)
{
    static const int64_t FROM = 1197;  /* 1973-04-12 */
    static const int64_t WALK = 13514; /* 2007-01-01 */
    if (days < FROM)
        return false;
    if (days < WALK)
        return holiday_weekday(days - 1) == 0 && national_holiday_on(days - 1) != NULL;
    for (int64_t back = 1; back <= 7; back++) {
        if (national_holiday_on(days - back) == NULL)
            return false;
        if (holiday_weekday(days - back) == 0)
            return true;
    }
    return false;
}

/* Rule 3. */
static bool is_citizens_holiday(int64_t days)
{
    static const int64_t FROM = 5839;  /* 1985-12-27 */
    static const int64_t ANY_DAY = 13514; /* 2007-01-01: Sundays too */
    if (days < FROM)
        return false;
    if (days < ANY_DAY && holiday_weekday(days) == 0)
        return false;
    return national_holiday_on(days - 1) != NULL && national_holiday_on(days + 1) != NULL;
}

bool holiday_is_on_day(int64_t days, const char **name_out)
{
    const char *name = national_holiday_on(days);
    if (name == NULL && is_substitute_holiday(days))
        name = "振替休日";
    if (name == NULL && is_citizens_holiday(days))
        name = "国民の休日";
    if (name_out != NULL)
        *name_out = name;
    return name != NULL;
}

bool holiday_is(int year, int month, int day, const char **name_out)
{
    if (!holiday_date_valid(year, month, day)) {
        if (name_out != NULL)
            *name_out = NULL;
        return false;
    }
    return holiday_is_on_day(holiday_days_from_civil(year, month, day), name_out);
}

bool holiday_is_business_day_on(int64_t days)
{
    int w = holiday_weekday(days);
    return w != 0 && w != 6 && !holiday_is_on_day(days, NULL);
}

bool holiday_is_business_day(int year, int month, int day)
{
    return holiday_date_valid(year, month, day) &&
           holiday_is_business_day_on(holiday_days_from_civil(year, month, day));
}

bool holiday_is_office_closed_on(int64_t days)
{
    int y, m, d;
    holiday_civil_from_days(days, &y, &m, &d);
    if ((m == 12 && d >= 29) || (m == 1 && d <= 3))
        return true;
    return !holiday_is_business_day_on(days);
}

bool holiday_is_office_closed(int year, int month, int day)
{
    return holiday_date_valid(year, month, day) &&
           holiday_is_office_closed_on(holiday_days_from_civil(year, month, day));
}
