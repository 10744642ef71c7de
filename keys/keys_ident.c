#include "keys_ident.h"

#include <stdbool.h>
#include <string.h>

/* Character classes are ASCII only and written out rather than taken from
 * <ctype.h>: the locale must never change what a partner accepts, and
 * ctype's functions are undefined for negative chars. */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static char to_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Narrows [*in, *in + *len) to exclude surrounding white space. */
static void trim(const char **in, size_t *len)
{
    const char *p = *in;
    size_t n = *len;
    while (n > 0 && is_space(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_space(p[n - 1]))
        n--;
    *in = p;
    *len = n;
}

/* No default: the compiler flags a status added without a message. */
const char *keys_ident_strstatus(keys_ident_status_t s)
{
    switch (s) {
    case KEYS_IDENT_OK: return "ok";
    case KEYS_IDENT_EMPTY: return "empty";
    case KEYS_IDENT_BAD_FORMAT: return "not in an accepted format";
    case KEYS_IDENT_BAD_CHECK_DIGIT: return "check digit does not match";
    case KEYS_IDENT_BAD_DATE: return "not a real date between 1870 and 2100";
    }
    return "unknown status";
}

keys_ident_status_t keys_ident_nhs(const char *in, size_t len, char out[KEYS_NHS_LEN + 1])
{
    char digits[KEYS_NHS_LEN];
    size_t n = 0;

    trim(&in, &len);
    if (len == 0)
        return KEYS_IDENT_EMPTY;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == ' ' || c == '-')
            continue;
        /* Stop at the eleventh digit: a huge cell costs no more than a
         * short one. */
        if (!is_digit(c) || n == KEYS_NHS_LEN)
            return KEYS_IDENT_BAD_FORMAT;
        digits[n++] = c;
    }
    if (n != KEYS_NHS_LEN)
        return KEYS_IDENT_BAD_FORMAT;

    unsigned sum = 0;
    for (size_t i = 0; i < KEYS_NHS_LEN - 1; i++)
        sum += (unsigned)(digits[i] - '0') * (unsigned)(KEYS_NHS_LEN - i);
    unsigned check = 11 - sum % 11;
    if (check == 11)
        check = 0;
    if (check == 10 || check != (unsigned)(digits[KEYS_NHS_LEN - 1] - '0'))
        return KEYS_IDENT_BAD_CHECK_DIGIT;

    memcpy(out, digits, KEYS_NHS_LEN);
    out[KEYS_NHS_LEN] = '\0';
    return KEYS_IDENT_OK;
}

/* Parses exactly n digits at p into *value; false if any is not a digit. */
static bool parse_digits(const char *p, size_t n, unsigned *value)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *value = v;
    return true;
}

/* Parses a 1- or 2-digit field at in[*pos] ending with sep; advances *pos
 * past sep. */
static bool parse_short_field(const char *in, size_t len, size_t *pos, char sep,
                              unsigned *value)
{
    size_t start = *pos, end = start;
    while (end < len && end - start < 3 && is_digit(in[end]))
        end++;
    if (end == start || end - start > 2 || end >= len || in[end] != sep)
        return false;
    if (!parse_digits(in + start, end - start, value))
        return false;
    *pos = end + 1;
    return true;
}

static bool is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

keys_ident_status_t keys_ident_dob(const char *in, size_t len, char out[KEYS_DOB_LEN + 1])
{
    unsigned y, m, d;

    trim(&in, &len);
    if (len == 0)
        return KEYS_IDENT_EMPTY;
    if (len == KEYS_DOB_LEN && in[4] == '-' && in[7] == '-') {
        if (!parse_digits(in, 4, &y) || !parse_digits(in + 5, 2, &m)
            || !parse_digits(in + 8, 2, &d))
            return KEYS_IDENT_BAD_FORMAT;
    } else {
        size_t pos = 0;
        if (!parse_short_field(in, len, &pos, '/', &d)
            || !parse_short_field(in, len, &pos, '/', &m)
            || len - pos != 4 || !parse_digits(in + pos, 4, &y))
            return KEYS_IDENT_BAD_FORMAT;
    }
    if (y < KEYS_DOB_YEAR_MIN || y > KEYS_DOB_YEAR_MAX || m < 1 || m > 12 || d < 1
        || d > days_in_month(y, m))
        return KEYS_IDENT_BAD_DATE;

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
    return KEYS_IDENT_OK;
}

/* True when in[0..len) equals word (lower case) ignoring ASCII case. */
static bool equals_nocase(const char *in, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return false;
    }
    return true;
}

keys_ident_status_t keys_ident_sex(const char *in, size_t len, char *out)
{
    trim(&in, &len);
    if (len == 0)
        return KEYS_IDENT_EMPTY;
    if (equals_nocase(in, len, "m") || equals_nocase(in, len, "male")
        || equals_nocase(in, len, "1")) {
        *out = 'M';
        return KEYS_IDENT_OK;
    }
    if (equals_nocase(in, len, "f") || equals_nocase(in, len, "female")
        || equals_nocase(in, len, "2")) {
        *out = 'F';
        return KEYS_IDENT_OK;
    }
    return KEYS_IDENT_BAD_FORMAT;
}

/* True when s (length n) matches shape, where 'A' stands for a letter and
 * '9' for a digit. */
static bool matches_shape(const char *s, size_t n, const char *shape)
{
    if (strlen(shape) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (shape[i] == 'A' ? !is_upper(s[i]) : !is_digit(s[i]))
            return false;
    }
    return true;
}

keys_ident_status_t keys_ident_postcode(const char *in, size_t len,
                                        char out[KEYS_POSTCODE_MAX + 1], size_t *out_len)
{
    /* Outward shapes, each followed by the inward code 9AA. */
    static const char *const shapes[] = {
        "A99AA", "A999AA", "AA99AA", "AA999AA", "A9A9AA", "AA9A9AA",
    };
    char pc[KEYS_POSTCODE_MAX];
    size_t n = 0;
    bool any = false;

    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (is_space(c))
            continue;
        any = true;
        /* Stop as soon as the postcode is too long: a huge cell costs no
         * more than a short one. */
        if (n == KEYS_POSTCODE_MAX)
            return KEYS_IDENT_BAD_FORMAT;
        pc[n++] = to_upper(c);
    }
    if (!any)
        return KEYS_IDENT_EMPTY;

    bool ok = n == 6 && memcmp(pc, "GIR0AA", 6) == 0;
    for (size_t i = 0; !ok && i < sizeof shapes / sizeof shapes[0]; i++)
        ok = matches_shape(pc, n, shapes[i]);
    if (!ok)
        return KEYS_IDENT_BAD_FORMAT;

    memcpy(out, pc, n);
    out[n] = '\0';
    *out_len = n;
    return KEYS_IDENT_OK;
}
