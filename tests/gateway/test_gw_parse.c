/* Tests for gw_parse: the analyst's query language parser, formatter and
 * error renderer. */
#include "gw_parse.h"

#include "hearth_buf.h"
#include "hearth_mem.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BRIEF_QUERY \
    "SELECT ward, COUNT(PERSONS)\n" \
    "FROM trust.ae_attendances\n" \
    "WHERE age_band IN ('65-74', '75+') AND diagnosis_group = 'falls'\n" \
    "  AND EXISTS (SELECT * FROM council.housing WHERE tenure = 'social' AND damp_reported = 'Y')\n" \
    "  AND NOT EXISTS (SELECT * FROM charity.referrals)\n" \
    "GROUP BY ward\n"

#define BRIEF_CANONICAL \
    "SELECT ward, COUNT(PERSONS) FROM trust.ae_attendances " \
    "WHERE age_band IN ('65-74', '75+') AND diagnosis_group = 'falls' " \
    "AND EXISTS (SELECT * FROM council.housing WHERE tenure = 'social' AND damp_reported = 'Y') " \
    "AND NOT EXISTS (SELECT * FROM charity.referrals) GROUP BY ward"

/* ------------------------------------------------------------ helpers */

static gw_query_t *parse_ok_n(const char *sql, size_t len, const gw_parse_limits_t *lim)
{
    gw_query_t *q = NULL;
    gw_parse_error_t err;
    hearth_err_t rc = gw_parse(sql, len, lim, &q, &err);
    cr_assert(eq(int, rc, HEARTH_OK), "parse failed at %zu: %s", err.offset, err.message);
    cr_assert(ne(ptr, q, NULL));
    return q;
}

static gw_query_t *parse_ok(const char *sql)
{
    return parse_ok_n(sql, strlen(sql), NULL);
}

static void expect_error_n(const char *sql, size_t len, const gw_parse_limits_t *lim,
                           hearth_err_t want_rc, size_t want_offset, const char *want_msg)
{
    gw_query_t *q = (gw_query_t *)0x1;
    gw_parse_error_t err;
    hearth_err_t rc = gw_parse(sql, len, lim, &q, &err);
    cr_assert(eq(ptr, q, NULL));
    cr_assert(eq(int, rc, want_rc), "rc %d, message: %s", rc, err.message);
    cr_assert(eq(str, err.message, (char *)want_msg));
    cr_assert(eq(sz, err.offset, want_offset), "offset %zu for: %s", err.offset, err.message);
}

static void expect_error(const char *sql, size_t want_offset, const char *want_msg)
{
    expect_error_n(sql, strlen(sql), NULL, HEARTH_ERR_PARSE, want_offset, want_msg);
}

static void put_literal(hearth_buf_t *b, const gw_literal_t *l)
{
    switch (l->kind) {
    case GW_LIT_STRING: hearth_buf_printf(b, "'%s'", l->text); break;
    case GW_LIT_INTEGER: hearth_buf_printf(b, "%" PRId64, l->integer); break;
    case GW_LIT_DECIMAL: hearth_buf_printf(b, "%s~", l->text); break;
    case GW_LIT_DATE: hearth_buf_printf(b, "D%s", l->text); break;
    }
}

/* A fully bracketed picture of a tree, e.g. OR(a = 1, AND(b = 2, c = 3)). */
static void put_expr(hearth_buf_t *b, const gw_expr_t *e)
{
    static const char *const ops[] = {"=", "!=", "<", "<=", ">", ">="};
    switch (e->kind) {
    case GW_EXPR_AND:
    case GW_EXPR_OR:
        hearth_buf_adds(b, e->kind == GW_EXPR_AND ? "AND(" : "OR(");
        put_expr(b, e->left);
        hearth_buf_adds(b, ", ");
        put_expr(b, e->right);
        hearth_buf_adds(b, ")");
        break;
    case GW_EXPR_NOT:
        hearth_buf_adds(b, "NOT(");
        put_expr(b, e->left);
        hearth_buf_adds(b, ")");
        break;
    case GW_EXPR_CMP:
        hearth_buf_printf(b, "%s %s ", e->column, ops[e->cmp]);
        put_literal(b, &e->values[0]);
        break;
    case GW_EXPR_IN:
        hearth_buf_printf(b, "%s IN[", e->column);
        for (size_t i = 0; i < e->nvalues; i++) {
            if (i)
                hearth_buf_adds(b, ",");
            put_literal(b, &e->values[i]);
        }
        hearth_buf_adds(b, "]");
        break;
    case GW_EXPR_BETWEEN:
        hearth_buf_printf(b, "%s BETWEEN[", e->column);
        put_literal(b, &e->values[0]);
        hearth_buf_adds(b, ",");
        put_literal(b, &e->values[1]);
        hearth_buf_adds(b, "]");
        break;
    case GW_EXPR_IS_NULL:
        hearth_buf_printf(b, "%s ISNULL", e->column);
        break;
    case GW_EXPR_IS_NOT_NULL:
        hearth_buf_printf(b, "%s ISNOTNULL", e->column);
        break;
    case GW_EXPR_EXISTS:
        hearth_buf_printf(b, "EXISTS[%s.%s", e->exists_from.node, e->exists_from.dataset);
        if (e->exists_where) {
            hearth_buf_adds(b, " ");
            put_expr(b, e->exists_where);
        }
        hearth_buf_adds(b, "]");
        break;
    }
}

static char *expr_str(const gw_expr_t *e)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 1 << 20);
    put_expr(&b, e);
    char *s = hearth_buf_take(&b);
    hearth_buf_free(&b);
    return s;
}

/* The WHERE tree of `SELECT COUNT(*) FROM n.d WHERE <where>` as a picture. */
static void assert_where(const char *where, const char *want)
{
    char *sql = hearth_asprintf("SELECT COUNT(*) FROM n.d WHERE %s", where);
    gw_query_t *q = parse_ok(sql);
    char *got = expr_str(q->where);
    cr_assert(eq(str, got, (char *)want), "for %s", where);
    free(got);
    free(sql);
    gw_query_destroy(&q);
}

static bool literal_equal(const gw_literal_t *a, const gw_literal_t *b)
{
    return a->kind == b->kind && strcmp(a->text, b->text) == 0 && a->integer == b->integer &&
           a->decimal == b->decimal;
}

/* Trees equal apart from offsets. */
static bool expr_equal(const gw_expr_t *a, const gw_expr_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->kind != b->kind || !expr_equal(a->left, b->left) || !expr_equal(a->right, b->right) ||
        !expr_equal(a->exists_where, b->exists_where) || a->nvalues != b->nvalues)
        return false;
    if ((a->column == NULL) != (b->column == NULL) ||
        (a->column && strcmp(a->column, b->column) != 0))
        return false;
    if (a->kind == GW_EXPR_CMP && a->cmp != b->cmp)
        return false;
    for (size_t i = 0; i < a->nvalues; i++)
        if (!literal_equal(&a->values[i], &b->values[i]))
            return false;
    if (a->kind == GW_EXPR_EXISTS &&
        (strcmp(a->exists_from.node, b->exists_from.node) != 0 ||
         strcmp(a->exists_from.dataset, b->exists_from.dataset) != 0))
        return false;
    return true;
}

