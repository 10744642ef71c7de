#include "node_answer.h"
#include "hearth_mem.h"
#include "proto_codec.h"
#include "proto_cohort.h"
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
    free(g->top);
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
        if ((unsigned)term->op > HEARTH__TERM_OP__TERM_EXISTS) {
            hearth_cause_set(cause, "unknown filter operator");
            return HEARTH_ERR_PROTO;
        }
        t[i].op = (node_engine_op_t)term->op;
        if (is_leaf(term->op)) {
            int k = column(ds, term->column, cause);
            if (k < 0)
                return HEARTH_ERR_NOT_FOUND;
            t[i].column = (size_t)k;
        } else if (term->op == HEARTH__TERM_OP__TERM_EXISTS) {
            /* Only a cohort part has atoms, so an EXISTS term anywhere
             * else falls here too. */
            if (term->atom >= q->atoms) {
                hearth_cause_set(cause, "an EXISTS term names an atom the sub-query does "
                                 "not have");
                return HEARTH_ERR_PROTO;
            }
            t[i].column = term->atom;
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

void node_answer_query_free(node_answer_query_t *q)
{
    if (q == NULL)
        return;
    free(q->terms);
    free(q->values);
    memset(q, 0, sizeof *q);
}

hearth_err_t node_answer_query_init(const node_engine_t *engine, const Hearth__SubQuery *sq,
                                    node_answer_query_t *out, char **cause)
{
    memset(out, 0, sizeof *out);
    node_engine_query_t *eq = &out->q;
    eq->measure = -1;
    int di = node_engine_find(engine, str(sq->dataset));
    if (di < 0) {
        hearth_cause_set(cause, "this node has no dataset '%s'", str(sq->dataset));
        return HEARTH_ERR_NOT_FOUND;
    }
    eq->dataset = (size_t)di;
    const node_store_dataset_t *ds = node_engine_dataset(engine, (size_t)di);
    switch (sq->kind) {
    case HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE:
    case HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT:
    case HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET:
        break;
    default:
        hearth_cause_set(cause, "unknown sub-query kind");
        return HEARTH_ERR_PROTO;
    }
    if (sq->atoms > PROTO_COHORT_MAX_ATOMS) {
        hearth_cause_set(cause, "at most %d EXISTS sub-selects in one query",
                         PROTO_COHORT_MAX_ATOMS);
        return HEARTH_ERR_TOO_BIG;
    }
    if (sq->atoms != 0 && sq->kind != HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT) {
        hearth_cause_set(cause, "only a cohort part has EXISTS atoms");
        return HEARTH_ERR_PROTO;
    }
    eq->natoms = sq->atoms;
    if (sq->n_group_by > NODE_ENGINE_MAX_GROUP_BY) {
        hearth_cause_set(cause, "at most %d GROUP BY columns", NODE_ENGINE_MAX_GROUP_BY);
        return HEARTH_ERR_TOO_BIG;
    }
    eq->ngroup = sq->n_group_by;
    switch (sq->measure) {
    case HEARTH__MEASURE__MEASURE_COUNT_RECORDS:
    case HEARTH__MEASURE__MEASURE_COUNT_PERSONS:
        break;
    case HEARTH__MEASURE__MEASURE_SUM:
    case HEARTH__MEASURE__MEASURE_MEAN:
        if ((eq->measure = column(ds, sq->measure_column, cause)) < 0)
            return HEARTH_ERR_NOT_FOUND;
        break;
    default:
        hearth_cause_set(cause, "unknown measure");
        return HEARTH_ERR_PROTO;
    }
    for (size_t k = 0; k < sq->n_group_by; k++) {
        int c = column(ds, sq->group_by[k], cause);
        if (c < 0)
            return HEARTH_ERR_NOT_FOUND;
        eq->group[k] = (size_t)c;
    }
    hearth_err_t rc = build_terms(ds, sq, &out->terms, &out->values, cause);
    if (rc != HEARTH_OK)
        return rc;
    eq->nterms = sq->n_filter;
    eq->terms = out->terms;
    return HEARTH_OK;
}

/* One wire cell from an engine cell; for SUM and MEAN the records and
 * persons behind the measure's non-NULL values, and the largest per-person
 * sums of their absolute values (for the gateway's dominance rule). */
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
        if (g->ntop > 0) {
            out->n_top = g->ntop;
            out->top = hearth_reallocarray(NULL, g->ntop, sizeof *out->top);
            memcpy(out->top, g->top, g->ntop * sizeof *out->top);
        }
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
    if (q->kind != HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE) {
        hearth_cause_set(cause, "not an aggregate sub-query");
        return HEARTH_ERR_PROTO;
    }
    node_answer_query_t aq;
    node_engine_result_t *res = NULL;
    hearth_err_t rc = node_answer_query_init(engine, q, &aq, cause);
    if (rc == HEARTH_OK)
        rc = node_engine_run(engine, &aq.q, &res, cause);
    if (rc != HEARTH_OK) {
        node_answer_query_free(&aq);
        return rc;
    }
    const node_engine_query_t *eq = &aq.q;
    int di = (int)eq->dataset;
    Hearth__SubResult *r = hearth_malloc(sizeof *r);
    hearth__sub_result__init(r);
    r->query_id = hearth_strdup(str(q->query_id));
    r->ok = 1;
    r->part = q->part;
    if (res->ngroups > 0) {
        r->groups = hearth_calloc(res->ngroups, sizeof *r->groups);
        for (size_t i = 0; i < res->ngroups; i++)
            r->groups[r->n_groups++] = group_count(engine, di, eq, &res->groups[i], true);
    }
    r->total = group_count(engine, di, eq, &res->total, false);
    node_engine_result_destroy(&res);
    node_answer_query_free(&aq);
    *out = r;
    return HEARTH_OK;
}
