/* Tests for gw_plan: queries parsed with gw_parse and planned against
 * hand-built Hello catalogues. Checks the SubQuery a query becomes (dataset,
 * group_by, measure, measure column, postfix filter with literals typed by
 * each dataset's column types), one part per dataset of a UNION, the exact
 * messages and offsets for unknown names and type errors, a node that never
 * connected, and linked plans: COHORT and TARGET parts, EXISTS atoms in the
 * postfix filter, parts numbered per node, sub-select errors, and the
 * limit on EXISTS. */
#include "gw_plan.h"
#include "hearth_buf.h"
#include "proto_codec.h"

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the catalogue ------------------------------------------------------ */

#define COLUMN(var, name, type)                                                              \
    static Hearth__Column var = {PROTOBUF_C_MESSAGE_INIT(&hearth__column__descriptor), name, \
                                 HEARTH__COLUMN_TYPE__COLUMN_##type, 0, NULL, 0}

COLUMN(col_ward, "ward", CATEGORICAL);
COLUMN(col_age_band, "age_band", CATEGORICAL);
COLUMN(col_diag, "diagnosis_group", CATEGORICAL);
COLUMN(col_date, "attendance_date", DATE);
COLUMN(col_age, "age", INTEGER);
COLUMN(col_practice, "practice", CATEGORICAL);
COLUMN(col_cost, "cost", DECIMAL);
COLUMN(col_age_decimal, "age", DECIMAL);
COLUMN(col_service, "service", CATEGORICAL);
/* The same names with other types, at the clinic. */
COLUMN(col_date_text, "attendance_date", CATEGORICAL);
COLUMN(col_age_band_integer, "age_band", INTEGER);

/* trust.ae_attendances: ward, age_band, diagnosis_group (categorical),
 *                       attendance_date (date), age (integer)
 * trust.gp_visits:      practice, ward (categorical), cost, age (decimal)
 * charity.referrals:    service (categorical)
 * clinic.ae_attendances: ward, diagnosis_group, attendance_date (categorical),
 *                       age, age_band (integer)
 * clinic.notes:         ward (categorical)
 * council is configured but has never connected. */
static Hearth__Column *ae_cols[] = {&col_ward, &col_age_band, &col_diag, &col_date, &col_age};
static Hearth__Column *gp_cols[] = {&col_practice, &col_cost, &col_ward, &col_age_decimal};
static Hearth__Column *ref_cols[] = {&col_service};
static Hearth__Column *clinic_ae_cols[] = {&col_ward, &col_age, &col_date_text, &col_diag,
                                           &col_age_band_integer};
static Hearth__Column *notes_cols[] = {&col_ward};

static Hearth__Dataset ds_ae = {PROTOBUF_C_MESSAGE_INIT(&hearth__dataset__descriptor),
                                "ae_attendances", 5, ae_cols};
static Hearth__Dataset ds_gp = {PROTOBUF_C_MESSAGE_INIT(&hearth__dataset__descriptor),
                                "gp_visits", 4, gp_cols};
static Hearth__Dataset ds_ref = {PROTOBUF_C_MESSAGE_INIT(&hearth__dataset__descriptor),
                                 "referrals", 1, ref_cols};
static Hearth__Dataset ds_clinic_ae = {PROTOBUF_C_MESSAGE_INIT(&hearth__dataset__descriptor),
                                       "ae_attendances", 5, clinic_ae_cols};
static Hearth__Dataset ds_notes = {PROTOBUF_C_MESSAGE_INIT(&hearth__dataset__descriptor),
                                   "notes", 1, notes_cols};

static Hearth__Dataset *trust_ds[] = {&ds_ae, &ds_gp};
static Hearth__Dataset *charity_ds[] = {&ds_ref};
static Hearth__Dataset *clinic_ds[] = {&ds_clinic_ae, &ds_notes};

static Hearth__Hello hello_trust = {PROTOBUF_C_MESSAGE_INIT(&hearth__hello__descriptor),
                                    "trust", 2, trust_ds, 0, 0};
static Hearth__Hello hello_charity = {PROTOBUF_C_MESSAGE_INIT(&hearth__hello__descriptor),
                                      "charity", 1, charity_ds, 0, 0};
static Hearth__Hello hello_clinic = {PROTOBUF_C_MESSAGE_INIT(&hearth__hello__descriptor),
                                     "clinic", 2, clinic_ds, 0, 0};

static const gw_plan_node_t NODES[] = {
    {"council", NULL},
    {"trust", &hello_trust},
    {"charity", &hello_charity},
    {"clinic", &hello_clinic},
};
#define NNODES (sizeof NODES / sizeof *NODES)
enum { TRUST = 1, CHARITY = 2, CLINIC = 3 };

#define AE_COLUMNS "columns are: ward, age_band, diagnosis_group, attendance_date, age"

/* ---- helpers ------------------------------------------------------------ */

static gw_query_t *parse(const char *sql)
{
    gw_query_t *q = NULL;
    gw_parse_error_t err;
    hearth_err_t rc = gw_parse(sql, strlen(sql), NULL, &q, &err);
    cr_assert_eq(rc, HEARTH_OK, "parse failed at %zu: %s", err.offset, err.message);
    return q;
}

static gw_plan_t *plan_ok(const char *sql)
{
    gw_query_t *q = parse(sql);
    gw_plan_t *plan = NULL;
    gw_parse_error_t err;
    hearth_err_t rc = gw_plan_build(q, NODES, NNODES, "q-42", &plan, &err);
    gw_query_destroy(&q);
    cr_assert_eq(rc, HEARTH_OK, "plan failed at %zu: %s", err.offset, err.message);
    cr_assert_not_null(plan);
    return plan;
}

/* Offset of the nth (1-based) occurrence of at in sql. */
static size_t offset_of(const char *sql, const char *at, int nth)
{
    const char *p = sql - 1;
    for (int i = 0; i < nth; i++) {
        p = strstr(p + 1, at);
        cr_assert_not_null(p, "'%s' does not occur %d times in the query", at, nth);
    }
    return (size_t)(p - sql);
}

/* Plans sql and expects rc, exactly message, at offset; no plan is left. */
static void plan_fails_at(const char *sql, hearth_err_t want_rc, size_t want_offset,
                          const char *want_msg)
{
    gw_query_t *q = parse(sql);
    gw_plan_t *plan = (gw_plan_t *)0x1;
    gw_parse_error_t err;
    hearth_err_t rc = gw_plan_build(q, NODES, NNODES, "q-42", &plan, &err);
    gw_query_destroy(&q);
    cr_assert_null(plan);
    cr_assert_eq(rc, want_rc, "rc %d: %s", rc, err.message);
    cr_assert_str_eq(err.message, want_msg);
    cr_assert_eq(err.offset, want_offset, "offset %zu, wanted %zu", err.offset, want_offset);
}

/* As plan_fails_at, at the first occurrence of at in sql. */
static void plan_fails(const char *sql, hearth_err_t want_rc, const char *at,
                       const char *want_msg)
{
    plan_fails_at(sql, want_rc, offset_of(sql, at, 1), want_msg);
}

/* An expected wire value: TEXT, INTEGER or DECIMAL. */
typedef struct {
    Hearth__Value__KindCase kind;
    const char *text;
    int64_t integer;
    double decimal;
} want_value_t;

#define TXT(s) {HEARTH__VALUE__KIND_TEXT, (s), 0, 0.0}
#define INT(i) {HEARTH__VALUE__KIND_INTEGER, NULL, (i), 0.0}
#define DEC(d) {HEARTH__VALUE__KIND_DECIMAL, NULL, 0, (d)}
#define VALUES(...) ((const want_value_t[]){__VA_ARGS__})

static void expect_value(const Hearth__Value *v, const want_value_t *w, size_t i)
{
    cr_assert_not_null(v);
    cr_assert_eq(v->kind_case, w->kind, "value %zu: kind %d, wanted %d", i, v->kind_case,
                 w->kind);
    switch (w->kind) {
    case HEARTH__VALUE__KIND_TEXT:
        cr_assert_str_eq(v->text, w->text, "value %zu", i);
        break;
    case HEARTH__VALUE__KIND_INTEGER:
        cr_assert_eq(v->integer, w->integer, "value %zu: %lld, wanted %lld", i,
                     (long long)v->integer, (long long)w->integer);
        break;
    default:
        /* Exact: the planner passes the parser's double through. */
        cr_assert(v->decimal == w->decimal, "value %zu: %.17g, wanted %.17g", i, v->decimal,
                  w->decimal);
        break;
    }
}

static void expect_term(const Hearth__Term *t, Hearth__TermOp op, const char *column,
                        size_t nvalues, const want_value_t *values)
{
    cr_assert_eq(t->op, op, "op %d, wanted %d", t->op, op);
    if (column)
        cr_assert_str_eq(t->column, column);
    else
        cr_assert(t->column == NULL || t->column[0] == '\0');
    cr_assert_eq(t->n_values, nvalues, "%zu values, wanted %zu", t->n_values, nvalues);
    for (size_t i = 0; i < nvalues; i++)
        expect_value(t->values[i], &values[i], i);
}

/* The filter of a one-comparison query on one dataset: sql must plan to
 * exactly one term with op on column carrying the values. */
static void expect_single_term(const char *sql, Hearth__TermOp op, const char *column,
                               size_t nvalues, const want_value_t *values)
{
    gw_plan_t *plan = plan_ok(sql);
    cr_assert_eq(plan->nparts, 1);
    cr_assert_eq(plan->parts[0].sub->n_filter, 1, "%s", sql);
    expect_term(plan->parts[0].sub->filter[0], op, column, nvalues, values);
    gw_plan_destroy(&plan);
}

/* ---- plans -------------------------------------------------------------- */

Test(gw_plan, plans_a_simple_query_into_one_sub_query)
{
    gw_plan_t *plan = plan_ok("SELECT ward, COUNT(PERSONS) FROM trust.ae_attendances "
                              "WHERE age_band IN ('65-74', '75+') AND diagnosis_group = 'falls' "
                              "GROUP BY ward");
    cr_assert_eq(plan->measure, GW_MEASURE_COUNT_PERSONS);
    cr_assert_eq(plan->measure_integer, false);
    cr_assert_eq(plan->ngroup, 1);
    cr_assert_str_eq(plan->group[0], "ward");
    cr_assert_eq(plan->nparts, 1);
    cr_assert_eq(plan->parts[0].node, TRUST, "trust is the second node");
    const Hearth__SubQuery *s = plan->parts[0].sub;
    cr_assert_str_eq(s->query_id, "q-42");
    cr_assert_str_eq(s->dataset, "ae_attendances");
    cr_assert_eq(s->measure, HEARTH__MEASURE__MEASURE_COUNT_PERSONS);
    cr_assert_str_eq(s->measure_column, "");
    cr_assert_eq(s->n_group_by, 1);
    cr_assert_str_eq(s->group_by[0], "ward");
    cr_assert_eq(s->n_filter, 3);
    expect_term(s->filter[0], HEARTH__TERM_OP__TERM_IN, "age_band", 2,
                VALUES(TXT("65-74"), TXT("75+")));
    expect_term(s->filter[1], HEARTH__TERM_OP__TERM_EQ, "diagnosis_group", 1,
                VALUES(TXT("falls")));
    expect_term(s->filter[2], HEARTH__TERM_OP__TERM_AND, NULL, 0, NULL);
    gw_plan_destroy(&plan);
    cr_assert_null(plan);
}

Test(gw_plan, plans_a_count_without_filter_or_groups)
{
    gw_plan_t *plan = plan_ok("SELECT COUNT(*) FROM charity.referrals");
    cr_assert_eq(plan->measure, GW_MEASURE_COUNT_RECORDS);
    cr_assert_eq(plan->measure_integer, false);
    cr_assert_eq(plan->ngroup, 0);
    cr_assert_eq(plan->nparts, 1);
    cr_assert_eq(plan->parts[0].node, CHARITY);
    const Hearth__SubQuery *s = plan->parts[0].sub;
    cr_assert_str_eq(s->dataset, "referrals");
    cr_assert_eq(s->measure, HEARTH__MEASURE__MEASURE_COUNT_RECORDS);
    cr_assert_str_eq(s->measure_column, "");
    cr_assert_eq(s->n_group_by, 0);
    cr_assert_eq(s->n_filter, 0);
    gw_plan_destroy(&plan);
}

Test(gw_plan, plans_three_group_columns_in_select_order)
{
    gw_plan_t *plan = plan_ok("SELECT diagnosis_group, Ward, age_band, COUNT(*) "
                              "FROM trust.ae_attendances GROUP BY ward, age_band, "
                              "diagnosis_group");
    cr_assert_eq(plan->ngroup, 3);
    cr_assert_str_eq(plan->group[0], "diagnosis_group");
    cr_assert_str_eq(plan->group[1], "ward");
    cr_assert_str_eq(plan->group[2], "age_band");
    const Hearth__SubQuery *s = plan->parts[0].sub;
    cr_assert_eq(s->n_group_by, 3);
    cr_assert_str_eq(s->group_by[0], "diagnosis_group");
    cr_assert_str_eq(s->group_by[1], "ward");
    cr_assert_str_eq(s->group_by[2], "age_band");
    gw_plan_destroy(&plan);
}

Test(gw_plan, emits_every_predicate_in_postfix_with_typed_literals)
{
    gw_plan_t *plan = plan_ok(
        "SELECT COUNT(*) FROM trust.ae_attendances "
        "WHERE age NOT BETWEEN 018 AND 64 "
        "OR attendance_date >= DATE '2024-01-01' AND ward IS NOT NULL "
        "OR NOT (age_band <> '75+' AND age < -0012.50) "
        "OR diagnosis_group IS NULL AND ward NOT IN ('O''Brien', 'Abbey') "
        "OR age <= 3 OR age > 99");
    const Hearth__SubQuery *s = plan->parts[0].sub;
    static const struct {
        Hearth__TermOp op;
        const char *column;
        size_t n;
        want_value_t v[2];
    } want[] = {
        {HEARTH__TERM_OP__TERM_BETWEEN, "age", 2, {INT(18), INT(64)}},
        {HEARTH__TERM_OP__TERM_NOT, NULL, 0, {{0}}},
        {HEARTH__TERM_OP__TERM_GE, "attendance_date", 1, {TXT("2024-01-01")}},
        {HEARTH__TERM_OP__TERM_IS_NOT_NULL, "ward", 0, {{0}}},
        {HEARTH__TERM_OP__TERM_AND, NULL, 0, {{0}}},
        {HEARTH__TERM_OP__TERM_OR, NULL, 0, {{0}}},
        {HEARTH__TERM_OP__TERM_NE, "age_band", 1, {TXT("75+")}},
        {HEARTH__TERM_OP__TERM_LT, "age", 1, {DEC(-12.5)}},
        {HEARTH__TERM_OP__TERM_AND, NULL, 0, {{0}}},
        {HEARTH__TERM_OP__TERM_NOT, NULL, 0, {{0}}},
        {HEARTH__TERM_OP__TERM_OR, NULL, 0, {{0}}},
        {HEARTH__TERM_OP__TERM_IS_NULL, "diagnosis_group", 0, {{0}}},
        {HEARTH__TERM_OP__TERM_IN, "ward", 2, {TXT("O'Brien"), TXT("Abbey")}},
        {HEARTH__TERM_OP__TERM_NOT, NULL, 0, {{0}}},
        {HEARTH__TERM_OP__TERM_AND, NULL, 0, {{0}}},
        {HEARTH__TERM_OP__TERM_OR, NULL, 0, {{0}}},
        {HEARTH__TERM_OP__TERM_LE, "age", 1, {INT(3)}},
        {HEARTH__TERM_OP__TERM_OR, NULL, 0, {{0}}},
        {HEARTH__TERM_OP__TERM_GT, "age", 1, {INT(99)}},
        {HEARTH__TERM_OP__TERM_OR, NULL, 0, {{0}}},
    };
    cr_assert_eq(s->n_filter, sizeof want / sizeof *want, "%zu terms", s->n_filter);
    for (size_t i = 0; i < s->n_filter; i++)
        expect_term(s->filter[i], want[i].op, want[i].column, want[i].n, want[i].v);
    gw_plan_destroy(&plan);
}

Test(gw_plan, the_sub_query_is_a_valid_wire_message)
{
    gw_plan_t *plan = plan_ok("SELECT ward, COUNT(PERSONS) FROM trust.ae_attendances "
                              "WHERE age BETWEEN 65 AND 74 GROUP BY ward");
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_SUB_QUERY;
    env.sub_query = plan->parts[0].sub;
    size_t len;
    uint8_t *buf = proto_encode(&env, &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_NODE_MSG, &out, &cause), HEARTH_OK, "%s",
                 cause);
    cr_assert_str_eq(out->sub_query->dataset, "ae_attendances");
    cr_assert_eq(out->sub_query->n_filter, 1);
    expect_term(out->sub_query->filter[0], HEARTH__TERM_OP__TERM_BETWEEN, "age", 2,
                VALUES(INT(65), INT(74)));
    proto_free(&out);
    free(buf);
    gw_plan_destroy(&plan);
}

