/* Tests for gw_diff: a table's family and its filter's conjuncts (split on
 * AND, canonical, sorted, distinct), cell keys, and the differencing check:
 * the classic pair is refused whichever half comes second, with no number
 * in the reason; removing nobody or many people is released; other
 * families, other projects, equal filters and filters two conjuncts apart
 * are not compared; conjunct order and spelling do not matter; NOT P is
 * one conjunct. */
#include "gw_diff.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static gw_store_t *store;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup(void)
{
    strcpy(dir, "/tmp/hearth-gwdiff-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/gateway.db", dir);
    char *cause = NULL;
    cr_assert_eq(gw_store_open(path, &store, &cause), HEARTH_OK, "%s", cause ? cause : "");
}

static void teardown(void)
{
    gw_store_destroy(&store);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(gw_diff, .init = setup, .fini = teardown);

static gw_query_t *parse(const char *sql)
{
    gw_query_t *q = NULL;
    gw_parse_error_t err;
    cr_assert_eq(gw_parse(sql, strlen(sql), NULL, &q, &err), HEARTH_OK, "%s", err.message);
    return q;
}

static void family_of(const char *sql, char out[65])
{
    gw_query_t *q = parse(sql);
    cr_assert_eq(gw_diff_family(q, out), HEARTH_OK);
    gw_query_destroy(&q);
}

/* The conjuncts of sql joined by " | " (for exact comparison). */
static void conjuncts_of(const char *sql, char *out, size_t cap)
{
    gw_query_t *q = parse(sql);
    char **conj = NULL;
    size_t n = 99;
    cr_assert_eq(gw_diff_conjuncts(q, &conj, &n), HEARTH_OK);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", i ? " | " : "", conj[i]);
    }
    gw_diff_conjuncts_free(&conj, n);
    cr_assert_null(conj);
    gw_query_destroy(&q);
}

Test(gw_diff, family_is_64_hex_digits_and_ignores_union_order)
{
    char a[65], b[65];
    family_of("SELECT ward, COUNT(*) FROM trust.ae UNION council.ae GROUP BY ward", a);
    family_of("SELECT ward, COUNT(*) FROM council.ae UNION trust.ae WHERE x = 1 GROUP BY ward",
              b);
    cr_assert_eq(strlen(a), 64);
    cr_assert_eq(strspn(a, "0123456789abcdef"), 64);
    cr_assert_str_eq(a, b);
}

