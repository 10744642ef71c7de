/* Tests for gw_result: sub-results shaped as the planner asks for them are
 * combined cell by cell, disclosure control is applied to the combined
 * table (primary and secondary suppression, rounding, the total), only
 * released values reach the result, and over-large tables are refused. */
#include "gw_result.h"
#include "hearth_mem.h"
#include "proto_codec.h"

#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- building plans and sub-results by hand ----------------------------- */

static gw_plan_t *plan_new(gw_measure_t m, size_t nparts, size_t ngroup, ...)
{
    gw_plan_t *p = hearth_calloc(1, sizeof *p);
    p->measure = m;
    va_list ap;
    va_start(ap, ngroup);
    for (size_t g = 0; g < ngroup; g++)
        p->group[p->ngroup++] = hearth_strdup(va_arg(ap, const char *));
    va_end(ap);
    p->parts = hearth_calloc(nparts, sizeof *p->parts);
    p->nparts = nparts;
    for (size_t i = 0; i < nparts; i++)
        p->parts[i].node = i;
    return p;
}

static Hearth__Value *v_text(const char *s)
{
    Hearth__Value *v = hearth_malloc(sizeof *v);
    hearth__value__init(v);
    v->kind_case = HEARTH__VALUE__KIND_TEXT;
    v->text = hearth_strdup(s);
    return v;
}

static Hearth__Value *v_int(int64_t i)
{
    Hearth__Value *v = hearth_malloc(sizeof *v);
    hearth__value__init(v);
    v->kind_case = HEARTH__VALUE__KIND_INTEGER;
    v->integer = i;
    return v;
}

static Hearth__Value *v_null(void)
{
    Hearth__Value *v = hearth_malloc(sizeof *v);
    hearth__value__init(v);
    v->kind_case = HEARTH__VALUE__KIND_NULL;
    v->null = 1;
    return v;
}

static Hearth__SubResult *sub_new(uint64_t total_records, uint64_t total_persons)
{
    Hearth__SubResult *r = hearth_malloc(sizeof *r);
    hearth__sub_result__init(r);
    r->ok = 1;
    r->total = hearth_malloc(sizeof *r->total);
    hearth__group_count__init(r->total);
    r->total->records = total_records;
    r->total->persons = total_persons;
    return r;
}

/* Adds a group with one key value (takes key). */
static void sub_add(Hearth__SubResult *r, Hearth__Value *key, uint64_t records, uint64_t persons)
{
    Hearth__GroupCount *g = hearth_malloc(sizeof *g);
    hearth__group_count__init(g);
    if (key) {
        g->group = hearth_calloc(1, sizeof *g->group);
        g->group[0] = key;
        g->n_group = 1;
    }
    g->records = records;
    g->persons = persons;
    r->groups = hearth_reallocarray(r->groups, r->n_groups + 1, sizeof *r->groups);
    r->groups[r->n_groups++] = g;
}

static void free_group(Hearth__GroupCount *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n_group; i++) {
        if (g->group[i]->kind_case == HEARTH__VALUE__KIND_TEXT)
            free(g->group[i]->text);
        free(g->group[i]);
    }
    free(g->group);
    free(g);
}

static void sub_free(Hearth__SubResult *r)
{
    for (size_t i = 0; i < r->n_groups; i++)
        free_group(r->groups[i]);
    free(r->groups);
    free_group(r->total);
    free(r);
}

static gw_sdc_policy_t defaults(void)
{
    gw_sdc_policy_t p;
    gw_sdc_policy_default(&p);
    return p;
}

static void expect_cell_text(const Hearth__Cell *c, const char *key, bool suppressed,
                             int64_t value)
{
    cr_assert_eq(c->n_group, 1);
    cr_assert_eq(c->group[0]->kind_case, HEARTH__VALUE__KIND_TEXT);
    cr_assert_str_eq(c->group[0]->text, key);
    cr_assert_eq(c->suppressed, suppressed, "cell %s", key);
    if (suppressed) {
        cr_assert_null(c->value, "a suppressed cell %s carries a value", key);
    } else {
        cr_assert_not_null(c->value);
        cr_assert_eq(c->value->kind_case, HEARTH__VALUE__KIND_INTEGER);
        cr_assert_eq(c->value->integer, value, "cell %s: %lld, wanted %lld", key,
                     (long long)c->value->integer, (long long)value);
    }
}