Test(gw_plan, a_sum_sub_query_is_a_valid_wire_message)
{
    gw_plan_t *plan = plan_ok("SELECT ward, SUM(cost) FROM trust.gp_visits "
                              "WHERE cost BETWEEN 0.5 AND 10 AND ward = 'Abbey' GROUP BY ward");
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_SUB_QUERY;
    env.sub_query = plan->parts[0].sub;
    size_t len;
    uint8_t *buf = proto_encode(&env, &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_NODE_MSG, &out, &cause), HEARTH_OK, "%s",
                 cause);
    const Hearth__SubQuery *s = out->sub_query;
    cr_assert_str_eq(s->dataset, "gp_visits");
    cr_assert_eq(s->measure, HEARTH__MEASURE__MEASURE_SUM);
    cr_assert_str_eq(s->measure_column, "cost");
    cr_assert_eq(s->n_filter, 3);
    expect_term(s->filter[0], HEARTH__TERM_OP__TERM_BETWEEN, "cost", 2,
                VALUES(DEC(0.5), INT(10)));
    expect_term(s->filter[1], HEARTH__TERM_OP__TERM_EQ, "ward", 1, VALUES(TXT("Abbey")));
    expect_term(s->filter[2], HEARTH__TERM_OP__TERM_AND, NULL, 0, NULL);
    proto_free(&out);
    free(buf);
    gw_plan_destroy(&plan);
}

