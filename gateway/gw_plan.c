#include "gw_plan.h"
#include "hearth_buf.h"
#include "hearth_mem.h"
#include "proto_codec.h"
#include "proto_value.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    Hearth__Term **terms;
    size_t n, cap;
} terms_t;

static void set_err(gw_parse_error_t *err, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(gw_parse_error_t *err, size_t offset, const char *fmt, ...)
{
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

size_t gw_plan_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return cap + 1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *cur);
    }
    return prev[lb] > cap ? cap + 1 : prev[lb];
}

static void free_sub(Hearth__SubQuery *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_filter; i++) {
        Hearth__Term *t = s->filter[i];
        for (size_t v = 0; v < t->n_values; v++)
            proto_value_free(t->values[v]);
        free(t->values);
        proto_free_string(t->column);
        free(t);
    }
    free(s->filter);
    for (size_t i = 0; i < s->n_group_by; i++)
        proto_free_string(s->group_by[i]);
    free(s->group_by);
    proto_free_string(s->query_id);
    proto_free_string(s->dataset);
    proto_free_string(s->measure_column);
    free(s);
}

void gw_plan_destroy(gw_plan_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    gw_plan_t *self = *self_p;
    for (size_t i = 0; i < self->nparts; i++)
        free_sub(self->parts[i].sub);
    free(self->parts);
    for (size_t i = 0; i < self->ngroup; i++)
        free(self->group[i]);
    free(self);
    *self_p = NULL;
}

static const Hearth__Dataset *find_dataset(const gw_plan_node_t *node, const char *name)
{
    if (node->hello == NULL)
        return NULL;
    for (size_t i = 0; i < node->hello->n_datasets; i++)
        if (node->hello->datasets[i]->name && strcmp(node->hello->datasets[i]->name, name) == 0)
            return node->hello->datasets[i];
    return NULL;
}

static const Hearth__Column *find_column(const Hearth__Dataset *ds, const char *name)
{
    for (size_t i = 0; i < ds->n_columns; i++)
        if (ds->columns[i]->name && strcmp(ds->columns[i]->name, name) == 0)
            return ds->columns[i];
    return NULL;
}

/* "did you mean 'ward'?" when one name is close, else the list of names. */
static void suggest_column(const Hearth__Dataset *ds, const char *name, char *out, size_t cap)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < ds->n_columns; i++) {
        size_t d = gw_plan_distance(name, ds->columns[i]->name, 2);
        if (d < best_d) {
            best_d = d;
            best = ds->columns[i]->name;
        }
    }
    if (best) {
        snprintf(out, cap, "did you mean '%s'?", best);
        return;
    }
    hearth_buf_t b;
    hearth_buf_init(&b, cap > 1 ? cap - 1 : 0);
    hearth_buf_adds(&b, "columns are:");
    for (size_t i = 0; i < ds->n_columns; i++)
        if (hearth_buf_printf(&b, "%s %s", i ? "," : "", ds->columns[i]->name) != HEARTH_OK)
            break;
    snprintf(out, cap, "%s", hearth_buf_str(&b));
    hearth_buf_free(&b);
}

static hearth_err_t resolve_dataset(const gw_dsref_t *ref, const gw_plan_node_t *nodes,
                                    size_t nnodes, size_t *node_out,
                                    const Hearth__Dataset **ds_out, gw_parse_error_t *err)
{
    for (size_t n = 0; n < nnodes; n++) {
        if (strcmp(nodes[n].name, ref->node) != 0)
            continue;
        if (nodes[n].hello == NULL) {
            set_err(err, ref->offset, "node '%s' has not connected to the gateway yet; "
                    "try again shortly", ref->node);
            return HEARTH_ERR_NOT_FOUND;
        }
        const Hearth__Dataset *ds = find_dataset(&nodes[n], ref->dataset);
        if (ds == NULL) {
            const char *best = NULL;
            size_t best_d = 3;
            for (size_t i = 0; i < nodes[n].hello->n_datasets; i++) {
                size_t d = gw_plan_distance(ref->dataset, nodes[n].hello->datasets[i]->name, 2);
                if (d < best_d) {
                    best_d = d;
                    best = nodes[n].hello->datasets[i]->name;
                }
            }
            if (best) {
                set_err(err, ref->offset, "no dataset '%s.%.63s'; did you mean '%s.%s'?",
                        ref->node, ref->dataset, ref->node, best);
            } else {
                char list[160] = "";
                size_t used = 0;
                for (size_t i = 0; i < nodes[n].hello->n_datasets && used < sizeof list; i++) {
                    int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     nodes[n].hello->datasets[i]->name);
                    if (w < 0)
                        break;
                    used += (size_t)w;
                }
                set_err(err, ref->offset, "no dataset '%s.%.63s'; %s has: %s", ref->node,
                        ref->dataset, ref->node, used ? list : "no datasets");
            }
            return HEARTH_ERR_PARSE;
        }
        *node_out = n;
        *ds_out = ds;
        return HEARTH_OK;
    }
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t n = 0; n < nnodes; n++) {
        size_t d = gw_plan_distance(ref->node, nodes[n].name, 2);
        if (d < best_d) {
            best_d = d;
            best = nodes[n].name;
        }
    }
    if (best)
        set_err(err, ref->offset, "no node '%.63s'; did you mean '%s'?", ref->node, best);
    else
        set_err(err, ref->offset, "no node '%.63s' in this partnership", ref->node);
    return HEARTH_ERR_PARSE;
}