/* ---- combining ---------------------------------------------------------- */

Test(gw_result, combines_two_parts_with_suppression_and_rounding)
{
    /* Part 0: Abbey 100, Priory 3; part 1: Abbey 20, Castle 50.
     * Combined: Abbey 120, Castle 50, Priory 3 (primary), total 173.
     * One hidden cell beside a released total: Castle (smallest non-zero
     * released cell) is hidden too. Abbey 120 -> 120, total 173 -> 175. */
    gw_plan_t *plan = plan_new(GW_MEASURE_COUNT_PERSONS, 2, 1, "ward");
    Hearth__SubResult *a = sub_new(999, 103);
    sub_add(a, v_text("Priory"), 900, 3);
    sub_add(a, v_text("Abbey"), 99, 100);
    Hearth__SubResult *b = sub_new(999, 70);
    sub_add(b, v_text("Castle"), 1, 50);
    sub_add(b, v_text("Abbey"), 1, 20);
    Hearth__SubResult *subs[] = {a, b};
    gw_sdc_policy_t pol = defaults();
    Hearth__QueryResult *r = gw_result_combine(plan, subs, &pol, "q-1", 10000);
    cr_assert_not_null(r);
    cr_assert_str_eq(r->query_id, "q-1");
    cr_assert_eq(r->status, HEARTH__QUERY_STATUS__STATUS_RELEASED);
    cr_assert_str_eq(r->measure, "count_persons");
    cr_assert_eq(r->n_group_by, 1);
    cr_assert_str_eq(r->group_by[0], "ward");
    cr_assert_eq(r->n_rows, 3);
    expect_cell_text(r->rows[0], "Abbey", false, 120);
    expect_cell_text(r->rows[1], "Castle", true, 0);
    expect_cell_text(r->rows[2], "Priory", true, 0);
    cr_assert_not_null(r->total);
    cr_assert_eq(r->total->n_group, 0);
    cr_assert_eq(r->total->suppressed, 0);
    cr_assert_eq(r->total->value->integer, 175);
    cr_assert_not_null(r->disclosure);
    cr_assert_eq(r->disclosure->threshold, 7);
    cr_assert_eq(r->disclosure->rounding, 5);
    cr_assert_eq(r->disclosure->suppressed_cells, 2);
    cr_assert_str_eq(r->reason, "");
    cr_assert_eq(r->usage_error, 0);
    gw_result_free(&r);
    cr_assert_null(r);
    sub_free(a);
    sub_free(b);
    gw_plan_destroy(&plan);
}

Test(gw_result, counts_records_when_the_measure_is_count_records)
{
    gw_plan_t *plan = plan_new(GW_MEASURE_COUNT_RECORDS, 1, 1, "ward");
    Hearth__SubResult *a = sub_new(62, 3);
    sub_add(a, v_text("Abbey"), 12, 1);
    sub_add(a, v_text("Castle"), 0, 0);
    sub_add(a, v_text("Priory"), 50, 2);
    Hearth__SubResult *subs[] = {a};
    gw_sdc_policy_t pol = defaults();
    Hearth__QueryResult *r = gw_result_combine(plan, subs, &pol, "q-2", 10000);
    cr_assert_str_eq(r->measure, "count_records");
    cr_assert_eq(r->n_rows, 3);
    expect_cell_text(r->rows[0], "Abbey", false, 10);
    expect_cell_text(r->rows[1], "Castle", false, 0);
    expect_cell_text(r->rows[2], "Priory", false, 50);
    cr_assert_eq(r->total->value->integer, 60);
    cr_assert_eq(r->disclosure->suppressed_cells, 0);
    gw_result_free(&r);
    sub_free(a);
    gw_plan_destroy(&plan);
}

