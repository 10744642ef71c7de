#include "node_answer.h"
#include "hearth_mem.h"
#include "proto_codec.h"
#include "proto_value.h"

#include <stdlib.h>
#include <string.h>

static void free_group(Hearth__GroupCount *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n_group; i++)
        proto_value_free(g->group[i]);
    free(g->group);
    free(g);
}

void node_answer_free(Hearth__SubResult **r_p)
{
    if (r_p == NULL || *r_p == NULL)
        return;
    Hearth__SubResult *r = *r_p;
    for (size_t i = 0; i < r->n_groups; i++)
        free_group(r->groups[i]);
    free(r->groups);
    free_group(r->total);
    proto_free_string(r->query_id);
    proto_free_string(r->error);
    free(r);
    *r_p = NULL;
}

static const char *str(const char *s)
{
    return s ? s : "";
}

/* Ordinal of the column called name in ds, or -1 with *cause set. */
static int column(const node_store_dataset_t *ds, const char *name, char **cause)
{
    int k = node_store_column_index(ds, str(name));
    if (k < 0)
        hearth_cause_set(cause, "no column '%s' in dataset %s", str(name), ds->name);
    return k;
}

static bool is_leaf(Hearth__TermOp op)
{
    return op >= HEARTH__TERM_OP__TERM_EQ && op <= HEARTH__TERM_OP__TERM_IS_NOT_NULL;
}

/* The engine's terms for q's filter, with their values in one array;
 * *terms and *values are the caller's to free. */
static hearth_err_t build_terms(const node_store_dataset_t *ds, const Hearth__SubQuery *q,
                                node_engine_term_t **terms, node_engine_value_t **values,
                                char **cause)
{
    *terms = NULL;
    *values = NULL;
    if (q->n_filter > NODE_ENGINE_MAX_TERMS) {
        hearth_cause_set(cause, "filter has %zu terms (limit %d)", q->n_filter,
                         NODE_ENGINE_MAX_TERMS);
        return HEARTH_ERR_TOO_BIG;
    }
    size_t nvalues = 0;
    for (size_t i = 0; i < q->n_filter; i++)
        nvalues += q->filter[i]->n_values;
    if (nvalues > NODE_ENGINE_MAX_VALUES) {
        hearth_cause_set(cause, "filter has more than %d values", NODE_ENGINE_MAX_VALUES);
        return HEARTH_ERR_TOO_BIG;
    }
    node_engine_term_t *t = hearth_calloc(q->n_filter, sizeof *t);
    node_engine_value_t *v = hearth_calloc(nvalues, sizeof *v);
    *terms = t;
    *values = v;
    size_t used = 0;
    for (size_t i = 0; i < q->n_filter; i++) {
        const Hearth__Term *term = q->filter[i];
        if ((unsigned)term->op > HEARTH__TERM_OP__TERM_NOT) {
            hearth_cause_set(cause, "unknown filter operator");
            return HEARTH_ERR_PROTO;
        }
        t[i].op = (node_engine_op_t)term->op;
        if (is_leaf(term->op)) {
            int k = column(ds, term->column, cause);
            if (k < 0)
                return HEARTH_ERR_NOT_FOUND;
            t[i].column = (size_t)k;
        }
        t[i].nvalues = term->n_values;
        t[i].values = &v[used];
        for (size_t j = 0; j < term->n_values; j++, used++) {
            const Hearth__Value *val = term->values[j];
            switch (val->kind_case) {
            case HEARTH__VALUE__KIND_TEXT:
                v[used].kind = NODE_ENGINE_VALUE_TEXT;
                v[used].text = str(val->text);
                v[used].len = strlen(v[used].text);
                break;
            case HEARTH__VALUE__KIND_INTEGER:
                v[used].kind = NODE_ENGINE_VALUE_INTEGER;
                v[used].integer = val->integer;
                break;
            case HEARTH__VALUE__KIND_DECIMAL:
                v[used].kind = NODE_ENGINE_VALUE_DECIMAL;
                v[used].decimal = val->decimal;
                break;
            default:
                hearth_cause_set(cause, "a filter value must be a string or a number");
                return HEARTH_ERR_PROTO;
            }
        }
    }
    return HEARTH_OK;
}

