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
    if (r->linkage) {
        free_cell(r->linkage->nhs_only);
        free_cell(r->linkage->dsp_only);
        free_cell(r->linkage->both);
        free_cell(r->linkage->none);
        free(r->linkage);
    }
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

static int tuple_cmp(Hearth__Value *const *a, Hearth__Value *const *b, size_t ngroup)
{
    for (size_t i = 0; i < ngroup; i++) {
        int c = value_cmp(a[i], b[i]);
        if (c)
            return c;
    }
    return 0;
}

typedef struct {
    const Hearth__GroupCount *g;
    size_t ngroup;
    size_t index;        /* gw_result_cells_map: position in the part's list */
} entry_t;

static int entry_cmp(const void *pa, const void *pb)
{
    const entry_t *a = pa, *b = pb;
    return tuple_cmp(a->g->group, b->g->group, a->ngroup);
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

/* The one release path: cells[i] keyed by keys[i] (plan->ngroup values,
 * borrowed) with true counts acc[i], in group order, and the total. Applies
 * disclosure control and builds the released result, or a refusal past
 * max_cells. */
static Hearth__QueryResult *release(const gw_plan_t *plan, const gw_sdc_policy_t *policy,
                                    const char *query_id, size_t max_cells,
                                    Hearth__Value *const *const *keys, const acc_t *acc,
                                    size_t ncells, const acc_t *total_acc)
{
    if (ncells > max_cells)
        return gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                                 "the result would have more cells than this gateway releases "
                                 "in one table; group by fewer columns", false);
    gw_sdc_cell_t *cells = hearth_calloc(ncells ? ncells : 1, sizeof *cells);
    for (size_t i = 0; i < ncells; i++)
        cells[i].count = sdc_count(&acc[i], plan->measure);
    gw_sdc_cell_t total = {.count = sdc_count(total_acc, plan->measure)};
    size_t suppressed = gw_sdc_apply(policy, cells, ncells, &total);
    Hearth__QueryResult *r = new_result(query_id, HEARTH__QUERY_STATUS__STATUS_RELEASED);
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
                cell->group[g] = proto_value_copy(keys[i][g]);
            r->rows[i] = cell;
        }
        r->n_rows = ncells;
    }
    r->total = released_cell(&total, total_acc, plan, policy->rounding);
    r->disclosure = hearth_malloc(sizeof *r->disclosure);
    hearth__disclosure__init(r->disclosure);
    r->disclosure->threshold = policy->threshold;
    r->disclosure->rounding = policy->rounding;
    r->disclosure->suppressed_cells = (uint32_t)suppressed;
    free(cells);
    return r;
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
    entry_t *entries = hearth_calloc(total_groups ? total_groups : 1, sizeof *entries);
    size_t n = 0;
    for (size_t p = 0; p < plan->nparts; p++)
        for (size_t i = 0; i < subs[p]->n_groups; i++)
            entries[n++] = (entry_t){subs[p]->groups[i], plan->ngroup, 0};
    qsort(entries, n, sizeof *entries, entry_cmp);
    /* Merge equal keys from different parts into one cell. */
    acc_t *acc = hearth_calloc(n ? n : 1, sizeof *acc);
    Hearth__Value *const **keys = hearth_calloc(n ? n : 1, sizeof *keys);
    size_t ncells = 0;
    for (size_t i = 0; i < n; i++) {
        if (ncells == 0 || tuple_cmp(entries[i].g->group, keys[ncells - 1], plan->ngroup) != 0)
            keys[ncells++] = entries[i].g->group;
        accumulate(&acc[ncells - 1], entries[i].g);
    }
    acc_t total_acc = {0};
    for (size_t p = 0; p < plan->nparts; p++)
        accumulate(&total_acc, subs[p]->total);
    Hearth__QueryResult *r = release(plan, policy, query_id, max_cells, keys, acc, ncells,
                                     &total_acc);
    free(entries);
    free(acc);
    free(keys);
    return r;
}

/* ---- linked queries ----------------------------------------------------- */