Test(gw_result, a_lone_small_cell_takes_its_only_neighbour_with_it)
{
    /* Under a stricter policy (10, 10) Abbey 4 is hidden, and Castle, the
     * only other cell, is hidden so that the total cannot reveal Abbey. */
    gw_plan_t *plan = plan_new(GW_MEASURE_COUNT_PERSONS, 1, 1, "ward");
    Hearth__SubResult *a = sub_new(0, 20);
    sub_add(a, v_text("Abbey"), 0, 4);
    sub_add(a, v_text("Castle"), 0, 16);
    Hearth__SubResult *subs[] = {a};
    gw_sdc_policy_t pol = {.threshold = 10, .rounding = 10};
    Hearth__QueryResult *r = gw_result_combine(plan, subs, &pol, "q-3", 10000);
    /* Abbey primary; Castle is the only candidate for secondary. */
    expect_cell_text(r->rows[0], "Abbey", true, 0);
    expect_cell_text(r->rows[1], "Castle", true, 0);
    cr_assert_eq(r->total->suppressed, 0);
    cr_assert_eq(r->total->value->integer, 20);
    cr_assert_eq(r->disclosure->threshold, 10);
    cr_assert_eq(r->disclosure->rounding, 10);
    cr_assert_eq(r->disclosure->suppressed_cells, 2);
    gw_result_free(&r);
    sub_free(a);
    gw_plan_destroy(&plan);
}

Test(gw_result, a_single_cell_table_hides_its_total_with_it)
{
    gw_plan_t *plan = plan_new(GW_MEASURE_COUNT_PERSONS, 1, 1, "ward");
    Hearth__SubResult *a = sub_new(0, 9);
    sub_add(a, v_text("Abbey"), 0, 9);
    Hearth__SubResult *subs[] = {a};
    gw_sdc_policy_t pol = {.threshold = 10, .rounding = 5};
    Hearth__QueryResult *r = gw_result_combine(plan, subs, &pol, "q-3b", 10000);
    cr_assert_eq(r->n_rows, 1);
    expect_cell_text(r->rows[0], "Abbey", true, 0);
    cr_assert_eq(r->total->suppressed, 1);
    cr_assert_null(r->total->value);
    cr_assert_eq(r->disclosure->suppressed_cells, 2);
    gw_result_free(&r);
    sub_free(a);
    gw_plan_destroy(&plan);
}

Test(gw_result, an_ungrouped_small_total_is_suppressed)
{
    gw_plan_t *plan = plan_new(GW_MEASURE_COUNT_PERSONS, 1, 0);
    Hearth__SubResult *a = sub_new(5, 3);
    Hearth__SubResult *subs[] = {a};
    gw_sdc_policy_t pol = defaults();
    Hearth__QueryResult *r = gw_result_combine(plan, subs, &pol, "q-4", 10000);
    cr_assert_eq(r->status, HEARTH__QUERY_STATUS__STATUS_RELEASED);
    cr_assert_eq(r->n_rows, 0);
    cr_assert_eq(r->n_group_by, 0);
    cr_assert_eq(r->total->suppressed, 1);
    cr_assert_null(r->total->value);
    cr_assert_eq(r->disclosure->suppressed_cells, 1);
    gw_result_free(&r);
    sub_free(a);
    gw_plan_destroy(&plan);
}

Test(gw_result, an_ungrouped_zero_is_released_as_zero)
{
    gw_plan_t *plan = plan_new(GW_MEASURE_COUNT_RECORDS, 1, 0);
    Hearth__SubResult *a = sub_new(0, 0);
    Hearth__SubResult *subs[] = {a};
    gw_sdc_policy_t pol = defaults();
    Hearth__QueryResult *r = gw_result_combine(plan, subs, &pol, "q-5", 10000);
    cr_assert_eq(r->total->suppressed, 0);
    cr_assert_eq(r->total->value->integer, 0);
    cr_assert_eq(r->disclosure->suppressed_cells, 0);
    gw_result_free(&r);
    sub_free(a);
    gw_plan_destroy(&plan);
}