static hearth_err_t check_column(const Hearth__Dataset *ds, const char *node, const char *col,
                                 size_t offset, bool categorical_only, gw_parse_error_t *err,
                                 const Hearth__Column **out)
{
    const Hearth__Column *c = find_column(ds, col);
    if (c == NULL) {
        char hint[160];
        suggest_column(ds, col, hint, sizeof hint);
        set_err(err, offset, "no column '%.63s' in %s.%s; %s", col, node, ds->name, hint);
        return HEARTH_ERR_PARSE;
    }
    if (categorical_only && c->type != HEARTH__COLUMN_TYPE__COLUMN_CATEGORICAL) {
        set_err(err, offset, "column '%s' is not categorical; GROUP BY needs a categorical "
                "column", col);
        return HEARTH_ERR_PARSE;
    }
    if (out)
        *out = c;
    return HEARTH_OK;
}

static Hearth__Term *push_term(terms_t *t, Hearth__TermOp op)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->terms = hearth_reallocarray(t->terms, t->cap, sizeof *t->terms);
    }
    Hearth__Term *term = hearth_malloc(sizeof *term);
    hearth__term__init(term);
    term->op = op;
    t->terms[t->n++] = term;
    return term;
}

/* A literal as the wire value the column compares with. Attribute values
 * are stored as text in this version, so every literal travels as text in
 * its canonical spelling. */
static Hearth__Value *literal_value(const gw_literal_t *lit)
{
    return proto_value_text(lit->text);
}

static hearth_err_t emit(const gw_expr_t *e, const Hearth__Dataset *ds, const char *node,
                         terms_t *t, gw_parse_error_t *err)
{
    hearth_err_t rc;
    switch (e->kind) {
    case GW_EXPR_AND:
    case GW_EXPR_OR:
        if ((rc = emit(e->left, ds, node, t, err)) != HEARTH_OK ||
            (rc = emit(e->right, ds, node, t, err)) != HEARTH_OK)
            return rc;
        push_term(t, e->kind == GW_EXPR_AND ? HEARTH__TERM_OP__TERM_AND
                                            : HEARTH__TERM_OP__TERM_OR);
        return HEARTH_OK;
    case GW_EXPR_NOT:
        if ((rc = emit(e->left, ds, node, t, err)) != HEARTH_OK)
            return rc;
        push_term(t, HEARTH__TERM_OP__TERM_NOT);
        return HEARTH_OK;
    case GW_EXPR_EXISTS:
        set_err(err, e->offset, "EXISTS (linking people across partners) is not supported "
                "by this version of the gateway");
        return HEARTH_ERR_REFUSED;
    default:
        break;
    }
    if ((rc = check_column(ds, node, e->column, e->column_offset, false, err, NULL)) != HEARTH_OK)
        return rc;
    static const Hearth__TermOp CMP[] = {
        [GW_CMP_EQ] = HEARTH__TERM_OP__TERM_EQ, [GW_CMP_NE] = HEARTH__TERM_OP__TERM_NE,
        [GW_CMP_LT] = HEARTH__TERM_OP__TERM_LT, [GW_CMP_LE] = HEARTH__TERM_OP__TERM_LE,
        [GW_CMP_GT] = HEARTH__TERM_OP__TERM_GT, [GW_CMP_GE] = HEARTH__TERM_OP__TERM_GE};
    Hearth__TermOp op = e->kind == GW_EXPR_CMP ? CMP[e->cmp]
                      : e->kind == GW_EXPR_IN ? HEARTH__TERM_OP__TERM_IN
                      : e->kind == GW_EXPR_BETWEEN ? HEARTH__TERM_OP__TERM_BETWEEN
                      : e->kind == GW_EXPR_IS_NULL ? HEARTH__TERM_OP__TERM_IS_NULL
                                                   : HEARTH__TERM_OP__TERM_IS_NOT_NULL;
    Hearth__Term *term = push_term(t, op);
    term->column = hearth_strdup(e->column);
    if (e->nvalues) {
        term->values = hearth_calloc(e->nvalues, sizeof *term->values);
        term->n_values = e->nvalues;
        for (size_t i = 0; i < e->nvalues; i++)
            term->values[i] = literal_value(&e->values[i]);
    }
    return HEARTH_OK;
}