struct gw_result_cells_t {
    size_t ngroup;
    size_t max;
    size_t n;
    Hearth__Value **values;   /* owned: ngroup per cell, cell by cell */
    uint32_t *order;          /* the n cell numbers sorted by their values */
};

gw_result_cells_t *gw_result_cells_new(size_t ngroup, size_t max_cells)
{
    gw_result_cells_t *self = hearth_calloc(1, sizeof *self);
    self->ngroup = ngroup;
    /* Cell numbers are 32-bit on the wire. */
    self->max = max_cells < UINT32_MAX ? max_cells : UINT32_MAX;
    return self;
}

void gw_result_cells_destroy(gw_result_cells_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    gw_result_cells_t *self = *self_p;
    for (size_t i = 0; i < self->n * self->ngroup; i++)
        proto_value_free(self->values[i]);
    free(self->values);
    free(self->order);
    free(self);
    *self_p = NULL;
}

size_t gw_result_cells_count(const gw_result_cells_t *self)
{
    return self->n;
}

static Hearth__Value *const *cell_values(const gw_result_cells_t *self, uint32_t cell)
{
    return &self->values[(size_t)cell * self->ngroup];
}

/* Where values sit in self->order: *found when a cell has them. */
static size_t cells_search(const gw_result_cells_t *self, Hearth__Value *const *values,
                           bool *found)
{
    size_t lo = 0, hi = self->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = tuple_cmp(cell_values(self, self->order[mid]), values, self->ngroup);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Sorted by values, equal values in listing order, so the first of a run is
 * the first listed. */
static int listed_cmp(const void *pa, const void *pb)
{
    const entry_t *a = pa, *b = pb;
    int c = entry_cmp(pa, pb);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* The part's cells are sorted, looked up in the sorted table, and the new
 * ones merged in: O((N + n) log n) per part rather than a search per cell.
 * New cells are numbered in the order the part lists them. */
hearth_err_t gw_result_cells_map(gw_result_cells_t *self, Hearth__GroupCount *const *groups,
                                 size_t n, uint32_t *global, char **cause)
{
    for (size_t i = 0; i < n; i++) {
        bool bad = groups[i] == NULL || groups[i]->n_group != self->ngroup;
        for (size_t g = 0; g < self->ngroup && !bad; g++)
            bad = groups[i]->group[g] == NULL;
        if (bad) {
            hearth_cause_set(cause, "a cell of a cohort does not have %zu group value(s)",
                             self->ngroup);
            return HEARTH_ERR_PROTO;
        }
    }
    size_t cap = n ? n : 1;
    entry_t *local = hearth_calloc(cap, sizeof *local);
    for (size_t i = 0; i < n; i++)
        local[i] = (entry_t){groups[i], self->ngroup, i};
    qsort(local, n, sizeof *local, listed_cmp);
    size_t *at = hearth_calloc(cap, sizeof *at);        /* per sorted cell: place in order */
    bool *repeat = hearth_calloc(cap, sizeof *repeat);  /* per sorted cell: same as the one before */
    bool *fresh = hearth_calloc(cap, sizeof *fresh);    /* per listed cell: not seen before */
    size_t nnew = 0;
    hearth_err_t rc = HEARTH_OK;
    for (size_t i = 0; i < n; i++) {
        repeat[i] = i > 0 && entry_cmp(&local[i], &local[i - 1]) == 0;
        if (repeat[i])
            continue;
        bool found;
        at[i] = cells_search(self, local[i].g->group, &found);
        if (found) {
            global[local[i].index] = self->order[at[i]];
        } else {
            fresh[local[i].index] = true;
            nnew++;
        }
    }
    if (nnew > self->max - self->n) {
        hearth_cause_set(cause, "a linked query's cohorts list more than %zu cells", self->max);
        rc = HEARTH_ERR_TOO_BIG;
        goto done;
    }
    size_t next = self->n;
    for (size_t i = 0; i < n; i++)
        if (fresh[i])
            global[i] = (uint32_t)next++;
    for (size_t i = 0; i < n; i++)
        if (repeat[i])
            global[local[i].index] = global[local[i - 1].index];
    if (nnew) {
        size_t total = self->n + nnew;
        self->values = hearth_reallocarray(self->values, total * self->ngroup + 1,
                                           sizeof *self->values);
        uint32_t *order = hearth_calloc(total, sizeof *order);
        /* Merge the new cells (sorted, each with where it falls among the
         * old ones) into the old order. */
        size_t old = 0, out = 0;
        for (size_t i = 0; i < n; i++) {
            if (repeat[i] || !fresh[local[i].index])
                continue;
            while (old < at[i])
                order[out++] = self->order[old++];
            uint32_t cell = global[local[i].index];
            for (size_t g = 0; g < self->ngroup; g++)
                self->values[(size_t)cell * self->ngroup + g] =
                    proto_value_copy(local[i].g->group[g]);
            order[out++] = cell;
        }
        while (old < self->n)
            order[out++] = self->order[old++];
        free(self->order);
        self->order = order;
        self->n = total;
    }
done:
    free(local);
    free(at);
    free(repeat);
    free(fresh);
    return rc;
}

/* The four linkage kinds as a one-dimensional table whose total is their
 * sum, under the same rules as any table. */
static Hearth__Linkage *released_linkage(const gw_link_result_t *lr,
                                         const gw_sdc_policy_t *policy)
{
    gw_sdc_cell_t kinds[GW_LINK_KINDS];
    gw_sdc_cell_t total = {0};
    for (size_t k = 0; k < GW_LINK_KINDS; k++) {
        kinds[k] = (gw_sdc_cell_t){.count = lr->linkage[k]};
        total.count += lr->linkage[k];
    }
    (void)gw_sdc_apply(policy, kinds, GW_LINK_KINDS, &total);
    Hearth__Cell *cells[GW_LINK_KINDS];
    for (size_t k = 0; k < GW_LINK_KINDS; k++) {
        cells[k] = hearth_malloc(sizeof *cells[k]);
        hearth__cell__init(cells[k]);
        cells[k]->suppressed = kinds[k].suppressed;
        if (!kinds[k].suppressed)
            cells[k]->value = proto_value_integer((int64_t)kinds[k].released);
    }
    Hearth__Linkage *l = hearth_malloc(sizeof *l);
    hearth__linkage__init(l);
    l->nhs_only = cells[GW_LINK_NHS_ONLY];
    l->dsp_only = cells[GW_LINK_DSP_ONLY];
    l->both = cells[GW_LINK_BOTH];
    l->none = cells[GW_LINK_NONE];
    return l;
}

static acc_t link_acc(const gw_link_count_t *c)
{
    return (acc_t){.records = c->records, .persons = c->persons, .sum = c->sum};
}

Hearth__QueryResult *gw_result_linked(const gw_plan_t *plan, const gw_result_cells_t *cells,
                                      const gw_link_result_t *lr,
                                      const gw_sdc_policy_t *policy, const char *query_id,
                                      size_t max_cells)
{
    if (lr->ncells != cells->n || cells->ngroup != plan->ngroup)
        return gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                                 "the gateway lost track of a linked query's cells; nothing "
                                 "was released", false);
    size_t n = cells->n;
    acc_t *acc = hearth_calloc(n ? n : 1, sizeof *acc);
    Hearth__Value *const **keys = hearth_calloc(n ? n : 1, sizeof *keys);
    size_t nrows = 0;
    /* Without group columns the one cell is the total, released as such
     * and not as a row, as for an aggregate query. */
    for (size_t i = 0; i < n && plan->ngroup; i++) {
        uint32_t cell = cells->order[i];
        const gw_link_count_t *c = &lr->cells[cell];
        if (c->records == 0 && c->persons == 0)
            continue;
        keys[nrows] = cell_values(cells, cell);
        acc[nrows++] = link_acc(c);
    }
    acc_t total_acc = link_acc(&lr->total);
    Hearth__QueryResult *r = release(plan, policy, query_id, max_cells, keys, acc, nrows,
                                     &total_acc);
    if (r->status == HEARTH__QUERY_STATUS__STATUS_RELEASED)
        r->linkage = released_linkage(lr, policy);
    free(acc);
    free(keys);
    return r;
}