Test(gw_plan, plans_a_long_or_chain)
{
    /* 120 ORs parse (a chain adds no depth) and plan into 241 terms; see
     * test_node_answer for what the node does with them. */
    char sql[8192];
    size_t n = (size_t)snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM trust.ae_attendances "
                                "WHERE ward = 'w0'");
    for (int i = 1; i <= 120; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " OR ward = 'w%d'", i);
    gw_plan_t *plan = plan_ok(sql);
    cr_assert_eq(plan->parts[0].sub->n_filter, 241);
    gw_plan_destroy(&plan);
}

/* ---- literals by column type -------------------------------------------- */

Test(gw_plan, numbers_against_a_categorical_column_are_their_canonical_text)
{
    /* As SQL compares a number with a text column: by its usual spelling. */
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances WHERE ward = 7",
                       HEARTH__TERM_OP__TERM_EQ, "ward", 1, VALUES(TXT("7")));
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances WHERE ward = 7.50",
                       HEARTH__TERM_OP__TERM_EQ, "ward", 1, VALUES(TXT("7.5")));
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances "
                       "WHERE ward IN (007, -0012.50, -3, 0.000, -0.0, 10.0)",
                       HEARTH__TERM_OP__TERM_IN, "ward", 6,
                       VALUES(TXT("7"), TXT("-12.5"), TXT("-3"), TXT("0.0"), TXT("0.0"),
                              TXT("10.0")));
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances "
                       "WHERE age_band BETWEEN 65 AND '74'",
                       HEARTH__TERM_OP__TERM_BETWEEN, "age_band", 2,
                       VALUES(TXT("65"), TXT("74")));
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances "
                       "WHERE ward < -9223372036854775808",
                       HEARTH__TERM_OP__TERM_LT, "ward", 1,
                       VALUES(TXT("-9223372036854775808")));
}

Test(gw_plan, a_date_literal_against_a_categorical_column_is_its_text)
{
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances "
                       "WHERE diagnosis_group >= DATE '2024-02-29'",
                       HEARTH__TERM_OP__TERM_GE, "diagnosis_group", 1,
                       VALUES(TXT("2024-02-29")));
}

Test(gw_plan, numbers_against_an_integer_column_keep_their_type)
{
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances WHERE age = 7",
                       HEARTH__TERM_OP__TERM_EQ, "age", 1, VALUES(INT(7)));
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances WHERE age >= 7.50",
                       HEARTH__TERM_OP__TERM_GE, "age", 1, VALUES(DEC(7.5)));
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances "
                       "WHERE age IN (-0, 007, -9223372036854775808, 9223372036854775807, "
                       "-0.25)",
                       HEARTH__TERM_OP__TERM_IN, "age", 5,
                       VALUES(INT(0), INT(7), INT(INT64_MIN), INT(INT64_MAX), DEC(-0.25)));
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances WHERE age BETWEEN 1 AND 2.5",
                       HEARTH__TERM_OP__TERM_BETWEEN, "age", 2, VALUES(INT(1), DEC(2.5)));
}

Test(gw_plan, numbers_against_a_decimal_column_keep_their_type)
{
    expect_single_term("SELECT COUNT(*) FROM trust.gp_visits WHERE cost = 12",
                       HEARTH__TERM_OP__TERM_EQ, "cost", 1, VALUES(INT(12)));
    expect_single_term("SELECT COUNT(*) FROM trust.gp_visits WHERE cost <> -0012.250",
                       HEARTH__TERM_OP__TERM_NE, "cost", 1, VALUES(DEC(-12.25)));
    expect_single_term("SELECT COUNT(*) FROM trust.gp_visits WHERE cost IN (0.1, 3)",
                       HEARTH__TERM_OP__TERM_IN, "cost", 2, VALUES(DEC(0.1), INT(3)));
}

Test(gw_plan, null_tests_on_typed_columns_carry_no_values)
{
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances WHERE age IS NULL",
                       HEARTH__TERM_OP__TERM_IS_NULL, "age", 0, NULL);
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances "
                       "WHERE attendance_date IS NOT NULL",
                       HEARTH__TERM_OP__TERM_IS_NOT_NULL, "attendance_date", 0, NULL);
    expect_single_term("SELECT COUNT(*) FROM trust.gp_visits WHERE cost IS NULL",
                       HEARTH__TERM_OP__TERM_IS_NULL, "cost", 0, NULL);
}

Test(gw_plan, a_string_against_an_integer_column_is_a_type_error)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE age = '7'", HEARTH_ERR_PARSE,
               "'7'", "column 'age' is integer: compare it with a number, not a string");
}

Test(gw_plan, a_string_late_in_an_in_list_is_refused_at_that_string)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE ward = 'x' OR "
               "age IN (1, 2, 'three', 4)", HEARTH_ERR_PARSE, "'three'",
               "column 'age' is integer: compare it with a number, not a string");
}

Test(gw_plan, a_date_against_an_integer_column_is_a_type_error)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE age BETWEEN 1 AND "
               "DATE '2024-01-31'", HEARTH_ERR_PARSE, "DATE",
               "column 'age' is integer: compare it with a number, not a date");
}

Test(gw_plan, a_string_against_a_decimal_column_is_a_type_error)
{
    plan_fails("SELECT COUNT(*) FROM trust.gp_visits WHERE cost >= 'cheap'", HEARTH_ERR_PARSE,
               "'cheap'", "column 'cost' is decimal: compare it with a number, not a string");
    plan_fails("SELECT COUNT(*) FROM trust.gp_visits WHERE NOT cost = DATE '2024-01-31'",
               HEARTH_ERR_PARSE, "DATE",
               "column 'cost' is decimal: compare it with a number, not a date");
}

Test(gw_plan, a_string_that_looks_like_a_number_is_still_a_string)
{
    plan_fails("SELECT COUNT(*) FROM trust.gp_visits WHERE cost < '12.5'", HEARTH_ERR_PARSE,
               "'12.5'", "column 'cost' is decimal: compare it with a number, not a string");
}

Test(gw_plan, a_date_column_takes_a_date_literal_as_text)
{
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances "
                       "WHERE attendance_date < DATE '2026-01-31'",
                       HEARTH__TERM_OP__TERM_LT, "attendance_date", 1,
                       VALUES(TXT("2026-01-31")));
    expect_single_term("SELECT COUNT(*) FROM trust.ae_attendances "
                       "WHERE attendance_date BETWEEN DATE '2024-01-01' AND '2024-12-31'",
                       HEARTH__TERM_OP__TERM_BETWEEN, "attendance_date", 2,
                       VALUES(TXT("2024-01-01"), TXT("2024-12-31")));
}

Test(gw_plan, a_date_column_takes_a_string_that_is_a_real_iso_date)
{
    static const char *const good[] = {
        "2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31", "2023-12-31", "2024-04-30",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM trust.ae_attendances "
                 "WHERE attendance_date = '%s'", good[i]);
        expect_single_term(sql, HEARTH__TERM_OP__TERM_EQ, "attendance_date", 1,
                           VALUES(TXT(good[i])));
    }
}

#define DATE_ERROR(col)                                                                 \
    "column '" col "' is a date: compare it with DATE 'YYYY-MM-DD' or a string such as " \
    "'2026-01-31'"

Test(gw_plan, a_date_column_refuses_a_string_that_is_not_a_real_iso_date)
{
    static const char *const bad[] = {
        "2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "2024-00-10", "2024-01-00",
        "0000-01-01", "2024-1-31",  "31/01/2024", "2024/01/31", " 2024-01-31",
        "2024-01-31 ", "2024-01-3x", "+024-01-31", "2024-01-31T00:00", "", "yesterday",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM trust.ae_attendances "
                 "WHERE attendance_date = '%s'", bad[i]);
        plan_fails(sql, HEARTH_ERR_PARSE, "'", DATE_ERROR("attendance_date"));
    }
}

Test(gw_plan, a_date_column_refuses_numbers)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE attendance_date > 20240131",
               HEARTH_ERR_PARSE, "20240131", DATE_ERROR("attendance_date"));
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances "
               "WHERE attendance_date IN (DATE '2024-01-31', -2024.5)",
               HEARTH_ERR_PARSE, "-2024.5", DATE_ERROR("attendance_date"));
}

