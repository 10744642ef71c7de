#include "gw_plan.h"
#include "hearth_buf.h"
#include "hearth_date.h"
#include "hearth_mem.h"
#include "proto_codec.h"
#include "proto_value.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    Hearth__Term **terms;
    size_t n, cap;
} terms_t;

/* What planning one query needs beyond the dataset at hand. */
typedef struct {
    const gw_plan_node_t *nodes;
    size_t nnodes;
    const char *query_id;
    gw_parse_error_t *err;
    const gw_expr_t *exists[PROTO_COHORT_MAX_ATOMS];  /* in source order */
    unsigned natoms;
    /* The TARGET parts, indexed by atom: planned the first time the base
     * filter is emitted, so errors in a sub-select come in source order. */
    gw_plan_part_t *targets;
    bool plan_targets;
    bool in_target;           /* emitting a sub-select's own WHERE */
} ctx_t;

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

/* Frees terms built for a sub-query that will not be sent. */
static void free_terms(terms_t *t)
{
    Hearth__SubQuery *holder = hearth_malloc(sizeof *holder);
    hearth__sub_query__init(holder);
    holder->filter = t->terms;
    holder->n_filter = t->n;
    free_sub(holder);
    t->terms = NULL;
    t->n = 0;
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

static const char *type_name(Hearth__ColumnType t)
{
    switch (t) {
    case HEARTH__COLUMN_TYPE__COLUMN_INTEGER: return "integer";
    case HEARTH__COLUMN_TYPE__COLUMN_DECIMAL: return "decimal";
    case HEARTH__COLUMN_TYPE__COLUMN_DATE: return "date";
    default: return "categorical";
    }
}

/* True when s is a real calendar date written YYYY-MM-DD. */
static bool iso_date(const char *s)
{
    bool iso = false;
    return hearth_date_parse(s, strlen(s), 1, 9999, NULL, &iso) == HEARTH_DATE_OK && iso;
}

/* A literal as the wire value the column compares with, or a type error:
 * numbers for numeric columns, dates for date columns (a string literal is
 * taken as a date, as SQL analysts expect), text for categorical ones. */
static hearth_err_t literal_value(const gw_literal_t *lit, const Hearth__Column *col,
                                  Hearth__Value **out, gw_parse_error_t *err)
{
    *out = NULL;
    switch (col->type) {
    case HEARTH__COLUMN_TYPE__COLUMN_INTEGER:
    case HEARTH__COLUMN_TYPE__COLUMN_DECIMAL:
        if (lit->kind == GW_LIT_INTEGER) {
            *out = proto_value_integer(lit->integer);
            return HEARTH_OK;
        }
        if (lit->kind == GW_LIT_DECIMAL) {
            *out = proto_value_decimal(lit->decimal);
            return HEARTH_OK;
        }
        set_err(err, lit->offset, "column '%s' is %s: compare it with a number, not %s",
                col->name, type_name(col->type),
                lit->kind == GW_LIT_DATE ? "a date" : "a string");
        return HEARTH_ERR_PARSE;
    case HEARTH__COLUMN_TYPE__COLUMN_DATE:
        if (lit->kind == GW_LIT_DATE || (lit->kind == GW_LIT_STRING && iso_date(lit->text))) {
            *out = proto_value_text(lit->text);
            return HEARTH_OK;
        }
        set_err(err, lit->offset, "column '%s' is a date: compare it with DATE 'YYYY-MM-DD' "
                "or a string such as '2026-01-31'", col->name);
        return HEARTH_ERR_PARSE;
    default:
        /* Categorical values are text; a number written without quotes
         * means its usual spelling. */
        *out = proto_value_text(lit->text);
        return HEARTH_OK;
    }
}

static hearth_err_t plan_target(ctx_t *ctx, unsigned atom);

/* Emits e in postfix against ds (at node) into t. An EXISTS becomes a
 * TERM_EXISTS atom; its sub-select is planned on the first pass. */
static hearth_err_t emit(ctx_t *ctx, const gw_expr_t *e, const Hearth__Dataset *ds,
                         const char *node, terms_t *t)
{
    gw_parse_error_t *err = ctx->err;
    hearth_err_t rc;
    switch (e->kind) {
    case GW_EXPR_AND:
    case GW_EXPR_OR:
        if ((rc = emit(ctx, e->left, ds, node, t)) != HEARTH_OK ||
            (rc = emit(ctx, e->right, ds, node, t)) != HEARTH_OK)
            return rc;
        push_term(t, e->kind == GW_EXPR_AND ? HEARTH__TERM_OP__TERM_AND
                                            : HEARTH__TERM_OP__TERM_OR);
        return HEARTH_OK;
    case GW_EXPR_NOT:
        if ((rc = emit(ctx, e->left, ds, node, t)) != HEARTH_OK)
            return rc;
        push_term(t, HEARTH__TERM_OP__TERM_NOT);
        return HEARTH_OK;
    case GW_EXPR_EXISTS: {
        unsigned atom = 0;
        while (atom < ctx->natoms && ctx->exists[atom] != e)
            atom++;
        /* The parser refuses nested EXISTS; a hand-built tree may not. */
        if (ctx->in_target || atom == ctx->natoms) {
            set_err(err, e->offset, "EXISTS may not be nested");
            return HEARTH_ERR_PARSE;
        }
        if (ctx->plan_targets && (rc = plan_target(ctx, atom)) != HEARTH_OK)
            return rc;
        push_term(t, HEARTH__TERM_OP__TERM_EXISTS)->atom = atom;
        return HEARTH_OK;
    }
    default:
        break;
    }
    const Hearth__Column *col = NULL;
    if ((rc = check_column(ds, node, e->column, e->column_offset, false, err, &col)) != HEARTH_OK)
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
            if ((rc = literal_value(&e->values[i], col, &term->values[i], err)) != HEARTH_OK)
                return rc;
    }
    return HEARTH_OK;
}

