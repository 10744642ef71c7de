#include "gw_diff.h"
#include "hearth_buf.h"
#include "hearth_hex.h"
#include "hearth_mem.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- family */

static void hash_str(EVP_MD_CTX *md, const char *s)
{
    /* Length first, so that no two lists of names hash the same bytes. */
    size_t len = strlen(s);
    uint8_t n[8];
    for (int i = 0; i < 8; i++)
        n[i] = (uint8_t)((uint64_t)len >> (8 * i));
    EVP_DigestUpdate(md, n, sizeof n);
    EVP_DigestUpdate(md, s, len);
}

static int cmp_dsref(const void *a, const void *b)
{
    const gw_dsref_t *x = *(const gw_dsref_t *const *)a, *y = *(const gw_dsref_t *const *)b;
    int c = strcmp(x->node, y->node);
    return c ? c : strcmp(x->dataset, y->dataset);
}

hearth_err_t gw_diff_family(const gw_query_t *q, char out[65])
{
    out[0] = '\0';
    if (q == NULL || q->nfrom == 0 || q->from == NULL || q->ngroup > 3)
        return HEARTH_ERR_INTERNAL;
    for (size_t i = 0; i < q->nfrom; i++)
        if (q->from[i].node == NULL || q->from[i].dataset == NULL)
            return HEARTH_ERR_INTERNAL;
    for (size_t i = 0; i < q->ngroup; i++)
        if (q->group[i] == NULL)
            return HEARTH_ERR_INTERNAL;
    const char *measure;
    switch (q->measure) {
    case GW_MEASURE_COUNT_RECORDS: measure = "count_records"; break;
    case GW_MEASURE_COUNT_PERSONS: measure = "count_persons"; break;
    case GW_MEASURE_SUM: measure = "sum"; break;
    case GW_MEASURE_MEAN: measure = "mean"; break;
    default: return HEARTH_ERR_INTERNAL;
    }
    bool has_column = q->measure == GW_MEASURE_SUM || q->measure == GW_MEASURE_MEAN;
    if (has_column && q->measure_column == NULL)
        return HEARTH_ERR_INTERNAL;
    const gw_dsref_t **from = hearth_reallocarray(NULL, q->nfrom, sizeof *from);
    for (size_t i = 0; i < q->nfrom; i++)
        from[i] = &q->from[i];
    qsort(from, q->nfrom, sizeof *from, cmp_dsref);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL)
        abort();   /* the project's OOM policy */
    char count[24];
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    hash_str(md, "hearth-family-v1");
    snprintf(count, sizeof count, "%zu", q->nfrom);
    hash_str(md, count);
    for (size_t i = 0; i < q->nfrom; i++) {
        hash_str(md, from[i]->node);
        hash_str(md, from[i]->dataset);
    }
    hash_str(md, measure);
    hash_str(md, has_column ? q->measure_column : "");
    snprintf(count, sizeof count, "%zu", q->ngroup);
    hash_str(md, count);
    for (size_t i = 0; i < q->ngroup; i++)
        hash_str(md, q->group[i]);
    uint8_t digest[32];
    EVP_DigestFinal_ex(md, digest, NULL);
    EVP_MD_CTX_free(md);
    free(from);
    hearth_hex_encode(digest, sizeof digest, out);
    return HEARTH_OK;
}

/* ---------------------------------------------------------------- conjuncts */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void gw_diff_conjuncts_free(char ***conjuncts_p, size_t n)
{
    if (conjuncts_p == NULL || *conjuncts_p == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free((*conjuncts_p)[i]);
    free(*conjuncts_p);
    *conjuncts_p = NULL;
}

hearth_err_t gw_diff_conjuncts(const gw_query_t *q, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (q == NULL || q->where == NULL)
        return HEARTH_OK;
    /* An explicit stack: AND chains are left-deep and as long as the query
     * allows, and no input should decide how deep the C stack goes. */
    const gw_expr_t **stack = NULL;
    size_t depth = 0, cap = 0;
    char **parts = NULL;
    size_t nparts = 0, pcap = 0;
    hearth_err_t rc = HEARTH_OK;
    stack = hearth_reallocarray(NULL, cap = 16, sizeof *stack);
    stack[depth++] = q->where;
    while (depth > 0) {
        const gw_expr_t *e = stack[--depth];
        if (e == NULL) {
            rc = HEARTH_ERR_INTERNAL;
            break;
        }
        if (e->kind == GW_EXPR_AND) {
            if (depth + 2 > cap)
                stack = hearth_reallocarray(stack, cap *= 2, sizeof *stack);
            stack[depth++] = e->right;
            stack[depth++] = e->left;
            continue;
        }
        char *text = gw_expr_format(e);
        if (text == NULL) {
            rc = HEARTH_ERR_INTERNAL;
            break;
        }
        if (nparts == pcap)
            parts = hearth_reallocarray(parts, pcap = pcap ? 2 * pcap : 8, sizeof *parts);
        parts[nparts++] = text;
    }
    free(stack);
    if (rc != HEARTH_OK) {
        gw_diff_conjuncts_free(&parts, nparts);
        return rc;
    }
    qsort(parts, nparts, sizeof *parts, cmp_str);
    size_t kept = 0;
    for (size_t i = 0; i < nparts; i++) {
        if (kept > 0 && strcmp(parts[kept - 1], parts[i]) == 0)
            free(parts[i]);
        else
            parts[kept++] = parts[i];
    }
    *out = parts;
    *n = kept;
    return HEARTH_OK;
}

/* ---------------------------------------------------------------- cell keys */

char *gw_diff_cell_key(const char *const *values, size_t n)
{
    hearth_buf_t b;
    hearth_buf_init(&b, GW_STORE_MAX_TEXT);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        if (values[i] == NULL)
            ok = hearth_buf_adds(&b, "~;") == HEARTH_OK;
        else
            ok = hearth_buf_printf(&b, "%zu:", strlen(values[i])) == HEARTH_OK &&
                 hearth_buf_adds(&b, values[i]) == HEARTH_OK &&
                 hearth_buf_adds(&b, ";") == HEARTH_OK;
    }
    char *key = !ok ? NULL : b.len ? hearth_buf_take(&b) : hearth_strdup("");
    hearth_buf_free(&b);
    return key;
}

