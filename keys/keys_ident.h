/* keys_ident — identifier normalisation: what every partner must do
 * identically to a raw CSV cell before it becomes part of a token.
 *
 * Inputs are raw cells: arbitrary bytes, not necessarily NUL-terminated,
 * possibly huge. Every function reads at most len bytes of in and stops
 * early once the input can no longer be valid. "White space" means the
 * ASCII characters space, tab, newline, vertical tab, form feed and
 * carriage return. Each output is written only on KEYS_IDENT_OK. */
#ifndef KEYS_IDENT_H
#define KEYS_IDENT_H

#include <stddef.h>

typedef enum {
    KEYS_IDENT_OK,
    KEYS_IDENT_EMPTY,           /* nothing but white space */
    KEYS_IDENT_BAD_FORMAT,      /* not in any accepted format */
    KEYS_IDENT_BAD_CHECK_DIGIT, /* NHS number fails its modulus-11 check */
    KEYS_IDENT_BAD_DATE         /* well formed, but not a real date in range */
} keys_ident_status_t;

/* Returns a static description of s, e.g. "empty". It never contains the
 * value that was checked, so it is safe in an ingest report. */
const char *keys_ident_strstatus(keys_ident_status_t s);

#define KEYS_NHS_LEN 10      /* digits in an NHS number */
#define KEYS_DOB_LEN 10      /* "YYYY-MM-DD" */
#define KEYS_POSTCODE_MAX 8  /* longest normalised postcode accepted */
#define KEYS_DOB_YEAR_MIN 1870
#define KEYS_DOB_YEAR_MAX 2100

/* NHS number. Surrounding white space is trimmed, then spaces and dashes
 * anywhere are removed; what is left must be exactly 10 digits whose last
 * is the modulus-11 check digit (weights 10..2 on the first nine; check =
 * 11 - (sum % 11); 11 means 0; 10 means no valid number). On success writes
 * the 10 digits and a NUL to out. */
keys_ident_status_t keys_ident_nhs(const char *in, size_t len, char out[KEYS_NHS_LEN + 1]);

/* Date of birth, as YYYY-MM-DD or DD/MM/YYYY (day and month may have one
 * digit with slashes: D/M/YYYY), surrounding white space trimmed; nothing
 * else (no time of day). The date must exist (leap years included) and the
 * year lie in KEYS_DOB_YEAR_MIN..KEYS_DOB_YEAR_MAX, else BAD_DATE. On
 * success writes "YYYY-MM-DD" and a NUL to out. */
keys_ident_status_t keys_ident_dob(const char *in, size_t len, char out[KEYS_DOB_LEN + 1]);

/* Sex: M, F, male, female, 1 (male) or 2 (female), any case, surrounding
 * white space trimmed. On success writes 'M' or 'F' to *out. Anything else
 * (U, 0, 9, X, "unknown") is BAD_FORMAT: the token needs M or F. */
keys_ident_status_t keys_ident_sex(const char *in, size_t len, char *out);

/* UK postcode: upper-cased with all white space removed; must then be an
 * outward code A9, A99, AA9, AA99, A9A or AA9A (A a letter, 9 a digit)
 * followed by an inward code 9AA, or GIR0AA. On success writes the
 * normalised postcode and a NUL to out and its length (5 to 7) to
 * *out_len. */
keys_ident_status_t keys_ident_postcode(const char *in, size_t len,
                                        char out[KEYS_POSTCODE_MAX + 1], size_t *out_len);

#endif