Test(gw_result, orders_null_first_then_numbers_then_text)
{
    gw_plan_t *plan = plan_new(GW_MEASURE_COUNT_RECORDS, 2, 1, "band");
    Hearth__SubResult *a = sub_new(200, 0);
    sub_add(a, v_text("b"), 20, 0);
    sub_add(a, v_int(10), 20, 0);
    sub_add(a, v_null(), 20, 0);
    Hearth__SubResult *b = sub_new(80, 0);
    sub_add(b, v_int(9), 20, 0);
    sub_add(b, v_text("a"), 20, 0);
    sub_add(b, v_null(), 30, 0);
    Hearth__SubResult *subs[] = {a, b};
    gw_sdc_policy_t pol = defaults();
    Hearth__QueryResult *r = gw_result_combine(plan, subs, &pol, "q-6", 10000);
    cr_assert_eq(r->n_rows, 5);
    cr_assert_eq(r->rows[0]->group[0]->kind_case, HEARTH__VALUE__KIND_NULL);
    cr_assert_eq(r->rows[0]->value->integer, 50, "the two NULL groups merge");
    cr_assert_eq(r->rows[1]->group[0]->integer, 9);
    cr_assert_eq(r->rows[2]->group[0]->integer, 10);
    cr_assert_str_eq(r->rows[3]->group[0]->text, "a");
    cr_assert_str_eq(r->rows[4]->group[0]->text, "b");
    cr_assert_eq(r->total->value->integer, 280);
    gw_result_free(&r);
    sub_free(a);
    sub_free(b);
    gw_plan_destroy(&plan);
}

Test(gw_result, the_result_is_a_valid_wire_message)
{
    gw_plan_t *plan = plan_new(GW_MEASURE_COUNT_PERSONS, 1, 1, "ward");
    Hearth__SubResult *a = sub_new(0, 53);
    sub_add(a, v_text("Abbey"), 0, 50);
    sub_add(a, v_text("Priory"), 0, 3);
    Hearth__SubResult *subs[] = {a};
    gw_sdc_policy_t pol = defaults();
    Hearth__QueryResult *r = gw_result_combine(plan, subs, &pol, "q-7", 10000);
    gw_result_add_node(r, "trust", "ok", 12);
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_RESULT;
    env.result = r;
    size_t len;
    uint8_t *buf = proto_encode(&env, &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_CLIENT_MSG, &out, &cause), HEARTH_OK, "%s",
                 cause);
    const Hearth__QueryResult *d = out->result;
    cr_assert_eq(d->n_rows, 2);
    /* Both hidden (Abbey is the secondary), total 53 -> 55. */
    cr_assert_eq(d->rows[0]->suppressed, 1);
    cr_assert_eq(d->rows[1]->suppressed, 1);
    cr_assert_eq(d->total->value->integer, 55);
    cr_assert_eq(d->n_nodes, 1);
    cr_assert_str_eq(d->nodes[0]->node, "trust");
    proto_free(&out);
    free(buf);
    gw_result_free(&r);
    sub_free(a);
    gw_plan_destroy(&plan);
}

/* ---- refusals ----------------------------------------------------------- */

#define TOO_MANY_CELLS \
    "the result would have more cells than this gateway releases in one table; group by " \
    "fewer columns"

Test(gw_result, refuses_a_table_over_max_cells)
{
    gw_plan_t *plan = plan_new(GW_MEASURE_COUNT_PERSONS, 2, 1, "ward");
    Hearth__SubResult *a = sub_new(0, 300);
    sub_add(a, v_text("Abbey"), 0, 100);
    sub_add(a, v_text("Castle"), 0, 100);
    Hearth__SubResult *b = sub_new(0, 100);
    sub_add(b, v_text("Priory"), 0, 100);
    Hearth__SubResult *subs[] = {a, b};
    gw_sdc_policy_t pol = defaults();
    Hearth__QueryResult *r = gw_result_combine(plan, subs, &pol, "q-8", 2);
    cr_assert_eq(r->status, HEARTH__QUERY_STATUS__STATUS_REFUSED);
    cr_assert_str_eq(r->query_id, "q-8");
    cr_assert_str_eq(r->reason, TOO_MANY_CELLS);
    cr_assert_eq(r->usage_error, 0);
    cr_assert_eq(r->n_rows, 0);
    cr_assert_null(r->total);
    cr_assert_null(r->disclosure);
    gw_result_free(&r);
    /* Exactly max_cells is released; equal keys count once. */
    r = gw_result_combine(plan, subs, &pol, "q-8", 3);
    cr_assert_eq(r->status, HEARTH__QUERY_STATUS__STATUS_RELEASED);
    cr_assert_eq(r->n_rows, 3);
    gw_result_free(&r);
    sub_free(a);
    sub_free(b);
    gw_plan_destroy(&plan);
}

