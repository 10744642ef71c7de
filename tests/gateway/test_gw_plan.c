/* Tests for gw_plan: queries parsed with gw_parse and planned against
 * hand-built Hello catalogues. Checks the SubQuery a simple query becomes
 * (dataset, group_by, measure, postfix filter), the exact "did you mean"
 * messages and offsets for unknown names, a node that never connected, and
 * the constructs this version refuses. */
#include "gw_plan.h"
#include "proto_codec.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the catalogue ------------------------------------------------------ */

static Hearth__Column col_ward = {PROTOBUF_C_MESSAGE_INIT(&hearth__column__descriptor),
                                  "ward", HEARTH__COLUMN_TYPE__COLUMN_CATEGORICAL, 0, NULL, 0};
static Hearth__Column col_age_band = {PROTOBUF_C_MESSAGE_INIT(&hearth__column__descriptor),
                                      "age_band", HEARTH__COLUMN_TYPE__COLUMN_CATEGORICAL, 0, NULL, 0};
static Hearth__Column col_diag = {PROTOBUF_C_MESSAGE_INIT(&hearth__column__descriptor),
                                  "diagnosis_group", HEARTH__COLUMN_TYPE__COLUMN_CATEGORICAL, 0, NULL, 0};
static Hearth__Column col_date = {PROTOBUF_C_MESSAGE_INIT(&hearth__column__descriptor),
                                  "attendance_date", HEARTH__COLUMN_TYPE__COLUMN_DATE, 0, NULL, 0};
static Hearth__Column col_age = {PROTOBUF_C_MESSAGE_INIT(&hearth__column__descriptor),
                                 "age", HEARTH__COLUMN_TYPE__COLUMN_INTEGER, 0, NULL, 0};
static Hearth__Column col_practice = {PROTOBUF_C_MESSAGE_INIT(&hearth__column__descriptor),
                                      "practice", HEARTH__COLUMN_TYPE__COLUMN_CATEGORICAL, 0, NULL, 0};
static Hearth__Column col_service = {PROTOBUF_C_MESSAGE_INIT(&hearth__column__descriptor),
                                     "service", HEARTH__COLUMN_TYPE__COLUMN_CATEGORICAL, 0, NULL, 0};

static Hearth__Column *ae_cols[] = {&col_ward, &col_age_band, &col_diag, &col_date, &col_age};
static Hearth__Column *gp_cols[] = {&col_practice};
static Hearth__Column *ref_cols[] = {&col_service};

static Hearth__Dataset ds_ae = {PROTOBUF_C_MESSAGE_INIT(&hearth__dataset__descriptor),
                                "ae_attendances", 5, ae_cols};
static Hearth__Dataset ds_gp = {PROTOBUF_C_MESSAGE_INIT(&hearth__dataset__descriptor),
                                "gp_visits", 1, gp_cols};
static Hearth__Dataset ds_ref = {PROTOBUF_C_MESSAGE_INIT(&hearth__dataset__descriptor),
                                 "referrals", 1, ref_cols};

static Hearth__Dataset *trust_ds[] = {&ds_ae, &ds_gp};
static Hearth__Dataset *charity_ds[] = {&ds_ref};

static Hearth__Hello hello_trust = {PROTOBUF_C_MESSAGE_INIT(&hearth__hello__descriptor),
                                    "trust", 2, trust_ds};
static Hearth__Hello hello_charity = {PROTOBUF_C_MESSAGE_INIT(&hearth__hello__descriptor),
                                      "charity", 1, charity_ds};

/* council is configured but has never connected. */
static const gw_plan_node_t NODES[] = {
    {"council", NULL},
    {"trust", &hello_trust},
    {"charity", &hello_charity},
};
#define NNODES (sizeof NODES / sizeof *NODES)

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

/* Plans sql and expects rc, exactly message, and the offset of the first
 * occurrence of at in sql. */