/* Emits where (NULL: no filter) into *terms and checks the nodes' limits,
 * reporting a filter that is too long at offset. Frees the terms on error. */
static hearth_err_t emit_filter(ctx_t *ctx, const gw_expr_t *where, const Hearth__Dataset *ds,
                                const char *node, terms_t *terms)
{
    hearth_err_t rc;
    if (where && (rc = emit(ctx, where, ds, node, terms)) != HEARTH_OK) {
        free_terms(terms);
        return rc;
    }
    size_t nvalues = 0;
    for (size_t i = 0; i < terms->n; i++)
        nvalues += terms->terms[i]->n_values;
    if (terms->n > GW_PLAN_MAX_TERMS || nvalues > GW_PLAN_MAX_VALUES) {
        set_err(ctx->err, where ? where->offset : 0, "the WHERE clause is too long for the nodes: %zu "
                "conditions and operators with %zu values (limits %d and %d)", terms->n,
                nvalues, GW_PLAN_MAX_TERMS, GW_PLAN_MAX_VALUES);
        free_terms(terms);
        return HEARTH_ERR_TOO_BIG;
    }
    return HEARTH_OK;
}

static Hearth__SubQuery *sub_new(const char *query_id, const Hearth__Dataset *ds,
                                 Hearth__SubQueryKind kind, terms_t *terms)
{
    Hearth__SubQuery *sub = hearth_malloc(sizeof *sub);
    hearth__sub_query__init(sub);
    sub->query_id = hearth_strdup(query_id);
    sub->dataset = hearth_strdup(ds->name);
    sub->kind = kind;
    sub->filter = terms->terms;
    sub->n_filter = terms->n;
    terms->terms = NULL;
    terms->n = 0;
    return sub;
}

/* Plans EXISTS atom `atom` as a TARGET part: the persons of its dataset
 * matching its WHERE, typed against that dataset's columns. */
static hearth_err_t plan_target(ctx_t *ctx, unsigned atom)
{
    const gw_expr_t *e = ctx->exists[atom];
    size_t node = 0;
    const Hearth__Dataset *ds = NULL;
    hearth_err_t rc = resolve_dataset(&e->exists_from, ctx->nodes, ctx->nnodes, &node, &ds,
                                      ctx->err);
    if (rc != HEARTH_OK)
        return rc;
    terms_t terms = {0};
    ctx->in_target = true;
    rc = emit_filter(ctx, e->exists_where, ds, ctx->nodes[node].name, &terms);
    ctx->in_target = false;
    if (rc != HEARTH_OK)
        return rc;
    Hearth__SubQuery *sub = sub_new(ctx->query_id, ds, HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET,
                                    &terms);
    sub->measure = HEARTH__MEASURE__MEASURE_COUNT_PERSONS;
    gw_plan_part_t *part = &ctx->targets[atom];
    part->node = node;
    part->sub = sub;
    part->kind = HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET;
    part->atom = atom;
    part->payload = PROTO_COHORT_PERSONS_ONLY;
    return HEARTH_OK;
}

