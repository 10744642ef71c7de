#include "gw_result.h"
#include "gw_diff.h"
#include "hearth_mem.h"
#include "proto_codec.h"
#include "proto_value.h"

#include <inttypes.h>
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
    if (r->disclosure) {
        proto_free_string(r->disclosure->dominance);
        proto_free_string(r->disclosure->dp_epsilon);
        proto_free_string(r->disclosure->dp_budget_remaining);
        proto_free_string(r->disclosure->project);
        free(r->disclosure);
    }
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

/* The most per-person contributions a node sends for one cell
 * (GroupCount.top), and the most a cell keeps once merged. */
#define TOP_MAX GW_DOMINANCE_MAX_N

/* One cell being combined from the parts' answers. */
typedef struct {
    uint64_t records;     /* summed over parts */
    uint64_t persons;     /* the largest over parts: see below */
    double sum;           /* summed over parts */
    double top[TOP_MAX];  /* the largest per-person contributions, largest first */
    size_t ntop;
} acc_t;

/* Keeps the TOP_MAX largest of a's list and top[0..n). Across the parts of
 * a UNION one person's contributions cannot be joined without linkage, so
 * a person in two parts counts as two contributors (docs/design/
 * disclosure.md). */
static void merge_top(acc_t *a, const double *top, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = top[i];
        if (a->ntop == TOP_MAX && v <= a->top[TOP_MAX - 1])
            continue;
        size_t k = a->ntop < TOP_MAX ? a->ntop++ : TOP_MAX - 1;
        for (; k > 0 && a->top[k - 1] < v; k--)
            a->top[k] = a->top[k - 1];
        a->top[k] = v;
    }
}

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
    merge_top(a, g->top, g->n_top);
}

/* A group count no honest node sends: more persons than records (which
 * could lift another partner's small cell past the threshold in a UNION),
 * or top contributions that are too many, negative or not numbers. */
static bool group_malformed(const Hearth__GroupCount *g)
{
    if (g->persons > g->records || g->n_top > TOP_MAX)
        return true;
    for (size_t i = 0; i < g->n_top; i++)
        if (!isfinite(g->top[i]) || g->top[i] < 0)
            return true;
    return false;
}

/* What disclosure control is judged on: the count itself for counts, the
 * persons behind the cell for SUM and MEAN. */
static uint64_t sdc_count(const acc_t *a, gw_measure_t m)
{
    return m == GW_MEASURE_COUNT_RECORDS ? a->records : a->persons;
}

static bool measure_is_sum(gw_measure_t m)
{
    return m == GW_MEASURE_SUM || m == GW_MEASURE_MEAN;
}

/* Whether the dominance rule hides a SUM or MEAN cell. Nodes send the
 * signed sum and the largest per-person sums of absolute values, not the
 * sum of absolute values the rule is written over; |sum| and the sum of
 * the tops are both at most that, so the larger of them is a lower bound,
 * and under either rule a smaller cell total can only hide more. */
