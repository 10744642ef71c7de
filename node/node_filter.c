#include "node_filter.h"
#include "hearth_buf.h"
#include "hearth_mem.h"

#include <stdlib.h>
#include <string.h>

/* One node of the filter tree. AND / OR nodes are n-ary after flattening. */
typedef struct {
    Hearth__TermOp op;
    size_t term;          /* leaves: index into q->filter */
    size_t first_param;   /* leaves: number of the first ?N */
    size_t *kids;         /* owned: indices into the node array */
    size_t nkids;
    size_t depth;         /* alternations below and including this node */
} fnode_t;

typedef struct {
    fnode_t *nodes;
    size_t n;
    const node_store_dataset_t *ds;
    const Hearth__SubQuery *q;
} tree_t;

static const char *cmp_sql(Hearth__TermOp op)
{
    switch (op) {
    case HEARTH__TERM_OP__TERM_EQ: return "=";
    case HEARTH__TERM_OP__TERM_NE: return "!=";
    case HEARTH__TERM_OP__TERM_LT: return "<";
    case HEARTH__TERM_OP__TERM_LE: return "<=";
    case HEARTH__TERM_OP__TERM_GT: return ">";
    case HEARTH__TERM_OP__TERM_GE: return ">=";
    default: return NULL;
    }
}

/* How many values a leaf operator takes; -1 for "one or more" (IN). */
static int values_needed(Hearth__TermOp op)
{
    if (cmp_sql(op))
        return 1;
    switch (op) {
    case HEARTH__TERM_OP__TERM_BETWEEN: return 2;
    case HEARTH__TERM_OP__TERM_IN: return -1;
    default: return 0;
    }
}

static void add_kid(fnode_t *parent, size_t kid)
{
    parent->kids = hearth_reallocarray(parent->kids, parent->nkids + 1, sizeof *parent->kids);
    parent->kids[parent->nkids++] = kid;
}

/* Adds b (or, when b has the same operator, b's children) under a. */
static void absorb(tree_t *t, size_t a, size_t b)
{
    fnode_t *nb = &t->nodes[b];
    size_t d;
    if (nb->op == t->nodes[a].op && nb->nkids > 0) {
        /* b's children join a's at the same level: no deeper. */
        for (size_t i = 0; i < nb->nkids; i++)
            add_kid(&t->nodes[a], nb->kids[i]);
        free(nb->kids);
        nb->kids = NULL;
        nb->nkids = 0;
        d = nb->depth;
    } else {
        add_kid(&t->nodes[a], b);
        d = nb->depth + 1;
    }
    if (d > t->nodes[a].depth)
        t->nodes[a].depth = d;
}

static hearth_err_t build(tree_t *t, size_t *root, char **cause)
{
    const Hearth__SubQuery *q = t->q;
    size_t *stack = hearth_calloc(q->n_filter, sizeof *stack);
    size_t depth = 0, param = 1, nvalues = 0;
    hearth_err_t rc = HEARTH_ERR_PROTO;
    for (size_t i = 0; i < q->n_filter; i++) {
        const Hearth__Term *term = q->filter[i];
        Hearth__TermOp op = term->op;
        bool logic = op == HEARTH__TERM_OP__TERM_AND || op == HEARTH__TERM_OP__TERM_OR ||
                     op == HEARTH__TERM_OP__TERM_NOT;
        int need = logic ? 0 : values_needed(op);
        if ((need >= 0 && term->n_values != (size_t)need) || (need < 0 && term->n_values == 0)) {
            hearth_cause_set(cause, "malformed filter term");
            goto done;
        }
        nvalues += term->n_values;
        if (nvalues > NODE_FILTER_MAX_VALUES) {
            hearth_cause_set(cause, "filter has more than %d values", NODE_FILTER_MAX_VALUES);
            rc = HEARTH_ERR_TOO_BIG;
            goto done;
        }
        size_t me = t->n++;
        fnode_t *n = &t->nodes[me];
        memset(n, 0, sizeof *n);
        n->op = op;
        n->term = i;
        if (op == HEARTH__TERM_OP__TERM_AND || op == HEARTH__TERM_OP__TERM_OR) {
            if (depth < 2)
                goto malformed;
            size_t b = stack[--depth], a = stack[--depth];
            n->depth = 1;
            absorb(t, me, a);
            absorb(t, me, b);
        } else if (op == HEARTH__TERM_OP__TERM_NOT) {
            if (depth < 1)
                goto malformed;
            size_t a = stack[--depth];
            add_kid(n, a);
            n->depth = t->nodes[a].depth + 1;
        } else {
            if (op != HEARTH__TERM_OP__TERM_TRUE && need == 0 &&
                op != HEARTH__TERM_OP__TERM_IS_NULL && op != HEARTH__TERM_OP__TERM_IS_NOT_NULL) {
                hearth_cause_set(cause, "unknown filter operator");
                goto done;
            }
            n->first_param = param;
            param += term->n_values;
        }
        if (n->depth > NODE_FILTER_MAX_DEPTH) {
            hearth_cause_set(cause, "filter nests AND, OR and NOT more than %d deep",
                             NODE_FILTER_MAX_DEPTH);
            rc = HEARTH_ERR_TOO_BIG;
            goto done;
        }
        stack[depth++] = me;
    }
    if (depth != 1)
        goto malformed;
    *root = stack[0];
    rc = HEARTH_OK;
    goto done;
malformed:
    hearth_cause_set(cause, "malformed filter");
done:
    free(stack);
    return rc;
}

static hearth_err_t emit(const tree_t *t, size_t idx, hearth_buf_t *out, char **cause);