static bool query_equal(const gw_query_t *a, const gw_query_t *b)
{
    if (a->ngroup != b->ngroup || a->measure != b->measure || a->nfrom != b->nfrom)
        return false;
    for (size_t i = 0; i < a->ngroup; i++)
        if (strcmp(a->group[i], b->group[i]) != 0)
            return false;
    if ((a->measure_column == NULL) != (b->measure_column == NULL) ||
        (a->measure_column && strcmp(a->measure_column, b->measure_column) != 0))
        return false;
    for (size_t i = 0; i < a->nfrom; i++)
        if (strcmp(a->from[i].node, b->from[i].node) != 0 ||
            strcmp(a->from[i].dataset, b->from[i].dataset) != 0)
            return false;
    return expr_equal(a->where, b->where);
}

/* sql formats to want; want parses to an equal tree and formats to itself. */
static void assert_round_trip(const char *sql, const char *want)
{
    gw_query_t *q1 = parse_ok(sql);
    char *text = gw_query_format(q1);
    cr_assert(ne(ptr, text, NULL));
    cr_assert(eq(str, text, (char *)want));
    gw_query_t *q2 = parse_ok(text);
    cr_assert(query_equal(q1, q2), "tree changed through %s", text);
    char *again = gw_query_format(q2);
    cr_assert(eq(str, again, text));
    free(again);
    free(text);
    gw_query_destroy(&q1);
    gw_query_destroy(&q2);
}

static void assert_render(const char *sql, size_t len, const char *want)
{
    gw_query_t *q = NULL;
    gw_parse_error_t err;
    cr_assert(ne(int, gw_parse(sql, len, NULL, &q, &err), HEARTH_OK));
    char *r = gw_parse_error_render(sql, len, &err);
    cr_assert(eq(str, r, (char *)want));
    free(r);
}

static char *repeat(const char *unit, size_t n, const char *prefix, const char *suffix)
{
    hearth_buf_t b;
    hearth_buf_init(&b, (size_t)64 << 20);
    hearth_buf_adds(&b, prefix);
    for (size_t i = 0; i < n; i++)
        hearth_buf_adds(&b, unit);
    hearth_buf_adds(&b, suffix);
    char *s = hearth_buf_take(&b);
    hearth_buf_free(&b);
    return s;
}

/* ------------------------------------------------------------ round trips */

Test(gw_parse, round_trips_the_brief_example)
{
    assert_round_trip(BRIEF_QUERY, BRIEF_CANONICAL);
}