static bool dominated(const gw_policy_t *policy, gw_measure_t m, const acc_t *a)
{
    if (!measure_is_sum(m) || policy->dominance.kind == GW_DOMINANCE_OFF || a->persons == 0)
        return false;
    double tops = 0;
    for (size_t i = 0; i < a->ntop; i++)
        tops += a->top[i];
    double abs_sum = fabs(a->sum) > tops ? fabs(a->sum) : tops;
    return gw_policy_dominated(policy, abs_sum, a->top, a->ntop);
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

/* ---- the grid ------------------------------------------------------------ */

static int value_ptr_cmp(const void *a, const void *b)
{
    return value_cmp(*(Hearth__Value *const *)a, *(Hearth__Value *const *)b);
}

/* The position of v among vals[0..n) (sorted, distinct), which holds it. */
static size_t value_index(Hearth__Value *const *vals, size_t n, const Hearth__Value *v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (value_cmp(vals[mid], v) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Lays the n rows keyed keys[i] (ngroup values each, borrowed) out in the
 * full grid of t: each group column's distinct values in row order, row-
 * major, the last column fastest; at[i] receives row i's grid index. The
 * grid's cells (t->cells, caller frees) all count 0; a combination that no
 * row has stays 0, a true zero. Without group columns the rows (none, or a
 * node's one ungrouped group) are a one-dimensional table. Returns false,
 * with nothing allocated, when the grid would be larger than
 * GW_SDC_MAX_GRID. */
static bool grid_build(size_t ngroup, Hearth__Value *const *const *keys, size_t n,
                       gw_sdc_table_t *t, size_t *at)
{
    memset(t, 0, sizeof *t);
    if (ngroup == 0) {
        t->ndims = 1;
        t->size[0] = n;
        for (size_t i = 0; i < n; i++)
            at[i] = i;
        t->cells = hearth_calloc(n ? n : 1, sizeof *t->cells);
        return true;
    }
    Hearth__Value **vals[3] = {NULL, NULL, NULL};
    size_t grid = 1;
    bool fits = true;
    t->ndims = ngroup;
    for (size_t d = 0; d < ngroup; d++) {
        vals[d] = hearth_calloc(n ? n : 1, sizeof *vals[d]);
        for (size_t i = 0; i < n; i++)
            vals[d][i] = keys[i][d];
        qsort(vals[d], n, sizeof *vals[d], value_ptr_cmp);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (m == 0 || value_cmp(vals[d][m - 1], vals[d][i]) != 0)
                vals[d][m++] = vals[d][i];
        t->size[d] = m;
        if (m && grid > GW_SDC_MAX_GRID / m)
            fits = false;
        grid *= fits ? m : 1;
    }
    if (fits) {
        t->cells = hearth_calloc(grid ? grid : 1, sizeof *t->cells);
        for (size_t i = 0; i < n; i++) {
            size_t idx = 0;
            for (size_t d = 0; d < ngroup; d++)
                idx = idx * t->size[d] + value_index(vals[d], t->size[d], keys[i][d]);
            at[i] = idx;
        }
    }
    for (size_t d = 0; d < ngroup; d++)
        free(vals[d]);
    return fits;
}

/* ---- differencing and the DP budget -------------------------------------- */

/* A group value as text for gw_diff_cell_key: "s:" and the text, or "n:"
 * and the number (a decimal that is a whole number written as an integer,
 * so that 1 and 1.0, one cell in a result, are one key); NULL for SQL
 * NULL. The prefix keeps the text '1' and the number 1 apart, as rows
 * keep them. Caller frees. */
static char *value_key_text(const Hearth__Value *v)
{
    switch (v->kind_case) {
    case HEARTH__VALUE__KIND_TEXT:
        return hearth_asprintf("s:%s", v->text ? v->text : "");
    case HEARTH__VALUE__KIND_INTEGER:
        return hearth_asprintf("n:%" PRId64, v->integer);
    case HEARTH__VALUE__KIND_DECIMAL:
        if (v->decimal == trunc(v->decimal) && fabs(v->decimal) < 9.0e15)
            return hearth_asprintf("n:%" PRId64, (int64_t)v->decimal);
        return hearth_asprintf("n:%.17g", v->decimal);
    default:
        return NULL;
    }
}

/* What the store returned, as the analyst is told it. */
static Hearth__QueryResult *store_failure(const char *query_id)
{
    return gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                             "the gateway could not record this release in its database; "
                             "nothing was released", false);
}

/* Charges the DP budget (when eps is not NULL), checks the table against
 * the project's earlier releases and records it, all in one transaction
 * committed before this returns. rows[i] keyed keys[i] with true counts
 * judged[i], and the total's true count. On success returns NULL and, with
 * DP, writes the budget left to remaining; otherwise returns the refusal or
 * error, with nothing charged or recorded. */
static Hearth__QueryResult *guard(const gw_result_release_t *rel, const char *query_id,
                                  size_t ngroup, Hearth__Value *const *const *keys,
                                  const uint64_t *judged, size_t n, uint64_t total_judged,
                                  const gw_dp_rational_t *eps,   /* the charge */
                                  char remaining[GW_DP_DECIMAL_SIZE])
{
    const gw_policy_t *pol = rel->policy;
    if (rel->store == NULL)
        return eps ? gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                                       "the gateway has no database to charge this project's "
                                       "privacy budget to; nothing was released", false)
                   : NULL;
    Hearth__QueryResult *r = NULL;
    /* Without group columns only the total is a cell (a row there, which
     * nodes never send, would share its key ""). */
    if (ngroup == 0)
        n = 0;
    gw_store_cell_t *cells = hearth_calloc(n + 1, sizeof *cells);
    char **key_text = hearth_calloc(n + 1, sizeof *key_text);
    const char *vals[3];
    char *texts[3];
    for (size_t i = 0; i < n && r == NULL; i++) {
        for (size_t g = 0; g < ngroup; g++)
            vals[g] = texts[g] = value_key_text(keys[i][g]);
        key_text[i] = gw_diff_cell_key(vals, ngroup);
        for (size_t g = 0; g < ngroup; g++)
            free(texts[g]);
        if (key_text[i] == NULL)
            r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                                  "a group value of this table is too long to record; "
                                  "nothing was released", false);
        cells[i] = (gw_store_cell_t){.key = key_text[i], .count = judged[i]};
    }
    cells[n] = (gw_store_cell_t){.key = "", .count = total_judged};
    char *cause = NULL, *stored = NULL;
    gw_dp_rational_t left = {0, 1};
    hearth_err_t rc = HEARTH_OK;
    if (r != NULL)
        goto done;
    if (gw_store_begin(rel->store, &cause) != HEARTH_OK) {
        r = store_failure(query_id);
        goto done;
    }
    if (eps) {
        /* A project that has spent nothing yet starts from its configured
         * budget. */
        if (gw_store_budget_get(rel->store, pol->project, &stored, &cause) != HEARTH_OK) {
            r = store_failure(query_id);
            goto rollback;
        }
        if (gw_dp_budget_parse(stored ? stored : pol->dp_budget, &left, &cause) != HEARTH_OK) {
            r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                                  "this project's privacy budget cannot be read; nothing was "
                                  "released", false);
            goto rollback;
        }
        rc = gw_dp_budget_spend(&left, *eps);
        if (rc != HEARTH_OK) {
            /* Spent (REFUSED), or a charge that cannot be kept exact
             * (TOO_BIG): either way nothing more can be charged. */
            r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                                  GW_RESULT_BUDGET_SPENT, false);
            goto rollback;
        }
        free(cause);
        cause = NULL;
    }
    rc = gw_diff_check(rel->store, pol->sdc.threshold, pol->project, rel->family,
                       rel->conjuncts, rel->nconjuncts, cells, n + 1, &cause);
    if (rc == HEARTH_OK)
        rc = gw_store_release_add(rel->store, pol->project, rel->family, rel->conjuncts,
                                  rel->nconjuncts, cells, n + 1, &cause);
    if (rc == HEARTH_ERR_REFUSED) {
        /* gw_diff's and gw_store's reasons hold no number. */
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED, cause, false);
        goto rollback;
    }
    if (rc == HEARTH_OK && eps) {
        char exact[GW_DP_EXACT_SIZE];
        rc = gw_store_budget_set(rel->store, pol->project,
                                 gw_dp_rational_format_exact(left, exact), &cause);
    }
    if (rc != HEARTH_OK) {
        r = store_failure(query_id);
        goto rollback;
    }
    if (gw_store_commit(rel->store, &cause) != HEARTH_OK) {
        r = store_failure(query_id);
        goto done;
    }
    if (eps)
        gw_dp_rational_format(left, remaining);
    goto done;