static proto_cohort_payload_t payload_of(gw_measure_t m)
{
    switch (m) {
    case GW_MEASURE_COUNT_RECORDS: return PROTO_COHORT_RECORDS;
    case GW_MEASURE_SUM:
    case GW_MEASURE_MEAN: return PROTO_COHORT_SUMS;
    case GW_MEASURE_COUNT_PERSONS: break;
    }
    return PROTO_COHORT_PERSONS_ONLY;
}

/* Plans one FROM dataset as an AGGREGATE part, or a COHORT part when the
 * query is linked. */
static hearth_err_t plan_part(ctx_t *ctx, const gw_query_t *q, const gw_dsref_t *ref,
                              bool linked, gw_plan_part_t *part, bool *measure_integer)
{
    gw_parse_error_t *err = ctx->err;
    size_t node = 0;
    const Hearth__Dataset *ds = NULL;
    hearth_err_t rc = resolve_dataset(ref, ctx->nodes, ctx->nnodes, &node, &ds, err);
    if (rc != HEARTH_OK)
        return rc;
    const char *name = ctx->nodes[node].name;
    for (size_t g = 0; g < q->ngroup; g++)
        if ((rc = check_column(ds, name, q->group[g], q->group_offset[g], true, err, NULL)) != HEARTH_OK)
            return rc;
    if (q->measure == GW_MEASURE_SUM || q->measure == GW_MEASURE_MEAN) {
        const Hearth__Column *mc = NULL;
        if ((rc = check_column(ds, name, q->measure_column, q->measure_offset, false, err, &mc)) != HEARTH_OK)
            return rc;
        if (mc->type != HEARTH__COLUMN_TYPE__COLUMN_INTEGER &&
            mc->type != HEARTH__COLUMN_TYPE__COLUMN_DECIMAL) {
            set_err(err, q->measure_offset, "column '%s' is %s; %s needs an integer or decimal "
                    "column", mc->name, type_name(mc->type),
                    q->measure == GW_MEASURE_SUM ? "SUM" : "MEAN");
            return HEARTH_ERR_PARSE;
        }
        if (mc->type != HEARTH__COLUMN_TYPE__COLUMN_INTEGER)
            *measure_integer = false;
    }
    terms_t terms = {0};
    if ((rc = emit_filter(ctx, q->where, ds, name, &terms)) != HEARTH_OK)
        return rc;
    static const Hearth__Measure MEASURES[] = {
        [GW_MEASURE_COUNT_RECORDS] = HEARTH__MEASURE__MEASURE_COUNT_RECORDS,
        [GW_MEASURE_COUNT_PERSONS] = HEARTH__MEASURE__MEASURE_COUNT_PERSONS,
        [GW_MEASURE_SUM] = HEARTH__MEASURE__MEASURE_SUM,
        [GW_MEASURE_MEAN] = HEARTH__MEASURE__MEASURE_MEAN};
    Hearth__SubQueryKind kind = linked ? HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT
                                       : HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE;
    Hearth__SubQuery *sub = sub_new(ctx->query_id, ds, kind, &terms);
    sub->measure = MEASURES[q->measure];
    if (q->measure_column)
        sub->measure_column = hearth_strdup(q->measure_column);
    if (q->ngroup) {
        sub->group_by = hearth_calloc(q->ngroup, sizeof *sub->group_by);
        for (size_t g = 0; g < q->ngroup; g++)
            sub->group_by[g] = hearth_strdup(q->group[g]);
        sub->n_group_by = q->ngroup;
    }
    sub->atoms = linked ? ctx->natoms : 0;
    part->node = node;
    part->sub = sub;
    part->kind = kind;
    part->payload = payload_of(q->measure);
    return HEARTH_OK;
}

