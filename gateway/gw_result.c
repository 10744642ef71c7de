#include "gw_result.h"
#include "hearth_mem.h"
#include "proto_codec.h"
#include "proto_value.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *gw_result_measure_name(gw_measure_t m)
{
    switch (m) {
    case GW_MEASURE_COUNT_RECORDS: return "count_records";
    case GW_MEASURE_COUNT_PERSONS: return "count_persons";
    case GW_MEASURE_SUM: return "sum";
    case GW_MEASURE_MEAN: return "mean";
    }
    return "unknown";
}

static void free_cell(Hearth__Cell *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_group; i++)
        proto_value_free(c->group[i]);
    free(c->group);
    proto_value_free(c->value);
    free(c);
}

void gw_result_free(Hearth__QueryResult **r_p)
{
    if (r_p == NULL || *r_p == NULL)
        return;
    Hearth__QueryResult *r = *r_p;
    proto_free_string(r->query_id);
    proto_free_string(r->reason);
    proto_free_string(r->measure);
    for (size_t i = 0; i < r->n_group_by; i++)
        proto_free_string(r->group_by[i]);
    free(r->group_by);
    for (size_t i = 0; i < r->n_rows; i++)
        free_cell(r->rows[i]);
    free(r->rows);
    free_cell(r->total);
    free(r->disclosure);
    for (size_t i = 0; i < r->n_nodes; i++) {
        proto_free_string(r->nodes[i]->node);
        proto_free_string(r->nodes[i]->status);
        free(r->nodes[i]);
    }
    free(r->nodes);
    free(r);
    *r_p = NULL;
}

static Hearth__QueryResult *new_result(const char *query_id, Hearth__QueryStatus status)
{
    Hearth__QueryResult *r = hearth_malloc(sizeof *r);
    hearth__query_result__init(r);
    r->query_id = hearth_strdup(query_id);
    r->status = status;
    return r;
}

Hearth__QueryResult *gw_result_refusal(const char *query_id, Hearth__QueryStatus status,
                                       const char *reason, bool usage)
{
    Hearth__QueryResult *r = new_result(query_id, status);
    r->reason = hearth_strdup(reason);
    r->usage_error = usage;
    return r;
}

void gw_result_add_node(Hearth__QueryResult *r, const char *node, const char *status,
                        uint32_t ms)
{
    Hearth__NodeStatus *s = hearth_malloc(sizeof *s);
    hearth__node_status__init(s);
    s->node = hearth_strdup(node);
    s->status = hearth_strdup(status);
    s->ms = ms;
    r->nodes = hearth_reallocarray(r->nodes, r->n_nodes + 1, sizeof *r->nodes);
    r->nodes[r->n_nodes++] = s;
}

/* NULL first, then numbers, then text; the order analysts see. */
static int value_cmp(const Hearth__Value *a, const Hearth__Value *b)
{
    int ra = a->kind_case == HEARTH__VALUE__KIND_TEXT ? 2
           : a->kind_case == HEARTH__VALUE__KIND_INTEGER ||
                     a->kind_case == HEARTH__VALUE__KIND_DECIMAL ? 1 : 0;
    int rb = b->kind_case == HEARTH__VALUE__KIND_TEXT ? 2
           : b->kind_case == HEARTH__VALUE__KIND_INTEGER ||
                     b->kind_case == HEARTH__VALUE__KIND_DECIMAL ? 1 : 0;
    if (ra != rb)
        return ra - rb;
    if (ra == 2)
        return strcmp(a->text ? a->text : "", b->text ? b->text : "");
    if (ra == 1) {
        double x = a->kind_case == HEARTH__VALUE__KIND_INTEGER ? (double)a->integer : a->decimal;
        double y = b->kind_case == HEARTH__VALUE__KIND_INTEGER ? (double)b->integer : b->decimal;
        return (x > y) - (x < y);
    }
    return 0;
}

typedef struct {
    const Hearth__GroupCount *g;
    size_t ngroup;
} entry_t;

static int entry_cmp(const void *pa, const void *pb)
{
    const entry_t *a = pa, *b = pb;
    for (size_t i = 0; i < a->ngroup; i++) {
        int c = value_cmp(a->g->group[i], b->g->group[i]);
        if (c)
            return c;
    }
    return 0;
}

/* One cell being combined from the parts' answers. */
typedef struct {
    uint64_t records;     /* summed over parts */
    uint64_t persons;     /* the largest over parts: see below */
    double sum;           /* summed over parts */
} acc_t;

/* Parts of a UNION may hold the same person, and people cannot be
 * de-duplicated across datasets without linkage; the largest part's
 * persons is a lower bound on the people behind a cell, so disclosure
 * control judged on it never under-protects. */
static void accumulate(acc_t *a, const Hearth__GroupCount *g)
{
    a->records += g->records;
    if (g->persons > a->persons)
        a->persons = g->persons;
    a->sum += g->sum;
}

/* What disclosure control is judged on: the count itself for counts, the
 * persons behind the cell for SUM and MEAN. */
static uint64_t sdc_count(const acc_t *a, gw_measure_t m)
{
    return m == GW_MEASURE_COUNT_RECORDS ? a->records : a->persons;
}

/* Nearest multiple of base for a SUM, halves away from zero. */
static double round_sum(double x, uint32_t base)
{
    if (base <= 1)
        return round(x);
    return round(x / base) * base;
}