rollback:
    gw_store_rollback(rel->store);
done:
    free(cause);
    free(stored);
    for (size_t i = 0; i < n; i++)
        free(key_text[i]);
    free(key_text);
    free(cells);
    return r;
}

/* ---- the release path ---------------------------------------------------- */

/* Sets noisy[i] to counts[i] plus discrete Laplace noise for eps, for
 * i < n. Returns false when the random source fails. */
static bool add_noise(gw_dp_rng_t *rng, gw_dp_rational_t eps, const uint64_t *counts,
                      uint64_t *noisy, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *cause = NULL;
        hearth_err_t rc = gw_dp_noisy_count(rng, eps, counts[i], &noisy[i], &cause);
        free(cause);
        if (rc != HEARTH_OK)
            return false;
    }
    return true;
}

/* The linkage kinds as a one-dimensional table whose total is their sum,
 * under the same rules as any table (counts already noised when the table
 * is). */
static Hearth__Linkage *released_linkage(const uint64_t kinds_count[GW_LINK_KINDS],
                                         const gw_sdc_policy_t *policy)
{
    gw_sdc_cell_t kinds[GW_LINK_KINDS];
    gw_sdc_cell_t total = {0};
    for (size_t k = 0; k < GW_LINK_KINDS; k++) {
        kinds[k] = (gw_sdc_cell_t){.count = kinds_count[k]};
        total.count += kinds_count[k];
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

/* The rules as applied, for the result's disclosure section. */
static Hearth__Disclosure *disclosure_of(const gw_policy_t *pol, size_t suppressed,
                                         const gw_dp_rational_t *eps, const char *remaining)
{
    Hearth__Disclosure *d = hearth_malloc(sizeof *d);
    hearth__disclosure__init(d);
    d->threshold = pol->sdc.threshold;
    d->rounding = pol->sdc.rounding;
    d->suppressed_cells = (uint32_t)suppressed;
    d->zeros_disclosive = pol->sdc.zeros_disclosive;
    /* 0 means the default to gw_sdc; say what was applied. */
    d->protection = pol->sdc.protection ? pol->sdc.protection : GW_SDC_DEFAULT_PROTECTION;
    char text[GW_POLICY_DOMINANCE_TEXT_MAX];
    gw_policy_describe_dominance(pol, text);
    if (text[0])
        d->dominance = hearth_strdup(text);
    if (pol->project[0])
        d->project = hearth_strdup(pol->project);
    if (eps) {
        char buf[GW_DP_DECIMAL_SIZE];
        d->dp_epsilon = hearth_strdup(gw_dp_rational_format(*eps, buf));
        d->dp_budget_remaining = hearth_strdup(remaining);
    }
    return d;
}

/* The one release path: cells[i] keyed by keys[i] (plan->ngroup values,
 * borrowed) with true counts acc[i], in group order, and the total; with
 * linkage (borrowed; NULL for none) a linked query's linkage counts.
 * Follows the steps at the top of gw_result.h and builds the released
 * result, or a refusal or error. */
static Hearth__QueryResult *release(const gw_plan_t *plan, const gw_result_release_t *rel,
                                    const char *query_id, Hearth__Value *const *const *keys,
                                    const acc_t *acc, size_t ncells, const acc_t *total_acc,
                                    const uint64_t *linkage)
{
    const gw_policy_t *pol = rel->policy;
    const gw_sdc_policy_t *sdc = &pol->sdc;
    bool dp = pol->dp_epsilon[0] != '\0';
    if (ncells > rel->max_cells)
        return gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                                 GW_RESULT_TOO_MANY_ROWS, false);
    if (dp && measure_is_sum(plan->measure))
        return gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                                 GW_RESULT_DP_COUNTS_ONLY, false);
    gw_dp_rational_t eps = {0, 1};
    if (dp) {
        char *cause = NULL;
        hearth_err_t rc = gw_dp_epsilon_parse(pol->dp_epsilon, &eps, &cause);
        free(cause);
        if (rc != HEARTH_OK)
            return gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                                     "this project's dp_epsilon cannot be used; nothing was "
                                     "released", false);
    }
    Hearth__QueryResult *r = NULL;
    gw_sdc_table_t t;
    size_t *at = hearth_calloc(ncells ? ncells : 1, sizeof *at);
    uint64_t *judged = hearth_calloc(ncells + 1, sizeof *judged);
    uint64_t *noisy = hearth_calloc(ncells + 1, sizeof *noisy);
    bool *dom = hearth_calloc(ncells + 1, sizeof *dom);
    uint64_t link_noisy[GW_LINK_KINDS] = {0};
    gw_dp_rng_t *own_rng = NULL;
    if (!grid_build(plan->ngroup, keys, ncells, &t, at)) {
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                              GW_RESULT_GRID_TOO_BIG, false);
        goto done;
    }
    /* judged[ncells], noisy[ncells] and dom[ncells] are the total's. */
    for (size_t i = 0; i < ncells; i++)
        judged[i] = sdc_count(&acc[i], plan->measure);
    judged[ncells] = sdc_count(total_acc, plan->measure);
    memcpy(noisy, judged, (ncells + 1) * sizeof *noisy);
    if (linkage)
        memcpy(link_noisy, linkage, sizeof link_noisy);
    if (dp) {
        /* Noise before suppression and rounding, so both act on the noisy
         * counts (they are post-processing and cost no privacy). */
        gw_dp_rng_t *rng = rel->rng ? rel->rng : (own_rng = gw_dp_rng_new());
        if (!add_noise(rng, eps, judged, noisy, ncells + 1) ||
            (linkage && !add_noise(rng, eps, linkage, link_noisy, GW_LINK_KINDS))) {
            r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                                  "the gateway could not draw random noise; nothing was "
                                  "released", false);
            goto done;
        }
    }
    for (size_t i = 0; i < ncells; i++)
        dom[i] = dominated(pol, plan->measure, &acc[i]);
    dom[ncells] = dominated(pol, plan->measure, total_acc);
    /* A dominated cell goes to gw_sdc as if it held one person: then it is
     * a primary suppression like any small cell, and the attacker check
     * keeps it from being recovered through the margins. Its true count
     * is never used to release anything: the cell is hidden, and a SUM or
     * MEAN margin is released from the sums, not from this count. (The
     * margins the model derives from the grid count it as 1 too, which only
     * makes that margin look smaller, never lets a hidden cell be
     * narrower than gw_sdc believes for the counts it was given.) */
    for (size_t i = 0; i < ncells; i++)
        t.cells[at[i]].count = dom[i] ? 1 : noisy[i];
    t.total.count = dom[ncells] ? 1 : noisy[ncells];
    /* A SUM or MEAN table shows sums, not the counts the pattern is
     * decided on. gw_sdc credits a hidden count with the uncertainty that
     * rounding leaves in the released counts around it, but that slack
     * hides nothing of a sum: total minus the released sums gives a lone
     * hidden cell's sum to within the sums' own rounding. So for these
     * tables the attacker check is run as if counts were released exactly
     * (rounding 1), which makes it hide partners wherever a hidden cell's
     * line would otherwise give its sum away; the sums released are still
     * rounded to the policy's base. */
    gw_sdc_policy_t check = *sdc;
    if (measure_is_sum(plan->measure))
        check.rounding = 1;
    (void)gw_sdc_apply_table(&check, &t);
    if (t.unprotected) {
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                              GW_RESULT_UNPROTECTABLE, false);
        goto done;
    }
    char remaining[GW_DP_DECIMAL_SIZE] = "";
    /* Each count released is noised at eps on its own, and a person is in
     * a cell and in the total (and in one of the linkage counts), so a
     * question is charged eps for its cells, eps for its total and eps for
     * its linkage section: the budget then bounds what a person who adds
     * one to one cell can lose (docs/disclosure-control.md says so). */
    gw_dp_rational_t charge = eps;
    size_t parts = 1 + (plan->ngroup > 0) + (linkage != NULL);
    for (size_t k = 1; dp && k < parts; k++)
        if (gw_dp_rational_add(charge, eps, &charge) != HEARTH_OK) {
            r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                                  GW_RESULT_BUDGET_SPENT, false);
            goto done;
        }
    r = guard(rel, query_id, plan->ngroup, keys, judged, ncells, judged[ncells],
              dp ? &charge : NULL, remaining);
    if (r)
        goto done;

    r = new_result(query_id, HEARTH__QUERY_STATUS__STATUS_RELEASED);
    r->measure = hearth_strdup(gw_result_measure_name(plan->measure));
    if (plan->ngroup) {
        r->group_by = hearth_calloc(plan->ngroup, sizeof *r->group_by);
        for (size_t g = 0; g < plan->ngroup; g++)
            r->group_by[g] = hearth_strdup(plan->group[g]);
        r->n_group_by = plan->ngroup;
    }
    /* Only the rows are shown: a combination no one is in stays absent,
     * as before, even when zeros are disclosive (gw_sdc has hidden it). So
     * suppressed_cells counts what the analyst sees hidden: rows and the
     * total. A dominated cell is hidden whatever gw_sdc made of it (it
     * always hides it, but for a policy with no threshold). */
    size_t suppressed = 0;
    if (ncells) {
        r->rows = hearth_calloc(ncells, sizeof *r->rows);
        for (size_t i = 0; i < ncells; i++) {
            gw_sdc_cell_t c = t.cells[at[i]];
            c.suppressed = c.suppressed || dom[i];
            suppressed += c.suppressed;
            Hearth__Cell *cell = released_cell(&c, &acc[i], plan, sdc->rounding);
            cell->group = hearth_calloc(plan->ngroup ? plan->ngroup : 1, sizeof *cell->group);
            cell->n_group = plan->ngroup;
            for (size_t g = 0; g < plan->ngroup; g++)
                cell->group[g] = proto_value_copy(keys[i][g]);
            r->rows[i] = cell;
        }
        r->n_rows = ncells;
    }
    t.total.suppressed = t.total.suppressed || dom[ncells];
    suppressed += t.total.suppressed;
    r->total = released_cell(&t.total, total_acc, plan, sdc->rounding);
    r->disclosure = disclosure_of(pol, suppressed, dp ? &eps : NULL, remaining);
    if (linkage)
        r->linkage = released_linkage(link_noisy, sdc);
