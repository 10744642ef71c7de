/* hearth_date — the one reader of calendar dates written YYYY-MM-DD or
 * DD/MM/YYYY (day and month may have one digit with slashes), used for
 * dates of birth, date columns and date literals alike, so that every part
 * of hearth agrees on what a date is. */
#ifndef HEARTH_DATE_H
#define HEARTH_DATE_H

#include <stdbool.h>
#include <stddef.h>

#define HEARTH_DATE_LEN 10   /* "YYYY-MM-DD" */

typedef enum {
    HEARTH_DATE_OK,
    HEARTH_DATE_BAD_FORMAT,  /* not written in either accepted way */
    HEARTH_DATE_BAD_DATE     /* written right, but no such day, or outside the years */
} hearth_date_status_t;

/* Reads s[0..len) (no surrounding white space) as a date with a year in
 * ymin..ymax. On success writes "YYYY-MM-DD" and a NUL to out (when not
 * NULL) and whether it was written that way to *iso (when not NULL). */
hearth_date_status_t hearth_date_parse(const char *s, size_t len, unsigned ymin, unsigned ymax,
                                       char out[HEARTH_DATE_LEN + 1], bool *iso);

#endif