Test(gw_diff, family_changes_with_datasets_measure_column_and_groups)
{
    const char *sql[] = {
        "SELECT ward, sex, COUNT(*) FROM trust.ae GROUP BY ward, sex",
        "SELECT sex, ward, COUNT(*) FROM trust.ae GROUP BY sex, ward",
        "SELECT ward, sex, COUNT(PERSONS) FROM trust.ae GROUP BY ward, sex",
        "SELECT ward, sex, SUM(cost) FROM trust.ae GROUP BY ward, sex",
        "SELECT ward, sex, SUM(los) FROM trust.ae GROUP BY ward, sex",
        "SELECT ward, sex, MEAN(cost) FROM trust.ae GROUP BY ward, sex",
        "SELECT ward, sex, COUNT(*) FROM trust.op GROUP BY ward, sex",
        "SELECT ward, sex, COUNT(*) FROM trust.ae UNION trust.op GROUP BY ward, sex",
        "SELECT ward, COUNT(*) FROM trust.ae GROUP BY ward",
        "SELECT COUNT(*) FROM trust.ae",
        /* names are length-prefixed: moving a character between two
         * names is another family */
        "SELECT COUNT(*) FROM trus.tae",
    };
    size_t n = sizeof sql / sizeof *sql;
    char fam[16][65];
    for (size_t i = 0; i < n; i++)
        family_of(sql[i], fam[i]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_assert_str_neq(fam[i], fam[j], "%zu and %zu share a family", i, j);
}

Test(gw_diff, conjuncts_split_on_every_and_sorted_and_distinct)
{
    char got[512];
    conjuncts_of("SELECT COUNT(*) FROM t.a WHERE sex = 'F' AND (age > 80 AND ward = 'B') "
                 "AND sex = 'F'", got, sizeof got);
    cr_assert_str_eq(got, "age > 80 | sex = 'F' | ward = 'B'");
    conjuncts_of("SELECT COUNT(*) FROM t.a WHERE a = 'x' AND (b = 1 OR c = 2)", got, sizeof got);
    cr_assert_str_eq(got, "a = 'x' | b = 1 OR c = 2");
    conjuncts_of("SELECT COUNT(*) FROM t.a WHERE NOT (a = 'x' AND b = 1)", got, sizeof got);
    cr_assert_str_eq(got, "NOT (a = 'x' AND b = 1)");
    conjuncts_of("SELECT COUNT(*) FROM t.a WHERE a = 'x' AND b NOT IN (1, 2) AND NOT c IS NULL",
                 got, sizeof got);
    cr_assert_str_eq(got, "NOT c IS NULL | a = 'x' | b NOT IN (1, 2)");
    /* Spelling is canonical: case of keywords, spaces, parentheses. */
    conjuncts_of("select count(*) from t.a where ((B=1)) and   A  =  'x'", got, sizeof got);
    cr_assert_str_eq(got, "a = 'x' | b = 1");
    conjuncts_of("SELECT COUNT(*) FROM t.a WHERE EXISTS (SELECT * FROM t.b WHERE c = 1 AND d = 2)"
                 " AND e = 3", got, sizeof got);
    cr_assert_str_eq(got, "EXISTS (SELECT * FROM t.b WHERE c = 1 AND d = 2) | e = 3");
}

Test(gw_diff, no_where_has_no_conjuncts)
{
    gw_query_t *q = parse("SELECT COUNT(*) FROM t.a");
    char **conj = (char **)1;
    size_t n = 99;
    cr_assert_eq(gw_diff_conjuncts(q, &conj, &n), HEARTH_OK);
    cr_assert_null(conj);
    cr_assert_eq(n, 0);
    gw_diff_conjuncts_free(&conj, n);
    gw_diff_conjuncts_free(NULL, 0);
    gw_query_destroy(&q);
}

Test(gw_diff, a_long_and_chain_needs_no_deep_stack)
{
    size_t cap = 64 * 1024;
    char *sql = malloc(cap);
    strcpy(sql, "SELECT COUNT(*) FROM t.a WHERE c0 = 0");
    for (int i = 1; i < 3000; i++) {
        size_t len = strlen(sql);
        snprintf(sql + len, cap - len, " AND c%d = %d", i % 1000, i % 1000);
    }
    gw_parse_limits_t lim = gw_parse_limits_default();
    lim.max_query_len = cap;
    gw_query_t *q = NULL;
    gw_parse_error_t err;
    cr_assert_eq(gw_parse(sql, strlen(sql), &lim, &q, &err), HEARTH_OK, "%s", err.message);
    char **conj = NULL;
    size_t n = 0;
    cr_assert_eq(gw_diff_conjuncts(q, &conj, &n), HEARTH_OK);
    cr_assert_eq(n, 1000);
    cr_assert_str_eq(conj[0], "c0 = 0");
    gw_diff_conjuncts_free(&conj, n);
    gw_query_destroy(&q);
    free(sql);
}

Test(gw_diff, expr_format_matches_the_query_formatter)
{
    gw_query_t *q = parse("SELECT COUNT(*) FROM t.a WHERE (a = 1 OR b = 'it''s') AND "
                          "\"Odd Name\" BETWEEN DATE '2020-01-01' AND DATE '2020-12-31'");
    char *text = gw_expr_format(q->where);
    cr_assert_str_eq(text, "(a = 1 OR b = 'it''s') AND \"Odd Name\" BETWEEN DATE '2020-01-01' "
                     "AND DATE '2020-12-31'");
    char *whole = gw_query_format(q);
    cr_assert_not_null(strstr(whole, text));
    free(text);
    free(whole);
    cr_assert_null(gw_expr_format(NULL));
    gw_query_destroy(&q);
}

Test(gw_diff, cell_keys_are_unambiguous)
{
    const char *v1[] = {"F", NULL, "ab;c"};
    char *k = gw_diff_cell_key(v1, 3);
    cr_assert_str_eq(k, "1:F;~;4:ab;c;");
    free(k);
    const char *v2[] = {"1:F;", ""};
    k = gw_diff_cell_key(v2, 2);
    cr_assert_str_eq(k, "4:1:F;;0:;");
    free(k);
    k = gw_diff_cell_key(NULL, 0);
    cr_assert_str_eq(k, "");
    free(k);
}

/* ---------------------------------------------------------------- check */

/* A table of a query: its family and conjuncts, and cells given as
 * "key=count" pairs. */
typedef struct {
    char family[65];
    char **conj;
    size_t n;
    gw_store_cell_t cells[8];
    size_t ncells;
} table_t;

static void table_make(table_t *t, const char *sql, const char *const *keys,
                       const uint64_t *counts, size_t ncells)
{
    gw_query_t *q = parse(sql);
    cr_assert_eq(gw_diff_family(q, t->family), HEARTH_OK);
    cr_assert_eq(gw_diff_conjuncts(q, &t->conj, &t->n), HEARTH_OK);
    gw_query_destroy(&q);
    for (size_t i = 0; i < ncells; i++)
        t->cells[i] = (gw_store_cell_t){keys[i], counts[i]};
    t->ncells = ncells;
}

static void table_free(table_t *t)
{
    gw_diff_conjuncts_free(&t->conj, t->n);
}

static void release(const char *project, const table_t *t)
{
    char *cause = NULL;
    cr_assert_eq(gw_store_release_add(store, project, t->family, (const char *const *)t->conj,
                                      t->n, t->cells, t->ncells, &cause), HEARTH_OK, "%s",
                 cause ? cause : "");
}

/* gw_diff_check's answer for t in project at threshold; a refusal's cause
 * must be exactly GW_DIFF_REFUSAL. */
static hearth_err_t check(const char *project, uint32_t threshold, const table_t *t)
{
    char *cause = NULL;
    hearth_err_t rc = gw_diff_check(store, threshold, project, t->family,
                                    (const char *const *)t->conj, t->n, t->cells, t->ncells,
                                    &cause);
    if (rc == HEARTH_ERR_REFUSED)
        cr_assert_str_eq(cause, GW_DIFF_REFUSAL);
    else
        cr_assert_null(cause, "%s", cause);
    free(cause);
    return rc;
}

static const char *const KEYS[] = {"", "1:A;", "1:B;"};   /* total, ward A, ward B */

#define BY_WARD "SELECT ward, COUNT(*) FROM trust.ae "
#define GROUP " GROUP BY ward"

/* F, then F AND P with counts (total, A, B). */
static hearth_err_t pair(const char *f, const char *fp, const uint64_t first[3],
                         const uint64_t second[3])
{
    table_t a = {0}, b = {0};
    table_make(&a, f, KEYS, first, 3);
    table_make(&b, fp, KEYS, second, 3);
    cr_assert_eq(check("audit", 7, &a), HEARTH_OK);
    release("audit", &a);
    hearth_err_t rc = check("audit", 7, &b);
    table_free(&a);
    table_free(&b);
    return rc;
}

Test(gw_diff, refuses_the_classic_pair_removing_three_people)
{
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F'" GROUP,
                      BY_WARD "WHERE sex = 'F' AND age > 80" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){67, 37, 30}),
                 HEARTH_ERR_REFUSED);
}

