#include "e2e_expect.h"
#include "gw_result.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* --- the extracts, with their true persons ----------------------------------- */

void e2e_data_init(e2e_data_t *d, const char *dir, const char *truth, e2e_derive_fn derive)
{
    memset(d, 0, sizeof *d);
    d->dir = e2e_asprintf("%s", dir);
    d->truth = e2e_asprintf("%s", truth);
    d->derive = derive;
}

void e2e_data_free(e2e_data_t *d)
{
    for (size_t i = 0; i < d->nds; i++) {
        e2e_csv_free(&d->ds[i].csv);
        free(d->ds[i].persons);
    }
    free(d->dir);
    free(d->truth);
    memset(d, 0, sizeof *d);
}

size_t e2e_truth_persons(e2e_data_t *d, const char *node, const char *dataset,
                         uint64_t **persons)
{
    /* Read line by line rather than with e2e_csv_load: the truth file has
     * a line per record of every extract, and its fields (names and
     * numbers) never need quoting. */
    FILE *f = fopen(d->truth, "r");
    cr_assert_not_null(f, "cannot read %s", d->truth);
    char line[256];
    cr_assert_not_null(fgets(line, sizeof line, f), "%s is empty", d->truth);
    cr_assert_str_eq(line, "node,dataset,record,person\n", "unexpected truth header");
    size_t n = 0, cap = 0;
    *persons = NULL;
    while (fgets(line, sizeof line, f)) {
        char n_node[64], n_ds[64];
        unsigned long long record, person;
        cr_assert_eq(sscanf(line, "%63[^,],%63[^,],%llu,%llu", n_node, n_ds, &record, &person),
                     4, "truth line '%s'", line);
        if (strcmp(n_node, node) != 0 || strcmp(n_ds, dataset) != 0)
            continue;
        cr_assert_eq(record, n + 1, "truth of %s.%s out of order", node, dataset);
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            *persons = realloc(*persons, cap * sizeof **persons);
            cr_assert_not_null(*persons);
        }
        (*persons)[n++] = person;
    }
    fclose(f);
    cr_assert_gt(n, 0, "no truth for %s.%s", node, dataset);
    return n;
}

const e2e_ds_t *e2e_dataset(e2e_data_t *d, const char *full)
{
    for (size_t i = 0; i < d->nds; i++)
        if (strcmp(d->ds[i].name, full) == 0)
            return &d->ds[i];
    cr_assert_lt(d->nds, E2E_MAX_DS);
    e2e_ds_t *ds = &d->ds[d->nds++];
    snprintf(ds->name, sizeof ds->name, "%s", full);
    char node[64], name[64];
    cr_assert_eq(sscanf(full, "%63[^.].%63s", node, name), 2, "bad dataset name %s", full);
    char *path = e2e_asprintf("%s/%s/%s.csv", d->dir, node, name);
    cr_assert_eq(e2e_csv_load(path, &ds->csv), 0, "cannot parse %s", path);
    cr_assert_gt(ds->csv.nrows, 0, "%s has no header", path);
    size_t nrec = ds->csv.nrows - 1;
    ds->persons = calloc(nrec ? nrec : 1, sizeof *ds->persons);
    cr_assert_not_null(ds->persons);
    if (d->derive == NULL || !d->derive(d, node, name, nrec, ds->persons)) {
        uint64_t *truth = NULL;
        cr_assert_eq(e2e_truth_persons(d, node, name, &truth), nrec,
                     "%s and the truth file disagree on the number of rows", path);
        memcpy(ds->persons, truth, nrec * sizeof *truth);
        free(truth);
    }
    for (size_t i = 1; i < ds->csv.nrows; i++)
        cr_assert_eq(ds->csv.rows[i].nfields, ds->csv.rows[0].nfields, "%s row %zu", path, i);
    free(path);
    return ds;
}

/* --- rows and SQL's three-valued logic ------------------------------------- */

e2e_tv_t e2e_and(e2e_tv_t a, e2e_tv_t b)
{
    if (a == E2E_FALSE || b == E2E_FALSE)
        return E2E_FALSE;
    return a == E2E_TRUE && b == E2E_TRUE ? E2E_TRUE : E2E_UNKNOWN;
}