static Hearth__Cell *released_cell(const gw_sdc_cell_t *c, const acc_t *a,
                                   const gw_plan_t *plan, uint32_t rounding)
{
    Hearth__Cell *cell = hearth_malloc(sizeof *cell);
    hearth__cell__init(cell);
    cell->suppressed = c->suppressed;
    if (c->suppressed)
        return cell;
    switch (plan->measure) {
    case GW_MEASURE_SUM: {
        /* Rounded to the base like a count; whole numbers stay whole while
         * they fit a 64-bit integer. (+ 0.0 turns a -0.0 into 0.0.) */
        double v = round_sum(a->sum, rounding) + 0.0;
        cell->value = plan->measure_integer && fabs(v) < 9.2e18 ? proto_value_integer((int64_t)v)
                                                                : proto_value_decimal(v);
        break;
    }
    case GW_MEASURE_MEAN:
        /* Released to one decimal place; a cell with no values has none. */
        cell->value = a->records
                          ? proto_value_decimal(round(a->sum / (double)a->records * 10.0) / 10.0 + 0.0)
                          : proto_value_null();
        break;
    default:
        cell->value = proto_value_integer((int64_t)c->released);
        break;
    }
    return cell;
}

Hearth__QueryResult *gw_result_combine(const gw_plan_t *plan, Hearth__SubResult *const *subs,
                                       const gw_sdc_policy_t *policy, const char *query_id,
                                       size_t max_cells)
{
    /* A group with the wrong number of keys, or an answer with no total,
     * is malformed: dropping the group while keeping the total would let
     * "total minus released cells" reveal it, so refuse the whole answer. */
    size_t total_groups = 0;
    for (size_t p = 0; p < plan->nparts; p++) {
        /* Persons can never outnumber the records behind them; a node that
         * says so could inflate another partner's small cell past the
         * threshold in a UNION. */
        bool bad = subs[p]->total == NULL || subs[p]->total->persons > subs[p]->total->records;
        for (size_t i = 0; i < subs[p]->n_groups && !bad; i++)
            bad = subs[p]->groups[i]->n_group != plan->ngroup ||
                  subs[p]->groups[i]->persons > subs[p]->groups[i]->records;
        if (bad)
            return gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                                     "a node sent a malformed answer; nothing was released",
                                     false);
        total_groups += subs[p]->n_groups;
    }
    entry_t *entries = hearth_calloc(total_groups, sizeof *entries);
    size_t n = 0;
    for (size_t p = 0; p < plan->nparts; p++)
        for (size_t i = 0; i < subs[p]->n_groups; i++)
            entries[n++] = (entry_t){subs[p]->groups[i], plan->ngroup};
    qsort(entries, n, sizeof *entries, entry_cmp);
    /* Merge equal keys from different parts into one cell. */
    acc_t *acc = hearth_calloc(n, sizeof *acc);
    gw_sdc_cell_t *cells = hearth_calloc(n, sizeof *cells);
    const Hearth__GroupCount **keys = hearth_calloc(n, sizeof *keys);
    size_t ncells = 0;
    for (size_t i = 0; i < n; i++) {
        if (ncells == 0 || entry_cmp(&entries[i], &(entry_t){keys[ncells - 1], plan->ngroup}) != 0)
            keys[ncells++] = entries[i].g;
        accumulate(&acc[ncells - 1], entries[i].g);
    }
    Hearth__QueryResult *r;
    if (ncells > max_cells) {
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                              "the result would have more cells than this gateway releases "
                              "in one table; group by fewer columns", false);
        goto done;
    }
    for (size_t i = 0; i < ncells; i++)
        cells[i].count = sdc_count(&acc[i], plan->measure);
    acc_t total_acc = {0};
    for (size_t p = 0; p < plan->nparts; p++)
        accumulate(&total_acc, subs[p]->total);
    gw_sdc_cell_t total = {.count = sdc_count(&total_acc, plan->measure)};
    size_t suppressed = gw_sdc_apply(policy, cells, ncells, &total);
    r = new_result(query_id, HEARTH__QUERY_STATUS__STATUS_RELEASED);
    r->measure = hearth_strdup(gw_result_measure_name(plan->measure));
    if (plan->ngroup) {
        r->group_by = hearth_calloc(plan->ngroup, sizeof *r->group_by);
        for (size_t g = 0; g < plan->ngroup; g++)
            r->group_by[g] = hearth_strdup(plan->group[g]);
        r->n_group_by = plan->ngroup;
    }
    if (ncells) {
        r->rows = hearth_calloc(ncells, sizeof *r->rows);
        for (size_t i = 0; i < ncells; i++) {
            Hearth__Cell *cell = released_cell(&cells[i], &acc[i], plan, policy->rounding);
            cell->group = hearth_calloc(plan->ngroup, sizeof *cell->group);
            cell->n_group = plan->ngroup;
            for (size_t g = 0; g < plan->ngroup; g++)
                cell->group[g] = proto_value_copy(keys[i]->group[g]);
            r->rows[i] = cell;
        }
        r->n_rows = ncells;
    }
    r->total = released_cell(&total, &total_acc, plan, policy->rounding);
    r->disclosure = hearth_malloc(sizeof *r->disclosure);
    hearth__disclosure__init(r->disclosure);
    r->disclosure->threshold = policy->threshold;
    r->disclosure->rounding = policy->rounding;
    r->disclosure->suppressed_cells = (uint32_t)suppressed;
done:
    free(entries);
    free(acc);
    free(cells);
    free(keys);
    return r;
}
