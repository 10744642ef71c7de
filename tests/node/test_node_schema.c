/* Tests for node_schema: exactly which values each column type accepts and
 * how they are normalised, the schema file's settings and every refusal
 * (with its line), where the schema beside an extract is looked for, and
 * that `hearth-node ingest` picks that file up or takes --schema instead. */
#include "node_schema.h"

#include "e2e_util.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- values ------------------------------------------------------------- */

typedef struct {
    const char *in;
    bool ok;
    int64_t value;
    bool canonical;
} int_case_t;

Test(node_schema, integers_are_a_sign_and_digits_fitting_int64)
{
    static const int_case_t cases[] = {
        {"0", true, 0, true},
        {"42", true, 42, true},
        {"-5", true, -5, true},
        {"+5", true, 5, false},
        {"-0", true, 0, false},
        {"007", true, 7, false},
        {"00", true, 0, false},
        {"9223372036854775807", true, INT64_MAX, true},
        {"-9223372036854775808", true, INT64_MIN, true},
        {"09223372036854775807", true, INT64_MAX, false},
        {"9223372036854775808", false, 0, false},
        {"-9223372036854775809", false, 0, false},
        {"99999999999999999999", false, 0, false},
        {"", false, 0, false},
        {"-", false, 0, false},
        {"+", false, 0, false},
        {"1.0", false, 0, false},
        {"1e5", false, 0, false},
        {"1,000", false, 0, false},
        {" 5", false, 0, false},
        {"12a", false, 0, false},
        {"--1", false, 0, false},
        {"0x10", false, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t v = -1;
        bool canonical = false;
        bool ok = node_schema_integer(cases[i].in, strlen(cases[i].in), &v, &canonical);
        cr_expect_eq(ok, cases[i].ok, "'%s'", cases[i].in);
        if (ok && cases[i].ok) {
            cr_expect_eq(v, cases[i].value, "'%s'", cases[i].in);
            cr_expect_eq(canonical, cases[i].canonical, "'%s'", cases[i].in);
        }
    }
}

Test(node_schema, an_integer_reads_only_len_bytes_and_has_a_longest_text)
{
    int64_t v;
    bool canonical;
    cr_assert(node_schema_integer("123456", 3, &v, &canonical));
    cr_assert_eq(v, 123);
    char zeros[NODE_SCHEMA_NUMBER_MAX + 2];
    memset(zeros, '0', sizeof zeros);
    zeros[NODE_SCHEMA_NUMBER_MAX - 1] = '1';
    cr_assert(node_schema_integer(zeros, NODE_SCHEMA_NUMBER_MAX, &v, &canonical));
    cr_assert_eq(v, 1);
    cr_assert_not(node_schema_integer(zeros, NODE_SCHEMA_NUMBER_MAX + 1, &v, &canonical));
}

typedef struct {
    const char *in;
    bool ok;
    double value;
} dec_case_t;

Test(node_schema, decimals_are_digits_with_an_optional_point_and_no_exponent)
{
    static const dec_case_t cases[] = {
        {"1.5", true, 1.5},
        {"-0.25", true, -0.25},
        {"+3", true, 3.0},
        {"10", true, 10.0},
        {"0.1", true, 0.1},
        {"007.50", true, 7.5},
        {"9223372036854775808", true, 9223372036854775808.0},
        {"1.", false, 0},
        {".5", false, 0},
        {"1e5", false, 0},
        {"1E5", false, 0},
        {"1,000.5", false, 0},
        {"1.2.3", false, 0},
        {"", false, 0},
        {"-", false, 0},
        {"-.5", false, 0},
        {"NaN", false, 0},
        {"inf", false, 0},
        {" 1.5", false, 0},
        {"1.5 ", false, 0},
        {"\xc2\xa3" "5", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double v = -1;
        bool ok = node_schema_decimal(cases[i].in, strlen(cases[i].in), &v);
        cr_expect_eq(ok, cases[i].ok, "'%s'", cases[i].in);
        if (ok && cases[i].ok)
            cr_expect_eq(v, cases[i].value, "'%s'", cases[i].in);
        cr_expect_eq(node_schema_decimal(cases[i].in, strlen(cases[i].in), NULL),
                     cases[i].ok, "'%s' without a value", cases[i].in);
    }
}

Test(node_schema, a_decimal_is_always_a_finite_double)
{
    char digits[NODE_SCHEMA_NUMBER_MAX + 2];
    memset(digits, '9', sizeof digits);
    double v = 0;
    cr_assert(node_schema_decimal(digits, NODE_SCHEMA_DECIMAL_DIGITS, &v));
    cr_assert(isfinite(v) && v > 9.9e307);
    cr_assert_not(node_schema_decimal(digits, NODE_SCHEMA_DECIMAL_DIGITS + 1, &v));
    /* Leading zeros do not count; a long fraction does not matter. */
    char text[NODE_SCHEMA_NUMBER_MAX + 2];
    memset(text, '0', sizeof text);
    memset(text + 50, '9', NODE_SCHEMA_DECIMAL_DIGITS);
    cr_assert(node_schema_decimal(text, 50 + NODE_SCHEMA_DECIMAL_DIGITS, NULL));
    memset(text, '0', sizeof text);
    text[1] = '.';
    cr_assert(node_schema_decimal(text, NODE_SCHEMA_NUMBER_MAX, &v));
    cr_assert_eq(v, 0.0);
    cr_assert_not(node_schema_decimal(text, NODE_SCHEMA_NUMBER_MAX + 1, &v));
}

typedef struct {
    const char *in;
    const char *out;   /* NULL: not a date */
    bool iso;
} date_case_t;

Test(node_schema, dates_exist_and_are_written_one_of_two_ways)
{
    static const date_case_t cases[] = {
        {"2020-02-29", "2020-02-29", true},
        {"2000-02-29", "2000-02-29", true},
        {"0001-01-01", "0001-01-01", true},
        {"9999-12-31", "9999-12-31", true},
        {"29/02/2020", "2020-02-29", false},
        {"1/2/2020", "2020-02-01", false},
        {"01/2/2020", "2020-02-01", false},
        {"1/12/2020", "2020-12-01", false},
        {"31/12/1899", "1899-12-31", false},
        {"2019-02-29", NULL, false},
        {"1900-02-29", NULL, false},
        {"31/02/2020", NULL, false},
        {"31/04/2020", NULL, false},
        {"2020-13-01", NULL, false},
        {"2020-00-01", NULL, false},
        {"2020-01-00", NULL, false},
        {"0000-01-01", NULL, false},
        {"0/1/2020", NULL, false},
        {"2020-1-5", NULL, false},
        {"2020/01/05", NULL, false},
        {"05-01-2020", NULL, false},
        {"123/1/2020", NULL, false},
        {"1/123/2020", NULL, false},
        {"1/1/20", NULL, false},
        {"1/1/20200", NULL, false},
        {"1//2020", NULL, false},
        {"a/b/2020", NULL, false},
        {"+1/1/2020", NULL, false},
        {"2020-01-31T00:00", NULL, false},
        {"2020-01-31 ", NULL, false},
        {"", NULL, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[NODE_SCHEMA_DATE_LEN + 1] = "unchanged";
        bool iso = !cases[i].iso;
        bool ok = node_schema_date(cases[i].in, strlen(cases[i].in), out, &iso);
        cr_expect_eq(ok, cases[i].out != NULL, "'%s'", cases[i].in);
        if (ok && cases[i].out) {
            cr_expect_str_eq(out, cases[i].out, "'%s'", cases[i].in);
            cr_expect_eq(iso, cases[i].iso, "'%s'", cases[i].in);
        }
        cr_expect_eq(node_schema_date(cases[i].in, strlen(cases[i].in), NULL, NULL),
                     cases[i].out != NULL, "'%s' without outputs", cases[i].in);
    }
}

Test(node_schema, type_names_are_those_the_schema_file_uses)
{
    cr_assert_str_eq(node_schema_type_name(NODE_COL_CATEGORICAL), "categorical");
    cr_assert_str_eq(node_schema_type_name(NODE_COL_INTEGER), "integer");
    cr_assert_str_eq(node_schema_type_name(NODE_COL_DECIMAL), "decimal");
    cr_assert_str_eq(node_schema_type_name(NODE_COL_DATE), "date");
}

/* ---- the schema file ---------------------------------------------------- */

static char *dir;

static void setup(void)
{
    dir = e2e_tmpdir("schema");
    cr_assert_not_null(dir);
}

static void teardown(void)
{
    e2e_rmtree(dir);
    free(dir);
}

TestSuite(node_schema_file, .init = setup, .fini = teardown);

/* Writes text to dir/name; returns the path (caller frees). */
static char *write_file(const char *name, const char *text)
{
    char *path = e2e_asprintf("%s/%s", dir, name);
    cr_assert_eq(e2e_write_file(path, text, strlen(text)), 0);
    return path;
}

static node_schema_t *load_ok(const char *text)
{
    char *path = write_file("s.schema.ini", text);
    node_schema_t *s = NULL;
    char *cause = NULL;
    cr_assert_eq(node_schema_load(path, &s, &cause), HEARTH_OK, "%s", cause);
    cr_assert_null(cause);
    cr_assert_str_eq(node_schema_path(s), path);
    free(path);
    return s;
}

Test(node_schema_file, reads_every_section)
{
    node_schema_t *s = load_ok("; the trust's A&E extract\n"
                               "[columns]\n"
                               "practice_code = categorical   ; keeps leading zeros\n"
                               "Length of Stay = Integer\n"
                               "cost = decimal\n"
                               "seen = date\n"
                               "free_text = exclude\n"
                               "[rename]\n"
                               "wb = wellbeing_score\n"
                               "Post Area = Area Code\n"
                               "[identifiers]\n"
                               "date_of_birth = patient_dob\n"
                               "NHS Number = NHS No\n");
    cr_assert_eq(node_schema_column(s, "practice_code"), NODE_COL_CATEGORICAL);
    cr_assert_eq(node_schema_column(s, "length_of_stay"), NODE_COL_INTEGER);
    cr_assert_eq(node_schema_column(s, "cost"), NODE_COL_DECIMAL);
    cr_assert_eq(node_schema_column(s, "seen"), NODE_COL_DATE);
    cr_assert_eq(node_schema_column(s, "free_text"), NODE_SCHEMA_EXCLUDE);
    cr_assert_eq(node_schema_column(s, "ward"), NODE_SCHEMA_AUTO);
    cr_assert_str_eq(node_schema_rename(s, "wb"), "wellbeing_score");
    cr_assert_str_eq(node_schema_rename(s, "post_area"), "area_code");
    cr_assert_null(node_schema_rename(s, "wellbeing_score"));
    cr_assert_str_eq(node_schema_identifier(s, "date_of_birth"), "patient_dob");
    cr_assert_str_eq(node_schema_identifier(s, "nhs_number"), "nhs_no");
    cr_assert_null(node_schema_identifier(s, "sex"));
    cr_assert_null(node_schema_identifier(s, "postcode"));

    const char *header[] = {"practice_code", "length_of_stay", "cost", "seen", "free_text",
                            "wb", "post_area", "patient_dob", "nhs_no"};
    const char *section = "unset";
    cr_assert_null(node_schema_unknown(s, header, 9, &section));
    cr_assert_null(section);
    cr_assert_str_eq(node_schema_unknown(s, header + 1, 8, &section), "practice_code");
    cr_assert_str_eq(section, "columns");
    const char *no_wb[] = {"practice_code", "length_of_stay", "cost", "seen", "free_text",
                           "post_area", "patient_dob", "nhs_no"};
    cr_assert_str_eq(node_schema_unknown(s, no_wb, 8, &section), "wb");
    cr_assert_str_eq(section, "rename");
    cr_assert_str_eq(node_schema_unknown(s, header, 8, &section), "nhs_no");
    cr_assert_str_eq(section, "identifiers");
    node_schema_destroy(&s);
    cr_assert_null(s);
    node_schema_destroy(&s);
    node_schema_destroy(NULL);
}

Test(node_schema_file, an_empty_file_says_nothing)
{
    node_schema_t *s = load_ok("");
    cr_assert_eq(node_schema_column(s, "ward"), NODE_SCHEMA_AUTO);
    cr_assert_null(node_schema_unknown(s, NULL, 0, NULL));
    node_schema_destroy(&s);
}

typedef struct {
    const char *text;
    const char *cause;   /* after "<path>:" */
} bad_case_t;

Test(node_schema_file, refuses_each_mistake_with_its_line)
{
    static const bad_case_t cases[] = {
        {"[colums]\nward = categorical\n",
         "2: unknown section [colums]: use [columns], [rename] or [identifiers]"},
        {"ward = categorical\n",
         "1: unknown section []: use [columns], [rename] or [identifiers]"},
        {"[columns]\nward = text\n", "2: unknown type 'text' for column 'ward': use "
                                     "categorical, integer, decimal, date or exclude"},
        {"[columns]\nward =\n", "2: unknown type '' for column 'ward': use categorical, "
                                "integer, decimal, date or exclude"},
        {"[columns]\nWard = categorical\nward = exclude\n",
         "3: column 'ward' is set twice in [columns]"},
        {"[columns]\n--- = integer\n", "2: column '---' is not a usable column name (it "
                                       "needs a letter or digit, and at most 63 characters)"},
        {"[rename]\na = x\na = y\n", "3: column 'a' is set twice in [rename]"},
        {"[rename]\na = x\nb = X\n", "3: columns 'a' and 'b' are both renamed to 'x'"},
        {"[rename]\na = !!\n", "2: new name '!!' is not a usable column name (it needs a "
                               "letter or digit, and at most 63 characters)"},
        {"[identifiers]\nnhs = nhs_no\n", "2: unknown identifier 'nhs' in [identifiers]: "
                                          "use nhs_number, date_of_birth, sex or postcode"},
        {"[identifiers]\nsex = a\nsex = b\n", "3: sex is set twice in [identifiers]"},
        {"[identifiers]\nsex = a\npostcode = a\n",
         "3: column 'a' is given for both sex and postcode"},
        {"[columns]\nthis line has no equals sign\n", "2: syntax error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *path = write_file("bad.schema.ini", cases[i].text);
        node_schema_t *s = NULL;
        char *cause = NULL;
        cr_expect_eq(node_schema_load(path, &s, &cause), HEARTH_ERR_CONFIG, "case %zu", i);
        cr_expect_null(s);
        char *want = e2e_asprintf("%s:%s", path, cases[i].cause);
        cr_expect_str_eq(cause, want, "case %zu", i);
        free(want);
        free(cause);
        free(path);
    }
}

Test(node_schema_file, refuses_more_settings_than_an_extract_could_use)
{
    size_t cap = 64 + (NODE_SCHEMA_MAX_ENTRIES + 1) * 24;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    size_t len = (size_t)snprintf(text, cap, "[columns]\n");
    for (int i = 0; i <= NODE_SCHEMA_MAX_ENTRIES; i++)
        len += (size_t)snprintf(text + len, cap - len, "c%d = integer\n", i);
    char *path = write_file("big.schema.ini", text);
    free(text);
    node_schema_t *s = NULL;
    char *cause = NULL;
    cr_assert_eq(node_schema_load(path, &s, &cause), HEARTH_ERR_CONFIG);
    char *want = e2e_asprintf("%s:%d: more than %d settings", path,
                              NODE_SCHEMA_MAX_ENTRIES + 2, NODE_SCHEMA_MAX_ENTRIES);
    cr_assert_str_eq(cause, want);
    free(want);
    free(cause);
    free(path);
}

Test(node_schema_file, a_missing_file_is_not_found)
{
    char *path = e2e_asprintf("%s/absent.schema.ini", dir);
    node_schema_t *s = NULL;
    char *cause = NULL;
    cr_assert_eq(node_schema_load(path, &s, &cause), HEARTH_ERR_NOT_FOUND);
    char *want = e2e_asprintf("cannot read schema file '%s'", path);
    cr_assert_str_eq(cause, want);
    free(want);
    free(cause);
    free(path);
}

/* ---- the schema beside an extract --------------------------------------- */

Test(node_schema_file, the_sidecar_is_the_extract_name_with_schema_ini)
{
    char *csv = e2e_asprintf("%s/ae.csv", dir);
    cr_assert_null(node_schema_sidecar(csv), "nothing there yet");
    free(write_file("ae.schema.ini", "[columns]\n"));
    char *got = node_schema_sidecar(csv);
    char *want = e2e_asprintf("%s/ae.schema.ini", dir);
    cr_assert_str_eq(got, want);
    free(got);
    free(csv);

    csv = e2e_asprintf("%s/ae.CSV", dir);
    got = node_schema_sidecar(csv);
    cr_assert_str_eq(got, want);
    free(got);
    free(csv);
    free(want);

    csv = e2e_asprintf("%s/extract.txt", dir);
    cr_assert_null(node_schema_sidecar(csv));
    free(write_file("extract.txt.schema.ini", ""));
    got = node_schema_sidecar(csv);
    want = e2e_asprintf("%s/extract.txt.schema.ini", dir);
    cr_assert_str_eq(got, want);
    free(got);
    free(want);
    free(csv);
}

/* Runs a program from the build; returns its exit status and output. */
static int run(char *const argv[], e2e_result_t *r)
{
    return e2e_run(argv, 60000, r);
}

/* A node folder with its keys and config; returns the config's path. */
static char *make_node(void)
{
    char *keys = e2e_bin("hearth-keys");
    char *key = e2e_asprintf("%s/linkage.key", dir);
    e2e_result_t r;
    char *argv[] = {keys, "linkage-key", key, NULL};
    cr_assert_eq(run(argv, &r), 0, "%s", r.err);
    e2e_result_free(&r);
    /* The gateway's audit verifier key is read with the config. */
    char *prefix = e2e_asprintf("%s/gateway-audit", dir);
    char *sign_argv[] = {keys, "signing-key", "--name", "gateway-audit", "--out", prefix, NULL};
    cr_assert_eq(run(sign_argv, &r), 0, "%s", r.err);
    e2e_result_free(&r);
    free(prefix);
    free(keys);
    free(key);
    return write_file("node.ini", "[node]\nname = trust\ndatabase = node.db\n"
                                  "linkage_key = linkage.key\ncurve_key = node.key\n"
                                  "signing_key = trust-audit.signer\n"
                                  "[gateway]\nendpoint = tcp://127.0.0.1:1\n"
                                  "public_key = gateway.pub\naudit_key = gateway-audit.vkey\n");
}

Test(node_schema_file, hearth_node_uses_the_schema_beside_the_extract_or_the_one_named)
{
    char *config = make_node();
    char *csv = write_file("gp.csv", "nhs_number,practice_code,size\n"
                                     "9434765919,007,12\n9434765927,012,9\n");
    char *sidecar = write_file("gp.schema.ini", "[columns]\npractice_code = categorical\n");
    char *node = e2e_bin("hearth-node");
    e2e_result_t r;

    char *plain[] = {node, "ingest", "--config", config, "gp", csv, NULL};
    cr_assert_eq(run(plain, &r), 0, "%s", r.err);
    char *line = e2e_asprintf("  schema file:      %s\n", sidecar);
    cr_assert_not_null(strstr(r.out, line), "%s", r.out);
    free(line);
    cr_assert_not_null(strstr(r.out, "  attributes stored: practice_code (categorical), "
                                     "size (integer)\n"), "%s", r.out);
    e2e_result_free(&r);

    /* --schema wins over the file beside the extract. */
    char *other = write_file("other.ini", "[columns]\npractice_code = integer\n"
                                          "size = decimal\n");
    char *named[] = {node, "ingest", "--config", config, "--schema", other, "gp", csv, NULL};
    cr_assert_eq(run(named, &r), 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "  attributes stored: practice_code (integer), "
                                     "size (decimal)\n"), "%s", r.out);
    e2e_result_free(&r);

    char *list[] = {node, "datasets", "--config", config, NULL};
    cr_assert_eq(run(list, &r), 0, "%s", r.err);
    cr_assert_str_eq(r.out, "trust.gp: 2 rows, 2 persons; columns: practice_code (integer), "
                            "size (decimal)\n");
    e2e_result_free(&r);

    /* A named schema that cannot be read stops the ingest. */
    char *absent = e2e_asprintf("%s/absent.ini", dir);
    char *missing[] = {node, "ingest", "--config", config, "--schema", absent, "gp", csv, NULL};
    cr_assert_eq(run(missing, &r), 1);
    char *want = e2e_asprintf("hearth-node: cannot read schema file '%s'\n", absent);
    cr_assert_str_eq(r.err, want);
    free(want);
    e2e_result_free(&r);

    /* --schema belongs to ingest. */
    char *misuse[] = {node, "datasets", "--config", config, "--schema", other, NULL};
    cr_assert_eq(run(misuse, &r), 2);
    e2e_result_free(&r);

    free(absent);
    free(other);
    free(node);
    free(sidecar);
    free(csv);
    free(config);
}