e2e_tv_t e2e_or(e2e_tv_t a, e2e_tv_t b)
{
    if (a == E2E_TRUE || b == E2E_TRUE)
        return E2E_TRUE;
    return a == E2E_FALSE && b == E2E_FALSE ? E2E_FALSE : E2E_UNKNOWN;
}

e2e_tv_t e2e_not(e2e_tv_t a)
{
    return a == E2E_UNKNOWN ? E2E_UNKNOWN : a == E2E_TRUE ? E2E_FALSE : E2E_TRUE;
}

e2e_tv_t e2e_exists(const e2e_row_t *r, unsigned atom)
{
    cr_assert_lt(atom, E2E_MAX_EXISTS);
    return (r->exists >> atom) & 1u ? E2E_TRUE : E2E_FALSE;
}

static e2e_tv_t holds(int c, e2e_op_t op)
{
    bool b = op == E2E_EQ ? c == 0 : op == E2E_NE ? c != 0 : op == E2E_LT ? c < 0
           : op == E2E_LE ? c <= 0 : op == E2E_GT ? c > 0 : c >= 0;
    return b ? E2E_TRUE : E2E_FALSE;
}

const char *e2e_cell(const e2e_row_t *r, const char *col)
{
    int i = e2e_csv_column(&r->ds->csv.rows[0], col);
    cr_assert_geq(i, 0, "no column %s in %s", col, r->ds->name);
    const char *v = r->row->fields[i];
    return *v ? v : NULL;
}

int64_t e2e_tenths(const char *s)
{
    char *end;
    long long whole = strtoll(s, &end, 10);
    int64_t t = (int64_t)whole * 10;
    if (*end == '.') {
        cr_assert(end[1] >= '0' && end[1] <= '9' && end[2] == '\0', "number '%s'", s);
        t += (s[0] == '-' ? -1 : 1) * (end[1] - '0');
    } else {
        cr_assert_eq(*end, '\0', "number '%s'", s);
    }
    return t;
}

void e2e_iso_date(const char *s, char out[11])
{
    if (strlen(s) == 10 && s[4] == '-') {
        memcpy(out, s, 11);
        return;
    }
    cr_assert(strlen(s) == 10 && s[2] == '/' && s[5] == '/', "date '%s'", s);
    snprintf(out, 11, "%.4s-%.2s-%.2s", s + 6, s + 3, s);
}

e2e_tv_t e2e_text_is(const e2e_row_t *r, const char *col, e2e_op_t op, const char *lit)
{
    const char *v = e2e_cell(r, col);
    return v ? holds(strcmp(v, lit), op) : E2E_UNKNOWN;
}

e2e_tv_t e2e_num_is(const e2e_row_t *r, const char *col, e2e_op_t op, int64_t lit_tenths)
{
    const char *v = e2e_cell(r, col);
    if (v == NULL)
        return E2E_UNKNOWN;
    int64_t x = e2e_tenths(v);
    return holds((x > lit_tenths) - (x < lit_tenths), op);
}

e2e_tv_t e2e_int_is(const e2e_row_t *r, const char *col, e2e_op_t op, int64_t lit)
{
    return e2e_num_is(r, col, op, lit * 10);
}

e2e_tv_t e2e_date_is(const e2e_row_t *r, const char *col, e2e_op_t op, const char *lit)
{
    const char *v = e2e_cell(r, col);
    if (v == NULL)
        return E2E_UNKNOWN;
    char d[11];
    e2e_iso_date(v, d);
    return holds(strcmp(d, lit), op);
}

e2e_tv_t e2e_text_in(const e2e_row_t *r, const char *col, const char *const *list)
{
    const char *v = e2e_cell(r, col);
    if (v == NULL)
        return E2E_UNKNOWN;
    for (; *list; list++)
        if (strcmp(v, *list) == 0)
            return E2E_TRUE;
    return E2E_FALSE;
}

e2e_tv_t e2e_int_in(const e2e_row_t *r, const char *col, const int64_t *list, size_t n)
{
    e2e_tv_t any = E2E_FALSE;
    for (size_t i = 0; i < n; i++)
        any = e2e_or(any, e2e_int_is(r, col, E2E_EQ, list[i]));
    return any;
}