Test(gw_parse, round_trips_measures_unions_and_predicates)
{
    static const char *const cases[][2] = {
        {"SELECT COUNT(*) FROM a.b", "SELECT COUNT(*) FROM a.b"},
        {"select count ( persons ) from a . b ;", "SELECT COUNT(PERSONS) FROM a.b"},
        {"SELECT SUM(cost) FROM a.b UNION c.d UNION e.f",
         "SELECT SUM(cost) FROM a.b UNION c.d UNION e.f"},
        {"SELECT x, y, z, MEAN(los) FROM a.b GROUP BY z, x, y",
         "SELECT x, y, z, MEAN(los) FROM a.b GROUP BY x, y, z"},
        {"SELECT COUNT(*) FROM a.b WHERE a=1 AND b!=2 AND c<>3 AND d<4 AND e<=5 AND f>6 AND g>=7",
         "SELECT COUNT(*) FROM a.b WHERE a = 1 AND b != 2 AND c != 3 AND d < 4 AND e <= 5 "
         "AND f > 6 AND g >= 7"},
        {"SELECT COUNT(*) FROM a.b WHERE x IN (1,-2, 3.50 ,'s') AND y NOT IN ('a')",
         "SELECT COUNT(*) FROM a.b WHERE x IN (1, -2, 3.5, 's') AND y NOT IN ('a')"},
        {"SELECT COUNT(*) FROM a.b WHERE x BETWEEN -1.25 AND 7 OR y NOT BETWEEN DATE '2020-02-29' "
         "AND date'2021-01-01'",
         "SELECT COUNT(*) FROM a.b WHERE x BETWEEN -1.25 AND 7 OR y NOT BETWEEN DATE '2020-02-29' "
         "AND DATE '2021-01-01'"},
        {"SELECT COUNT(*) FROM a.b WHERE x IS NULL OR y IS NOT NULL",
         "SELECT COUNT(*) FROM a.b WHERE x IS NULL OR y IS NOT NULL"},
        {"SELECT COUNT(*) FROM a.b WHERE (a = 1 OR b = 2) AND c = 3",
         "SELECT COUNT(*) FROM a.b WHERE (a = 1 OR b = 2) AND c = 3"},
        {"SELECT COUNT(*) FROM a.b WHERE ((a = 1) OR (b = 2 AND c = 3))",
         "SELECT COUNT(*) FROM a.b WHERE a = 1 OR b = 2 AND c = 3"},
        {"SELECT COUNT(*) FROM a.b WHERE a = 1 AND (b = 2 AND c = 3)",
         "SELECT COUNT(*) FROM a.b WHERE a = 1 AND (b = 2 AND c = 3)"},
        {"SELECT COUNT(*) FROM a.b WHERE (a = 1 AND b = 2) AND c = 3",
         "SELECT COUNT(*) FROM a.b WHERE a = 1 AND b = 2 AND c = 3"},
        {"SELECT COUNT(*) FROM a.b WHERE a = 1 OR (b = 2 OR c = 3)",
         "SELECT COUNT(*) FROM a.b WHERE a = 1 OR (b = 2 OR c = 3)"},
        {"SELECT COUNT(*) FROM a.b WHERE NOT (a = 1 AND b = 2) AND NOT NOT c = 3",
         "SELECT COUNT(*) FROM a.b WHERE NOT (a = 1 AND b = 2) AND NOT NOT c = 3"},
        {"SELECT COUNT(*) FROM a.b WHERE NOT x NOT IN (1) AND NOT (y BETWEEN 1 AND 2)",
         "SELECT COUNT(*) FROM a.b WHERE NOT x NOT IN (1) AND y NOT BETWEEN 1 AND 2"},
        {"SELECT COUNT(*) FROM a.b WHERE NOT x IS NULL",
         "SELECT COUNT(*) FROM a.b WHERE NOT x IS NULL"},
        {"SELECT COUNT(*) FROM a.b WHERE NOT EXISTS (SELECT * FROM c.d WHERE NOT (e = 1 OR f = 2))",
         "SELECT COUNT(*) FROM a.b WHERE NOT EXISTS (SELECT * FROM c.d WHERE NOT (e = 1 OR f = 2))"},
        {"SELECT COUNT(*) FROM a.b WHERE name = 'O''Brien' AND note = '''; DROP TABLE x; --'",
         "SELECT COUNT(*) FROM a.b WHERE name = 'O''Brien' AND note = '''; DROP TABLE x; --'"},
        {"SELECT \"Ward Name\", \"select\", \"a\"\"b\", COUNT(*) FROM \"Trust\".\"from\" "
         "WHERE \"date\" > DATE '2024-01-31' GROUP BY \"a\"\"b\", \"select\", \"Ward Name\"",
         "SELECT \"Ward Name\", \"select\", \"a\"\"b\", COUNT(*) FROM \"Trust\".\"from\" "
         "WHERE \"date\" > DATE '2024-01-31' GROUP BY \"Ward Name\", \"select\", \"a\"\"b\""},
        {"SELECT \"ward\", SUM(\"count\") FROM a.b GROUP BY ward",
         "SELECT ward, SUM(count) FROM a.b GROUP BY ward"},
        {"SELECT count, sum, MEAN(persons) FROM a.b WHERE mean = 1 GROUP BY count, sum",
         "SELECT count, sum, MEAN(persons) FROM a.b WHERE mean = 1 GROUP BY count, sum"},
        {"SELECT COUNT(*) FROM a.b WHERE s = 'caf\xc3\xa9'", "SELECT COUNT(*) FROM a.b WHERE s = 'caf\xc3\xa9'"},
        {"SELECT COUNT(*) FROM a.b WHERE i = 007 AND j = -0 AND k = -0012.500 AND l = 0.000 "
         "AND m = -0.0",
         "SELECT COUNT(*) FROM a.b WHERE i = 7 AND j = 0 AND k = -12.5 AND l = 0.0 AND m = 0.0"},
        {"SELECT COUNT(*) FROM a.b WHERE i = 9223372036854775807 OR i = -9223372036854775808",
         "SELECT COUNT(*) FROM a.b WHERE i = 9223372036854775807 OR i = -9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_round_trip(cases[i][0], cases[i][1]);
}

Test(gw_parse, folds_bare_keywords_and_names_to_one_spelling)
{
    gw_query_t *a = parse_ok("sElEcT Ward, CoUnT(PeRsOnS) FrOm Trust.AE wHeRe X In ('a') "
                             "GrOuP bY WARD");
    gw_query_t *b = parse_ok("SELECT ward, COUNT(PERSONS) FROM trust.ae WHERE x IN ('a') "
                             "GROUP BY ward");
    cr_assert(query_equal(a, b));
    cr_assert(eq(str, a->group[0], "ward"));
    cr_assert(eq(str, a->from[0].node, "trust"));
    cr_assert(eq(str, a->from[0].dataset, "ae"));
    gw_query_destroy(&a);
    gw_query_destroy(&b);
    /* A quoted name keeps its case, so it is another column. */
    expect_error("SELECT \"Ward\", COUNT(*) FROM a.b GROUP BY Ward", 42,
                 "GROUP BY column 'ward' is not in the SELECT list");
}

/* ------------------------------------------------------------ tree shape */

Test(gw_parse, and_binds_tighter_than_or)
{
    assert_where("a = 1 OR b = 2 AND c = 3", "OR(a = 1, AND(b = 2, c = 3))");
    assert_where("a = 1 AND b = 2 OR c = 3", "OR(AND(a = 1, b = 2), c = 3)");
    assert_where("(a = 1 OR b = 2) AND c = 3", "AND(OR(a = 1, b = 2), c = 3)");
}

Test(gw_parse, not_binds_tighter_than_and_and_looser_than_comparison)
{
    assert_where("NOT a = 1 AND b = 2", "AND(NOT(a = 1), b = 2)");
    assert_where("NOT (a = 1 AND b = 2)", "NOT(AND(a = 1, b = 2))");
    assert_where("NOT NOT a = 1", "NOT(NOT(a = 1))");
    assert_where("NOT a = 1 OR NOT b = 2", "OR(NOT(a = 1), NOT(b = 2))");
}

Test(gw_parse, chains_are_left_deep)
{
    assert_where("a = 1 AND b = 2 AND c = 3", "AND(AND(a = 1, b = 2), c = 3)");
    assert_where("a = 1 OR b = 2 OR c = 3", "OR(OR(a = 1, b = 2), c = 3)");
}

Test(gw_parse, negated_in_between_and_exists_are_not_over_the_predicate)
{
    assert_where("x NOT IN (1, 2)", "NOT(x IN[1,2])");
    assert_where("x NOT BETWEEN 1 AND 2", "NOT(x BETWEEN[1,2])");
    assert_where("NOT EXISTS (SELECT * FROM c.d)", "NOT(EXISTS[c.d])");
    assert_where("x IS NOT NULL AND y IS NULL", "AND(x ISNOTNULL, y ISNULL)");
    assert_where("EXISTS (SELECT * FROM c.d WHERE e = 'f' OR g <= 1.5)",
                 "EXISTS[c.d OR(e = 'f', g <= 1.5~)]");
    assert_where("x BETWEEN 1 AND 2 AND y = 3", "AND(x BETWEEN[1,2], y = 3)");
}

Test(gw_parse, fills_every_field_of_the_brief_example)
{
    gw_query_t *q = parse_ok(BRIEF_QUERY);
    cr_assert(eq(sz, q->ngroup, 1));
    cr_assert(eq(str, q->group[0], "ward"));
    cr_assert(eq(sz, q->group_offset[0], 7));
    cr_assert(eq(ptr, q->group[1], NULL));
    cr_assert(eq(int, q->measure, GW_MEASURE_COUNT_PERSONS));
    cr_assert(eq(ptr, q->measure_column, NULL));
    cr_assert(eq(sz, q->measure_offset, 13));
    cr_assert(eq(sz, q->nfrom, 1));
    cr_assert(eq(str, q->from[0].node, "trust"));
    cr_assert(eq(str, q->from[0].dataset, "ae_attendances"));
    cr_assert(eq(sz, q->from[0].offset, 33));
    char *w = expr_str(q->where);
    cr_assert(eq(str, w,
                 "AND(AND(AND(age_band IN['65-74','75+'], diagnosis_group = 'falls'), "
                 "EXISTS[council.housing AND(tenure = 'social', damp_reported = 'Y')]), "
                 "NOT(EXISTS[charity.referrals]))"));
    free(w);
    const gw_expr_t *in = q->where->left->left->left;
    cr_assert(eq(sz, q->where->offset, 60));
    cr_assert(eq(sz, in->offset, 60));
    cr_assert(eq(sz, in->column_offset, 60));
    cr_assert(eq(sz, in->values[0].offset, 73));
    cr_assert(eq(int, in->values[0].kind, GW_LIT_STRING));
    const gw_expr_t *exists = q->where->left->right;
    cr_assert(eq(sz, exists->offset, 125));
    cr_assert(eq(sz, exists->exists_from.offset, 147));
    const gw_expr_t *not_exists = q->where->right;
    cr_assert(eq(sz, not_exists->offset, 218));
    cr_assert(eq(sz, not_exists->left->offset, 222));
    gw_query_destroy(&q);
    cr_assert(eq(ptr, q, NULL));
}

Test(gw_parse, records_measure_columns_and_their_offsets)
{
    gw_query_t *q = parse_ok("SELECT SUM( cost ) FROM a.b");
    cr_assert(eq(int, q->measure, GW_MEASURE_SUM));
    cr_assert(eq(str, q->measure_column, "cost"));
    cr_assert(eq(sz, q->measure_offset, 12));
    gw_query_destroy(&q);
    q = parse_ok("SELECT MEAN(\"Length of stay\") FROM a.b");
    cr_assert(eq(int, q->measure, GW_MEASURE_MEAN));
    cr_assert(eq(str, q->measure_column, "Length of stay"));
    gw_query_destroy(&q);
    q = parse_ok("SELECT COUNT(*) FROM a.b");
    cr_assert(eq(int, q->measure, GW_MEASURE_COUNT_RECORDS));
    cr_assert(eq(sz, q->measure_offset, 7));
    cr_assert(eq(ptr, q->where, NULL));
    gw_query_destroy(&q);
}

Test(gw_parse, reads_literal_kinds_and_values)
{
    gw_query_t *q = parse_ok("SELECT COUNT(*) FROM a.b WHERE x IN ('O''Brien', -42, 0012.50, "
                             "DATE '2024-02-29', -9223372036854775808, '')");
    const gw_literal_t *v = q->where->values;
    cr_assert(eq(sz, q->where->nvalues, 6));
    cr_assert(eq(int, v[0].kind, GW_LIT_STRING));
    cr_assert(eq(str, v[0].text, "O'Brien"));
    cr_assert(eq(int, v[1].kind, GW_LIT_INTEGER));
    cr_assert(eq(i64, v[1].integer, -42));
    cr_assert(eq(str, v[1].text, "-42"));
    cr_assert(eq(sz, v[1].offset, 49));
    cr_assert(eq(int, v[2].kind, GW_LIT_DECIMAL));
    cr_assert(eq(str, v[2].text, "12.5"));
    cr_assert(eq(dbl, v[2].decimal, 12.5));
    cr_assert(eq(int, v[3].kind, GW_LIT_DATE));
    cr_assert(eq(str, v[3].text, "2024-02-29"));
    cr_assert(eq(sz, v[3].offset, 63));
    cr_assert(eq(i64, v[4].integer, INT64_MIN));
    cr_assert(eq(int, v[5].kind, GW_LIT_STRING));
    cr_assert(eq(str, v[5].text, ""));
    gw_query_destroy(&q);
}

Test(gw_parse, keeps_quoted_identifiers_verbatim)
{
    gw_query_t *q = parse_ok("SELECT \"quoted ident\", COUNT(*) FROM \"My Node\".\"a\"\"b\" "
                             "WHERE \"quoted ident\" = 'x' GROUP BY \"quoted ident\"");
    cr_assert(eq(str, q->group[0], "quoted ident"));
    cr_assert(eq(str, q->from[0].node, "My Node"));
    cr_assert(eq(str, q->from[0].dataset, "a\"b"));
    cr_assert(eq(str, q->where->column, "quoted ident"));
    gw_query_destroy(&q);
}

Test(gw_parse, takes_an_injection_string_as_just_a_value)
{
    gw_query_t *q = parse_ok("SELECT COUNT(*) FROM a.b WHERE note = '''; DROP TABLE x; --'");
    cr_assert(eq(str, q->where->values[0].text, "'; DROP TABLE x; --"));
    gw_query_destroy(&q);
    q = parse_ok("SELECT COUNT(*) FROM a.b WHERE note = '; DROP TABLE x; --'");
    cr_assert(eq(str, q->where->values[0].text, "; DROP TABLE x; --"));
    gw_query_destroy(&q);
}

Test(gw_parse, refuses_an_injection_string_in_place_of_a_name)
{
    expect_error("SELECT COUNT(*) FROM a.b; DROP TABLE x; --", 26,
                 "expected end of query after ';', found 'DROP'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE '; DROP TABLE x; --' = 1", 31,
                 "expected a condition after WHERE, found a string literal");
    expect_error("SELECT COUNT(*) FROM a.'; DROP TABLE x; --'", 23,
                 "expected a dataset name after 'a.', found a string literal");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 1; DROP TABLE x; --", 38,
                 "expected end of query after ';', found 'DROP'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 1 -- comment", 37,
                 "comments ('--') are not supported");
}

Test(gw_parse, parses_a_long_and_chain_without_deep_recursion)
{
    char *sql = repeat(" AND a = 1", 1600, "SELECT COUNT(*) FROM a.b WHERE a = 1", "");
    cr_assert(lt(sz, strlen(sql), 16384));
    gw_query_t *q = parse_ok(sql);
    char *text = gw_query_format(q);
    cr_assert(eq(str, text, sql));
    free(text);
    gw_query_destroy(&q);
    free(sql);
}

/* ------------------------------------------------------------ errors */

Test(gw_parse, names_what_was_expected_at_the_start_and_in_the_select_list)
{
    expect_error("", 0, "expected SELECT at the start of the query, found end of query");
    expect_error("  \n ", 0, "expected SELECT at the start of the query, found end of query");
    expect_error("SELCT COUNT(*) FROM a.b", 0,
                 "expected SELECT at the start of the query, found 'SELCT'");
    expect_error("SELECT", 6, "expected a column or a measure after SELECT, found end of query");
    expect_error("SELECT FROM a.b", 7, "expected a column or a measure after SELECT, found 'FROM'");
    expect_error("SELECT * FROM a.b", 7, "expected a column or a measure after SELECT, found '*'");
    expect_error("SELECT date, COUNT(*) FROM a.b GROUP BY date", 7,
                 "expected a column or a measure after SELECT, found reserved word 'date' "
                 "(write \"date\" to use it as a name)");
    expect_error("SELECT ward FROM a.b", 12,
                 "the SELECT list must end with a measure: COUNT(*), COUNT(PERSONS), SUM(col) or "
                 "MEAN(col)");
    expect_error("SELECT ward", 11,
                 "the SELECT list must end with a measure: COUNT(*), COUNT(PERSONS), SUM(col) or "
                 "MEAN(col)");
    expect_error("SELECT ward COUNT(*) FROM a.b", 12, "expected ',' after 'ward', found 'COUNT'");
    expect_error("SELECT ward, FROM a.b", 13, "expected a column or a measure after ',', found 'FROM'");
    expect_error("SELECT AVG(x) FROM a.b", 7,
                 "unknown measure 'AVG': use COUNT(*), COUNT(PERSONS), SUM(col) or MEAN(col)");
    expect_error("SELECT COUNT(x) FROM a.b", 13, "expected * or PERSONS in COUNT(...), found 'x'");
    expect_error("SELECT COUNT(\"persons\") FROM a.b", 13,
                 "expected * or PERSONS in COUNT(...), found '\"persons\"'");
    expect_error("SELECT SUM(*) FROM a.b", 11, "expected a column name in SUM(...), found '*'");
    expect_error("SELECT MEAN(from) FROM a.b", 12,
                 "expected a column name in MEAN(...), found reserved word 'from' "
                 "(write \"from\" to use it as a name)");
    expect_error("SELECT COUNT(* FROM a.b", 15, "expected ')' to close the measure, found 'FROM'");
    expect_error("SELECT COUNT(*), ward FROM a.b", 15,
                 "the measure must be the last item in the SELECT list");
    expect_error("SELECT COUNT(*) FORM a.b", 16,
                 "expected FROM after the SELECT list, found 'FORM'");
    expect_error("SELECT a, b, c, d, COUNT(*) FROM x.y GROUP BY a, b, c, d", 16,
                 "too many group columns: at most 3 may come before the measure");
}

Test(gw_parse, names_what_was_expected_in_from_and_after_it)
{
    expect_error("SELECT COUNT(*) FROM", 20,
                 "expected a dataset as node.dataset after FROM, found end of query");
    expect_error("SELECT COUNT(*) FROM ae WHERE x = 1", 24,
                 "expected '.' and a dataset name after the node name 'ae', found 'WHERE'");
    expect_error("SELECT COUNT(*) FROM a.", 23, "expected a dataset name after 'a.', found end of query");
    expect_error("SELECT COUNT(*) FROM a.b UNION", 30,
                 "expected a dataset as node.dataset after UNION, found end of query");
    expect_error("SELECT COUNT(*) FROM a.b ORDER BY x", 25,
                 "expected UNION, WHERE, GROUP BY or end of query after the FROM list, found 'ORDER'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 1 y = 2", 37,
                 "expected AND, OR, GROUP BY or end of query after the WHERE condition, found 'y'");
    expect_error("SELECT x, COUNT(*) FROM a.b GROUP x", 34, "expected BY after GROUP, found 'x'");
    expect_error("SELECT x, COUNT(*) FROM a.b GROUP BY", 36,
                 "expected a column name after GROUP BY, found end of query");
    expect_error("SELECT x, COUNT(*) FROM a.b GROUP BY x,", 39,
                 "expected a column name after ',', found end of query");
    expect_error("SELECT x, COUNT(*) FROM a.b GROUP BY x HAVING y", 39,
                 "expected ',' or end of query after the GROUP BY list, found 'HAVING'");
    expect_error("SELECT COUNT(*) FROM a.b;;", 25, "expected end of query after ';', found ';'");
}

Test(gw_parse, names_what_was_expected_in_conditions)
{
    expect_error("SELECT COUNT(*) FROM a.b WHERE", 30,
                 "expected a condition after WHERE, found end of query");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 1 AND", 40,
                 "expected a condition after AND, found end of query");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 1 OR )", 40,
                 "expected a condition after OR, found ')'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE NOT 5", 35, "expected a condition after NOT, found '5'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE (", 32,
                 "expected a condition after '(', found end of query");
    expect_error("SELECT COUNT(*) FROM a.b WHERE (x = 1", 37,
                 "expected ')' to close '(', found end of query");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x =", 34,
                 "expected a literal after '=', found end of query");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x <> )", 36,
                 "expected a literal after '<>', found ')'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = NULL", 35,
                 "expected a literal after '=', found 'NULL': use IS NULL or IS NOT NULL");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = \"falls\"", 35,
                 "expected a literal after '=', found '\"falls\"' (strings take single quotes)");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = falls", 35,
                 "expected a literal after '=', found 'falls' (strings take single quotes)");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = WHERE", 35,
                 "expected a literal after '=', found 'WHERE'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x LIKE 'a%'", 33,
                 "expected a comparison (=, !=, <>, <, <=, >, >=), IN, BETWEEN or IS after 'x', "
                 "found 'LIKE'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x == 1", 34,
                 "expected a literal after '=', found '='");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x ! 1", 33,
                 "unexpected character '!' (did you mean '!='?)");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x IS 1", 36,
                 "expected NULL or NOT NULL after IS, found '1'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x IS NOT", 39,
                 "expected NULL after IS NOT, found end of query");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x NOT = 1", 37,
                 "expected IN or BETWEEN after NOT, found '='");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x IN 1", 36, "expected '(' after IN, found '1'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x IN ()", 37,
                 "expected a literal in the IN list, found ')'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x IN (1,)", 39,
                 "expected a literal in the IN list, found ')'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x IN (1 2)", 39,
                 "expected ',' or ')' in the IN list, found '2'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x IN (SELECT * FROM c.d)", 37,
                 "expected a literal in the IN list, found 'SELECT'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x BETWEEN AND 2", 41,
                 "expected a literal after BETWEEN, found 'AND'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x BETWEEN 1 OR 2", 43,
                 "expected AND after the BETWEEN lower bound, found 'OR'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x BETWEEN 1 AND", 46,
                 "expected a literal after AND in BETWEEN, found end of query");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = - 1", 35,
                 "unexpected '-' (a negative number is written -5; a name containing '-' must be "
                 "\"quoted\")");
    expect_error("SELECT COUNT(*) FROM trust.ae-attendances", 29,
                 "unexpected '-' (a negative number is written -5; a name containing '-' must be "
                 "\"quoted\")");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 1.", 36,
                 "expected AND, OR, GROUP BY or end of query after the WHERE condition, found '.'");
}