Test(gw_result, refusal_helper_builds_a_tableless_result)
{
    Hearth__QueryResult *r = gw_result_refusal("q-9", HEARTH__QUERY_STATUS__STATUS_REFUSED,
                                               "project p1 may not query charity.referrals",
                                               false);
    cr_assert_str_eq(r->query_id, "q-9");
    cr_assert_eq(r->status, HEARTH__QUERY_STATUS__STATUS_REFUSED);
    cr_assert_str_eq(r->reason, "project p1 may not query charity.referrals");
    cr_assert_eq(r->usage_error, 0);
    cr_assert_eq(r->n_rows, 0);
    cr_assert_null(r->total);
    cr_assert_null(r->disclosure);
    cr_assert_str_eq(r->measure, "");
    gw_result_free(&r);
    cr_assert_null(r);

    r = gw_result_refusal("q-10", HEARTH__QUERY_STATUS__STATUS_ERROR,
                          "no column 'wardd' in trust.ae", true);
    cr_assert_eq(r->status, HEARTH__QUERY_STATUS__STATUS_ERROR);
    cr_assert_eq(r->usage_error, 1);
    cr_assert_str_eq(r->reason, "no column 'wardd' in trust.ae");
    gw_result_free(&r);
}

Test(gw_result, refusal_copies_its_strings)
{
    char id[] = "q-11";
    char reason[] = "no";
    Hearth__QueryResult *r = gw_result_refusal(id, HEARTH__QUERY_STATUS__STATUS_REFUSED, reason,
                                               false);
    id[0] = 'X';
    reason[0] = 'X';
    cr_assert_str_eq(r->query_id, "q-11");
    cr_assert_str_eq(r->reason, "no");
    gw_result_free(&r);
}

Test(gw_result, adds_node_status_lines_in_order)
{
    Hearth__QueryResult *r = gw_result_refusal("q-12", HEARTH__QUERY_STATUS__STATUS_PARTIAL,
                                               "charity did not answer", false);
    gw_result_add_node(r, "trust", "ok", 12);
    gw_result_add_node(r, "charity", "timeout", 10000);
    cr_assert_eq(r->n_nodes, 2);
    cr_assert_str_eq(r->nodes[0]->node, "trust");
    cr_assert_str_eq(r->nodes[0]->status, "ok");
    cr_assert_eq(r->nodes[0]->ms, 12);
    cr_assert_str_eq(r->nodes[1]->node, "charity");
    cr_assert_str_eq(r->nodes[1]->status, "timeout");
    cr_assert_eq(r->nodes[1]->ms, 10000);
    gw_result_free(&r);
}

Test(gw_result, measure_names)
{
    cr_assert_str_eq(gw_result_measure_name(GW_MEASURE_COUNT_RECORDS), "count_records");
    cr_assert_str_eq(gw_result_measure_name(GW_MEASURE_COUNT_PERSONS), "count_persons");
    cr_assert_str_eq(gw_result_measure_name(GW_MEASURE_SUM), "sum");
    cr_assert_str_eq(gw_result_measure_name(GW_MEASURE_MEAN), "mean");
    cr_assert_str_eq(gw_result_measure_name((gw_measure_t)42), "unknown");
}

Test(gw_result, free_is_null_safe)
{
    gw_result_free(NULL);
    Hearth__QueryResult *r = NULL;
    gw_result_free(&r);
    cr_assert_null(r);
}