done:
    gw_dp_rng_destroy(&own_rng);
    free(t.cells);
    free(at);
    free(judged);
    free(noisy);
    free(dom);
    return r;
}

Hearth__QueryResult *gw_result_combine(const gw_plan_t *plan, Hearth__SubResult *const *subs,
                                       const gw_result_release_t *rel, const char *query_id)
{
    /* A group with the wrong number of keys, or an answer with no total,
     * is malformed: dropping the group while keeping the total would let
     * "total minus released cells" reveal it, so refuse the whole answer. */
    size_t total_groups = 0;
    for (size_t p = 0; p < plan->nparts; p++) {
        bool bad = subs[p]->total == NULL || group_malformed(subs[p]->total);
        for (size_t i = 0; i < subs[p]->n_groups && !bad; i++)
            bad = subs[p]->groups[i]->n_group != plan->ngroup ||
                  group_malformed(subs[p]->groups[i]);
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
    Hearth__QueryResult *r = release(plan, rel, query_id, keys, acc, ncells, &total_acc, NULL);
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

static acc_t link_acc(const gw_link_count_t *c)
{
    return (acc_t){.records = c->records, .persons = c->persons, .sum = c->sum};
}

Hearth__QueryResult *gw_result_linked(const gw_plan_t *plan, const gw_result_cells_t *cells,
                                      const gw_link_result_t *lr,
                                      const gw_result_release_t *rel, const char *query_id)
{
    if (lr->ncells != cells->n || cells->ngroup != plan->ngroup)
        return gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                                 "the gateway lost track of a linked query's cells; nothing "
                                 "was released", false);
    if (measure_is_sum(plan->measure) && rel->policy->dominance.kind != GW_DOMINANCE_OFF)
        return gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                                 GW_RESULT_DOMINANCE_LINKED, false);
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
    Hearth__QueryResult *r = release(plan, rel, query_id, keys, acc, nrows, &total_acc,
                                     lr->linkage);
    free(acc);
    free(keys);
    return r;
}
