/* Tests for keys_ident: every accepted and every rejected identifier format.
 * Check digits were worked by hand: for 943476591 the weighted sum is
 * 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299, 299 % 11 = 2, 11 - 2 = 9. */
#include "keys_ident.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

/* Runs keys_ident_nhs on a C string; returns its status, output in out. */
static keys_ident_status_t nhs(const char *in, char out[11])
{
    return keys_ident_nhs(in, strlen(in), out);
}

static keys_ident_status_t dob(const char *in, char out[11])
{
    return keys_ident_dob(in, strlen(in), out);
}

static keys_ident_status_t sex(const char *in, char *out)
{
    return keys_ident_sex(in, strlen(in), out);
}

static keys_ident_status_t postcode(const char *in, char out[KEYS_POSTCODE_MAX + 1],
                                    size_t *out_len)
{
    return keys_ident_postcode(in, strlen(in), out, out_len);
}

/* Asserts in normalises to want. */
static void assert_nhs(const char *in, const char *want)
{
    char out[11] = "";
    cr_assert_eq(nhs(in, out), KEYS_IDENT_OK, "input '%s'", in);
    cr_assert_str_eq(out, want, "input '%s'", in);
}

static void assert_dob(const char *in, const char *want)
{
    char out[11] = "";
    cr_assert_eq(dob(in, out), KEYS_IDENT_OK, "input '%s'", in);
    cr_assert_str_eq(out, want, "input '%s'", in);
}

static void assert_sex(const char *in, char want)
{
    char out = '?';
    cr_assert_eq(sex(in, &out), KEYS_IDENT_OK, "input '%s'", in);
    cr_assert_eq(out, want, "input '%s'", in);
}

static void assert_postcode(const char *in, const char *want)
{
    char out[KEYS_POSTCODE_MAX + 1] = "";
    size_t len = 99;
    cr_assert_eq(postcode(in, out, &len), KEYS_IDENT_OK, "input '%s'", in);
    cr_assert_str_eq(out, want, "input '%s'", in);
    cr_assert_eq(len, strlen(want), "input '%s'", in);
}

/* --- NHS numbers --- */

Test(keys_ident, nhs_accepts_plain_ten_digits)
{
    assert_nhs("9434765919", "9434765919");
}

Test(keys_ident, nhs_accepts_spaces_and_dashes)
{
    assert_nhs("943 476 5919", "9434765919");
    assert_nhs("943-476-5919", "9434765919");
    assert_nhs("9-4-3 4 7-6 5919", "9434765919");
}

Test(keys_ident, nhs_trims_surrounding_white_space)
{
    assert_nhs("  9434765919  ", "9434765919");
    assert_nhs("\t943 476 5919\r\n", "9434765919");
}

Test(keys_ident, nhs_accepts_check_digit_zero)
{
    /* 4*10 + 2*2 = 44; 44 % 11 = 0; 11 - 0 = 11, which means 0. */
    assert_nhs("4000000020", "4000000020");
}