Test(gw_parse, names_what_was_expected_in_exists)
{
    expect_error("SELECT COUNT(*) FROM a.b WHERE EXISTS c.d", 38, "expected '(' after EXISTS, found 'c'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE EXISTS (c.d)", 39,
                 "expected SELECT after 'EXISTS (', found 'c'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE EXISTS (SELECT x FROM c.d)", 46,
                 "expected '*' after SELECT in an EXISTS sub-select, found 'x'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE EXISTS (SELECT * c.d)", 48,
                 "expected FROM after 'SELECT *' in an EXISTS sub-select, found 'c'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE EXISTS (SELECT * FROM c.d UNION e.f)", 57,
                 "expected WHERE or ')' after the dataset in EXISTS, found 'UNION'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE EXISTS (SELECT * FROM c.d WHERE e = 1", 68,
                 "expected ')' to close EXISTS, found end of query");
    expect_error("SELECT COUNT(*) FROM a.b WHERE EXISTS (SELECT * FROM c.d WHERE "
                 "EXISTS (SELECT * FROM e.f))", 63, "EXISTS may not be nested");
    expect_error("SELECT COUNT(*) FROM a.b WHERE EXISTS (SELECT * FROM c.d WHERE x = 1 AND "
                 "(NOT EXISTS (SELECT * FROM e.f)))", 78, "EXISTS may not be nested");
    /* Side by side is fine: only nesting is refused. */
    gw_query_t *q = parse_ok("SELECT COUNT(*) FROM a.b WHERE EXISTS (SELECT * FROM c.d WHERE x = 1) "
                             "AND EXISTS (SELECT * FROM e.f)");
    gw_query_destroy(&q);
}