e2e_tv_t e2e_is_null(const e2e_row_t *r, const char *col)
{
    return e2e_cell(r, col) == NULL ? E2E_TRUE : E2E_FALSE;
}

/* --- questions and their expected tables ----------------------------------- */

void e2e_table_free(e2e_table_t *t)
{
    free(t->cells);
    free(t->hits);
    memset(t, 0, sizeof *t);
}

unsigned e2e_atoms(const e2e_spec_t *spec)
{
    unsigned n = 0;
    while (n < E2E_MAX_EXISTS && spec->exists[n].from)
        n++;
    cr_assert_null(spec->exists[n].from, "more than %d EXISTS in a spec", E2E_MAX_EXISTS);
    return n;
}

bool e2e_linked(const e2e_spec_t *spec)
{
    return e2e_atoms(spec) > 0 || (spec->measure == E2E_PERSONS && spec->from[1] != NULL);
}

bool e2e_matches_some(const e2e_spec_t *spec, e2e_row_t *r)
{
    if (e2e_linked(spec) && (spec->measure == E2E_SUM || spec->measure == E2E_MEAN) &&
        e2e_cell(r, spec->column) == NULL)
        return false;
    for (unsigned a = 0; a < 1u << e2e_atoms(spec); a++) {
        r->exists = a;
        if (spec->where == NULL || spec->where(r) == E2E_TRUE)
            return true;
    }
    return false;
}

bool e2e_atom_matches(const e2e_exists_t *x, const e2e_row_t *r)
{
    return x->where == NULL || x->where(r) == E2E_TRUE;
}

uint64_t e2e_identity(const e2e_spec_t *spec, const e2e_ds_t *ds, size_t record)
{
    e2e_row_t r = {ds, &ds->csv.rows[record + 1], record, ds->persons[record], 0};
    return spec->identity ? spec->identity(&r, spec->identity_arg) : r.person;
}

static int u64_cmp(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

/* The identities for which atom x holds, sorted, in *out (caller frees);
 * returns how many. */
static size_t atom_persons(e2e_data_t *d, const e2e_spec_t *spec, const e2e_exists_t *x,
                           uint64_t **out)
{
    const e2e_ds_t *ds = e2e_dataset(d, x->from);
    uint64_t *p = calloc(ds->csv.nrows, sizeof *p);
    cr_assert_not_null(p);
    size_t n = 0;
    for (size_t i = 1; i < ds->csv.nrows; i++) {
        e2e_row_t r = {ds, &ds->csv.rows[i], i - 1, ds->persons[i - 1], 0};
        if (e2e_atom_matches(x, &r))
            p[n++] = e2e_identity(spec, ds, i - 1);
    }
    qsort(p, n, sizeof *p, u64_cmp);
    *out = p;
    return n;
}

/* NULL first, then byte order. */
static int key_cmp(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int keys_cmp(const char *const *a, const char *const *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = key_cmp(a[i], b[i]);
        if (c)
            return c;
    }
    return 0;
}

/* Orders hits by key (the first *ngroup columns; none when sorting for the
 * total), then part, then has, then person. */
static int hit_cmp(const void *pa, const void *pb, void *ngroup)
{
    const e2e_hit_t *a = pa, *b = pb;
    int c = keys_cmp(a->key, b->key, *(const size_t *)ngroup);
    if (c)
        return c;
    if (a->part != b->part)
        return a->part < b->part ? -1 : 1;
    if (a->has != b->has)
        return a->has ? 1 : -1;
    return (a->person > b->person) - (a->person < b->person);
}

/* Adds hits[0..n) (sorted by part, then has, then person) to c: per part,
 * the records and distinct persons with a value; records and sums add up
 * over parts, persons take the largest part's (a linked query's hits are
 * all part 0, so there each person counts once). */
static void accumulate(const e2e_hit_t *h, size_t n, e2e_cell_t *c)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t records = 0, persons = 0;
        for (; j < n && h[j].part == h[i].part; j++) {
            if (!h[j].has)
                continue;
            records++;
            c->sum += h[j].value;
            if (j == i || !h[j - 1].has || h[j - 1].person != h[j].person)
                persons++;
        }
        c->records += records;
        if (persons > c->persons)
            c->persons = persons;
        i = j;
    }
}