Test(gw_diff, refuses_the_pair_whichever_half_comes_second)
{
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F' AND age > 80" GROUP,
                      BY_WARD "WHERE sex = 'F'" GROUP,
                      (uint64_t[]){67, 37, 30}, (uint64_t[]){70, 40, 30}),
                 HEARTH_ERR_REFUSED);
}

Test(gw_diff, refuses_from_one_person_to_exactly_the_threshold)
{
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F'" GROUP,
                      BY_WARD "WHERE sex = 'F' AND age > 80" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){69, 40, 29}),
                 HEARTH_ERR_REFUSED);
    teardown();
    setup();
    /* 7 from ward A alone: the total differs by 7 too. */
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F'" GROUP,
                      BY_WARD "WHERE sex = 'F' AND age > 80" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){63, 33, 30}),
                 HEARTH_ERR_REFUSED);
}

Test(gw_diff, releases_a_pair_removing_nobody)
{
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F'" GROUP,
                      BY_WARD "WHERE sex = 'F' AND age > 80" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){70, 40, 30}),
                 HEARTH_OK);
}

Test(gw_diff, releases_a_pair_removing_twenty_people)
{
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F'" GROUP,
                      BY_WARD "WHERE sex = 'F' AND age > 80" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){50, 30, 20}),
                 HEARTH_OK);
    /* 8 and 12 and 20: each beyond the threshold of 7. */
    teardown();
    setup();
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F'" GROUP,
                      BY_WARD "WHERE sex = 'F' AND age > 80" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){50, 32, 18}),
                 HEARTH_OK);
}