Test(gw_plan, a_bad_date_in_a_between_is_refused_at_that_bound)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances "
               "WHERE attendance_date BETWEEN '2024-01-01' AND '2024-02-30'",
               HEARTH_ERR_PARSE, "'2024-02-30'", DATE_ERROR("attendance_date"));
}

/* ---- SUM and MEAN ------------------------------------------------------- */

Test(gw_plan, plans_a_sum_over_an_integer_column)
{
    gw_plan_t *plan = plan_ok("SELECT ward, SUM(age) FROM trust.ae_attendances "
                              "WHERE age >= 18 GROUP BY ward");
    cr_assert_eq(plan->measure, GW_MEASURE_SUM);
    cr_assert_eq(plan->measure_integer, true);
    cr_assert_eq(plan->ngroup, 1);
    cr_assert_str_eq(plan->group[0], "ward");
    cr_assert_eq(plan->nparts, 1);
    cr_assert_eq(plan->parts[0].node, TRUST);
    const Hearth__SubQuery *s = plan->parts[0].sub;
    cr_assert_str_eq(s->query_id, "q-42");
    cr_assert_str_eq(s->dataset, "ae_attendances");
    cr_assert_eq(s->measure, HEARTH__MEASURE__MEASURE_SUM);
    cr_assert_str_eq(s->measure_column, "age");
    cr_assert_eq(s->n_group_by, 1);
    cr_assert_str_eq(s->group_by[0], "ward");
    cr_assert_eq(s->n_filter, 1);
    expect_term(s->filter[0], HEARTH__TERM_OP__TERM_GE, "age", 1, VALUES(INT(18)));
    gw_plan_destroy(&plan);
}

Test(gw_plan, plans_a_mean_over_an_integer_column)
{
    gw_plan_t *plan = plan_ok("SELECT MEAN(Age) FROM trust.ae_attendances");
    cr_assert_eq(plan->measure, GW_MEASURE_MEAN);
    cr_assert_eq(plan->measure_integer, true);
    cr_assert_eq(plan->ngroup, 0);
    cr_assert_eq(plan->parts[0].sub->measure, HEARTH__MEASURE__MEASURE_MEAN);
    cr_assert_str_eq(plan->parts[0].sub->measure_column, "age");
    cr_assert_eq(plan->parts[0].sub->n_filter, 0);
    gw_plan_destroy(&plan);
}

Test(gw_plan, a_sum_over_a_decimal_column_is_not_integer)
{
    gw_plan_t *plan = plan_ok("SELECT practice, SUM(cost) FROM trust.gp_visits "
                              "GROUP BY practice");
    cr_assert_eq(plan->measure, GW_MEASURE_SUM);
    cr_assert_eq(plan->measure_integer, false);
    cr_assert_str_eq(plan->parts[0].sub->measure_column, "cost");
    gw_plan_destroy(&plan);
    plan = plan_ok("SELECT MEAN(cost) FROM trust.gp_visits");
    cr_assert_eq(plan->measure, GW_MEASURE_MEAN);
    cr_assert_eq(plan->measure_integer, false);
    cr_assert_eq(plan->parts[0].sub->measure, HEARTH__MEASURE__MEASURE_MEAN);
    gw_plan_destroy(&plan);
}

Test(gw_plan, refuses_sum_over_a_categorical_column)
{
    plan_fails("SELECT ward, SUM(ward) FROM trust.ae_attendances GROUP BY ward",
               HEARTH_ERR_PARSE, "ward)",
               "column 'ward' is categorical; SUM needs an integer or decimal column");
}

Test(gw_plan, refuses_mean_over_a_categorical_column)
{
    plan_fails("SELECT MEAN(diagnosis_group) FROM trust.ae_attendances", HEARTH_ERR_PARSE,
               "diagnosis_group",
               "column 'diagnosis_group' is categorical; MEAN needs an integer or decimal "
               "column");
}

Test(gw_plan, refuses_sum_and_mean_over_a_date_column)
{
    plan_fails("SELECT SUM(attendance_date) FROM trust.ae_attendances", HEARTH_ERR_PARSE,
               "attendance_date",
               "column 'attendance_date' is date; SUM needs an integer or decimal column");
    plan_fails("SELECT MEAN(attendance_date) FROM trust.ae_attendances", HEARTH_ERR_PARSE,
               "attendance_date",
               "column 'attendance_date' is date; MEAN needs an integer or decimal column");
}

Test(gw_plan, suggests_the_nearest_column_for_a_measure)
{
    plan_fails("SELECT SUM(agee) FROM trust.ae_attendances", HEARTH_ERR_PARSE, "agee",
               "no column 'agee' in trust.ae_attendances; did you mean 'age'?");
    plan_fails("SELECT MEAN(length_of_stay) FROM trust.ae_attendances", HEARTH_ERR_PARSE,
               "length_of_stay",
               "no column 'length_of_stay' in trust.ae_attendances; " AE_COLUMNS);
}

Test(gw_plan, a_bad_group_column_is_reported_before_a_bad_measure)
{
    plan_fails("SELECT wardd, SUM(ward) FROM trust.ae_attendances GROUP BY wardd",
               HEARTH_ERR_PARSE, "wardd",
               "no column 'wardd' in trust.ae_attendances; did you mean 'ward'?");
}

Test(gw_plan, a_bad_measure_is_reported_before_a_bad_filter)
{
    plan_fails("SELECT SUM(ward) FROM trust.ae_attendances WHERE age = 'x'",
               HEARTH_ERR_PARSE, "ward",
               "column 'ward' is categorical; SUM needs an integer or decimal column");
}

/* ---- UNION -------------------------------------------------------------- */

Test(gw_plan, plans_one_part_per_dataset_of_a_union_in_from_order)
{
    gw_plan_t *plan = plan_ok("SELECT ward, COUNT(*) FROM trust.ae_attendances "
                              "UNION clinic.ae_attendances UNION trust.gp_visits "
                              "WHERE ward IN ('Abbey', 7) GROUP BY ward");
    cr_assert_eq(plan->measure, GW_MEASURE_COUNT_RECORDS);
    cr_assert_eq(plan->measure_integer, false);
    cr_assert_eq(plan->ngroup, 1);
    cr_assert_str_eq(plan->group[0], "ward");
    cr_assert_eq(plan->nparts, 3);
    static const struct {
        size_t node;
        const char *dataset;
    } want[] = {{TRUST, "ae_attendances"}, {CLINIC, "ae_attendances"}, {TRUST, "gp_visits"}};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(plan->parts[i].node, want[i].node, "part %zu", i);
        const Hearth__SubQuery *s = plan->parts[i].sub;
        cr_assert_str_eq(s->query_id, "q-42");
        cr_assert_str_eq(s->dataset, want[i].dataset);
        cr_assert_eq(s->measure, HEARTH__MEASURE__MEASURE_COUNT_RECORDS);
        cr_assert_str_eq(s->measure_column, "");
        cr_assert_eq(s->n_group_by, 1);
        cr_assert_str_eq(s->group_by[0], "ward");
        cr_assert_eq(s->n_filter, 1);
        expect_term(s->filter[0], HEARTH__TERM_OP__TERM_IN, "ward", 2,
                    VALUES(TXT("Abbey"), TXT("7")));
        /* Each part owns its own strings and terms. */
        for (size_t k = 0; k < i; k++) {
            cr_assert_neq(plan->parts[k].sub, s);
            cr_assert_neq(plan->parts[k].sub->filter[0], s->filter[0]);
        }
    }
    gw_plan_destroy(&plan);
    cr_assert_null(plan);
}

Test(gw_plan, converts_a_union_filter_by_each_datasets_column_types)
{
    /* age_band is categorical at the trust and integer at the clinic;
     * attendance_date is a date at the trust and categorical at the clinic. */
    gw_plan_t *plan = plan_ok("SELECT COUNT(*) FROM trust.ae_attendances "
                              "UNION clinic.ae_attendances "
                              "WHERE age_band = 65 AND attendance_date >= DATE '2024-01-01' "
                              "AND age BETWEEN 18 AND 64.5");
    cr_assert_eq(plan->nparts, 2);
    const Hearth__SubQuery *t = plan->parts[0].sub, *c = plan->parts[1].sub;
    cr_assert_eq(plan->parts[0].node, TRUST);
    cr_assert_eq(plan->parts[1].node, CLINIC);
    cr_assert_eq(t->n_filter, 5);
    cr_assert_eq(c->n_filter, 5);
    expect_term(t->filter[0], HEARTH__TERM_OP__TERM_EQ, "age_band", 1, VALUES(TXT("65")));
    expect_term(c->filter[0], HEARTH__TERM_OP__TERM_EQ, "age_band", 1, VALUES(INT(65)));
    expect_term(t->filter[1], HEARTH__TERM_OP__TERM_GE, "attendance_date", 1,
                VALUES(TXT("2024-01-01")));
    expect_term(c->filter[1], HEARTH__TERM_OP__TERM_GE, "attendance_date", 1,
                VALUES(TXT("2024-01-01")));
    for (size_t i = 0; i < 2; i++) {
        const Hearth__SubQuery *s = plan->parts[i].sub;
        expect_term(s->filter[2], HEARTH__TERM_OP__TERM_AND, NULL, 0, NULL);
        expect_term(s->filter[3], HEARTH__TERM_OP__TERM_BETWEEN, "age", 2,
                    VALUES(INT(18), DEC(64.5)));
        expect_term(s->filter[4], HEARTH__TERM_OP__TERM_AND, NULL, 0, NULL);
    }
    gw_plan_destroy(&plan);
}