hearth_err_t gw_plan_build(const gw_query_t *q, const gw_plan_node_t *nodes, size_t nnodes,
                           const char *query_id, gw_plan_t **out, gw_parse_error_t *err)
{
    *out = NULL;
    memset(err, 0, sizeof *err);
    gw_plan_t *plan = hearth_calloc(1, sizeof *plan);
    plan->measure = q->measure;
    hearth_err_t rc = HEARTH_OK;
    terms_t terms = {0};
    if (q->measure == GW_MEASURE_SUM || q->measure == GW_MEASURE_MEAN) {
        set_err(err, q->measure_offset, "SUM and MEAN are not supported by this version of "
                "the gateway; use COUNT(*) or COUNT(PERSONS)");
        rc = HEARTH_ERR_REFUSED;
        goto fail;
    }
    if (q->nfrom != 1) {
        set_err(err, q->from[1].offset, "UNION is not supported by this version of the "
                "gateway");
        rc = HEARTH_ERR_REFUSED;
        goto fail;
    }
    size_t node = 0;
    const Hearth__Dataset *ds = NULL;
    if ((rc = resolve_dataset(&q->from[0], nodes, nnodes, &node, &ds, err)) != HEARTH_OK)
        goto fail;
    for (size_t g = 0; g < q->ngroup; g++) {
        if ((rc = check_column(ds, nodes[node].name, q->group[g], q->group_offset[g], true, err,
                               NULL)) != HEARTH_OK)
            goto fail;
        plan->group[plan->ngroup++] = hearth_strdup(q->group[g]);
    }
    if (q->where && (rc = emit(q->where, ds, nodes[node].name, &terms, err)) != HEARTH_OK)
        goto fail;
    Hearth__SubQuery *sub = hearth_malloc(sizeof *sub);
    hearth__sub_query__init(sub);
    sub->query_id = hearth_strdup(query_id);
    sub->dataset = hearth_strdup(ds->name);
    sub->measure = q->measure == GW_MEASURE_COUNT_PERSONS ? HEARTH__MEASURE__MEASURE_COUNT_PERSONS
                                                           : HEARTH__MEASURE__MEASURE_COUNT_RECORDS;
    if (q->ngroup) {
        sub->group_by = hearth_calloc(q->ngroup, sizeof *sub->group_by);
        for (size_t g = 0; g < q->ngroup; g++)
            sub->group_by[g] = hearth_strdup(q->group[g]);
        sub->n_group_by = q->ngroup;
    }
    sub->filter = terms.terms;
    sub->n_filter = terms.n;
    terms.terms = NULL;
    terms.n = 0;
    plan->parts = hearth_calloc(1, sizeof *plan->parts);
    plan->parts[0].node = node;
    plan->parts[0].sub = sub;
    plan->nparts = 1;
    *out = plan;
    return HEARTH_OK;
fail:
    if (terms.terms) {
        Hearth__SubQuery tmp = HEARTH__SUB_QUERY__INIT;
        Hearth__SubQuery *holder = hearth_malloc(sizeof *holder);
        *holder = tmp;
        holder->filter = terms.terms;
        holder->n_filter = terms.n;
        free_sub(holder);
    }
    gw_plan_destroy(&plan);
    return rc;
}
