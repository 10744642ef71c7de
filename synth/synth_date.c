#include "synth_date.h"

#include <string.h>

/* Howard Hinnant's days_from_civil / civil_from_days: exact for every
 * Gregorian date, no tables and no floating point. */
int32_t synth_date_from_ymd(int year, int month, int day)
{
    int y = year - (month <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int mp = (month + 9) % 12;
    int doy = (153 * mp + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void synth_date_to_ymd(int32_t days, int *year, int *month, int *day)
{
    int32_t z = days + 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    int32_t doe = z - era * 146097;
    int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int32_t mp = (5 * doy + 2) / 153;
    int32_t d = doy - (153 * mp + 2) / 5 + 1;
    int32_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = (int)m;
    *day = (int)d;
}

static int is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int month_days(int year, int month)
{
    static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return month == 2 && is_leap(year) ? 29 : len[month - 1];
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int synth_date_parse_iso(const char *s, int32_t *days)
{
    int y, m, d;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    if (digits(s, 4, &y) != 0 || digits(s + 5, 2, &m) != 0 || digits(s + 8, 2, &d) != 0)
        return -1;
    if (y < SYNTH_DATE_MIN_YEAR || y > SYNTH_DATE_MAX_YEAR || m < 1 || m > 12 ||
        d < 1 || d > month_days(y, m))
        return -1;
    *days = synth_date_from_ymd(y, m, d);
    return 0;
}

int32_t synth_date_years_before(int32_t days, int years)
{
    int y, m, d;
    synth_date_to_ymd(days, &y, &m, &d);
    y -= years;
    if (d > month_days(y, m))
        d = month_days(y, m);
    return synth_date_from_ymd(y, m, d);
}

int synth_date_age(int32_t born, int32_t on)
{
    int by, bm, bd, oy, om, od;
    synth_date_to_ymd(born, &by, &bm, &bd);
    synth_date_to_ymd(on, &oy, &om, &od);
    int age = oy - by;
    if (om < bm || (om == bm && od < bd))
        age--;
    return age;
}

/* Writes n decimal digits of v, zero-padded. */
static void put_digits(char *out, int v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void synth_date_format_iso(int32_t days, char out[SYNTH_DATE_TEXT])
{
    int y, m, d;
    synth_date_to_ymd(days, &y, &m, &d);
    put_digits(out, y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = '\0';
}

void synth_date_format_uk(int32_t days, char out[SYNTH_DATE_TEXT])
{
    int y, m, d;
    synth_date_to_ymd(days, &y, &m, &d);
    put_digits(out, d, 2);
    out[2] = '/';
    put_digits(out + 3, m, 2);
    out[5] = '/';
    put_digits(out + 6, y, 4);
    out[10] = '\0';
}