Test(gw_plan, a_union_allows_the_same_dataset_name_on_two_nodes)
{
    gw_plan_t *plan = plan_ok("SELECT COUNT(*) FROM clinic.ae_attendances "
                              "UNION trust.ae_attendances");
    cr_assert_eq(plan->nparts, 2);
    cr_assert_eq(plan->parts[0].node, CLINIC);
    cr_assert_eq(plan->parts[1].node, TRUST);
    cr_assert_str_eq(plan->parts[0].sub->dataset, "ae_attendances");
    cr_assert_str_eq(plan->parts[1].sub->dataset, "ae_attendances");
    cr_assert_eq(plan->parts[0].sub->n_filter, 0);
    cr_assert_eq(plan->parts[1].sub->n_filter, 0);
    gw_plan_destroy(&plan);
}

Test(gw_plan, plans_sum_over_a_union_of_integer_columns)
{
    gw_plan_t *plan = plan_ok("SELECT diagnosis_group, SUM(age) FROM trust.ae_attendances "
                              "UNION clinic.ae_attendances GROUP BY diagnosis_group");
    cr_assert_eq(plan->measure, GW_MEASURE_SUM);
    cr_assert_eq(plan->measure_integer, true);
    cr_assert_eq(plan->nparts, 2);
    for (size_t i = 0; i < 2; i++) {
        const Hearth__SubQuery *s = plan->parts[i].sub;
        cr_assert_eq(s->measure, HEARTH__MEASURE__MEASURE_SUM, "part %zu", i);
        cr_assert_str_eq(s->measure_column, "age");
        cr_assert_eq(s->n_group_by, 1);
        cr_assert_str_eq(s->group_by[0], "diagnosis_group");
    }
    gw_plan_destroy(&plan);
}

Test(gw_plan, a_mean_over_a_union_with_one_decimal_column_is_not_integer)
{
    /* age is integer in ae_attendances and decimal in gp_visits, in
     * either order. */
    static const char *const sqls[] = {
        "SELECT ward, MEAN(age) FROM trust.ae_attendances UNION trust.gp_visits "
        "UNION clinic.ae_attendances GROUP BY ward",
        "SELECT ward, MEAN(age) FROM trust.gp_visits UNION trust.ae_attendances "
        "UNION clinic.ae_attendances GROUP BY ward",
        "SELECT ward, MEAN(age) FROM trust.ae_attendances UNION clinic.ae_attendances "
        "UNION trust.gp_visits GROUP BY ward",
    };
    for (size_t k = 0; k < 3; k++) {
        gw_plan_t *plan = plan_ok(sqls[k]);
        cr_assert_eq(plan->measure, GW_MEASURE_MEAN);
        cr_assert_eq(plan->measure_integer, false, "%s", sqls[k]);
        cr_assert_eq(plan->nparts, 3);
        for (size_t i = 0; i < 3; i++) {
            cr_assert_eq(plan->parts[i].sub->measure, HEARTH__MEASURE__MEASURE_MEAN);
            cr_assert_str_eq(plan->parts[i].sub->measure_column, "age");
        }
        gw_plan_destroy(&plan);
    }
}

Test(gw_plan, a_column_missing_from_a_later_union_dataset_is_named_there)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances UNION clinic.notes "
               "WHERE age_band = '75+'", HEARTH_ERR_PARSE, "age_band",
               "no column 'age_band' in clinic.notes; columns are: ward");
}

Test(gw_plan, a_group_column_missing_from_a_later_union_dataset_is_named_there)
{
    plan_fails("SELECT diagnosis_group, COUNT(*) FROM trust.ae_attendances "
               "UNION trust.gp_visits GROUP BY diagnosis_group", HEARTH_ERR_PARSE,
               "diagnosis_group",
               "no column 'diagnosis_group' in trust.gp_visits; columns are: practice, cost, "
               "ward, age");
}

Test(gw_plan, a_measure_column_missing_from_a_later_union_dataset_is_named_there)
{
    plan_fails("SELECT SUM(age) FROM trust.ae_attendances UNION clinic.notes",
               HEARTH_ERR_PARSE, "age",
               "no column 'age' in clinic.notes; columns are: ward");
}

Test(gw_plan, a_column_missing_from_the_first_union_dataset_is_named_there)
{
    plan_fails("SELECT COUNT(*) FROM clinic.notes UNION trust.ae_attendances "
               "WHERE wards = 'Abbey'", HEARTH_ERR_PARSE, "wards",
               "no column 'wards' in clinic.notes; did you mean 'ward'?");
}

Test(gw_plan, a_type_error_in_one_union_dataset_refuses_the_query)
{
    /* '65-74' suits the trust's categorical age_band, not the clinic's
     * integer one. */
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances UNION clinic.ae_attendances "
               "WHERE age_band = '65-74'", HEARTH_ERR_PARSE, "'65-74'",
               "column 'age_band' is integer: compare it with a number, not a string");
    /* A string that is not a date suits the clinic's categorical
     * attendance_date, not the trust's date one. */
    plan_fails("SELECT COUNT(*) FROM clinic.ae_attendances UNION trust.ae_attendances "
               "WHERE attendance_date = 'Monday'", HEARTH_ERR_PARSE, "'Monday'",
               DATE_ERROR("attendance_date"));
}

Test(gw_plan, grouping_by_a_column_not_categorical_in_one_union_dataset_is_refused)
{
    plan_fails("SELECT age_band, COUNT(*) FROM trust.ae_attendances "
               "UNION clinic.ae_attendances GROUP BY age_band", HEARTH_ERR_PARSE, "age_band",
               "column 'age_band' is not categorical; GROUP BY needs a categorical column");
}

Test(gw_plan, a_measure_not_numeric_in_one_union_dataset_is_refused)
{
    plan_fails("SELECT MEAN(age_band) FROM clinic.ae_attendances UNION trust.ae_attendances",
               HEARTH_ERR_PARSE, "age_band",
               "column 'age_band' is categorical; MEAN needs an integer or decimal column");
}

Test(gw_plan, an_unknown_dataset_later_in_a_union_is_named)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances UNION clinic.note",
               HEARTH_ERR_PARSE, "clinic.note",
               "no dataset 'clinic.note'; did you mean 'clinic.notes'?");
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances UNION clinc.notes",
               HEARTH_ERR_PARSE, "clinc", "no node 'clinc'; did you mean 'clinic'?");
}

Test(gw_plan, a_union_with_a_node_that_never_connected_is_not_found)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances UNION council.housing",
               HEARTH_ERR_NOT_FOUND, "council",
               "node 'council' has not connected to the gateway yet; try again shortly");
}

Test(gw_plan, refuses_the_same_dataset_twice_in_a_union)
{
    const char *sql = "SELECT COUNT(*) FROM trust.ae_attendances UNION trust.ae_attendances";
    plan_fails_at(sql, HEARTH_ERR_PARSE, offset_of(sql, "trust.ae", 2),
                  "trust.ae_attendances appears twice in the UNION");
}

Test(gw_plan, refuses_the_same_dataset_twice_whatever_its_case)
{
    plan_fails("SELECT SUM(age) FROM trust.ae_attendances UNION Trust.AE_Attendances",
               HEARTH_ERR_PARSE, "Trust",
               "trust.ae_attendances appears twice in the UNION");
}

Test(gw_plan, refuses_a_dataset_repeated_after_another)
{
    const char *sql = "SELECT ward, COUNT(*) FROM trust.ae_attendances UNION "
                      "clinic.ae_attendances UNION trust.ae_attendances GROUP BY ward";
    plan_fails_at(sql, HEARTH_ERR_PARSE, offset_of(sql, "trust.ae", 2),
                  "trust.ae_attendances appears twice in the UNION");
}

/* ---- unknown names ------------------------------------------------------ */

Test(gw_plan, suggests_the_nearest_column_in_where)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE wardd = 'Abbey'",
               HEARTH_ERR_PARSE, "wardd",
               "no column 'wardd' in trust.ae_attendances; did you mean 'ward'?");
}