/* One wire cell from an engine cell; for SUM and MEAN the records and
 * persons behind the measure's non-NULL values. */
static Hearth__GroupCount *group_count(const node_engine_t *engine, int di,
                                       const node_engine_query_t *eq,
                                       const node_engine_group_t *g, bool grouped)
{
    Hearth__GroupCount *out = hearth_malloc(sizeof *out);
    hearth__group_count__init(out);
    if (grouped && eq->ngroup > 0) {
        out->n_group = eq->ngroup;
        out->group = hearth_calloc(eq->ngroup, sizeof *out->group);
        for (size_t k = 0; k < eq->ngroup; k++) {
            const char *s = node_engine_text(engine, (size_t)di, eq->group[k], g->codes[k],
                                             NULL);
            out->group[k] = s ? proto_value_text(s) : proto_value_null();
        }
    }
    if (eq->measure >= 0) {
        out->records = g->measured;
        out->persons = g->measured_persons;
        out->sum = g->sum;
    } else {
        out->records = g->records;
        out->persons = g->persons;
    }
    return out;
}

hearth_err_t node_answer_run(const node_engine_t *engine, const Hearth__SubQuery *q,
                             Hearth__SubResult **out, char **cause)
{
    *out = NULL;
    int di = node_engine_find(engine, str(q->dataset));
    if (di < 0) {
        hearth_cause_set(cause, "this node has no dataset '%s'", str(q->dataset));
        return HEARTH_ERR_NOT_FOUND;
    }
    const node_store_dataset_t *ds = node_engine_dataset(engine, (size_t)di);
    if (q->n_group_by > NODE_ENGINE_MAX_GROUP_BY) {
        hearth_cause_set(cause, "at most %d GROUP BY columns", NODE_ENGINE_MAX_GROUP_BY);
        return HEARTH_ERR_TOO_BIG;
    }
    node_engine_query_t eq = {.dataset = (size_t)di, .ngroup = q->n_group_by, .measure = -1};
    switch (q->measure) {
    case HEARTH__MEASURE__MEASURE_COUNT_RECORDS:
    case HEARTH__MEASURE__MEASURE_COUNT_PERSONS:
        break;
    case HEARTH__MEASURE__MEASURE_SUM:
    case HEARTH__MEASURE__MEASURE_MEAN:
        if ((eq.measure = column(ds, q->measure_column, cause)) < 0)
            return HEARTH_ERR_NOT_FOUND;
        break;
    default:
        hearth_cause_set(cause, "unknown measure");
        return HEARTH_ERR_PROTO;
    }
    for (size_t k = 0; k < q->n_group_by; k++) {
        int c = column(ds, q->group_by[k], cause);
        if (c < 0)
            return HEARTH_ERR_NOT_FOUND;
        eq.group[k] = (size_t)c;
    }
    node_engine_term_t *terms = NULL;
    node_engine_value_t *values = NULL;
    node_engine_result_t *res = NULL;
    hearth_err_t rc = build_terms(ds, q, &terms, &values, cause);
    if (rc == HEARTH_OK) {
        eq.nterms = q->n_filter;
        eq.terms = terms;
        rc = node_engine_run(engine, &eq, &res, cause);
    }
    free(terms);
    free(values);
    if (rc != HEARTH_OK)
        return rc;
    Hearth__SubResult *r = hearth_malloc(sizeof *r);
    hearth__sub_result__init(r);
    r->query_id = hearth_strdup(str(q->query_id));
    r->ok = 1;
    if (res->ngroups > 0) {
        r->groups = hearth_calloc(res->ngroups, sizeof *r->groups);
        for (size_t i = 0; i < res->ngroups; i++)
            r->groups[r->n_groups++] = group_count(engine, di, &eq, &res->groups[i], true);
    }
    r->total = group_count(engine, di, &eq, &res->total, false);
    node_engine_result_destroy(&res);
    *out = r;
    return HEARTH_OK;
}