/* Collects the EXISTS sub-selects of e in source order (the order emit
 * meets them). Past PROTO_COHORT_MAX_ATOMS, refuses at the first one over. */
static hearth_err_t collect_exists(ctx_t *ctx, const gw_expr_t *e)
{
    hearth_err_t rc;
    switch (e->kind) {
    case GW_EXPR_AND:
    case GW_EXPR_OR:
        if ((rc = collect_exists(ctx, e->left)) != HEARTH_OK)
            return rc;
        return collect_exists(ctx, e->right);
    case GW_EXPR_NOT:
        return collect_exists(ctx, e->left);
    case GW_EXPR_EXISTS:
        if (ctx->natoms == PROTO_COHORT_MAX_ATOMS) {
            set_err(ctx->err, e->offset, "at most %d EXISTS sub-selects in one query",
                    PROTO_COHORT_MAX_ATOMS);
            return HEARTH_ERR_REFUSED;
        }
        ctx->exists[ctx->natoms++] = e;
        return HEARTH_OK;
    default:
        return HEARTH_OK;
    }
}

/* Numbers each part within its node (part, nparts) and gives parts on the
 * same node.dataset the same dataset number. */
static void number_parts(gw_plan_t *plan)
{
    unsigned ndatasets = 0;
    for (size_t i = 0; i < plan->nparts; i++) {
        gw_plan_part_t *p = &plan->parts[i];
        uint32_t part = 0, nparts = 0;
        p->dataset = ndatasets;
        bool seen = false;
        for (size_t j = 0; j < plan->nparts; j++) {
            const gw_plan_part_t *o = &plan->parts[j];
            if (o->node != p->node)
                continue;
            nparts++;
            if (j >= i)
                continue;
            part++;
            if (!seen && strcmp(o->sub->dataset, p->sub->dataset) == 0) {
                p->dataset = o->dataset;
                seen = true;
            }
        }
        if (!seen)
            ndatasets++;
        p->sub->part = part;
        p->sub->nparts = nparts;
    }
}

hearth_err_t gw_plan_build(const gw_query_t *q, const gw_plan_node_t *nodes, size_t nnodes,
                           const char *query_id, gw_plan_t **out, gw_parse_error_t *err)
{
    *out = NULL;
    memset(err, 0, sizeof *err);
    ctx_t ctx = {.nodes = nodes, .nnodes = nnodes, .query_id = query_id, .err = err};
    gw_plan_t *plan = hearth_calloc(1, sizeof *plan);
    plan->measure = q->measure;
    plan->measure_integer = q->measure == GW_MEASURE_SUM || q->measure == GW_MEASURE_MEAN;
    hearth_err_t rc = HEARTH_OK;
    if (q->where && (rc = collect_exists(&ctx, q->where)) != HEARTH_OK)
        goto fail;
    plan->natoms = ctx.natoms;
    plan->linked = ctx.natoms > 0 || (q->measure == GW_MEASURE_COUNT_PERSONS && q->nfrom > 1);
    for (size_t g = 0; g < q->ngroup; g++)
        plan->group[plan->ngroup++] = hearth_strdup(q->group[g]);
    /* Every slot exists from the start (calloc'd), so that a failure part
     * way through frees whatever was planned. */
    plan->nparts = q->nfrom + ctx.natoms;
    plan->parts = hearth_calloc(plan->nparts, sizeof *plan->parts);
    ctx.targets = &plan->parts[q->nfrom];
    for (size_t f = 0; f < q->nfrom; f++) {
        for (size_t k = 0; k < f; k++)
            if (strcmp(q->from[k].node, q->from[f].node) == 0 &&
                strcmp(q->from[k].dataset, q->from[f].dataset) == 0) {
                set_err(err, q->from[f].offset, "%s.%.63s appears twice in the UNION",
                        q->from[f].node, q->from[f].dataset);
                rc = HEARTH_ERR_PARSE;
                goto fail;
            }
        ctx.plan_targets = f == 0;
        if ((rc = plan_part(&ctx, q, &q->from[f], plan->linked, &plan->parts[f],
                            &plan->measure_integer)) != HEARTH_OK)
            goto fail;
    }
    number_parts(plan);
    *out = plan;
    return HEARTH_OK;
fail:
    gw_plan_destroy(&plan);
    return rc;
}