Test(gw_plan, suggests_the_nearest_column_in_group_by)
{
    plan_fails("SELECT wardd, COUNT(*) FROM trust.ae_attendances GROUP BY wardd",
               HEARTH_ERR_PARSE, "wardd",
               "no column 'wardd' in trust.ae_attendances; did you mean 'ward'?");
}

Test(gw_plan, suggests_for_a_quoted_name_of_the_wrong_case)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE \"Ward\" = 'Abbey'",
               HEARTH_ERR_PARSE, "\"Ward\"",
               "no column 'Ward' in trust.ae_attendances; did you mean 'ward'?");
}

Test(gw_plan, lists_the_columns_for_a_far_off_name)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE ward = 'Abbey' AND "
               "postcode = 'LS1'",
               HEARTH_ERR_PARSE, "postcode",
               "no column 'postcode' in trust.ae_attendances; " AE_COLUMNS);
}

Test(gw_plan, refuses_grouping_by_a_non_categorical_column)
{
    plan_fails("SELECT age, COUNT(*) FROM trust.ae_attendances GROUP BY age",
               HEARTH_ERR_PARSE, "age",
               "column 'age' is not categorical; GROUP BY needs a categorical column");
    plan_fails("SELECT attendance_date, COUNT(*) FROM trust.ae_attendances "
               "GROUP BY attendance_date", HEARTH_ERR_PARSE, "attendance_date",
               "column 'attendance_date' is not categorical; GROUP BY needs a categorical "
               "column");
    plan_fails("SELECT practice, cost, MEAN(cost) FROM trust.gp_visits "
               "GROUP BY practice, cost", HEARTH_ERR_PARSE, "cost",
               "column 'cost' is not categorical; GROUP BY needs a categorical column");
}

Test(gw_plan, suggests_the_nearest_dataset)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendance", HEARTH_ERR_PARSE, "trust",
               "no dataset 'trust.ae_attendance'; did you mean 'trust.ae_attendances'?");
}

Test(gw_plan, lists_the_nodes_datasets_for_a_far_off_dataset)
{
    plan_fails("SELECT COUNT(*) FROM trust.housing", HEARTH_ERR_PARSE, "trust",
               "no dataset 'trust.housing'; trust has: ae_attendances, gp_visits");
}

Test(gw_plan, suggests_the_nearest_node)
{
    plan_fails("SELECT COUNT(*) FROM trst.ae_attendances", HEARTH_ERR_PARSE, "trst",
               "no node 'trst'; did you mean 'trust'?");
}

Test(gw_plan, names_an_unknown_node)
{
    plan_fails("SELECT COUNT(*) FROM hospital.beds", HEARTH_ERR_PARSE, "hospital",
               "no node 'hospital' in this partnership");
}

Test(gw_plan, a_node_that_never_connected_is_not_found)
{
    plan_fails("SELECT COUNT(*) FROM council.housing", HEARTH_ERR_NOT_FOUND, "council",
               "node 'council' has not connected to the gateway yet; try again shortly");
}

Test(gw_plan, a_late_unknown_column_after_good_terms_is_refused)
{
    plan_fails("SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward = 'a' AND "
               "age_band IN ('75+') AND practice = 'P1' GROUP BY ward",
               HEARTH_ERR_PARSE, "practice",
               "no column 'practice' in trust.ae_attendances; " AE_COLUMNS);
}

/* ---- linked queries ----------------------------------------------------- */

#define COHORT HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT
#define TARGET HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET
#define AGGREGATE HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE

/* Part i of plan: on node, of kind, numbered part of nparts on that node,
 * dataset identity ds, the sub-query's own fields agreeing. */
static void expect_part(const gw_plan_t *plan, size_t i, size_t node, const char *dataset,
                        Hearth__SubQueryKind kind, uint32_t part, uint32_t nparts, unsigned ds)
{
    cr_assert_lt(i, plan->nparts);
    const gw_plan_part_t *p = &plan->parts[i];
    cr_assert_eq(p->node, node, "part %zu: node %zu, wanted %zu", i, p->node, node);
    cr_assert_eq(p->kind, kind, "part %zu: kind %d, wanted %d", i, p->kind, kind);
    cr_assert_eq(p->sub->kind, kind, "part %zu", i);
    cr_assert_str_eq(p->sub->query_id, "q-42");
    cr_assert_str_eq(p->sub->dataset, dataset, "part %zu", i);
    cr_assert_eq(p->sub->part, part, "part %zu: part %u, wanted %u", i, p->sub->part, part);
    cr_assert_eq(p->sub->nparts, nparts, "part %zu: nparts %u, wanted %u", i, p->sub->nparts,
                 nparts);
    cr_assert_eq(p->dataset, ds, "part %zu: dataset %u, wanted %u", i, p->dataset, ds);
}

/* A TARGET part answering atom: persons only, no groups, no atoms. */
static void expect_target(const gw_plan_t *plan, size_t i, unsigned atom)
{
    const gw_plan_part_t *p = &plan->parts[i];
    cr_assert_eq(p->kind, TARGET);
    cr_assert_eq(p->atom, atom, "part %zu: atom %u, wanted %u", i, p->atom, atom);
    cr_assert_eq(p->payload, PROTO_COHORT_PERSONS_ONLY);
    cr_assert_eq(p->sub->measure, HEARTH__MEASURE__MEASURE_COUNT_PERSONS);
    cr_assert_str_eq(p->sub->measure_column, "");
    cr_assert_eq(p->sub->n_group_by, 0);
    cr_assert_eq(p->sub->atoms, 0);
}

static void expect_exists(const Hearth__Term *t, uint32_t atom)
{
    expect_term(t, HEARTH__TERM_OP__TERM_EXISTS, NULL, 0, NULL);
    cr_assert_eq(t->atom, atom, "atom %u, wanted %u", t->atom, atom);
}

Test(gw_plan, plans_exists_and_not_exists_as_a_cohort_and_two_targets)
{
    gw_plan_t *plan = plan_ok(
        "SELECT ward, COUNT(PERSONS) FROM trust.ae_attendances "
        "WHERE age_band = '75+' "
        "AND EXISTS (SELECT * FROM charity.referrals WHERE service = 'housing') "
        "AND NOT EXISTS (SELECT * FROM clinic.notes) GROUP BY ward");
    cr_assert_eq(plan->linked, true);
    cr_assert_eq(plan->natoms, 2);
    cr_assert_eq(plan->measure, GW_MEASURE_COUNT_PERSONS);
    cr_assert_eq(plan->nparts, 3);
    expect_part(plan, 0, TRUST, "ae_attendances", COHORT, 0, 1, 0);
    expect_part(plan, 1, CHARITY, "referrals", TARGET, 0, 1, 1);
    expect_part(plan, 2, CLINIC, "notes", TARGET, 0, 1, 2);

    const Hearth__SubQuery *c = plan->parts[0].sub;
    cr_assert_eq(plan->parts[0].payload, PROTO_COHORT_PERSONS_ONLY);
    cr_assert_eq(c->atoms, 2);
    cr_assert_eq(c->measure, HEARTH__MEASURE__MEASURE_COUNT_PERSONS);
    cr_assert_eq(c->n_group_by, 1);
    cr_assert_str_eq(c->group_by[0], "ward");
    cr_assert_eq(c->n_filter, 6);
    expect_term(c->filter[0], HEARTH__TERM_OP__TERM_EQ, "age_band", 1, VALUES(TXT("75+")));
    expect_exists(c->filter[1], 0);
    expect_term(c->filter[2], HEARTH__TERM_OP__TERM_AND, NULL, 0, NULL);
    expect_exists(c->filter[3], 1);
    expect_term(c->filter[4], HEARTH__TERM_OP__TERM_NOT, NULL, 0, NULL);
    expect_term(c->filter[5], HEARTH__TERM_OP__TERM_AND, NULL, 0, NULL);

    expect_target(plan, 1, 0);
    cr_assert_eq(plan->parts[1].sub->n_filter, 1);
    expect_term(plan->parts[1].sub->filter[0], HEARTH__TERM_OP__TERM_EQ, "service", 1,
                VALUES(TXT("housing")));
    expect_target(plan, 2, 1);
    cr_assert_eq(plan->parts[2].sub->n_filter, 0);
    gw_plan_destroy(&plan);
    cr_assert_null(plan);
}

