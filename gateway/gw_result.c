#include "gw_result.h"
#include "hearth_mem.h"
#include "proto_codec.h"
#include "proto_value.h"

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

static uint64_t measure_of(const Hearth__GroupCount *g, gw_measure_t m)
{
    return m == GW_MEASURE_COUNT_PERSONS ? g->persons : g->records;
}

static Hearth__Cell *released_cell(const gw_sdc_cell_t *c)
{
    Hearth__Cell *cell = hearth_malloc(sizeof *cell);
    hearth__cell__init(cell);
    cell->suppressed = c->suppressed;
    if (!c->suppressed) {
        cell->value = proto_value_integer((int64_t)c->released);
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
        bool bad = subs[p]->total == NULL;
        for (size_t i = 0; i < subs[p]->n_groups && !bad; i++)
            bad = subs[p]->groups[i]->n_group != plan->ngroup;
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
    gw_sdc_cell_t *cells = hearth_calloc(n, sizeof *cells);
    const Hearth__GroupCount **keys = hearth_calloc(n, sizeof *keys);
    size_t ncells = 0;
    for (size_t i = 0; i < n; i++) {
        if (ncells > 0 && entry_cmp(&entries[i], &(entry_t){keys[ncells - 1], plan->ngroup}) == 0) {
            cells[ncells - 1].count += measure_of(entries[i].g, plan->measure);
            continue;
        }
        keys[ncells] = entries[i].g;
        cells[ncells].count = measure_of(entries[i].g, plan->measure);
        ncells++;
    }
    Hearth__QueryResult *r;
    if (ncells > max_cells) {
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                              "the result would have more cells than this gateway releases "
                              "in one table; group by fewer columns", false);
        goto done;
    }
    gw_sdc_cell_t total = {0};
    for (size_t p = 0; p < plan->nparts; p++)
        total.count += measure_of(subs[p]->total, plan->measure);
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
            Hearth__Cell *cell = released_cell(&cells[i]);
            cell->group = hearth_calloc(plan->ngroup, sizeof *cell->group);
            cell->n_group = plan->ngroup;
            for (size_t g = 0; g < plan->ngroup; g++)
                cell->group[g] = proto_value_copy(keys[i]->group[g]);
            r->rows[i] = cell;
        }
        r->n_rows = ncells;
    }
    r->total = released_cell(&total);
    r->disclosure = hearth_malloc(sizeof *r->disclosure);
    hearth__disclosure__init(r->disclosure);
    r->disclosure->threshold = policy->threshold;
    r->disclosure->rounding = policy->rounding;
    r->disclosure->suppressed_cells = (uint32_t)suppressed;
done:
    free(entries);
    free(cells);
    free(keys);
    return r;
}