Test(gw_diff, a_cell_missing_on_one_side_counts_zero)
{
    /* Ward C (2 people) is in the first table only; wards A and B do not
     * move. (No total here, so that only C can differ.) */
    static const char *const wards[] = {"1:A;", "1:B;", "1:C;"};
    table_t a = {0}, b = {0};
    table_make(&a, BY_WARD "WHERE sex = 'F'" GROUP, wards, (uint64_t[]){40, 30, 2}, 3);
    table_make(&b, BY_WARD "WHERE sex = 'F' AND age > 80" GROUP, wards,
               (uint64_t[]){40, 30}, 2);
    release("audit", &a);
    cr_assert_eq(check("audit", 7, &b), HEARTH_ERR_REFUSED);
    table_free(&a);
    table_free(&b);
    /* And the other way round: a cell only the new table has. */
    teardown();
    setup();
    table_make(&a, BY_WARD "WHERE sex = 'F'" GROUP, wards, (uint64_t[]){40, 30}, 2);
    table_make(&b, BY_WARD "WHERE sex = 'F' AND age > 80" GROUP, wards,
               (uint64_t[]){40, 30, 5}, 3);
    release("audit", &a);
    cr_assert_eq(check("audit", 7, &b), HEARTH_ERR_REFUSED);
    table_free(&a);
    table_free(&b);
}

Test(gw_diff, refuses_the_pair_with_not_p)
{
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F'" GROUP,
                      BY_WARD "WHERE sex = 'F' AND NOT age > 80" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){66, 36, 30}),
                 HEARTH_ERR_REFUSED);
    teardown();
    setup();
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F'" GROUP,
                      BY_WARD "WHERE sex = 'F' AND ward NOT IN ('C', 'D')" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){66, 36, 30}),
                 HEARTH_ERR_REFUSED);
}

Test(gw_diff, refuses_the_pair_against_no_where_at_all)
{
    cr_assert_eq(pair(BY_WARD GROUP, BY_WARD "WHERE age > 80" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){65, 35, 30}),
                 HEARTH_ERR_REFUSED);
}

Test(gw_diff, conjunct_order_and_spelling_do_not_hide_a_pair)
{
    cr_assert_eq(pair(BY_WARD "WHERE b = 'y' AND a = 'x'" GROUP,
                      "select ward, count(*) from trust.ae where A = 'x' and (c = 1) and "
                      "b = 'y' group by ward",
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){68, 40, 28}),
                 HEARTH_ERR_REFUSED);
}