Test(gw_parse, mirrors_sql_group_by_rules)
{
    expect_error("SELECT ward, COUNT(*) FROM a.b", 7, "column 'ward' must appear in GROUP BY");
    expect_error("SELECT ward, age, COUNT(*) FROM a.b GROUP BY ward", 13,
                 "column 'age' must appear in GROUP BY");
    expect_error("SELECT COUNT(*) FROM a.b GROUP BY ward", 34,
                 "GROUP BY column 'ward' is not in the SELECT list");
    expect_error("SELECT ward, COUNT(*) FROM a.b GROUP BY ward, age", 46,
                 "GROUP BY column 'age' is not in the SELECT list");
    expect_error("SELECT ward, Ward, COUNT(*) FROM a.b GROUP BY ward", 13,
                 "column 'ward' appears twice in the SELECT list");
    expect_error("SELECT ward, COUNT(*) FROM a.b GROUP BY ward, WARD", 46,
                 "column 'ward' appears twice in GROUP BY");
    /* Syntax is reported before the GROUP BY rules. */
    expect_error("SELECT ward, COUNT(*) FROM a.b GROUP BY ward 'x", 45, "unterminated string literal");
}

Test(gw_parse, refuses_bad_tokens)
{
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 'abc", 35, "unterminated string literal");
    expect_error("SELECT COUNT(*) FROM a.b WHERE \"abc = 1", 31, "unterminated quoted identifier");
    expect_error("SELECT COUNT(*) FROM a.b WHERE \"\" = 1", 31, "empty quoted identifier");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 'a\nb'", 37, "control character in string literal");
    expect_error("SELECT COUNT(*) FROM a.b WHERE \"a\tb\" = 1", 33,
                 "control character in quoted identifier");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 1 \x01", 37,
                 "unexpected control character (byte 0x01)");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 1 @", 37, "unexpected character '@'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE caf\xc3\xa9 = 1", 34, "unexpected character '\xc3\xa9'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE d = DATE '2023-02-29'", 40,
                 "invalid date: expected DATE 'YYYY-MM-DD' with a real calendar date");
    expect_error("SELECT COUNT(*) FROM a.b WHERE d = DATE '2023-2-1'", 40,
                 "invalid date: expected DATE 'YYYY-MM-DD' with a real calendar date");
    expect_error("SELECT COUNT(*) FROM a.b WHERE d = DATE '0000-01-01'", 40,
                 "invalid date: expected DATE 'YYYY-MM-DD' with a real calendar date");
    expect_error("SELECT COUNT(*) FROM a.b WHERE d = DATE 20230101", 40,
                 "expected a date as 'YYYY-MM-DD' after DATE, found '20230101'");
    expect_error("SELECT COUNT(*) FROM a.b WHERE d = 1e5", 36,
                 "expected AND, OR, GROUP BY or end of query after the WHERE condition, found 'e5'");
}

