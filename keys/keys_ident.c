#include "keys_ident.h"
#include "hearth_date.h"

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

keys_ident_status_t keys_ident_dob(const char *in, size_t len, char out[KEYS_DOB_LEN + 1])
{
    trim(&in, &len);
    if (len == 0)
        return KEYS_IDENT_EMPTY;
    switch (hearth_date_parse(in, len, KEYS_DOB_YEAR_MIN, KEYS_DOB_YEAR_MAX, out, NULL)) {
    case HEARTH_DATE_OK: return KEYS_IDENT_OK;
    case HEARTH_DATE_BAD_FORMAT: return KEYS_IDENT_BAD_FORMAT;
    case HEARTH_DATE_BAD_DATE: return KEYS_IDENT_BAD_DATE;
    }
    return KEYS_IDENT_BAD_FORMAT;
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