Test(gw_plan, an_exists_keeps_its_place_under_or_and_not)
{
    /* Atoms are numbered in source order, wherever they sit. */
    gw_plan_t *plan = plan_ok(
        "SELECT COUNT(*) FROM trust.ae_attendances "
        "WHERE NOT (EXISTS (SELECT * FROM charity.referrals) OR ward = 'Abbey') "
        "OR age > 80 AND EXISTS (SELECT * FROM clinic.notes WHERE ward = 'Abbey')");
    cr_assert_eq(plan->natoms, 2);
    cr_assert_eq(plan->nparts, 3);
    const Hearth__SubQuery *c = plan->parts[0].sub;
    cr_assert_eq(plan->parts[0].payload, PROTO_COHORT_RECORDS);
    cr_assert_eq(c->n_filter, 8);
    expect_exists(c->filter[0], 0);
    expect_term(c->filter[1], HEARTH__TERM_OP__TERM_EQ, "ward", 1, VALUES(TXT("Abbey")));
    expect_term(c->filter[2], HEARTH__TERM_OP__TERM_OR, NULL, 0, NULL);
    expect_term(c->filter[3], HEARTH__TERM_OP__TERM_NOT, NULL, 0, NULL);
    expect_term(c->filter[4], HEARTH__TERM_OP__TERM_GT, "age", 1, VALUES(INT(80)));
    expect_exists(c->filter[5], 1);
    expect_term(c->filter[6], HEARTH__TERM_OP__TERM_AND, NULL, 0, NULL);
    expect_term(c->filter[7], HEARTH__TERM_OP__TERM_OR, NULL, 0, NULL);
    expect_part(plan, 1, CHARITY, "referrals", TARGET, 0, 1, 1);
    expect_target(plan, 1, 0);
    expect_part(plan, 2, CLINIC, "notes", TARGET, 0, 1, 2);
    expect_target(plan, 2, 1);
    expect_term(plan->parts[2].sub->filter[0], HEARTH__TERM_OP__TERM_EQ, "ward", 1,
                VALUES(TXT("Abbey")));
    gw_plan_destroy(&plan);
}

Test(gw_plan, numbers_parts_per_node_when_two_exists_share_the_base_node)
{
    /* trust gets the cohort and two targets (parts 0, 1, 2 of 3); the
     * charity its one target (part 0 of 1). The sub-select on the base's
     * own dataset shares its dataset number. */
    gw_plan_t *plan = plan_ok(
        "SELECT COUNT(*) FROM trust.ae_attendances "
        "WHERE EXISTS (SELECT * FROM trust.gp_visits WHERE cost > 10) "
        "AND EXISTS (SELECT * FROM charity.referrals) "
        "AND NOT EXISTS (SELECT * FROM trust.ae_attendances WHERE diagnosis_group = 'falls')");
    cr_assert_eq(plan->natoms, 3);
    cr_assert_eq(plan->nparts, 4);
    expect_part(plan, 0, TRUST, "ae_attendances", COHORT, 0, 3, 0);
    expect_part(plan, 1, TRUST, "gp_visits", TARGET, 1, 3, 1);
    expect_part(plan, 2, CHARITY, "referrals", TARGET, 0, 1, 2);
    expect_part(plan, 3, TRUST, "ae_attendances", TARGET, 2, 3, 0);
    cr_assert_eq(plan->parts[0].sub->atoms, 3);
    expect_target(plan, 1, 0);
    expect_target(plan, 2, 1);
    expect_target(plan, 3, 2);
    /* Each filter typed against its own dataset: cost is decimal at
     * gp_visits, the literal stays an integer. */
    expect_term(plan->parts[1].sub->filter[0], HEARTH__TERM_OP__TERM_GT, "cost", 1,
                VALUES(INT(10)));
    expect_term(plan->parts[3].sub->filter[0], HEARTH__TERM_OP__TERM_EQ, "diagnosis_group",
                1, VALUES(TXT("falls")));
    gw_plan_destroy(&plan);
}

Test(gw_plan, count_persons_over_a_union_is_a_linked_plan_without_atoms)
{
    gw_plan_t *plan = plan_ok("SELECT ward, COUNT(PERSONS) FROM trust.ae_attendances "
                              "UNION clinic.ae_attendances UNION trust.gp_visits "
                              "GROUP BY ward");
    cr_assert_eq(plan->linked, true);
    cr_assert_eq(plan->natoms, 0);
    cr_assert_eq(plan->nparts, 3);
    expect_part(plan, 0, TRUST, "ae_attendances", COHORT, 0, 2, 0);
    expect_part(plan, 1, CLINIC, "ae_attendances", COHORT, 0, 1, 1);
    expect_part(plan, 2, TRUST, "gp_visits", COHORT, 1, 2, 2);
    for (size_t i = 0; i < 3; i++) {
        const Hearth__SubQuery *s = plan->parts[i].sub;
        cr_assert_eq(plan->parts[i].payload, PROTO_COHORT_PERSONS_ONLY);
        cr_assert_eq(s->atoms, 0);
        cr_assert_eq(s->measure, HEARTH__MEASURE__MEASURE_COUNT_PERSONS);
        cr_assert_eq(s->n_group_by, 1);
        cr_assert_str_eq(s->group_by[0], "ward");
        cr_assert_eq(s->n_filter, 0);
    }
    gw_plan_destroy(&plan);
}

Test(gw_plan, exists_under_a_sum_over_a_union_puts_the_atom_in_each_cohort)
{
    /* age_band is categorical at the trust and integer at the clinic: each
     * cohort's literal typed by its own dataset, each with atom 0. */
    gw_plan_t *plan = plan_ok("SELECT SUM(age) FROM trust.ae_attendances "
                              "UNION clinic.ae_attendances "
                              "WHERE age_band = 65 AND EXISTS (SELECT * FROM charity.referrals)");
    cr_assert_eq(plan->linked, true);
    cr_assert_eq(plan->natoms, 1);
    cr_assert_eq(plan->measure_integer, true);
    cr_assert_eq(plan->nparts, 3);
    expect_part(plan, 0, TRUST, "ae_attendances", COHORT, 0, 1, 0);
    expect_part(plan, 1, CLINIC, "ae_attendances", COHORT, 0, 1, 1);
    expect_part(plan, 2, CHARITY, "referrals", TARGET, 0, 1, 2);
    expect_target(plan, 2, 0);
    for (size_t i = 0; i < 2; i++) {
        const Hearth__SubQuery *s = plan->parts[i].sub;
        cr_assert_eq(plan->parts[i].payload, PROTO_COHORT_SUMS);
        cr_assert_eq(s->atoms, 1);
        cr_assert_eq(s->measure, HEARTH__MEASURE__MEASURE_SUM);
        cr_assert_str_eq(s->measure_column, "age");
        cr_assert_eq(s->n_filter, 3);
        expect_exists(s->filter[1], 0);
        expect_term(s->filter[2], HEARTH__TERM_OP__TERM_AND, NULL, 0, NULL);
    }
    expect_term(plan->parts[0].sub->filter[0], HEARTH__TERM_OP__TERM_EQ, "age_band", 1,
                VALUES(TXT("65")));
    expect_term(plan->parts[1].sub->filter[0], HEARTH__TERM_OP__TERM_EQ, "age_band", 1,
                VALUES(INT(65)));
    gw_plan_destroy(&plan);
}

Test(gw_plan, aggregate_parts_are_numbered_per_node_too)
{
    gw_plan_t *plan = plan_ok("SELECT ward, COUNT(*) FROM trust.ae_attendances "
                              "UNION clinic.ae_attendances UNION trust.gp_visits GROUP BY ward");
    cr_assert_eq(plan->linked, false);
    cr_assert_eq(plan->natoms, 0);
    expect_part(plan, 0, TRUST, "ae_attendances", AGGREGATE, 0, 2, 0);
    expect_part(plan, 1, CLINIC, "ae_attendances", AGGREGATE, 0, 1, 1);
    expect_part(plan, 2, TRUST, "gp_visits", AGGREGATE, 1, 2, 2);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(plan->parts[i].sub->atoms, 0);
        cr_assert_eq(plan->parts[i].payload, PROTO_COHORT_RECORDS);
    }
    gw_plan_destroy(&plan);
    plan = plan_ok("SELECT MEAN(age) FROM trust.ae_attendances");
    cr_assert_eq(plan->linked, false);
    expect_part(plan, 0, TRUST, "ae_attendances", AGGREGATE, 0, 1, 0);
    cr_assert_eq(plan->parts[0].payload, PROTO_COHORT_SUMS);
    gw_plan_destroy(&plan);
}

Test(gw_plan, count_persons_of_one_dataset_is_not_linked)
{
    gw_plan_t *plan = plan_ok("SELECT COUNT(PERSONS) FROM trust.ae_attendances");
    cr_assert_eq(plan->linked, false);
    expect_part(plan, 0, TRUST, "ae_attendances", AGGREGATE, 0, 1, 0);
    gw_plan_destroy(&plan);
}