Test(gw_parse, refuses_integers_beyond_int64)
{
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 9223372036854775808", 35,
                 "integer literal is out of range (it must fit in 64 bits)");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = -9223372036854775809", 35,
                 "integer literal is out of range (it must fit in 64 bits)");
    expect_error("SELECT COUNT(*) FROM a.b WHERE x IN (1, 99999999999999999999999999)", 40,
                 "integer literal is out of range (it must fit in 64 bits)");
    char *big = repeat("9", 400, "SELECT COUNT(*) FROM a.b WHERE x = ", ".5");
    expect_error(big, 35, "decimal literal is out of range");
    free(big);
}

Test(gw_parse, refuses_nul_bytes_anywhere)
{
    static const char sql[] = "SELECT COUNT(*) FROM a.b WHERE x = 'a\0b'";
    expect_error_n(sql, sizeof sql - 1, NULL, HEARTH_ERR_PARSE, 37, "NUL byte in query");
    static const char tail[] = "SELECT COUNT(*) FROM a.b\0 WHERE x = 1";
    expect_error_n(tail, sizeof tail - 1, NULL, HEARTH_ERR_PARSE, 24, "NUL byte in query");
}

Test(gw_parse, refuses_invalid_utf8_anywhere)
{
    static const char *const bad[] = {
        "SELECT COUNT(*) FROM a.b WHERE x = '\xff'",          /* never valid */
        "SELECT COUNT(*) FROM a.b WHERE x = '\x80'",          /* lone continuation */
        "SELECT COUNT(*) FROM a.b WHERE x = '\xc0\xaf'",      /* overlong '/' */
        "SELECT COUNT(*) FROM a.b WHERE x = '\xed\xa0\x80'",  /* surrogate */
        "SELECT COUNT(*) FROM a.b WHERE x = '\xf4\x90\x80\x80'", /* above U+10FFFF */
        "SELECT COUNT(*) FROM a.b WHERE x = '\xe2\x82'",      /* truncated */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(bad[i], 36, "invalid UTF-8 in query");
    /* A sequence cut off by the end of the buffer. */
    static const char cut[] = "SELECT COUNT(*) FROM a.b WHERE x = 1 \xe2\x82\xac";
    expect_error_n(cut, sizeof cut - 2, NULL, HEARTH_ERR_PARSE, 37, "invalid UTF-8 in query");
}

Test(gw_parse, quotes_at_most_32_bytes_of_a_token)
{
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = 1 abcdefghijklmnopqrstuvwxyz0123456789ABC", 37,
                 "expected AND, OR, GROUP BY or end of query after the WHERE condition, "
                 "found 'abcdefghijklmnopqrstuvwxyz012345...'");
    /* A cut never splits a character: 'é' is two bytes at bytes 32-33. */
    expect_error("SELECT COUNT(*) FROM a.b WHERE x = \"abcdefghijklmnopqrstuvwxyz0123\xc3\xa9\"", 35,
                 "expected a literal after '=', found '\"abcdefghijklmnopqrstuvwxyz0123...' "
                 "(strings take single quotes)");
}

Test(gw_parse, refuses_a_null_result_pointer)
{
    gw_parse_error_t err;
    cr_assert(eq(int, gw_parse("SELECT COUNT(*) FROM a.b", 24, NULL, NULL, &err), HEARTH_ERR_INTERNAL));
    gw_query_t *q = NULL;
    cr_assert(eq(int, gw_parse(NULL, 0, NULL, &q, NULL), HEARTH_ERR_PARSE));
    cr_assert(eq(ptr, q, NULL));
}