Test(keys_ident, nhs_rejects_nine_and_eleven_digits)
{
    char out[11];
    cr_assert_eq(nhs("943476591", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(nhs("94347659190", out), KEYS_IDENT_BAD_FORMAT);
}

Test(keys_ident, nhs_rejects_letters_and_other_separators)
{
    char out[11];
    cr_assert_eq(nhs("943476591X", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(nhs("943.476.5919", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(nhs("943\t4765919", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(nhs("-", out), KEYS_IDENT_BAD_FORMAT);
}

Test(keys_ident, nhs_rejects_wrong_check_digit)
{
    char out[11];
    cr_assert_eq(nhs("9434765918", out), KEYS_IDENT_BAD_CHECK_DIGIT);
    cr_assert_eq(nhs("4000000021", out), KEYS_IDENT_BAD_CHECK_DIGIT);
}

Test(keys_ident, nhs_rejects_prefix_whose_check_digit_would_be_ten)
{
    /* 123456789: 1*10+2*9+3*8+4*7+5*6+6*5+7*4+8*3+9*2 = 210; 210 % 11 = 1;
     * 11 - 1 = 10, so no final digit makes a valid number. */
    char out[11];
    for (char last = '0'; last <= '9'; last++) {
        char in[11] = "123456789";
        in[9] = last;
        cr_assert_eq(nhs(in, out), KEYS_IDENT_BAD_CHECK_DIGIT, "input '%s'", in);
    }
}

Test(keys_ident, nhs_reports_empty_cell)
{
    char out[11];
    cr_assert_eq(nhs("", out), KEYS_IDENT_EMPTY);
    cr_assert_eq(nhs("   ", out), KEYS_IDENT_EMPTY);
}

Test(keys_ident, nhs_reads_no_further_than_len)
{
    /* The cell is the first 10 bytes; what follows is another cell. */
    char out[11];
    cr_assert_eq(keys_ident_nhs("9434765919,99", 10, out), KEYS_IDENT_OK);
    cr_assert_str_eq(out, "9434765919");
}

/* --- dates of birth --- */

Test(keys_ident, dob_accepts_iso_date)
{
    assert_dob("1980-02-03", "1980-02-03");
}

Test(keys_ident, dob_accepts_day_month_year)
{
    assert_dob("03/02/1980", "1980-02-03");
}

Test(keys_ident, dob_accepts_single_digit_day_and_month)
{
    assert_dob("3/2/1980", "1980-02-03");
    assert_dob("3/12/1980", "1980-12-03");
    assert_dob("13/2/1980", "1980-02-13");
}

Test(keys_ident, dob_trims_surrounding_white_space)
{
    assert_dob("  1980-02-03\r\n", "1980-02-03");
    assert_dob("\t3/2/1980 ", "1980-02-03");
}

Test(keys_ident, dob_accepts_29_february_in_leap_years_only)
{
    char out[11];
    assert_dob("1980-02-29", "1980-02-29");
    assert_dob("29/02/2000", "2000-02-29"); /* divisible by 400 */
    cr_assert_eq(dob("1981-02-29", out), KEYS_IDENT_BAD_DATE);
    cr_assert_eq(dob("29/02/1900", out), KEYS_IDENT_BAD_DATE); /* by 100, not 400 */
}

Test(keys_ident, dob_rejects_days_that_do_not_exist)
{
    char out[11];
    cr_assert_eq(dob("1980-04-31", out), KEYS_IDENT_BAD_DATE);
    cr_assert_eq(dob("31/04/1980", out), KEYS_IDENT_BAD_DATE);
    cr_assert_eq(dob("1980-01-32", out), KEYS_IDENT_BAD_DATE);
    cr_assert_eq(dob("1980-01-00", out), KEYS_IDENT_BAD_DATE);
    assert_dob("1980-12-31", "1980-12-31");
}

Test(keys_ident, dob_rejects_month_13_and_month_0)
{
    char out[11];
    cr_assert_eq(dob("1980-13-01", out), KEYS_IDENT_BAD_DATE);
    cr_assert_eq(dob("01/13/1980", out), KEYS_IDENT_BAD_DATE);
    cr_assert_eq(dob("1980-00-01", out), KEYS_IDENT_BAD_DATE);
}

Test(keys_ident, dob_rejects_years_outside_1870_to_2100)
{
    char out[11];
    assert_dob("1870-01-01", "1870-01-01");
    assert_dob("2100-12-31", "2100-12-31");
    cr_assert_eq(dob("1869-12-31", out), KEYS_IDENT_BAD_DATE);
    cr_assert_eq(dob("01/01/2101", out), KEYS_IDENT_BAD_DATE);
    cr_assert_eq(dob("0000-01-01", out), KEYS_IDENT_BAD_DATE);
}

Test(keys_ident, dob_rejects_other_formats)
{
    char out[11];
    cr_assert_eq(dob("1980-2-3", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(dob("1980/02/03", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(dob("03-02-1980", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(dob("03/02/80", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(dob("003/02/1980", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(dob("//1980", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(dob("19800203", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(dob("3 Feb 1980", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(dob("not a date", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(dob("1980-0a-03", out), KEYS_IDENT_BAD_FORMAT);
}

Test(keys_ident, dob_rejects_time_of_day_suffix)
{
    char out[11];
    cr_assert_eq(dob("1980-02-03T00:00:00", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(dob("1980-02-03 00:00", out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(dob("03/02/1980 00:00", out), KEYS_IDENT_BAD_FORMAT);
}

Test(keys_ident, dob_reports_empty_cell)
{
    char out[11];
    cr_assert_eq(dob("", out), KEYS_IDENT_EMPTY);
    cr_assert_eq(dob(" \t ", out), KEYS_IDENT_EMPTY);
}

/* --- sex --- */

Test(keys_ident, sex_accepts_every_male_form)
{
    assert_sex("M", 'M');
    assert_sex("m", 'M');
    assert_sex("male", 'M');
    assert_sex("Male", 'M');
    assert_sex("MALE", 'M');
    assert_sex("1", 'M');
    assert_sex("  m \r\n", 'M');
}

Test(keys_ident, sex_accepts_every_female_form)
{
    assert_sex("F", 'F');
    assert_sex("f", 'F');
    assert_sex("female", 'F');
    assert_sex("Female", 'F');
    assert_sex("FEMALE", 'F');
    assert_sex("2", 'F');
    assert_sex("\tFemale ", 'F');
}

Test(keys_ident, sex_rejects_unknown_and_other_values)
{
    static const char *const rejected[] = {
        "U", "u", "0", "9", "X", "unknown", "3", "ma", "mal", "males",
        "fem", "M F", "12", "-",
    };
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
        char out = '?';
        cr_assert_eq(sex(rejected[i], &out), KEYS_IDENT_BAD_FORMAT, "input '%s'",
                     rejected[i]);
        cr_assert_eq(out, '?', "output written for '%s'", rejected[i]);
    }
}

Test(keys_ident, sex_reports_empty_cell)
{
    char out;
    cr_assert_eq(sex("", &out), KEYS_IDENT_EMPTY);
    cr_assert_eq(sex("  ", &out), KEYS_IDENT_EMPTY);
}

/* --- postcodes --- */

Test(keys_ident, postcode_upper_cases_and_removes_white_space)
{
    assert_postcode("SW1A 1AA", "SW1A1AA");
    assert_postcode("sw1a 1aa", "SW1A1AA");
    assert_postcode(" SW1A1AA ", "SW1A1AA");
    assert_postcode("sw1a  1aa", "SW1A1AA");
    assert_postcode("\tS W 1 A 1 A A\r\n", "SW1A1AA");
}

Test(keys_ident, postcode_accepts_every_outward_shape)
{
    assert_postcode("M1 1AE", "M11AE");       /* A9 */
    assert_postcode("B33 8TH", "B338TH");     /* A99 */
    assert_postcode("CR2 6XH", "CR26XH");     /* AA9 */
    assert_postcode("DN55 1PT", "DN551PT");   /* AA99 */
    assert_postcode("W1A 0AX", "W1A0AX");     /* A9A */
    assert_postcode("EC1A 1BB", "EC1A1BB");   /* AA9A */
    assert_postcode("gir 0aa", "GIR0AA");     /* the one special case */
}

Test(keys_ident, postcode_rejects_other_shapes)
{
    static const char *const rejected[] = {
        "N/A", "UNKNOWN", "SW1A", "1AA", "SW1A 1A", "SW1A 11A", "SW1A AAA",
        "9W1A 1AA", "SWW1 1AA", "SW1AA 1AA", "SW1A 1AAA", "SW1A-1AA", "GIR 1AA",
        "SW1A\xc2\xa0" "1AA" /* no-break space */, "SW1A1AA9X",
    };
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
        char out[KEYS_POSTCODE_MAX + 1] = "";
        size_t len = 99;
        cr_assert_eq(postcode(rejected[i], out, &len), KEYS_IDENT_BAD_FORMAT,
                     "input '%s'", rejected[i]);
        cr_assert_eq(len, 99, "length written for '%s'", rejected[i]);
    }
}

Test(keys_ident, postcode_rejects_too_long)
{
    char out[KEYS_POSTCODE_MAX + 1];
    size_t len;
    cr_assert_eq(postcode("ABCDEFGHIJ", out, &len), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(postcode("SW1A 1AA SW1A 1AA", out, &len), KEYS_IDENT_BAD_FORMAT);
}

Test(keys_ident, postcode_reports_empty_cell)
{
    char out[KEYS_POSTCODE_MAX + 1];
    size_t len;
    cr_assert_eq(postcode("", out, &len), KEYS_IDENT_EMPTY);
    cr_assert_eq(postcode(" \t\r\n", out, &len), KEYS_IDENT_EMPTY);
}

Test(keys_ident, postcode_reads_no_further_than_len)
{
    char out[KEYS_POSTCODE_MAX + 1];
    size_t len;
    cr_assert_eq(keys_ident_postcode("M1 1AEXYZ", 6, out, &len), KEYS_IDENT_OK);
    cr_assert_str_eq(out, "M11AE");
    cr_assert_eq(len, 5);
}

/* --- huge cells --- */

Test(keys_ident, huge_cells_are_rejected_without_reading_past_len)
{
    /* 100 KB with no NUL: ASan reports any read past the end. */
    size_t n = 100 * 1024;
    char *big = malloc(n);
    cr_assert_not_null(big);
    char out[11], pc[KEYS_POSTCODE_MAX + 1], s;
    size_t pc_len;

    memset(big, '9', n);
    cr_assert_eq(keys_ident_nhs(big, n, out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(keys_ident_dob(big, n, out), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(keys_ident_sex(big, n, &s), KEYS_IDENT_BAD_FORMAT);
    cr_assert_eq(keys_ident_postcode(big, n, pc, &pc_len), KEYS_IDENT_BAD_FORMAT);

    memset(big, 'A', n);
    cr_assert_eq(keys_ident_postcode(big, n, pc, &pc_len), KEYS_IDENT_BAD_FORMAT);

    memset(big, ' ', n);
    cr_assert_eq(keys_ident_nhs(big, n, out), KEYS_IDENT_EMPTY);
    cr_assert_eq(keys_ident_dob(big, n, out), KEYS_IDENT_EMPTY);
    cr_assert_eq(keys_ident_sex(big, n, &s), KEYS_IDENT_EMPTY);
    cr_assert_eq(keys_ident_postcode(big, n, pc, &pc_len), KEYS_IDENT_EMPTY);

    /* Spaces, then a valid cell at the very end. */
    memcpy(big + n - 10, "9434765919", 10);
    cr_assert_eq(keys_ident_nhs(big, n, out), KEYS_IDENT_OK);
    cr_assert_str_eq(out, "9434765919");
    free(big);
}

Test(keys_ident, strstatus_names_every_status)
{
    cr_assert_str_eq(keys_ident_strstatus(KEYS_IDENT_OK), "ok");
    cr_assert_str_eq(keys_ident_strstatus(KEYS_IDENT_EMPTY), "empty");
    cr_assert_str_eq(keys_ident_strstatus(KEYS_IDENT_BAD_FORMAT), "not in an accepted format");
    cr_assert_str_eq(keys_ident_strstatus(KEYS_IDENT_BAD_CHECK_DIGIT),
                     "check digit does not match");
    cr_assert_str_eq(keys_ident_strstatus(KEYS_IDENT_BAD_DATE),
                     "not a real date between 1870 and 2100");
}