Test(gw_diff, an_identical_filter_is_allowed)
{
    /* The same question again, even after the data changed by a few. */
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F' AND age > 80" GROUP,
                      BY_WARD "WHERE age > 80 AND sex = 'F'" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){67, 37, 30}),
                 HEARTH_OK);
}

Test(gw_diff, filters_two_conjuncts_apart_are_not_compared)
{
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F'" GROUP,
                      BY_WARD "WHERE sex = 'F' AND age > 80 AND ward != 'C'" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){67, 37, 30}),
                 HEARTH_OK);
    teardown();
    setup();
    /* One swapped for another: also two apart. */
    cr_assert_eq(pair(BY_WARD "WHERE sex = 'F' AND age > 80" GROUP,
                      BY_WARD "WHERE sex = 'F' AND age > 81" GROUP,
                      (uint64_t[]){70, 40, 30}, (uint64_t[]){67, 37, 30}),
                 HEARTH_OK);
}

Test(gw_diff, a_different_family_is_not_compared)
{
    const char *second[] = {
        "SELECT ward, COUNT(PERSONS) FROM trust.ae WHERE sex = 'F' AND age > 80 GROUP BY ward",
        "SELECT ward, COUNT(*) FROM trust.op WHERE sex = 'F' AND age > 80 GROUP BY ward",
        "SELECT site, COUNT(*) FROM trust.ae WHERE sex = 'F' AND age > 80 GROUP BY site",
    };
    for (size_t i = 0; i < sizeof second / sizeof *second; i++) {
        teardown();
        setup();
        cr_assert_eq(pair(BY_WARD "WHERE sex = 'F'" GROUP, second[i],
                          (uint64_t[]){70, 40, 30}, (uint64_t[]){67, 37, 30}),
                     HEARTH_OK, "%s", second[i]);
    }
}

Test(gw_diff, another_project_is_not_compared)
{
    table_t a = {0}, b = {0};
    table_make(&a, BY_WARD "WHERE sex = 'F'" GROUP, KEYS, (uint64_t[]){70, 40, 30}, 3);
    table_make(&b, BY_WARD "WHERE sex = 'F' AND age > 80" GROUP, KEYS,
               (uint64_t[]){67, 37, 30}, 3);
    release("audit", &a);
    cr_assert_eq(check("other", 7, &b), HEARTH_OK);
    cr_assert_eq(check("", 7, &b), HEARTH_OK);
    cr_assert_eq(check("audit", 7, &b), HEARTH_ERR_REFUSED);
    table_free(&a);
    table_free(&b);
}

Test(gw_diff, the_threshold_decides_what_a_few_is)
{
    table_t a = {0}, b = {0};
    table_make(&a, BY_WARD "WHERE sex = 'F'" GROUP, KEYS, (uint64_t[]){70, 40, 30}, 3);
    table_make(&b, BY_WARD "WHERE sex = 'F' AND age > 80" GROUP, KEYS,
               (uint64_t[]){60, 30, 30}, 3);
    release("audit", &a);
    cr_assert_eq(check("audit", 7, &b), HEARTH_OK);
    cr_assert_eq(check("audit", 10, &b), HEARTH_ERR_REFUSED);
    cr_assert_eq(check("audit", 9, &b), HEARTH_OK);
    cr_assert_eq(check("audit", 0, &b), HEARTH_OK);
    table_free(&a);
    table_free(&b);
}

Test(gw_diff, an_empty_store_allows_everything)
{
    table_t a = {0};
    table_make(&a, BY_WARD "WHERE sex = 'F'" GROUP, KEYS, (uint64_t[]){3, 2, 1}, 3);
    cr_assert_eq(check("audit", 7, &a), HEARTH_OK);
    table_free(&a);
}