/* ------------------------------------------------------------ limits */

Test(gw_parse, default_limits_are_those_of_the_brief)
{
    gw_parse_limits_t l = gw_parse_limits_default();
    cr_assert(eq(sz, l.max_query_len, 16384));
    cr_assert(eq(sz, l.max_in_list, 1000));
    cr_assert(eq(sz, l.max_depth, 32));
    cr_assert(eq(sz, l.max_ident_len, 63));
    cr_assert(eq(sz, l.max_string_len, 1024));
}

Test(gw_parse, refuses_a_query_over_max_query_len)
{
    char *ok = repeat(" ", 16384 - 24, "SELECT COUNT(*) FROM a.b", "");
    cr_assert(eq(sz, strlen(ok), 16384));
    gw_query_t *q = parse_ok(ok);
    gw_query_destroy(&q);
    free(ok);
    char *big = repeat(" ", 16385 - 24, "SELECT COUNT(*) FROM a.b", "");
    expect_error_n(big, strlen(big), NULL, HEARTH_ERR_TOO_BIG, 16384,
                   "query is longer than 16384 bytes (max_query_len)");
    free(big);
}

Test(gw_parse, refuses_an_in_list_over_max_in_list)
{
    char *ok = repeat(", 1", 999, "SELECT COUNT(*) FROM a.b WHERE x IN (1", ")");
    gw_query_t *q = parse_ok(ok);
    cr_assert(eq(sz, q->where->nvalues, 1000));
    gw_query_destroy(&q);
    free(ok);
    char *big = repeat(", 1", 1000, "SELECT COUNT(*) FROM a.b WHERE x IN (1", ")");
    expect_error_n(big, strlen(big), NULL, HEARTH_ERR_TOO_BIG, 38 + 3 * 1000 - 1,
                   "IN list has more than 1000 values (max_in_list)");
    free(big);
}

Test(gw_parse, refuses_nesting_over_max_depth)
{
    char *ok = repeat("(", 32, "SELECT COUNT(*) FROM a.b WHERE ", "x = 1");
    char *ok2 = repeat(")", 32, ok, "");
    gw_query_t *q = parse_ok(ok2);
    gw_query_destroy(&q);
    free(ok);
    free(ok2);
    char *open = repeat("(", 33, "SELECT COUNT(*) FROM a.b WHERE ", "x = 1");
    char *deep = repeat(")", 33, open, "");
    expect_error_n(deep, strlen(deep), NULL, HEARTH_ERR_TOO_BIG, 31 + 32,
                   "nesting deeper than 32 levels (max_depth)");
    free(open);
    free(deep);
    char *nots = repeat("NOT ", 33, "SELECT COUNT(*) FROM a.b WHERE ", "x = 1");
    expect_error_n(nots, strlen(nots), NULL, HEARTH_ERR_TOO_BIG, 31 + 4 * 32,
                   "nesting deeper than 32 levels (max_depth)");
    free(nots);
    /* EXISTS counts as a level too. */
    char *ex = repeat("(", 32, "SELECT COUNT(*) FROM a.b WHERE ", "EXISTS (SELECT * FROM c.d)");
    expect_error_n(ex, strlen(ex), NULL, HEARTH_ERR_TOO_BIG, 31 + 32,
                   "nesting deeper than 32 levels (max_depth)");
    free(ex);
}

Test(gw_parse, survives_a_hundred_thousand_open_parentheses)
{
    char *deep = repeat("(", 100000, "SELECT COUNT(*) FROM a.b WHERE ", "");
    expect_error_n(deep, strlen(deep), NULL, HEARTH_ERR_TOO_BIG, 16384,
                   "query is longer than 16384 bytes (max_query_len)");
    /* With the length limit lifted, depth still stops it. */
    gw_parse_limits_t lim = gw_parse_limits_default();
    lim.max_query_len = 1 << 20;
    expect_error_n(deep, strlen(deep), &lim, HEARTH_ERR_TOO_BIG, 31 + 32,
                   "nesting deeper than 32 levels (max_depth)");
    /* And a configured depth beyond the cap is held to the cap. */
    lim.max_depth = SIZE_MAX;
    expect_error_n(deep, strlen(deep), &lim, HEARTH_ERR_TOO_BIG, 31 + GW_PARSE_MAX_DEPTH_CAP,
                   "nesting deeper than 256 levels (max_depth)");
    free(deep);
    char *nots = repeat("NOT ", 100000, "SELECT COUNT(*) FROM a.b WHERE ", "x = 1");
    expect_error_n(nots, strlen(nots), &lim, HEARTH_ERR_TOO_BIG, 31 + 4 * 256,
                   "nesting deeper than 256 levels (max_depth)");
    free(nots);
}

Test(gw_parse, refuses_strings_over_max_string_len)
{
    char *ok = repeat("x", 1024, "SELECT COUNT(*) FROM a.b WHERE s = '", "'");
    gw_query_t *q = parse_ok(ok);
    cr_assert(eq(sz, strlen(q->where->values[0].text), 1024));
    gw_query_destroy(&q);
    free(ok);
    /* Escaped quotes count once: 1022 x's and '' is 1023 bytes. */
    char *esc = repeat("x", 1022, "SELECT COUNT(*) FROM a.b WHERE s = '''", "'");
    q = parse_ok(esc);
    cr_assert(eq(sz, strlen(q->where->values[0].text), 1023));
    gw_query_destroy(&q);
    free(esc);
    char *big = repeat("x", 1025, "SELECT COUNT(*) FROM a.b WHERE s = '", "'");
    expect_error_n(big, strlen(big), NULL, HEARTH_ERR_TOO_BIG, 35,
                   "string literal is longer than 1024 bytes (max_string_len)");
    free(big);
}

Test(gw_parse, refuses_identifiers_over_max_ident_len)
{
    char *ok = repeat("a", 63, "SELECT COUNT(*) FROM a.b WHERE ", " = 1");
    gw_query_t *q = parse_ok(ok);
    gw_query_destroy(&q);
    free(ok);
    char *bare = repeat("a", 64, "SELECT COUNT(*) FROM a.b WHERE ", " = 1");
    expect_error_n(bare, strlen(bare), NULL, HEARTH_ERR_TOO_BIG, 31,
                   "identifier is longer than 63 bytes (max_ident_len)");
    free(bare);
    char *quoted = repeat("A", 64, "SELECT COUNT(*) FROM a.\"", "\"");
    expect_error_n(quoted, strlen(quoted), NULL, HEARTH_ERR_TOO_BIG, 23,
                   "identifier is longer than 63 bytes (max_ident_len)");
    free(quoted);
}

/* ------------------------------------------------------------ format */