static void plan_fails(const char *sql, hearth_err_t want_rc, const char *at,
                       const char *want_msg)
{
    const char *p = strstr(sql, at);
    cr_assert_not_null(p, "'%s' not in the query", at);
    gw_query_t *q = parse(sql);
    gw_plan_t *plan = (gw_plan_t *)0x1;
    gw_parse_error_t err;
    hearth_err_t rc = gw_plan_build(q, NODES, NNODES, "q-42", &plan, &err);
    gw_query_destroy(&q);
    cr_assert_null(plan);
    cr_assert_eq(rc, want_rc, "rc %d: %s", rc, err.message);
    cr_assert_str_eq(err.message, want_msg);
    cr_assert_eq(err.offset, (size_t)(p - sql), "offset %zu, wanted %zu", err.offset,
                 (size_t)(p - sql));
}

static void expect_term(const Hearth__Term *t, Hearth__TermOp op, const char *column,
                        size_t nvalues, const char *const *values)
{
    cr_assert_eq(t->op, op, "op %d, wanted %d", t->op, op);
    if (column)
        cr_assert_str_eq(t->column, column);
    else
        cr_assert(t->column == NULL || t->column[0] == '\0');
    cr_assert_eq(t->n_values, nvalues);
    for (size_t i = 0; i < nvalues; i++) {
        cr_assert_eq(t->values[i]->kind_case, HEARTH__VALUE__KIND_TEXT);
        cr_assert_str_eq(t->values[i]->text, values[i]);
    }
}

/* ---- plans -------------------------------------------------------------- */

Test(gw_plan, plans_a_simple_query_into_one_sub_query)
{
    gw_plan_t *plan = plan_ok("SELECT ward, COUNT(PERSONS) FROM trust.ae_attendances "
                              "WHERE age_band IN ('65-74', '75+') AND diagnosis_group = 'falls' "
                              "GROUP BY ward");
    cr_assert_eq(plan->measure, GW_MEASURE_COUNT_PERSONS);
    cr_assert_eq(plan->ngroup, 1);
    cr_assert_str_eq(plan->group[0], "ward");
    cr_assert_eq(plan->nparts, 1);
    cr_assert_eq(plan->parts[0].node, 1, "trust is the second node");
    const Hearth__SubQuery *s = plan->parts[0].sub;
    cr_assert_str_eq(s->query_id, "q-42");
    cr_assert_str_eq(s->dataset, "ae_attendances");
    cr_assert_eq(s->measure, HEARTH__MEASURE__MEASURE_COUNT_PERSONS);
    cr_assert_str_eq(s->measure_column, "");
    cr_assert_eq(s->n_group_by, 1);
    cr_assert_str_eq(s->group_by[0], "ward");
    cr_assert_eq(s->n_filter, 3);
    expect_term(s->filter[0], HEARTH__TERM_OP__TERM_IN, "age_band", 2,
                (const char *const[]){"65-74", "75+"});
    expect_term(s->filter[1], HEARTH__TERM_OP__TERM_EQ, "diagnosis_group", 1,
                (const char *const[]){"falls"});
    expect_term(s->filter[2], HEARTH__TERM_OP__TERM_AND, NULL, 0, NULL);
    gw_plan_destroy(&plan);
    cr_assert_null(plan);
}

