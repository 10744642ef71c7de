/* synth_date — calendar dates as day numbers (days since 1970-01-01, in
 * the proleptic Gregorian calendar), so that the generator can draw dates
 * with integer arithmetic and print them in the formats real extracts use. */
#ifndef SYNTH_DATE_H
#define SYNTH_DATE_H

#include <stdint.h>

/* Years accepted for a parsed date (the reference date). Dates of birth
 * reach 101 years earlier, which still prints as four digits. */
#define SYNTH_DATE_MIN_YEAR 1900
#define SYNTH_DATE_MAX_YEAR 2999

/* Bytes needed to hold a formatted date and its NUL. */
#define SYNTH_DATE_TEXT 11

/* The day number of year-month-day; the date must be valid. */
int32_t synth_date_from_ymd(int year, int month, int day);

/* Splits a day number into year, month (1-12) and day (1-31). */
void synth_date_to_ymd(int32_t days, int *year, int *month, int *day);

/* Parses exactly "YYYY-MM-DD" (a real date, year within the bounds above)
 * into *days. Returns 0, or -1 when s is anything else. */
int synth_date_parse_iso(const char *s, int32_t *days);

/* The same calendar day `years` years earlier; 29 February becomes
 * 28 February when the earlier year is not a leap year. */
int32_t synth_date_years_before(int32_t days, int years);

/* Age in completed years on day `on` of someone born on day `born`. */
int synth_date_age(int32_t born, int32_t on);

/* Writes "YYYY-MM-DD" into out (SYNTH_DATE_TEXT bytes). */
void synth_date_format_iso(int32_t days, char out[SYNTH_DATE_TEXT]);

/* Writes "DD/MM/YYYY" into out (SYNTH_DATE_TEXT bytes). */
void synth_date_format_uk(int32_t days, char out[SYNTH_DATE_TEXT]);

#endif
