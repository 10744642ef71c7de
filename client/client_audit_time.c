#include "client_audit_time.h"
#include "hearth_date.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t days_ms(int year, int month, int day)
{
    struct tm tm = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day};
    return (uint64_t)timegm(&tm) * 1000u;
}

bool client_audit_time_parse(const char *s, bool end_of_day, uint64_t *ms)
{
    if (s == NULL)
        return false;
    size_t len = strlen(s);
    if (len < HEARTH_DATE_LEN)
        return false;
    char iso[HEARTH_DATE_LEN + 1];
    bool was_iso = false;
    if (hearth_date_parse(s, HEARTH_DATE_LEN, 1970, 9999, iso, &was_iso) != HEARTH_DATE_OK ||
        !was_iso)
        return false;
    int y = atoi(iso), m = atoi(iso + 5), d = atoi(iso + 8);
    uint64_t day = days_ms(y, m, d);
    if (len == HEARTH_DATE_LEN) {
        *ms = end_of_day ? day + 86400000u : day;
        return true;
    }
    /* "THH:MM", then ":SS", then "Z", each optional after the first. */
    const char *t = s + HEARTH_DATE_LEN;
    size_t tl = len - HEARTH_DATE_LEN;
    if (tl > 0 && t[tl - 1] == 'Z')
        tl--;
    unsigned hh, mm, ss = 0;
    bool digits = true;
    for (size_t i = 1; i < tl; i++)
        if (!((i == 3 || i == 6) ? t[i] == ':' : (t[i] >= '0' && t[i] <= '9')))
            digits = false;
    if (t[0] != 'T' || !digits || (tl != 6 && tl != 9))
        return false;
    hh = (unsigned)atoi(t + 1);
    mm = (unsigned)atoi(t + 4);
    if (tl == 9)
        ss = (unsigned)atoi(t + 7);
    if (hh > 23 || mm > 59 || ss > 59)
        return false;
    *ms = day + ((uint64_t)hh * 3600u + mm * 60u + ss) * 1000u;
    return true;
}

bool client_audit_time_parse_month(const char *s, uint64_t *since_ms, uint64_t *until_ms)
{
    if (s == NULL || strlen(s) != 7)
        return false;
    char date[HEARTH_DATE_LEN + 1];
    snprintf(date, sizeof date, "%s-01", s);
    uint64_t since;
    if (!client_audit_time_parse(date, false, &since))
        return false;
    int y = atoi(s), m = atoi(s + 5);
    *since_ms = since;
    *until_ms = m == 12 ? days_ms(y + 1, 1, 1) : days_ms(y, m + 1, 1);
    return true;
}

void client_audit_time_format(uint64_t ms, bool with_ms, char out[32])
{
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, 32, "?");
        return;
    }
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    if (with_ms)
        snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000u));
    else
        snprintf(out + n, 32 - n, "Z");
}