Test(gw_plan, plans_a_count_without_filter_or_groups)
{
    gw_plan_t *plan = plan_ok("SELECT COUNT(*) FROM charity.referrals");
    cr_assert_eq(plan->measure, GW_MEASURE_COUNT_RECORDS);
    cr_assert_eq(plan->ngroup, 0);
    cr_assert_eq(plan->nparts, 1);
    cr_assert_eq(plan->parts[0].node, 2);
    const Hearth__SubQuery *s = plan->parts[0].sub;
    cr_assert_str_eq(s->dataset, "referrals");
    cr_assert_eq(s->measure, HEARTH__MEASURE__MEASURE_COUNT_RECORDS);
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

Test(gw_plan, emits_every_predicate_in_postfix_with_canonical_literals)
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
        const char *v[2];
    } want[] = {
        {HEARTH__TERM_OP__TERM_BETWEEN, "age", 2, {"18", "64"}},
        {HEARTH__TERM_OP__TERM_NOT, NULL, 0, {NULL}},
        {HEARTH__TERM_OP__TERM_GE, "attendance_date", 1, {"2024-01-01"}},
        {HEARTH__TERM_OP__TERM_IS_NOT_NULL, "ward", 0, {NULL}},
        {HEARTH__TERM_OP__TERM_AND, NULL, 0, {NULL}},
        {HEARTH__TERM_OP__TERM_OR, NULL, 0, {NULL}},
        {HEARTH__TERM_OP__TERM_NE, "age_band", 1, {"75+"}},
        {HEARTH__TERM_OP__TERM_LT, "age", 1, {"-12.5"}},
        {HEARTH__TERM_OP__TERM_AND, NULL, 0, {NULL}},
        {HEARTH__TERM_OP__TERM_NOT, NULL, 0, {NULL}},
        {HEARTH__TERM_OP__TERM_OR, NULL, 0, {NULL}},
        {HEARTH__TERM_OP__TERM_IS_NULL, "diagnosis_group", 0, {NULL}},
        {HEARTH__TERM_OP__TERM_IN, "ward", 2, {"O'Brien", "Abbey"}},
        {HEARTH__TERM_OP__TERM_NOT, NULL, 0, {NULL}},
        {HEARTH__TERM_OP__TERM_AND, NULL, 0, {NULL}},
        {HEARTH__TERM_OP__TERM_OR, NULL, 0, {NULL}},
        {HEARTH__TERM_OP__TERM_LE, "age", 1, {"3"}},
        {HEARTH__TERM_OP__TERM_OR, NULL, 0, {NULL}},
        {HEARTH__TERM_OP__TERM_GT, "age", 1, {"99"}},
        {HEARTH__TERM_OP__TERM_OR, NULL, 0, {NULL}},
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
    cr_assert_str_eq(out->sub_query->filter[0]->values[1]->text, "74");
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
               "no column 'postcode' in trust.ae_attendances; columns are: ward, age_band, "
               "diagnosis_group, attendance_date, age");
}

Test(gw_plan, refuses_grouping_by_a_non_categorical_column)
{
    plan_fails("SELECT age, COUNT(*) FROM trust.ae_attendances GROUP BY age",
               HEARTH_ERR_PARSE, "age",
               "column 'age' is not categorical; GROUP BY needs a categorical column");
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
               "no column 'practice' in trust.ae_attendances; columns are: ward, age_band, "
               "diagnosis_group, attendance_date, age");
}

/* ---- refused constructs ------------------------------------------------- */

Test(gw_plan, refuses_sum)
{
    plan_fails("SELECT SUM(age) FROM trust.ae_attendances", HEARTH_ERR_REFUSED, "age",
               "SUM and MEAN are not supported by this version of the gateway; use "
               "COUNT(*) or COUNT(PERSONS)");
}

Test(gw_plan, refuses_mean)
{
    plan_fails("SELECT ward, MEAN(age) FROM trust.ae_attendances GROUP BY ward",
               HEARTH_ERR_REFUSED, "age)",
               "SUM and MEAN are not supported by this version of the gateway; use "
               "COUNT(*) or COUNT(PERSONS)");
}

Test(gw_plan, refuses_union)
{
    plan_fails("SELECT COUNT(PERSONS) FROM trust.ae_attendances UNION trust.gp_visits",
               HEARTH_ERR_REFUSED, "trust.gp_visits",
               "UNION is not supported by this version of the gateway");
}

Test(gw_plan, refuses_exists)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE ward = 'Abbey' AND "
               "EXISTS (SELECT * FROM charity.referrals)",
               HEARTH_ERR_REFUSED, "EXISTS",
               "EXISTS (linking people across partners) is not supported by this version "
               "of the gateway");
}

Test(gw_plan, refuses_not_exists)
{
    plan_fails("SELECT COUNT(*) FROM trust.ae_attendances WHERE NOT EXISTS "
               "(SELECT * FROM charity.referrals WHERE service = 'x') OR ward = 'Abbey'",
               HEARTH_ERR_REFUSED, "EXISTS",
               "EXISTS (linking people across partners) is not supported by this version "
               "of the gateway");
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