Test(gw_parse, formats_hand_built_trees_and_refuses_malformed_ones)
{
    gw_query_t *q = parse_ok("SELECT COUNT(*) FROM a.b WHERE x = 1");
    /* A planner may rewrite the tree; the text follows it. */
    free(q->where->values[0].text);
    q->where->values[0].kind = GW_LIT_STRING;
    q->where->values[0].text = hearth_strdup("it's");
    free(q->from[0].node);
    q->from[0].node = hearth_strdup("Other Node");
    char *text = gw_query_format(q);
    cr_assert(eq(str, text, "SELECT COUNT(*) FROM \"Other Node\".b WHERE x = 'it''s'"));
    free(text);
    q->where->nvalues = 0;
    cr_assert(eq(ptr, gw_query_format(q), NULL));
    q->where->nvalues = 1;
    q->where->kind = (gw_expr_kind_t)99;
    cr_assert(eq(ptr, gw_query_format(q), NULL));
    q->where->kind = GW_EXPR_CMP;
    q->measure = GW_MEASURE_SUM;
    cr_assert(eq(ptr, gw_query_format(q), NULL));
    gw_query_destroy(&q);
    gw_query_destroy(&q);
    gw_query_destroy(NULL);
    cr_assert(eq(ptr, gw_query_format(NULL), NULL));
}

/* ------------------------------------------------------------ render */

Test(gw_parse, renders_a_caret_under_the_offending_token)
{
    static const char sql[] = "SELECT ward COUNT(*) FROM trust.ae";
    assert_render(sql, sizeof sql - 1,
                  "SELECT ward COUNT(*) FROM trust.ae\n"
                  "            ^\n"
                  "error: expected ',' after 'ward', found 'COUNT'");
}

Test(gw_parse, renders_end_of_query_just_past_the_last_token)
{
    static const char sql[] = "SELECT COUNT(*) FROM a.b WHERE x =\n";
    assert_render(sql, sizeof sql - 1,
                  "SELECT COUNT(*) FROM a.b WHERE x =\n"
                  "                                  ^\n"
                  "error: expected a literal after '=', found end of query");
}

Test(gw_parse, renders_only_the_offending_line_of_a_multi_line_query)
{
    static const char sql[] = "SELECT ward, COUNT(PERSONS)\r\n"
                              "FROM trust.ae\r\n"
                              "WHERE age_band IN ('65-74' '75+')\r\n"
                              "GROUP BY ward\r\n";
    assert_render(sql, sizeof sql - 1,
                  "line 3: WHERE age_band IN ('65-74' '75+')\n"
                  "                                   ^\n"
                  "error: expected ',' or ')' in the IN list, found a string literal");
}

Test(gw_parse, renders_non_printable_bytes_as_question_marks)
{
    static const char sql[] = "SELECT COUNT(*)\tFROM a.b WHERE x = '\xe2\x80\xae' AND y = '\xff'";
    assert_render(sql, sizeof sql - 1,
                  "SELECT COUNT(*) FROM a.b WHERE x = '?' AND y = '?'\n"
                  "                                                ^\n"
                  "error: invalid UTF-8 in query");
    static const char nul[] = "SELECT \xc3\xa9\0 COUNT(*)";
    assert_render(nul, sizeof nul - 1,
                  "SELECT \xc3\xa9? COUNT(*)\n"
                  "        ^\n"
                  "error: NUL byte in query");
}

Test(gw_parse, renders_a_window_of_a_long_line)
{
    char *sql = repeat(" ", 200, "SELECT COUNT(*) FROM a.b", "WHERE x = 1 y");
    char *want = hearth_asprintf("...%*s%s\n%*s^\nerror: %s", 87, "", "WHERE x = 1 y",
                                 3 + 100 - 1, "",
                                 "expected AND, OR, GROUP BY or end of query after the WHERE "
                                 "condition, found 'y'");
    assert_render(sql, strlen(sql), want);
    free(want);
    free(sql);
    char *mid = repeat("x", 300, "SELECT COUNT(*) FROM a.b WHERE s = '", "' @ AND ");
    char *mid2 = repeat("y", 300, mid, "");
    /* The caret sits 50 characters into a 100-character window. */
    char *line = repeat("x", 48, "...", "' @ AND ");
    char *line2 = repeat("y", 44, line, "...");
    char *want2 = hearth_asprintf("%s\n%*s^\nerror: unexpected character '@'", line2, 53, "");
    assert_render(mid2, strlen(mid2), want2);
    free(want2);
    free(line2);
    free(line);
    free(mid2);
    free(mid);
}

/* ------------------------------------------------------------ robustness */

static uint64_t next_random(uint64_t *state)
{
    /* xorshift64*: deterministic, so a failure reproduces. */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545f4914f6cdd1dULL;
}

Test(gw_parse, survives_mutated_queries)
{
    static const char *const seeds[] = {
        BRIEF_QUERY,
        "SELECT a, \"B c\", SUM(x) FROM n.d UNION m.e WHERE (x BETWEEN -1.5 AND 2 OR y NOT IN "
        "('a''b', DATE '2020-01-01')) AND z IS NOT NULL GROUP BY \"B c\", a;",
        "SELECT COUNT(*) FROM a.b WHERE NOT (NOT x = 1 OR EXISTS (SELECT * FROM c.d WHERE y <> 2))",
    };
    static const char alphabet[] = " ()'\",.-;*=<>!0aZ_N\n\t\x01\x80\xc3\xa9\xff";
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    char buf[512];
    size_t parsed = 0;
    for (int iter = 0; iter < 20000; iter++) {
        const char *seed = seeds[next_random(&state) % (sizeof seeds / sizeof seeds[0])];
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        int edits = 1 + (int)(next_random(&state) % 4);
        for (int e = 0; e < edits && n > 0; e++) {
            size_t at = next_random(&state) % n;
            switch (next_random(&state) % 3) {
            case 0:
                buf[at] = alphabet[next_random(&state) % (sizeof alphabet - 1)];
                break;
            case 1:
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
                break;
            default:
                if (n < sizeof buf - 1) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = alphabet[next_random(&state) % (sizeof alphabet - 1)];
                    n++;
                }
                break;
            }
        }
        gw_query_t *q = NULL;
        gw_parse_error_t err;
        hearth_err_t rc = gw_parse(buf, n, NULL, &q, &err);
        if (rc == HEARTH_OK) {
            parsed++;
            char *text = gw_query_format(q);
            cr_assert(ne(ptr, text, NULL));
            gw_query_t *again = parse_ok(text);
            cr_assert(query_equal(q, again), "tree changed through %s", text);
            gw_query_destroy(&again);
            free(text);
            gw_query_destroy(&q);
        } else {
            cr_assert(eq(ptr, q, NULL));
            cr_assert(ne(int, err.message[0], 0));
            cr_assert(le(sz, err.offset, n));
            char *r = gw_parse_error_render(buf, n, &err);
            cr_assert(ne(ptr, r, NULL));
            free(r);
        }
    }
    /* Enough mutants still parse for the round trip to be exercised. */
    cr_assert(gt(sz, parsed, 500), "only %zu of 20000 parsed", parsed);
}