/* Kids lo..hi of node as a chain, grouped by NODE_FILTER_FANOUT. */
static hearth_err_t emit_chain(const tree_t *t, const fnode_t *n, size_t lo, size_t hi,
                               hearth_buf_t *out, char **cause)
{
    const char *op = n->op == HEARTH__TERM_OP__TERM_AND ? " AND " : " OR ";
    size_t count = hi - lo;
    /* Split into at most FANOUT groups of equal size. */
    size_t group = 1;
    while (count > group * NODE_FILTER_FANOUT)
        group *= NODE_FILTER_FANOUT;
    hearth_buf_adds(out, "(");
    for (size_t start = lo; start < hi; start += group) {
        size_t end = start + group < hi ? start + group : hi;
        if (start > lo)
            hearth_buf_adds(out, op);
        hearth_err_t rc = end - start == 1 ? emit(t, n->kids[start], out, cause)
                                           : emit_chain(t, n, start, end, out, cause);
        if (rc != HEARTH_OK)
            return rc;
    }
    return hearth_buf_adds(out, ")");
}

static hearth_err_t emit(const tree_t *t, size_t idx, hearth_buf_t *out, char **cause)
{
    const fnode_t *n = &t->nodes[idx];
    if (n->op == HEARTH__TERM_OP__TERM_AND || n->op == HEARTH__TERM_OP__TERM_OR)
        return emit_chain(t, n, 0, n->nkids, out, cause);
    if (n->op == HEARTH__TERM_OP__TERM_NOT) {
        /* SQL's NOT over NULL is NULL, which WHERE treats as false: the
         * three-valued logic analysts expect from SQL. */
        hearth_buf_adds(out, "(NOT ");
        hearth_err_t rc = emit(t, n->kids[0], out, cause);
        if (rc != HEARTH_OK)
            return rc;
        return hearth_buf_adds(out, ")");
    }
    if (n->op == HEARTH__TERM_OP__TERM_TRUE)
        return hearth_buf_adds(out, "1");
    const Hearth__Term *term = t->q->filter[n->term];
    int col = node_store_column_index(t->ds, term->column ? term->column : "");
    if (col < 0) {
        hearth_cause_set(cause, "no column '%s' in dataset %s", term->column ? term->column : "",
                         t->ds->name);
        return HEARTH_ERR_NOT_FOUND;
    }
    const char *cmp = cmp_sql(n->op);
    size_t p = n->first_param;
    switch (n->op) {
    case HEARTH__TERM_OP__TERM_BETWEEN:
        return hearth_buf_printf(out, "a%d BETWEEN ?%zu AND ?%zu", col, p, p + 1);
    case HEARTH__TERM_OP__TERM_IN:
        hearth_buf_printf(out, "a%d IN (", col);
        for (size_t v = 0; v < term->n_values; v++)
            hearth_buf_printf(out, "%s?%zu", v ? ", " : "", p + v);
        return hearth_buf_adds(out, ")");
    case HEARTH__TERM_OP__TERM_IS_NULL:
        return hearth_buf_printf(out, "a%d IS NULL", col);
    case HEARTH__TERM_OP__TERM_IS_NOT_NULL:
        return hearth_buf_printf(out, "a%d IS NOT NULL", col);
    default:
        return hearth_buf_printf(out, "a%d %s ?%zu", col, cmp, p);
    }
}

hearth_err_t node_filter_sql(const node_store_dataset_t *ds, const Hearth__SubQuery *q,
                             char **where, char **cause)
{
    *where = NULL;
    if (q->n_filter == 0) {
        *where = hearth_strdup("1");
        return HEARTH_OK;
    }
    if (q->n_filter > NODE_FILTER_MAX_TERMS) {
        hearth_cause_set(cause, "filter has %zu terms (limit %d)", q->n_filter,
                         NODE_FILTER_MAX_TERMS);
        return HEARTH_ERR_TOO_BIG;
    }
    tree_t t = {.nodes = hearth_calloc(q->n_filter, sizeof(fnode_t)), .n = 0, .ds = ds, .q = q};
    size_t root = 0;
    hearth_err_t rc = build(&t, &root, cause);
    if (rc == HEARTH_OK) {
        hearth_buf_t out;
        hearth_buf_init(&out, 1u << 24);
        rc = emit(&t, root, &out, cause);
        if (rc == HEARTH_ERR_TOO_BIG)
            hearth_cause_set(cause, "filter too large");
        if (rc == HEARTH_OK)
            *where = hearth_buf_take(&out);
        hearth_buf_free(&out);
    }
    for (size_t i = 0; i < t.n; i++)
        free(t.nodes[i].kids);
    free(t.nodes);
    return rc;
}

hearth_err_t node_filter_bind(sqlite3_stmt *st, const Hearth__SubQuery *q, char **cause)
{
    int param = 0;
    for (size_t i = 0; i < q->n_filter; i++) {
        const Hearth__Term *t = q->filter[i];
        for (size_t v = 0; v < t->n_values; v++) {
            const Hearth__Value *val = t->values[v];
            ++param;
            switch (val->kind_case) {
            case HEARTH__VALUE__KIND_TEXT:
                sqlite3_bind_text(st, param, val->text, -1, SQLITE_STATIC);
                break;
            case HEARTH__VALUE__KIND_INTEGER:
                sqlite3_bind_int64(st, param, val->integer);
                break;
            case HEARTH__VALUE__KIND_DECIMAL:
                sqlite3_bind_double(st, param, val->decimal);
                break;
            default:
                hearth_cause_set(cause, "a filter value must be a string or a number");
                return HEARTH_ERR_PROTO;
            }
        }
    }
    return HEARTH_OK;
}
