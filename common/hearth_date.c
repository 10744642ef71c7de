#include "hearth_date.h"

#include <string.h>

/* Reads n digits at p into *v; false if any is not a digit. */
static bool digits(const char *p, size_t n, unsigned *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        *v = *v * 10 + (unsigned)(p[i] - '0');
    }
    return true;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

hearth_date_status_t hearth_date_parse(const char *s, size_t len, unsigned ymin, unsigned ymax,
                                       char out[HEARTH_DATE_LEN + 1], bool *iso)
{
    unsigned y, m, d;
    bool is_iso = len == HEARTH_DATE_LEN && s[4] == '-' && s[7] == '-';
    if (is_iso) {
        if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
            return HEARTH_DATE_BAD_FORMAT;
    } else {
        /* D/M/YYYY to DD/MM/YYYY: the slashes are the only freedom. */
        if (len < 8 || len > 10 || s[len - 5] != '/')
            return HEARTH_DATE_BAD_FORMAT;
        const char *slash = memchr(s, '/', len - 5);
        if (slash == NULL)
            return HEARTH_DATE_BAD_FORMAT;
        size_t dlen = (size_t)(slash - s), mlen = len - 5 - dlen - 1;
        if (dlen < 1 || dlen > 2 || mlen < 1 || mlen > 2 || !digits(s, dlen, &d) ||
            !digits(slash + 1, mlen, &m) || !digits(s + len - 4, 4, &y))
            return HEARTH_DATE_BAD_FORMAT;
    }
    if (y < ymin || y > ymax || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return HEARTH_DATE_BAD_DATE;
    if (out) {
        out[0] = (char)('0' + y / 1000);
        out[1] = (char)('0' + y / 100 % 10);
        out[2] = (char)('0' + y / 10 % 10);
        out[3] = (char)('0' + y % 10);
        out[4] = '-';
        out[5] = (char)('0' + m / 10);
        out[6] = (char)('0' + m % 10);
        out[7] = '-';
        out[8] = (char)('0' + d / 10);
        out[9] = (char)('0' + d % 10);
        out[10] = '\0';
    }
    if (iso)
        *iso = is_iso;
    return HEARTH_DATE_OK;
}