/* ---------------------------------------------------------------- check */

typedef struct {
    const char *const *conj;    /* sorted, distinct */
    size_t n;
    const gw_store_cell_t *cells;   /* sorted by key */
    size_t ncells;
    uint32_t threshold;
    bool found;
} check_t;

/* True when a and b (both sorted) differ by exactly one element: one is the
 * other plus one conjunct. */
static bool one_apart(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    if (na + 1 != nb && nb + 1 != na)
        return false;
    size_t i = 0, j = 0, apart = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i], b[j]);
        if (c == 0) {
            i++;
            j++;
            continue;
        }
        if (++apart > 1)
            return false;
        if (c < 0)
            i++;
        else
            j++;
    }
    return apart == 1;
}

static bool on_match(void *user, const char *const *conjuncts, size_t n)
{
    const check_t *c = user;
    return one_apart(c->conj, c->n, conjuncts, n);
}

static bool small_difference(uint64_t a, uint64_t b, uint32_t threshold)
{
    uint64_t d = a > b ? a - b : b - a;
    return d >= 1 && d <= threshold;
}

static int on_release(void *user, const char *const *conjuncts, size_t n,
                      const gw_store_cell_t *cells, size_t ncells)
{
    (void)conjuncts;
    (void)n;
    check_t *c = user;
    size_t i = 0, j = 0;
    while (i < c->ncells || j < ncells) {
        int k = i == c->ncells ? 1 : j == ncells ? -1 : strcmp(c->cells[i].key, cells[j].key);
        uint64_t mine = k <= 0 ? c->cells[i].count : 0;
        uint64_t theirs = k >= 0 ? cells[j].count : 0;
        if (small_difference(mine, theirs, c->threshold)) {
            c->found = true;
            return 1;
        }
        if (k <= 0)
            i++;
        if (k >= 0)
            j++;
    }
    return 0;
}

static int cmp_cell(const void *a, const void *b)
{
    return strcmp(((const gw_store_cell_t *)a)->key, ((const gw_store_cell_t *)b)->key);
}

hearth_err_t gw_diff_check(gw_store_t *store, uint32_t threshold, const char *project,
                           const char *family, const char *const *conjuncts, size_t n,
                           const gw_store_cell_t *cells, size_t ncells, char **cause)
{
    if (threshold == 0)
        return HEARTH_OK;
    if (n > GW_STORE_MAX_CONJUNCTS || ncells > GW_STORE_MAX_CELLS) {
        hearth_cause_set(cause, "a table is checked with at most %d conjuncts and %d cells",
                         GW_STORE_MAX_CONJUNCTS, GW_STORE_MAX_CELLS);
        return HEARTH_ERR_TOO_BIG;
    }
    /* Sorted, distinct copies: the walk compares sorted lists. */
    const char **conj = hearth_reallocarray(NULL, n ? n : 1, sizeof *conj);
    gw_store_cell_t *cs = hearth_reallocarray(NULL, ncells ? ncells : 1, sizeof *cs);
    hearth_err_t rc = HEARTH_OK;
    for (size_t i = 0; i < n; i++)
        if ((conj[i] = conjuncts[i]) == NULL)
            rc = HEARTH_ERR_INTERNAL;
    for (size_t i = 0; i < ncells; i++)
        if ((cs[i] = cells[i]).key == NULL)
            rc = HEARTH_ERR_INTERNAL;
    if (rc != HEARTH_OK) {
        hearth_cause_set(cause, "a conjunct or cell key is missing");
        goto done;
    }
    qsort(conj, n, sizeof *conj, cmp_str);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || strcmp(conj[kept - 1], conj[i]) != 0)
            conj[kept++] = conj[i];
    qsort(cs, ncells, sizeof *cs, cmp_cell);
    check_t c = {.conj = conj, .n = kept, .cells = cs, .ncells = ncells,
                 .threshold = threshold, .found = false};
    if ((rc = gw_store_release_each(store, project, family, on_match, on_release, &c,
                                    cause)) != HEARTH_OK)
        goto done;
    if (c.found) {
        hearth_cause_set(cause, GW_DIFF_REFUSAL);
        rc = HEARTH_ERR_REFUSED;
    }
done:
    free(conj);
    free(cs);
    return rc;
}