Test(gw_plan, linked_sub_queries_are_valid_wire_messages)
{
    gw_plan_t *plan = plan_ok("SELECT ward, COUNT(*) FROM trust.ae_attendances "
                              "WHERE NOT EXISTS (SELECT * FROM trust.gp_visits WHERE cost > 2.5) "
                              "GROUP BY ward");
    for (size_t i = 0; i < plan->nparts; i++) {
        Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
        env.body_case = HEARTH__ENVELOPE__BODY_SUB_QUERY;
        env.sub_query = plan->parts[i].sub;
        size_t len;
        uint8_t *buf = proto_encode(&env, &len);
        Hearth__Envelope *out = NULL;
        char *cause = NULL;
        cr_assert_eq(proto_decode(buf, len, PROTO_MAX_NODE_MSG, &out, &cause), HEARTH_OK,
                     "%s", cause);
        const Hearth__SubQuery *s = out->sub_query;
        cr_assert_eq(s->kind, i == 0 ? COHORT : TARGET);
        cr_assert_eq(s->atoms, i == 0 ? 1 : 0);
        cr_assert_eq(s->part, i);
        cr_assert_eq(s->nparts, 2);
        if (i == 0) {
            cr_assert_eq(s->n_filter, 2);
            expect_exists(s->filter[0], 0);
            expect_term(s->filter[1], HEARTH__TERM_OP__TERM_NOT, NULL, 0, NULL);
        } else {
            expect_term(s->filter[0], HEARTH__TERM_OP__TERM_GT, "cost", 1, VALUES(DEC(2.5)));
        }
        proto_free(&out);
        free(buf);
    }
    gw_plan_destroy(&plan);
}

Test(gw_plan, an_unknown_dataset_in_exists_is_named_at_its_offset)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE ward = 'Abbey' AND "
               "EXISTS (SELECT * FROM charity.referral)", HEARTH_ERR_PARSE, "charity.referral",
               "no dataset 'charity.referral'; did you mean 'charity.referrals'?");
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE "
               "NOT EXISTS (SELECT * FROM chariti.referrals)", HEARTH_ERR_PARSE, "chariti",
               "no node 'chariti'; did you mean 'charity'?");
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE "
               "EXISTS (SELECT * FROM charity.housing)", HEARTH_ERR_PARSE, "charity.housing",
               "no dataset 'charity.housing'; charity has: referrals");
}

Test(gw_plan, an_exists_on_a_node_that_never_connected_is_not_found)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE "
               "EXISTS (SELECT * FROM council.housing)", HEARTH_ERR_NOT_FOUND, "council",
               "node 'council' has not connected to the gateway yet; try again shortly");
}

Test(gw_plan, a_sub_select_is_typed_against_its_own_columns)
{
    /* ward belongs to the base, not to the charity's referrals. */
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE ward = 'Abbey' AND "
               "EXISTS (SELECT * FROM charity.referrals WHERE ward = 'Abbey')",
               HEARTH_ERR_PARSE, "ward = 'Abbey')",
               "no column 'ward' in charity.referrals; columns are: service");
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE "
               "EXISTS (SELECT * FROM charity.referrals WHERE servce = 'x')",
               HEARTH_ERR_PARSE, "servce",
               "no column 'servce' in charity.referrals; did you mean 'service'?");
    /* age_band = '75+' suits the trust's categorical column, not the
     * clinic's integer one. */
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE age_band = '75+' AND "
               "EXISTS (SELECT * FROM clinic.ae_attendances WHERE age_band = '75+')",
               HEARTH_ERR_PARSE, "'75+')",
               "column 'age_band' is integer: compare it with a number, not a string");
}

Test(gw_plan, a_sub_select_error_comes_in_source_order)
{
    /* The EXISTS comes first in the text, so its mistake is the one named. */
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE "
               "EXISTS (SELECT * FROM charity.referal) AND wardd = 'x'",
               HEARTH_ERR_PARSE, "charity",
               "no dataset 'charity.referal'; did you mean 'charity.referrals'?");
}

#define EXISTS_CLAUSE " AND EXISTS (SELECT * FROM charity.referrals)"

Test(gw_plan, plans_six_exists_and_refuses_a_seventh)
{
    char sql[1024];
    size_t n = (size_t)snprintf(sql, sizeof sql,
                                "SELECT COUNT(*) FROM trust.ae_attendances WHERE ward = 'x'");
    for (int i = 0; i < 6; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, EXISTS_CLAUSE);
    gw_plan_t *plan = plan_ok(sql);
    cr_assert_eq(plan->natoms, 6);
    cr_assert_eq(plan->nparts, 7);
    cr_assert_eq(plan->parts[0].sub->atoms, 6);
    for (size_t i = 1; i < 7; i++) {
        expect_part(plan, i, CHARITY, "referrals", TARGET, (uint32_t)(i - 1), 6, 1);
        expect_target(plan, i, (unsigned)(i - 1));
    }
    gw_plan_destroy(&plan);
    snprintf(sql + n, sizeof sql - n, EXISTS_CLAUSE);
    plan_fails_at(sql, HEARTH_ERR_REFUSED, offset_of(sql, "EXISTS", 7),
                  "at most 6 EXISTS sub-selects in one query");
}

Test(gw_plan, a_sub_select_longer_than_the_nodes_accept_is_refused)
{
    hearth_buf_t sql;
    hearth_buf_init(&sql, 1u << 20);
    hearth_buf_adds(&sql, "SELECT COUNT(*) FROM trust.ae_attendances WHERE EXISTS "
                          "(SELECT * FROM charity.referrals WHERE service = 's'");
    for (int i = 1; i < 2049; i++)
        hearth_buf_adds(&sql, " OR service = 's'");
    hearth_buf_adds(&sql, ")");
    gw_parse_limits_t limits = gw_parse_limits_default();
    limits.max_query_len = 1u << 20;
    gw_query_t *q = NULL;
    gw_parse_error_t err;
    cr_assert_eq(gw_parse(hearth_buf_str(&sql), sql.len, &limits, &q, &err), HEARTH_OK);
    gw_plan_t *plan = NULL;
    hearth_err_t rc = gw_plan_build(q, NODES, NNODES, "q-long", &plan, &err);
    gw_query_destroy(&q);
    hearth_buf_free(&sql);
    cr_assert_null(plan);
    cr_assert_eq(rc, HEARTH_ERR_TOO_BIG);
    cr_assert_str_eq(err.message, "the WHERE clause is too long for the nodes: 4097 conditions "
                     "and operators with 2049 values (limits 4096 and 10000)");
    cr_assert_eq(err.offset, strlen("SELECT COUNT(*) FROM trust.ae_attendances WHERE EXISTS "
                                    "(SELECT * FROM charity.referrals WHERE "));
}

/* ---- distance ----------------------------------------------------------- */

Test(gw_plan, distance_table)
{
    static const struct {
        const char *a, *b;
        size_t cap, want;
    } cases[] = {
        {"ward", "ward", 2, 0},
        {"wardd", "ward", 2, 1},
        {"ward", "word", 2, 1},
        {"ward", "wrad", 2, 2},
        {"", "abc", 5, 3},
        {"abc", "", 5, 3},
        {"kitten", "sitting", 5, 3},
        {"kitten", "sitting", 2, 3},
        {"postcode", "age", 2, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        cr_expect_eq(gw_plan_distance(cases[i].a, cases[i].b, cases[i].cap), cases[i].want,
                     "distance('%s', '%s', %zu)", cases[i].a, cases[i].b, cases[i].cap);
    char long_a[70];
    memset(long_a, 'a', 65);
    long_a[65] = '\0';
    cr_expect_eq(gw_plan_distance(long_a, long_a, 2), 3, "names over 64 bytes are far");
    long_a[64] = '\0';
    cr_expect_eq(gw_plan_distance(long_a, long_a, 2), 0);
}

Test(gw_plan, destroy_is_null_safe)
{
    gw_plan_destroy(NULL);
    gw_plan_t *p = NULL;
    gw_plan_destroy(&p);
    cr_assert_null(p);
}

Test(gw_plan, refuses_a_filter_longer_than_the_nodes_accept)
{
    /* 2049 comparisons joined by 2048 ORs: 4097 postfix terms, one past
     * what a node takes, refused here as the analyst's query error. */
    hearth_buf_t sql;
    hearth_buf_init(&sql, 1u << 20);
    hearth_buf_adds(&sql, "SELECT COUNT(*) FROM trust.ae_attendances WHERE ward = 'w'");
    for (int i = 1; i < 2049; i++)
        hearth_buf_adds(&sql, " OR ward = 'w'");
    gw_parse_limits_t limits = gw_parse_limits_default();
    limits.max_query_len = 1u << 20;
    gw_query_t *q = NULL;
    gw_parse_error_t err;
    cr_assert_eq(gw_parse(hearth_buf_str(&sql), sql.len, &limits, &q, &err), HEARTH_OK);
    gw_plan_t *plan = NULL;
    hearth_err_t rc = gw_plan_build(q, NODES, NNODES, "q-long", &plan, &err);
    gw_query_destroy(&q);
    hearth_buf_free(&sql);
    cr_assert_null(plan);
    cr_assert_eq(rc, HEARTH_ERR_TOO_BIG);
    cr_assert_str_eq(err.message, "the WHERE clause is too long for the nodes: 4097 conditions "
                     "and operators with 2049 values (limits 4096 and 10000)");
    cr_assert_eq(err.offset, strlen("SELECT COUNT(*) FROM trust.ae_attendances WHERE "));
}