bool e2e_small(const gw_sdc_policy_t *policy, uint64_t judged)
{
    return judged == 0 ? policy->zeros_disclosive : judged <= policy->threshold;
}

/* The position of key among vals[0..n) (sorted by key_cmp, distinct),
 * which holds it. */
static size_t key_index(const char *const *vals, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(vals[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    cr_assert_lt(lo, n);
    return lo;
}

static int key_ptr_cmp(const void *a, const void *b)
{
    return key_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* The disclosure rules of the header comment: the primary rule from the
 * brief, the secondary pattern from gw_sdc on the table's full grid. */
static void disclose(e2e_table_t *t, e2e_measure_t m, const gw_sdc_policy_t *policy)
{
    t->policy = *policy;
    bool sums = m == E2E_SUM || m == E2E_MEAN;
    bool *primary = calloc(t->n + 1, sizeof *primary);
    cr_assert_not_null(primary);
    for (size_t i = 0; i <= t->n; i++) {
        e2e_cell_t *c = i < t->n ? &t->cells[i] : &t->total;
        c->judged = m == E2E_RECORDS ? c->records : c->persons;
        primary[i] = e2e_small(policy, c->judged);
        t->primary += primary[i];
    }
    /* The grid: each group column's values that occur, in group order; a
     * query without group columns is a table of no cells and its total. */
    gw_sdc_table_t g = {.ndims = t->ngroup ? t->ngroup : 1};
    const char **vals[3] = {NULL, NULL, NULL};
    size_t grid = 1;
    for (size_t k = 0; k < t->ngroup; k++) {
        vals[k] = calloc(t->n + 1, sizeof *vals[k]);
        cr_assert_not_null(vals[k]);
        for (size_t i = 0; i < t->n; i++)
            vals[k][i] = t->cells[i].key[k];
        qsort(vals[k], t->n, sizeof *vals[k], key_ptr_cmp);
        size_t distinct = 0;
        for (size_t i = 0; i < t->n; i++)
            if (distinct == 0 || key_cmp(vals[k][distinct - 1], vals[k][i]) != 0)
                vals[k][distinct++] = vals[k][i];
        g.size[k] = distinct;
        grid *= distinct;
        cr_assert_leq(grid, GW_SDC_MAX_GRID, "a grid this large is refused before any check");
    }
    if (t->ngroup == 0)
        grid = g.size[0] = 0;
    g.cells = calloc(grid + 1, sizeof *g.cells);
    cr_assert_not_null(g.cells);
    size_t *at = calloc(t->n + 1, sizeof *at);
    cr_assert_not_null(at);
    for (size_t i = 0; i < t->n; i++) {
        for (size_t k = 0; k < t->ngroup; k++)
            at[i] = at[i] * g.size[k] + key_index(vals[k], g.size[k], t->cells[i].key[k]);
        g.cells[at[i]].count = t->cells[i].judged;
    }
    g.total.count = t->total.judged;
    /* SUM and MEAN tables show sums, which rounding the counts does not
     * hide: the gateway checks their pattern with counts taken as exact. */
    gw_sdc_policy_t check = *policy;
    if (sums)
        check.rounding = 1;
    (void)gw_sdc_apply_table(&check, &g);
    t->refused = g.unprotected > 0;
    for (size_t i = 0; i <= t->n; i++) {
        e2e_cell_t *c = i < t->n ? &t->cells[i] : &t->total;
        const gw_sdc_cell_t *s = i < t->n ? &g.cells[at[i]] : &g.total;
        /* gw_sdc keeps the brief's primary rule; a difference here is a
         * wrong true count or a wrong policy, not a pattern to accept. */
        cr_assert(!primary[i] || s->suppressed, "a cell judged on %" PRIu64 " is released",
                  c->judged);
        c->suppressed = s->suppressed;
        c->secondary = s->suppressed && !primary[i];
        cr_assert_eq(s->secondary, c->secondary, "gw_sdc and the brief disagree on whether "
                     "a cell judged on %" PRIu64 " is small", c->judged);
        t->secondary += c->secondary;
    }
    for (size_t k = 0; k < t->ngroup; k++)
        free(vals[k]);
    free(g.cells);
    free(at);
    free(primary);
}

void e2e_expected(e2e_data_t *d, const e2e_spec_t *spec, const gw_sdc_policy_t *policy,
                  e2e_table_t *t)
{
    memset(t, 0, sizeof *t);
    while (t->ngroup < 3 && spec->group[t->ngroup])
        t->ngroup++;
    t->linked = e2e_linked(spec);
    unsigned natoms = e2e_atoms(spec);
    uint64_t *atoms[E2E_MAX_EXISTS] = {NULL};
    size_t natom_persons[E2E_MAX_EXISTS] = {0};
    for (unsigned a = 0; a < natoms; a++)
        natom_persons[a] = atom_persons(d, spec, &spec->exists[a], &atoms[a]);
    bool counting = spec->measure == E2E_RECORDS || spec->measure == E2E_PERSONS;
    size_t nhits = 0;
    for (size_t p = 0; spec->from[p]; p++) {
        const e2e_ds_t *ds = e2e_dataset(d, spec->from[p]);
        t->hits = realloc(t->hits, (nhits + ds->csv.nrows) * sizeof *t->hits);
        cr_assert_not_null(t->hits);
        for (size_t i = 1; i < ds->csv.nrows; i++) {
            e2e_row_t r = {ds, &ds->csv.rows[i], i - 1, e2e_identity(spec, ds, i - 1), 0};
            if (!e2e_matches_some(spec, &r))
                continue;
            unsigned own = 0;
            for (unsigned a = 0; a < natoms; a++)
                if (bsearch(&r.person, atoms[a], natom_persons[a], sizeof *atoms[a], u64_cmp))
                    own |= 1u << a;
            r.exists = own;
            e2e_hit_t *h = &t->hits[nhits++];
            memset(h, 0, sizeof *h);
            for (size_t g = 0; g < t->ngroup; g++)
                h->key[g] = e2e_cell(&r, spec->group[g]);
            h->ds = ds;
            h->record = i - 1;
            h->part = t->linked ? 0 : p;
            h->person = r.person;
            h->counted = spec->where == NULL || spec->where(&r) == E2E_TRUE;
            const char *v = counting ? "" : e2e_cell(&r, spec->column);
            h->has = h->counted && v != NULL;
            h->value = counting || !h->has ? 0 : e2e_tenths(v);
        }
    }
    t->nhits = nhits;
    for (unsigned a = 0; a < natoms; a++)
        free(atoms[a]);
    qsort_r(t->hits, nhits, sizeof *t->hits, hit_cmp, &t->ngroup);
    t->cells = calloc(nhits ? nhits : 1, sizeof *t->cells);
    cr_assert_not_null(t->cells);
    for (size_t i = 0; i < nhits;) {
        size_t j = i;
        while (j < nhits && keys_cmp(t->hits[j].key, t->hits[i].key, t->ngroup) == 0)
            t->hits[j++].cell = t->ngroup ? t->n : SIZE_MAX;
        e2e_cell_t *c = &t->cells[t->n++];
        memcpy(c->key, t->hits[i].key, sizeof c->key);
        accumulate(&t->hits[i], j - i, c);
        i = j;
    }
    if (t->ngroup == 0)
        t->n = 0;   /* no GROUP BY: the total is the answer */
    /* The total from a copy, so that the hits stay in group order. */
    e2e_hit_t *all = calloc(nhits ? nhits : 1, sizeof *all);
    cr_assert_not_null(all);
    memcpy(all, t->hits, nhits * sizeof *all);
    size_t none = 0;
    qsort_r(all, nhits, sizeof *all, hit_cmp, &none);
    accumulate(all, nhits, &t->total);
    free(all);
    disclose(t, spec->measure, policy);
}

bool e2e_isolates_few(const e2e_table_t *a, const e2e_table_t *b)
{
    cr_assert_eq(a->ngroup, b->ngroup);
    uint32_t threshold = a->policy.threshold;
    bool few = false;
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : keys_cmp(a->cells[i].key, b->cells[j].key,
                                                           a->ngroup);
        uint64_t x = c <= 0 ? a->cells[i++].judged : 0;
        uint64_t y = c >= 0 ? b->cells[j++].judged : 0;
        uint64_t d = x > y ? x - y : y - x;
        few |= d >= 1 && d <= threshold;
    }
    uint64_t x = a->total.judged, y = b->total.judged;
    uint64_t d = x > y ? x - y : y - x;
    return few || (d >= 1 && d <= threshold);
}

const e2e_cell_t *e2e_hit_cell(const e2e_table_t *t, const e2e_hit_t *h)
{
    return h->cell == SIZE_MAX ? &t->total : &t->cells[h->cell];
}

int64_t e2e_round_to(int64_t x, int64_t base)
{
    cr_assert_geq(x, 0);
    return (x + base / 2) / base * base;
}

void e2e_value_text(const e2e_spec_t *spec, const e2e_table_t *t, const e2e_cell_t *c,
                    char out[48])
{
    int64_t base = t->policy.rounding > 1 ? (int64_t)t->policy.rounding : 1;
    out[0] = '\0';
    if (c->suppressed)
        return;
    switch (spec->measure) {
    case E2E_RECORDS:
    case E2E_PERSONS:
        snprintf(out, 48, "%" PRId64, e2e_round_to((int64_t)c->judged, base));
        return;
    case E2E_SUM: {
        int64_t units = e2e_round_to(c->sum, base * 10) / 10;
        snprintf(out, 48, spec->decimal ? "%" PRId64 ".0" : "%" PRId64, units);
        return;
    }
    case E2E_MEAN:
        if (c->records > 0) {
            /* sum / records in tenths, halves up, exactly. */
            int64_t m = (2 * c->sum + (int64_t)c->records) / (2 * (int64_t)c->records);
            cr_assert_geq(c->sum, 0);
            snprintf(out, 48, "%" PRId64 ".%" PRId64, m / 10, m % 10);
        }
        return;
    }
}

void e2e_put_csv_field(FILE *f, const char *s, bool first)
{
    if (!first)
        fputc(',', f);
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

char *e2e_expected_csv(const e2e_spec_t *spec, const e2e_table_t *t)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    for (size_t g = 0; g < t->ngroup; g++)
        fprintf(f, "%s,", spec->group[g]);
    fputs("value,suppressed\n", f);
    char v[48];
    for (size_t i = 0; i < t->n; i++) {
        for (size_t g = 0; g < t->ngroup; g++) {
            e2e_put_csv_field(f, t->cells[i].key[g] ? t->cells[i].key[g] : "", true);
            fputc(',', f);
        }
        e2e_value_text(spec, t, &t->cells[i], v);
        fprintf(f, "%s,%s\n", v, t->cells[i].suppressed ? "true" : "false");
    }
    for (size_t g = 0; g < t->ngroup; g++)
        fputs(g == 0 ? "Total," : ",", f);
    e2e_value_text(spec, t, &t->total, v);
    fprintf(f, "%s,%s\n", v, t->total.suppressed ? "true" : "false");
    fclose(f);
    return text;
}

void e2e_show(const e2e_spec_t *spec, const e2e_table_t *t)
{
    if (!getenv("HEARTH_E2E_SHOW"))
        return;
    fprintf(stderr, "-- %s\n", spec->sql);
    for (size_t i = 0; i <= t->n; i++) {
        const e2e_cell_t *c = i < t->n ? &t->cells[i] : &t->total;
        for (size_t g = 0; g < t->ngroup; g++)
            fprintf(stderr, "%s%s", g ? " | " : "", i < t->n ? (c->key[g] ? c->key[g] : "NULL")
                                                            : "Total");
        fprintf(stderr, "  records %" PRIu64 " persons %" PRIu64 " sum %" PRId64
                " judged %" PRIu64 "%s%s\n", c->records, c->persons, c->sum, c->judged,
                c->suppressed ? " SUPPRESSED" : "", c->secondary ? " (secondary)" : "");
    }
    if (t->refused)
        fprintf(stderr, "  REFUSED: a hidden cell stays pinned whatever is hidden\n");
}

void e2e_json_policy(const char *json, gw_sdc_policy_t *policy, uint64_t *suppressed_cells)
{
    const char *at = strstr(json, "\"disclosure\": {");
    cr_assert_not_null(at, "no disclosure section in\n%s", json);
    unsigned threshold = 0, rounding = 0, protection = 0;
    unsigned long long suppressed = 0;
    char zeros[16] = "", dominance[32] = "";
    int used = 0;
    int n = sscanf(at, "\"disclosure\": {\"threshold\": %u, \"rounding\": %u, "
                   "\"suppressed_cells\": %llu, \"zeros\": \"%15[a-z]\", \"protection\": %u, "
                   "\"dominance\": \"%31[^\"]\", \"project\": %n", &threshold, &rounding,
                   &suppressed, zeros, &protection, dominance, &used);
    cr_assert(n == 6 && used > 0, "the disclosure section is not as client_render writes it:"
              "\n%s", at);
    cr_assert(strcmp(zeros, "released") == 0 || strcmp(zeros, "disclosive") == 0,
              "\"zeros\": \"%s\"", zeros);
    cr_assert_str_eq(dominance, "off", "this module does not model the dominance rule");
    const char *p = at + used;
    if (strncmp(p, "null", 4) == 0) {
        p += 4;
    } else {
        cr_assert_eq(*p, '"', "\"project\" is neither a name nor null:\n%s", at);
        p = strchr(p + 1, '"');
        cr_assert_not_null(p);
        p++;
    }
    cr_assert_eq(*p, '}', "noise was added (or a key this module does not know):\n%s", at);
    *policy = (gw_sdc_policy_t){.threshold = threshold, .rounding = rounding,
                                .zeros_disclosive = strcmp(zeros, "disclosive") == 0,
                                .protection = protection};
    *suppressed_cells = suppressed;
}

/* The "reason" of a JSON refusal; caller frees. */
static char *json_reason(const char *json)
{
    const char *at = strstr(json, "\"reason\": \"");
    if (at == NULL)
        return e2e_asprintf("(none)");
    at += strlen("\"reason\": \"");
    return e2e_asprintf("%.*s", (int)strcspn(at, "\""), at);
}

void e2e_check(e2e_data_t *d, const char *config, const e2e_spec_t *spec, e2e_table_t *t)
{
    /* JSON first, for the policy the gateway says it applied (and, when
     * the table is released, the number of cells it hid); then the CSV is
     * compared byte for byte. An identical question asked twice is no
     * differencing pair. */
    e2e_result_t r;
    int status = e2e_query(config, "json", spec->sql, &r);
    gw_sdc_policy_t policy;
    gw_sdc_policy_default(&policy);
    uint64_t reported = 0;
    if (status == 0)
        e2e_json_policy(r.out, &policy, &reported);
    e2e_expected(d, spec, &policy, t);
    e2e_show(spec, t);
    if (t->refused) {
        char *reason = json_reason(r.out);
        cr_expect_eq(status, 3, "hearth query exited %d for\n  %s\n(a table whose small cell "
                     "the margins pin should be refused)\nstdout: %s\nstderr: %s", status,
                     spec->sql, r.out, r.err);
        cr_expect_str_eq(reason, GW_RESULT_UNPROTECTABLE, "for\n  %s", spec->sql);
        free(reason);
        e2e_result_free(&r);
        return;
    }
    cr_expect_eq(status, 0, "hearth query --format json exited %d for\n  %s\nstdout: %s\n"
                 "stderr: %s", status, spec->sql, r.out, r.err);
    e2e_result_free(&r);
    if (status != 0)
        return;
    size_t hidden = t->total.suppressed;
    for (size_t i = 0; i < t->n; i++)
        hidden += t->cells[i].suppressed;
    cr_expect_eq(reported, hidden, "hearth says it hid %" PRIu64 " cells, expected %zu, for\n"
                 "  %s", reported, hidden, spec->sql);
    char *want = e2e_expected_csv(spec, t);
    status = e2e_query(config, "csv", spec->sql, &r);
    cr_expect_eq(status, 0, "hearth query exited %d for\n  %s\nstdout: %s\nstderr: %s", status,
                 spec->sql, r.out, r.err);
    if (status == 0)
        cr_expect_str_eq(r.out, want, "for\n  %s\nhearth released:\n%s\nexpected:\n%s",
                         spec->sql, r.out, want);
    e2e_result_free(&r);
    free(want);
}

void e2e_check_plain(e2e_data_t *d, const char *config, const e2e_spec_t *spec)
{
    e2e_table_t t;
    e2e_check(d, config, spec, &t);
    cr_expect(!t.refused, "the table of\n  %s\ncannot be protected; this question proves "
              "only its refusal", spec->sql);
    e2e_table_free(&t);
}
