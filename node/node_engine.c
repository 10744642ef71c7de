#include "node_engine.h"
#include "hearth_date.h"
#include "hearth_buf.h"
#include "hearth_mem.h"
#include "keys_token.h"
#include "proto_codec.h"
#include "proto_cohort.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows are filtered in blocks: 64 words of 64 rows keep a block's bitsets
 * (two per stack entry) in the first-level cache. */
#define BLOCK_WORDS 64
#define BLOCK_ROWS (BLOCK_WORDS * 64)
/* Groups are counted in a directly indexed array when the product of the
 * group columns' dictionary sizes (NULL included) is at most this; beyond
 * it, in a hash table holding only the combinations that occur. */
#define DENSE_MAX ((size_t)1 << 18)
/* Row indices, codes and person numbers are uint32, with one value kept
 * free as "none". */
#define MAX_ROWS ((size_t)UINT32_MAX - 1)
/* Bitmaps for IN over a dictionary up to this size; larger ones search. */
#define IN_BITMAP_MAX ((uint32_t)1 << 16)

/* ---- the engine's data ------------------------------------------------ */

typedef struct {
    node_col_type_t type;
    /* Categorical: */
    uint32_t *codes;        /* per row (padded, see padded()); 0 = NULL, else 1..ndict */
    uint32_t ndict;
    const char **dict;      /* dict[code - 1]: NUL-terminated, into arena */
    uint32_t *dict_len;
    char *arena;            /* owned: every distinct value, each NUL-terminated */
    const char **values;    /* catalogue values, into arena */
    size_t nvalues;
    bool truncated;
    /* Integer and date (days since 1970-01-01): */
    int64_t *ints;
    /* Decimal: */
    double *reals;
    /* Integer, decimal, date: bit r set when row r is not NULL. */
    uint64_t *present;
} col_t;

typedef struct {
    node_store_dataset_t meta;  /* owned deep copy of the catalogue entry */
    size_t nrows;
    uint32_t *person;           /* per row, 1-based and non-decreasing */
    col_t *cols;                /* meta.ncolumns */
    /* Per person p (1..npersons), for node_cohort: its rows are
     * [first_row[p - 1], first_row[p]); its distinct tokens are
     * tokens[tok_start[p - 1] .. tok_start[p]) (KEYS_TOKEN_LEN bytes each),
     * the first tok_nnhs[p - 1] of them NHS-number tokens, then DOB+sex+
     * postcode ones. One pool in person order, with no per-row copy. */
    size_t npersons;
    uint32_t *first_row;        /* npersons + 1 */
    uint8_t *tokens;            /* owned; NULL when no person has a token */
    uint32_t *tok_start;        /* npersons + 1 */
    uint8_t *tok_nnhs;          /* npersons */
} ds_t;

struct node_engine_t {
    ds_t *ds;
    size_t nds;
};

static const char *type_name(node_col_type_t t)
{
    switch (t) {
    case NODE_COL_CATEGORICAL: return "categorical";
    case NODE_COL_INTEGER: return "integer";
    case NODE_COL_DECIMAL: return "decimal";
    case NODE_COL_DATE: return "date";
    }
    return "unknown";
}

static void col_free(col_t *c)
{
    free(c->codes);
    free(c->dict);
    free(c->dict_len);
    free(c->arena);
    free(c->values);
    free(c->ints);
    free(c->reals);
    free(c->present);
}

static void ds_free(ds_t *d)
{
    if (d->cols)
        for (size_t k = 0; k < d->meta.ncolumns; k++)
            col_free(&d->cols[k]);
    free(d->cols);
    for (size_t k = 0; k < d->meta.ncolumns; k++)
        free(d->meta.columns[k].name);
    free(d->meta.columns);
    free(d->meta.name);
    free(d->person);
    free(d->first_row);
    free(d->tokens);
    free(d->tok_start);
    free(d->tok_nnhs);
}

static void free_all(ds_t *ds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ds_free(&ds[i]);
    free(ds);
}

node_engine_t *node_engine_new(void)
{
    return hearth_calloc(1, sizeof(node_engine_t));
}

void node_engine_destroy(node_engine_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free_all((*self_p)->ds, (*self_p)->nds);
    free(*self_p);
    *self_p = NULL;
}

/* ---- text order and dates ---------------------------------------------- */

/* SQLite's BINARY collation: memcmp, the shorter first on a tie. */
static int text_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

/* Number of dictionary values below s (or_equal: not above s). */
static uint32_t dict_rank(const col_t *c, const char *s, size_t len, bool or_equal)
{
    uint32_t lo = 0, hi = c->ndict;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int cmp = text_cmp(c->dict[mid], c->dict_len[mid], s, len);
        if (cmp < 0 || (or_equal && cmp == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool node_engine_parse_date(const char *s, size_t len, int64_t *days)
{
    /* Stored dates are always YYYY-MM-DD; hearth_date decides which exist. */
    bool iso = false;
    if (hearth_date_parse(s, len, 0, 9999, NULL, &iso) != HEARTH_DATE_OK || !iso)
        return false;
    int64_t y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int64_t m = (s[5] - '0') * 10 + (s[6] - '0');
    int64_t d = (s[8] - '0') * 10 + (s[9] - '0');
    /* Days from civil (proleptic Gregorian), after Howard Hinnant. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = era * 146097 + doe - 719468;
    return true;
}

/* ---- loading ----------------------------------------------------------- */

/* A column being read, in table order. Categorical values are interned in
 * an open-addressing table (ids in first-seen order) and sorted at the end. */
typedef struct {
    node_col_type_t type;
    uint32_t *ids;          /* categorical: per row, 0 = NULL, else id + 1 */
    hearth_buf_t arena;     /* categorical: distinct values, NUL-terminated */
    size_t *off;            /* per id */
    uint32_t *len;
    uint32_t nids;
    size_t idcap;
    uint32_t *slots;        /* id + 1, 0 = empty */
    size_t nslots;
    int64_t *ints;
    double *reals;
    uint64_t *present;
} rcol_t;

static uint64_t text_hash(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u;   /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
    return h ^ (h >> 29);
}

static void rehash(rcol_t *c, size_t nslots)
{
    free(c->slots);
    c->slots = hearth_calloc(nslots, sizeof *c->slots);
    c->nslots = nslots;
    for (uint32_t id = 0; id < c->nids; id++) {
        size_t i = text_hash(c->arena.data + c->off[id], c->len[id]) & (nslots - 1);
        while (c->slots[i])
            i = (i + 1) & (nslots - 1);
        c->slots[i] = id + 1;
    }
}

/* The id + 1 of s, adding it when new. */
static uint32_t intern(rcol_t *c, const char *s, size_t len)
{
    if ((size_t)(c->nids + 1) * 2 > c->nslots)
        rehash(c, c->nslots ? c->nslots * 2 : 1024);
    size_t mask = c->nslots - 1, i = text_hash(s, len) & mask;
    while (c->slots[i]) {
        uint32_t id = c->slots[i] - 1;
        if (c->len[id] == len && memcmp(c->arena.data + c->off[id], s, len) == 0)
            return id + 1;
        i = (i + 1) & mask;
    }
    if (c->nids == c->idcap) {
        c->idcap = c->idcap ? c->idcap * 2 : 1024;
        c->off = hearth_reallocarray(c->off, c->idcap, sizeof *c->off);
        c->len = hearth_reallocarray(c->len, c->idcap, sizeof *c->len);
    }
    c->off[c->nids] = c->arena.len;
    c->len[c->nids] = (uint32_t)len;
    /* The arena's maximum is SIZE_MAX: a value always fits. */
    (void)hearth_buf_add(&c->arena, s, len);
    (void)hearth_buf_add(&c->arena, "", 1);
    c->slots[i] = ++c->nids;
    return c->nids;
}

static void rcol_free(rcol_t *c)
{
    free(c->ids);
    hearth_buf_free(&c->arena);
    free(c->off);
    free(c->len);
    free(c->slots);
    free(c->ints);
    free(c->reals);
    free(c->present);
}

static void rcol_grow(rcol_t *c, size_t cap)
{
    switch (c->type) {
    case NODE_COL_CATEGORICAL:
        c->ids = hearth_reallocarray(c->ids, cap, sizeof *c->ids);
        return;
    case NODE_COL_DECIMAL:
        c->reals = hearth_reallocarray(c->reals, cap, sizeof *c->reals);
        break;
    case NODE_COL_INTEGER:
    case NODE_COL_DATE:
        c->ints = hearth_reallocarray(c->ints, cap, sizeof *c->ints);
        break;
    }
    size_t old = c->present ? cap / 2 / 64 : 0;
    c->present = hearth_reallocarray(c->present, cap / 64, sizeof *c->present);
    memset(c->present + old, 0, (cap / 64 - old) * sizeof *c->present);
}

/* Reads cell k of the current row r into c. */
static hearth_err_t read_cell(rcol_t *c, sqlite3_stmt *st, int k, size_t r, const ds_t *d,
                              size_t col, char **cause)
{
    int t = sqlite3_column_type(st, k);
    const char *why = NULL;
    switch (c->type) {
    case NODE_COL_CATEGORICAL:
        if (t == SQLITE_NULL) {
            c->ids[r] = 0;
        } else {
            /* Text as stored; a number stored in a categorical column (never
             * written by ingest) is read as SQLite renders it. */
            const char *s = (const char *)sqlite3_column_text(st, k);
            size_t len = (size_t)sqlite3_column_bytes(st, k);
            c->ids[r] = intern(c, s ? s : "", len);
        }
        return HEARTH_OK;
    case NODE_COL_INTEGER:
        if (t == SQLITE_INTEGER)
            c->ints[r] = sqlite3_column_int64(st, k);
        else if (t != SQLITE_NULL)
            why = "not an integer";
        break;
    case NODE_COL_DECIMAL:
        if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
            c->reals[r] = sqlite3_column_double(st, k);
            if (isnan(c->reals[r]))
                why = "not a number";
        } else if (t != SQLITE_NULL) {
            why = "not a number";
        }
        break;
    case NODE_COL_DATE:
        if (t == SQLITE_TEXT) {
            if (!node_engine_parse_date((const char *)sqlite3_column_text(st, k),
                                        (size_t)sqlite3_column_bytes(st, k), &c->ints[r]))
                why = "not a date YYYY-MM-DD";
        } else if (t != SQLITE_NULL) {
            why = "not a date YYYY-MM-DD";
        }
        break;
    }
    if (why) {
        hearth_cause_set(cause, "dataset %s: column '%s' holds a value that is %s",
                         d->meta.name, d->meta.columns[col].name, why);
        return HEARTH_ERR_FORMAT;
    }
    if (t != SQLITE_NULL)
        c->present[r / 64] |= (uint64_t)1 << (r % 64);
    return HEARTH_OK;
}

/* Column vectors are padded with NULL cells to a whole number of 64-row
 * words (at least one), so that filters always read whole words. */
static size_t padded(size_t nrows)
{
    return (nrows / 64 + 1) * 64;
}

typedef struct {
    int64_t person;
    uint32_t row;
} order_t;

static int order_cmp(const void *a, const void *b)
{
    const order_t *x = a, *y = b;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

typedef struct {
    const char *s;
    uint32_t len;
    uint32_t id;
} dentry_t;

static int dentry_cmp(const void *a, const void *b)
{
    const dentry_t *x = a, *y = b;
    return text_cmp(x->s, x->len, y->s, y->len);
}

/* Builds the sorted dictionary and the per-row codes (rows in the order
 * perm gives) of a categorical column; takes the arena from rc. */
static void finish_categorical(col_t *c, rcol_t *rc, const uint32_t *perm, size_t nrows)
{
    c->ndict = rc->nids;
    c->arena = hearth_buf_take(&rc->arena);
    dentry_t *e = hearth_reallocarray(NULL, c->ndict, sizeof *e);
    for (uint32_t id = 0; id < c->ndict; id++)
        e[id] = (dentry_t){c->arena + rc->off[id], rc->len[id], id};
    qsort(e, c->ndict, sizeof *e, dentry_cmp);
    c->dict = hearth_reallocarray(NULL, c->ndict, sizeof *c->dict);
    c->dict_len = hearth_reallocarray(NULL, c->ndict, sizeof *c->dict_len);
    uint32_t *code_of = hearth_reallocarray(NULL, (size_t)c->ndict + 1, sizeof *code_of);
    code_of[0] = 0;
    for (uint32_t k = 0; k < c->ndict; k++) {
        c->dict[k] = e[k].s;
        c->dict_len[k] = e[k].len;
        code_of[e[k].id + 1] = k + 1;
    }
    c->codes = hearth_calloc(padded(nrows), sizeof *c->codes);
    for (size_t r = 0; r < nrows; r++)
        c->codes[r] = code_of[rc->ids[perm[r]]];
    free(code_of);
    free(e);
}

/* Lists the values held by enough distinct persons (rows are in person
 * order, so remembering the last person seen per value counts them). */
static void catalogue_values(col_t *c, const uint32_t *person, size_t nrows)
{
    uint32_t *last = hearth_calloc((size_t)c->ndict + 1, sizeof *last);
    uint32_t *count = hearth_calloc((size_t)c->ndict + 1, sizeof *count);
    for (size_t r = 0; r < nrows; r++) {
        uint32_t code = c->codes[r];
        if (last[code] != person[r]) {
            last[code] = person[r];
            count[code]++;
        }
    }
    for (uint32_t code = 1; code <= c->ndict; code++) {
        if (count[code] < NODE_ENGINE_VALUE_MIN_PERSONS)
            continue;
        const char *s = c->dict[code - 1];
        size_t len = c->dict_len[code - 1];
        /* Only what the wire can carry (UTF-8 without NUL) is listed. */
        if (c->nvalues == NODE_ENGINE_MAX_CATALOGUE_VALUES ||
            len > NODE_ENGINE_CATALOGUE_VALUE_MAX_LEN || !proto_utf8_valid(s, len)) {
            c->truncated = true;
            continue;
        }
        if (c->values == NULL)
            c->values = hearth_calloc(NODE_ENGINE_MAX_CATALOGUE_VALUES, sizeof *c->values);
        c->values[c->nvalues++] = s;
    }
    free(last);
    free(count);
}

/* Permutes a numeric column's cells (and NULL bits) into person order. */
static void finish_numeric(col_t *c, rcol_t *rc, const uint32_t *perm, size_t nrows)
{
    c->present = hearth_calloc(padded(nrows) / 64, sizeof *c->present);
    if (c->type == NODE_COL_DECIMAL)
        c->reals = hearth_calloc(padded(nrows), sizeof *c->reals);
    else
        c->ints = hearth_calloc(padded(nrows), sizeof *c->ints);
    for (size_t r = 0; r < nrows; r++) {
        uint32_t from = perm[r];
        bool here = (rc->present[from / 64] >> (from % 64)) & 1;
        if (c->type == NODE_COL_DECIMAL)
            c->reals[r] = here ? rc->reals[from] : 0;
        else
            c->ints[r] = here ? rc->ints[from] : 0;
        if (here)
            c->present[r / 64] |= (uint64_t)1 << (r % 64);
    }
}

/* Per person while its tokens are read: slots and tokens of each kind. */
typedef struct {
    uint8_t capn, capd;     /* slots: its rows with a token of the kind, capped */
    uint8_t nnhs, ndsp;     /* distinct tokens in them so far */
} tally_t;

/* Table rows looked ahead of when reading tokens: the person's tally and
 * slots, then its slot in the pool, are asked for this far ahead (the
 * pool is written in person order while the rows come in table order). */
#define TOKEN_AHEAD 16

/* Builds each person's row range and distinct tokens (see ds_t). has[t]
 * says which tokens table row t (in rec order) carries (bit 0 NHS, bit 1
 * DOB+sex+postcode), perm[r] the table row of row r. The tokens are read in
 * a second pass in rec order, straight into per-person slots sized from
 * has (a person's rows, capped per kind), since a person's rows in rec
 * order are its rows in first-seen order; repeats are dropped and the pool
 * is then closed up in place. Its peak is thus 64 bytes a row, and no
 * table-order copy of the tokens is ever held. */
static hearth_err_t load_tokens(sqlite3 *db, ds_t *d, const uint8_t *has, const uint32_t *perm,
                                char **cause)
{
    size_t n = d->nrows, np = d->npersons;
    const uint32_t *person = d->person;
    d->first_row = hearth_calloc(np + 1, sizeof *d->first_row);
    d->tok_start = hearth_calloc(np + 1, sizeof *d->tok_start);
    d->tok_nnhs = hearth_calloc(np + 1, sizeof *d->tok_nnhs);
    tally_t *tally = hearth_calloc(np + 1, sizeof *tally);
    uint32_t *row_person = hearth_reallocarray(NULL, n + 1, sizeof *row_person);
    uint8_t *pool = NULL;
    sqlite3_stmt *st = NULL;
    hearth_err_t err = HEARTH_OK;
    for (size_t r = 0; r < n; r++) {
        uint32_t p = person[r] - 1;
        if (r == 0 || person[r] != person[r - 1])
            d->first_row[p] = (uint32_t)r;
        row_person[perm[r]] = p;
        tally_t *y = &tally[p];
        y->capn += (has[perm[r]] & 1) && y->capn < PROTO_COHORT_MAX_KIND_TOKENS;
        y->capd += (has[perm[r]] & 2) && y->capd < PROTO_COHORT_MAX_KIND_TOKENS;
    }
    d->first_row[np] = (uint32_t)n;
    /* Slots: tok_start[p] is person p + 1's first, until closed up. */
    uint64_t total = 0;
    for (size_t p = 0; p < np; p++) {
        d->tok_start[p] = (uint32_t)total;
        total += (uint64_t)tally[p].capn + tally[p].capd;
        if (total > UINT32_MAX) {
            hearth_cause_set(cause, "dataset %s holds more than %u tokens", d->meta.name,
                             (unsigned)UINT32_MAX);
            err = HEARTH_ERR_TOO_BIG;
            goto done;
        }
    }
    d->tok_start[np] = (uint32_t)total;
    if (total == 0)
        goto done;
    pool = hearth_alloc_huge((size_t)total, KEYS_TOKEN_LEN);   /* read at random per query */
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT t_nhs, t_dsp FROM d_%lld ORDER BY rec",
             (long long)d->meta.id);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        hearth_cause_set(cause, "dataset %s: %s", d->meta.name, sqlite3_errmsg(db));
        err = HEARTH_ERR_DB;
        goto done;
    }
    size_t t = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && t < n) {
        if (t + 2 * TOKEN_AHEAD < n) {
            uint32_t q = row_person[t + 2 * TOKEN_AHEAD];
            __builtin_prefetch(&tally[q], 1);
            __builtin_prefetch(&d->tok_start[q]);
        }
        if (t + TOKEN_AHEAD < n)
            __builtin_prefetch(pool + (size_t)d->tok_start[row_person[t + TOKEN_AHEAD]] *
                                          KEYS_TOKEN_LEN, 1);
        uint32_t p = row_person[t];
        tally_t *y = &tally[p];
        for (int k = 0; k < 2; k++) {
            if (!((has[t] >> k) & 1))
                continue;
            /* The type first: sqlite3_column_blob may convert the value. */
            if (sqlite3_column_type(st, k) != SQLITE_BLOB) {
                hearth_cause_set(cause, "dataset %s: a stored token is not %d bytes",
                                 d->meta.name, KEYS_TOKEN_LEN);
                err = HEARTH_ERR_FORMAT;
                goto done;
            }
            const uint8_t *tok = sqlite3_column_blob(st, k);
            if (sqlite3_column_bytes(st, k) != KEYS_TOKEN_LEN) {
                hearth_cause_set(cause, "dataset %s: a stored token is not %d bytes",
                                 d->meta.name, KEYS_TOKEN_LEN);
                err = HEARTH_ERR_FORMAT;
                goto done;
            }
            size_t first = (size_t)d->tok_start[p] + (k ? y->capn : 0);
            uint8_t *slot = pool + first * KEYS_TOKEN_LEN;
            uint8_t *count = k ? &y->ndsp : &y->nnhs;
            size_t j = 0;
            while (j < *count && memcmp(slot + j * KEYS_TOKEN_LEN, tok, KEYS_TOKEN_LEN) != 0)
                j++;
            if (j == *count && *count < (k ? y->capd : y->capn))
                memcpy(slot + (*count)++ * KEYS_TOKEN_LEN, tok, KEYS_TOKEN_LEN);
        }
        t++;
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW) {
        hearth_cause_set(cause, "dataset %s: %s", d->meta.name, sqlite3_errmsg(db));
        err = HEARTH_ERR_DB;
        goto done;
    }
    /* Cannot happen inside the one read transaction, but is not assumed. */
    if (step == SQLITE_ROW || t != n) {
        hearth_cause_set(cause, "dataset %s changed while it was read", d->meta.name);
        err = HEARTH_ERR_DB;
        goto done;
    }
    /* Close up the slots left by repeats; every move is down the pool. */
    size_t out = 0;
    for (size_t p = 0; p < np; p++) {
        size_t from = d->tok_start[p], nn = tally[p].nnhs, nd = tally[p].ndsp;
        d->tok_start[p] = (uint32_t)out;
        d->tok_nnhs[p] = (uint8_t)nn;
        memmove(pool + out * KEYS_TOKEN_LEN, pool + from * KEYS_TOKEN_LEN, nn * KEYS_TOKEN_LEN);
        out += nn;
        memmove(pool + out * KEYS_TOKEN_LEN, pool + (from + tally[p].capn) * KEYS_TOKEN_LEN,
                nd * KEYS_TOKEN_LEN);
        out += nd;
    }
    d->tok_start[np] = (uint32_t)out;
    if (out > 0) {
        /* Kept at its size (repeats are few): shrinking could move it off
         * its huge pages. */
        d->tokens = pool;
        pool = NULL;
    }
done:
    sqlite3_finalize(st);
    free(pool);
    free(row_person);
    free(tally);
    return err;
}

static hearth_err_t load_dataset(sqlite3 *db, const node_store_dataset_t *meta, ds_t *d,
                                 char **cause)
{
    d->meta.id = meta->id;
    d->meta.name = hearth_strdup(meta->name);
    d->meta.rows = meta->rows;
    d->meta.persons = meta->persons;
    d->meta.ncolumns = meta->ncolumns;
    d->meta.columns = hearth_calloc(meta->ncolumns, sizeof *d->meta.columns);
    for (size_t k = 0; k < meta->ncolumns; k++) {
        d->meta.columns[k].name = hearth_strdup(meta->columns[k].name);
        d->meta.columns[k].type = meta->columns[k].type;
    }
    size_t ncol = meta->ncolumns;
    d->cols = hearth_calloc(ncol, sizeof *d->cols);
    rcol_t *rc = hearth_calloc(ncol, sizeof *rc);
    int64_t *person = NULL;
    uint8_t *has = NULL;
    order_t *order = NULL;
    uint32_t *perm = NULL;
    sqlite3_stmt *st = NULL;
    hearth_err_t err = HEARTH_OK;
    for (size_t k = 0; k < ncol; k++) {
        rc[k].type = meta->columns[k].type;
        d->cols[k].type = rc[k].type;
        hearth_buf_init(&rc[k].arena, SIZE_MAX);
        if ((unsigned)rc[k].type > NODE_COL_DATE) {
            hearth_cause_set(cause, "dataset %s: column '%s' has an unknown type", meta->name,
                             meta->columns[k].name);
            err = HEARTH_ERR_FORMAT;
            goto done;
        }
    }
    /* Built only from integers: the table's id and the columns' ordinals.
     * In rec order, as load_tokens reads the tokens again. */
    hearth_buf_t sql;
    hearth_buf_init(&sql, SIZE_MAX);
    hearth_buf_adds(&sql, "SELECT person, t_nhs IS NOT NULL, t_dsp IS NOT NULL");
    for (size_t k = 0; k < ncol; k++)
        hearth_buf_printf(&sql, ", a%zu", k);
    hearth_buf_printf(&sql, " FROM d_%lld ORDER BY rec", (long long)meta->id);
    int prc = sqlite3_prepare_v2(db, hearth_buf_str(&sql), -1, &st, NULL);
    hearth_buf_free(&sql);
    if (prc != SQLITE_OK) {
        hearth_cause_set(cause, "dataset %s: %s", meta->name, sqlite3_errmsg(db));
        err = HEARTH_ERR_DB;
        goto done;
    }
    size_t n = 0, cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == MAX_ROWS) {
            hearth_cause_set(cause, "dataset %s has more than %zu rows", meta->name, MAX_ROWS);
            err = HEARTH_ERR_TOO_BIG;
            goto done;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            person = hearth_reallocarray(person, cap, sizeof *person);
            has = hearth_reallocarray(has, cap, sizeof *has);
            for (size_t k = 0; k < ncol; k++)
                rcol_grow(&rc[k], cap);
        }
        person[n] = sqlite3_column_int64(st, 0);
        has[n] = (uint8_t)(sqlite3_column_int(st, 1) | sqlite3_column_int(st, 2) << 1);
        for (size_t k = 0; k < ncol; k++)
            if ((err = read_cell(&rc[k], st, (int)k + 3, n, d, k, cause)) != HEARTH_OK)
                goto done;
        n++;
    }
    if (step != SQLITE_DONE) {
        hearth_cause_set(cause, "dataset %s: %s", meta->name, sqlite3_errmsg(db));
        err = HEARTH_ERR_DB;
        goto done;
    }
    /* Person order (ties in table order), and persons numbered 1.. densely. */
    order = hearth_reallocarray(NULL, n, sizeof *order);
    for (size_t r = 0; r < n; r++)
        order[r] = (order_t){person[r], (uint32_t)r};
    qsort(order, n, sizeof *order, order_cmp);
    perm = hearth_reallocarray(NULL, n, sizeof *perm);
    d->person = hearth_reallocarray(NULL, n, sizeof *d->person);
    uint32_t p = 0;
    for (size_t r = 0; r < n; r++) {
        perm[r] = order[r].row;
        if (r == 0 || order[r].person != order[r - 1].person)
            p++;
        d->person[r] = p;
    }
    d->nrows = n;
    d->npersons = p;
    sqlite3_finalize(st);
    st = NULL;
    /* The person numbers are all the token pass needs of the table order. */
    free(person);
    person = NULL;
    if ((err = load_tokens(db, d, has, perm, cause)) != HEARTH_OK)
        goto done;
    for (size_t k = 0; k < ncol; k++) {
        if (rc[k].type == NODE_COL_CATEGORICAL) {
            finish_categorical(&d->cols[k], &rc[k], perm, n);
            catalogue_values(&d->cols[k], d->person, n);
        } else {
            finish_numeric(&d->cols[k], &rc[k], perm, n);
        }
        /* Each table-order copy goes as soon as it is no longer needed. */
        rcol_free(&rc[k]);
        rc[k] = (rcol_t){.type = rc[k].type};
    }
done:
    sqlite3_finalize(st);
    for (size_t k = 0; k < ncol; k++)
        rcol_free(&rc[k]);
    free(rc);
    free(has);
    free(person);
    free(order);
    free(perm);
    return err;
}

hearth_err_t node_engine_load(node_engine_t *self, node_store_t *store, char **cause)
{
    ds_t *ds = NULL;
    size_t nds = 0;
    /* One read transaction: the catalogue and every table as of one commit. */
    hearth_err_t rc = node_store_exec(store, "BEGIN", cause);
    if (rc != HEARTH_OK)
        return rc;
    if ((rc = node_store_reload(store, cause)) != HEARTH_OK)
        goto done;
    size_t want = node_store_ndatasets(store);
    ds = hearth_calloc(want, sizeof *ds);
    for (; nds < want; nds++) {
        rc = load_dataset(node_store_db(store), node_store_dataset(store, nds), &ds[nds],
                          cause);
        if (rc != HEARTH_OK) {
            nds++;   /* free the partly loaded one too */
            goto done;
        }
    }
done:
    /* Ends the read transaction, which wrote nothing. */
    if (node_store_exec(store, "COMMIT", rc == HEARTH_OK ? cause : NULL) != HEARTH_OK) {
        (void)node_store_exec(store, "ROLLBACK", NULL);
        if (rc == HEARTH_OK)
            rc = HEARTH_ERR_DB;
    }
    if (rc != HEARTH_OK) {
        free_all(ds, nds);
        return rc;
    }
    free_all(self->ds, self->nds);
    self->ds = ds;
    self->nds = nds;
    return HEARTH_OK;
}

/* ---- catalogue --------------------------------------------------------- */

size_t node_engine_ndatasets(const node_engine_t *self)
{
    return self->nds;
}

const node_store_dataset_t *node_engine_dataset(const node_engine_t *self, size_t i)
{
    return i < self->nds ? &self->ds[i].meta : NULL;
}

int node_engine_find(const node_engine_t *self, const char *name)
{
    for (size_t i = 0; i < self->nds; i++)
        if (strcmp(self->ds[i].meta.name, name) == 0)
            return (int)i;
    return -1;
}

size_t node_engine_nrows(const node_engine_t *self, size_t i)
{
    return i < self->nds ? self->ds[i].nrows : 0;
}

static const col_t *column(const node_engine_t *self, size_t i, size_t col)
{
    if (i >= self->nds || col >= self->ds[i].meta.ncolumns)
        return NULL;
    return &self->ds[i].cols[col];
}

const char *const *node_engine_catalogue(const node_engine_t *self, size_t i, size_t col,
                                         size_t *n, bool *truncated)
{
    const col_t *c = column(self, i, col);
    *n = c ? c->nvalues : 0;
    *truncated = c ? c->truncated : false;
    return c ? c->values : NULL;
}

const char *node_engine_text(const node_engine_t *self, size_t i, size_t col, uint32_t code,
                             size_t *len)
{
    const col_t *c = column(self, i, col);
    if (c == NULL || c->type != NODE_COL_CATEGORICAL || code == 0 || code > c->ndict)
        return NULL;
    if (len)
        *len = c->dict_len[code - 1];
    return c->dict[code - 1];
}

/* ---- compiling a filter ------------------------------------------------ */

typedef enum {
    I_TRUE,
    I_AND,
    I_OR,
    I_NOT,
    I_RANGE,    /* lo <= cell <= hi (codes, integers, days; or dlo..dhi) */
    I_SET,      /* cell in a sorted set */
    I_NULL      /* cell IS NULL */
} instr_kind_t;

typedef struct {
    instr_kind_t kind;
    const col_t *col;
    bool empty;             /* RANGE / SET that no value satisfies */
    int64_t lo, hi;
    double dlo, dhi;
    size_t nset;
    uint32_t *codes;        /* SET over a categorical column, when searched */
    uint64_t *bits;         /* SET over a small dictionary: bit per code */
    int64_t *ints;          /* SET over integers or days */
    double *reals;          /* SET over decimals */
} instr_t;

typedef struct {
    instr_t *code;
    size_t n;
    size_t depth;           /* deepest stack the program needs */
} prog_t;

static void prog_free(prog_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->code[i].codes);
        free(p->code[i].bits);
        free(p->code[i].ints);
        free(p->code[i].reals);
    }
    free(p->code);
}

/* A value as a number for an integer or date column: integers as they are,
 * decimals through the bounds below; dates parsed from text. */
typedef struct {
    bool is_int;
    int64_t i;
    double d;
} num_t;

/* Checks v's kind against column type t and converts it. */
static bool value_for(node_col_type_t t, const node_engine_value_t *v, num_t *out)
{
    switch (t) {
    case NODE_COL_CATEGORICAL:
        return v->kind == NODE_ENGINE_VALUE_TEXT && v->text != NULL;
    case NODE_COL_INTEGER:
    case NODE_COL_DECIMAL:
        if (v->kind == NODE_ENGINE_VALUE_INTEGER) {
            *out = (num_t){true, v->integer, (double)v->integer};
            return true;
        }
        if (v->kind == NODE_ENGINE_VALUE_DECIMAL && !isnan(v->decimal)) {
            *out = (num_t){false, 0, v->decimal};
            return true;
        }
        return false;
    case NODE_COL_DATE:
        if (v->kind != NODE_ENGINE_VALUE_TEXT || v->text == NULL ||
            !node_engine_parse_date(v->text, v->len, &out->i))
            return false;
        out->is_int = true;
        out->d = (double)out->i;
        return true;
    }
    return false;
}

#define TWO63 9223372036854775808.0

/* The least int64 x with x >= v (strict: x > v); false when there is none. */
static bool int_lower(num_t v, bool strict, int64_t *lo)
{
    if (v.is_int) {
        if (strict && v.i == INT64_MAX)
            return false;
        *lo = strict ? v.i + 1 : v.i;
        return true;
    }
    double c = strict ? floor(v.d) : ceil(v.d);
    if (c >= TWO63)
        return false;
    if (c < -TWO63) {
        *lo = INT64_MIN;
        return true;
    }
    int64_t k = (int64_t)c;
    if (strict) {
        if (k == INT64_MAX)
            return false;
        k++;
    }
    *lo = k;
    return true;
}

/* The greatest int64 x with x <= v (strict: x < v); false when none. */
static bool int_upper(num_t v, bool strict, int64_t *hi)
{
    if (v.is_int) {
        if (strict && v.i == INT64_MIN)
            return false;
        *hi = strict ? v.i - 1 : v.i;
        return true;
    }
    double c = strict ? ceil(v.d) : floor(v.d);
    if (c < -TWO63)
        return false;
    if (c >= TWO63) {
        *hi = INT64_MAX;
        return true;
    }
    int64_t k = (int64_t)c;
    if (strict) {
        if (k == INT64_MIN)
            return false;
        k--;
    }
    *hi = k;
    return true;
}

/* Fills a RANGE instruction's lower bound from v (strict: above v). */
static void range_lower(instr_t *in, const node_engine_value_t *raw, num_t v, bool strict)
{
    const col_t *c = in->col;
    switch (c->type) {
    case NODE_COL_CATEGORICAL:
        in->lo = (int64_t)dict_rank(c, raw->text, raw->len, strict) + 1;
        break;
    case NODE_COL_DECIMAL:
        in->dlo = strict ? nextafter(v.d, INFINITY) : v.d;
        break;
    case NODE_COL_INTEGER:
    case NODE_COL_DATE:
        if (!int_lower(v, strict, &in->lo))
            in->empty = true;
        break;
    }
}

static void range_upper(instr_t *in, const node_engine_value_t *raw, num_t v, bool strict)
{
    const col_t *c = in->col;
    switch (c->type) {
    case NODE_COL_CATEGORICAL:
        in->hi = (int64_t)dict_rank(c, raw->text, raw->len, !strict);
        break;
    case NODE_COL_DECIMAL:
        in->dhi = strict ? nextafter(v.d, -INFINITY) : v.d;
        break;
    case NODE_COL_INTEGER:
    case NODE_COL_DATE:
        if (!int_upper(v, strict, &in->hi))
            in->empty = true;
        break;
    }
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int f64_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts and de-duplicates n elements of size sz; returns the new count. */
static size_t sort_unique(void *base, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    if (n == 0)
        return 0;
    qsort(base, n, sz, cmp);
    char *b = base;
    size_t out = 1;
    for (size_t i = 1; i < n; i++)
        if (cmp(b + (out - 1) * sz, b + i * sz) != 0)
            memmove(b + out++ * sz, b + i * sz, sz);
    return out;
}

/* Fills a SET instruction for IN; values already kind-checked in nums. */
static void compile_in(instr_t *in, const node_engine_term_t *t, const num_t *nums)
{
    const col_t *c = in->col;
    size_t n = 0;
    switch (c->type) {
    case NODE_COL_CATEGORICAL:
        in->codes = hearth_reallocarray(NULL, t->nvalues, sizeof *in->codes);
        for (size_t v = 0; v < t->nvalues; v++) {
            const node_engine_value_t *x = &t->values[v];
            uint32_t r = dict_rank(c, x->text, x->len, false);
            /* A value not in the dictionary matches nothing. */
            if (r < c->ndict && text_cmp(c->dict[r], c->dict_len[r], x->text, x->len) == 0)
                in->codes[n++] = r + 1;
        }
        n = sort_unique(in->codes, n, sizeof *in->codes, u32_cmp);
        if (c->ndict < IN_BITMAP_MAX) {
            in->bits = hearth_calloc((size_t)c->ndict / 64 + 1, sizeof *in->bits);
            for (size_t k = 0; k < n; k++)
                in->bits[in->codes[k] / 64] |= (uint64_t)1 << (in->codes[k] % 64);
            free(in->codes);
            in->codes = NULL;
        }
        break;
    case NODE_COL_DECIMAL:
        in->reals = hearth_reallocarray(NULL, t->nvalues, sizeof *in->reals);
        for (size_t v = 0; v < t->nvalues; v++)
            in->reals[n++] = nums[v].d;
        n = sort_unique(in->reals, n, sizeof *in->reals, f64_cmp);
        break;
    case NODE_COL_INTEGER:
    case NODE_COL_DATE:
        in->ints = hearth_reallocarray(NULL, t->nvalues, sizeof *in->ints);
        for (size_t v = 0; v < t->nvalues; v++) {
            int64_t lo, hi;
            /* 2.5 equals no integer; 3.0 equals 3. */
            if (int_lower(nums[v], false, &lo) && int_upper(nums[v], false, &hi) && lo == hi)
                in->ints[n++] = lo;
        }
        n = sort_unique(in->ints, n, sizeof *in->ints, i64_cmp);
        break;
    }
    in->nset = n;
    in->empty = n == 0;
}

static int values_needed(node_engine_op_t op)
{
    switch (op) {
    case NODE_ENGINE_EQ:
    case NODE_ENGINE_NE:
    case NODE_ENGINE_LT:
    case NODE_ENGINE_LE:
    case NODE_ENGINE_GT:
    case NODE_ENGINE_GE:
        return 1;
    case NODE_ENGINE_BETWEEN:
        return 2;
    case NODE_ENGINE_IN:
        return -1;
    default:
        return 0;
    }
}

static hearth_err_t compile(const ds_t *d, const node_engine_query_t *q, prog_t *p,
                            char **cause)
{
    p->code = hearth_calloc(q->nterms * 2, sizeof *p->code);
    num_t *nums = NULL;
    size_t depth = 0, nvalues = 0;
    for (size_t i = 0; i < q->nterms; i++) {
        const node_engine_term_t *t = &q->terms[i];
        instr_t *in = &p->code[p->n];
        if ((unsigned)t->op > NODE_ENGINE_EXISTS) {
            hearth_cause_set(cause, "unknown filter operator");
            goto proto;
        }
        bool leafless = t->op == NODE_ENGINE_TRUE || t->op == NODE_ENGINE_EXISTS;
        bool logic = t->op == NODE_ENGINE_AND || t->op == NODE_ENGINE_OR ||
                     t->op == NODE_ENGINE_NOT || leafless;
        int need = values_needed(t->op);
        if ((need >= 0 && t->nvalues != (size_t)need) || (need < 0 && t->nvalues == 0) ||
            (t->nvalues > 0 && t->values == NULL))
            goto malformed_term;
        nvalues += t->nvalues;
        if (nvalues > NODE_ENGINE_MAX_VALUES) {
            hearth_cause_set(cause, "filter has more than %d values", NODE_ENGINE_MAX_VALUES);
            free(nums);
            return HEARTH_ERR_TOO_BIG;
        }
        if (logic) {
            size_t pops = leafless ? 0 : t->op == NODE_ENGINE_NOT ? 1 : 2;
            if (depth < pops) {
                hearth_cause_set(cause, "malformed filter");
                goto proto;
            }
            if (t->op == NODE_ENGINE_EXISTS && t->column >= q->natoms)
                goto malformed_term;
            depth = depth - pops + 1;
            in->kind = leafless                   ? I_TRUE
                       : t->op == NODE_ENGINE_NOT ? I_NOT
                       : t->op == NODE_ENGINE_AND ? I_AND
                                                  : I_OR;
            p->n++;
            /* An atom false under this assignment: FALSE for every row. */
            if (t->op == NODE_ENGINE_EXISTS && !((q->assignment >> t->column) & 1))
                p->code[p->n++].kind = I_NOT;
        } else {
            if (t->column >= d->meta.ncolumns) {
                hearth_cause_set(cause, "no column %zu in dataset %s", t->column, d->meta.name);
                free(nums);
                return HEARTH_ERR_NOT_FOUND;
            }
            in->col = &d->cols[t->column];
            nums = hearth_reallocarray(nums, t->nvalues, sizeof *nums);
            for (size_t v = 0; v < t->nvalues; v++)
                if (!value_for(in->col->type, &t->values[v], &nums[v]))
                    goto malformed_term;
            const node_engine_value_t *vals = t->values;
            in->kind = I_RANGE;
            /* Widest range first; each operator narrows one side. */
            in->lo = in->col->type == NODE_COL_CATEGORICAL ? 1 : INT64_MIN;
            in->hi = in->col->type == NODE_COL_CATEGORICAL ? (int64_t)in->col->ndict : INT64_MAX;
            in->dlo = -INFINITY;
            in->dhi = INFINITY;
            switch (t->op) {
            case NODE_ENGINE_EQ:
            case NODE_ENGINE_NE:   /* NOT (cell = v): UNKNOWN stays UNKNOWN */
                range_lower(in, &vals[0], nums[0], false);
                range_upper(in, &vals[0], nums[0], false);
                break;
            case NODE_ENGINE_LT: range_upper(in, &vals[0], nums[0], true); break;
            case NODE_ENGINE_LE: range_upper(in, &vals[0], nums[0], false); break;
            case NODE_ENGINE_GT: range_lower(in, &vals[0], nums[0], true); break;
            case NODE_ENGINE_GE: range_lower(in, &vals[0], nums[0], false); break;
            case NODE_ENGINE_BETWEEN:
                range_lower(in, &vals[0], nums[0], false);
                range_upper(in, &vals[1], nums[1], false);
                break;
            case NODE_ENGINE_IN:
                in->kind = I_SET;
                compile_in(in, t, nums);
                break;
            case NODE_ENGINE_IS_NULL:
            case NODE_ENGINE_IS_NOT_NULL:   /* NOT (IS NULL): never UNKNOWN */
                in->kind = I_NULL;
                break;
            default:
                break;
            }
            if (in->kind == I_RANGE &&
                (in->lo > in->hi || in->dlo > in->dhi || isnan(in->dlo) || isnan(in->dhi)))
                in->empty = true;
            p->n++;
            if (t->op == NODE_ENGINE_NE || t->op == NODE_ENGINE_IS_NOT_NULL)
                p->code[p->n++].kind = I_NOT;
            depth++;
        }
        if (depth > p->depth)
            p->depth = depth;
    }
    free(nums);
    if (q->nterms > 0 && depth != 1) {
        hearth_cause_set(cause, "malformed filter");
        return HEARTH_ERR_PROTO;
    }
    return HEARTH_OK;
malformed_term:
    hearth_cause_set(cause, "malformed filter term");
proto:
    free(nums);
    return HEARTH_ERR_PROTO;
}

/* ---- evaluating a filter over one block -------------------------------- */

static uint64_t low_bits(size_t m)
{
    return m >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << m) - 1;
}

static bool set_has_u32(const uint32_t *s, size_t n, uint32_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && s[lo] == x;
}

static bool set_has_i64(const int64_t *s, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && s[lo] == x;
}

static bool set_has_f64(const double *s, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && s[lo] == x;
}

/* The 64 bytes b[0..64), each 0 or 1, as the bits of a word (b[j] is bit
 * j). Comparisons written into bytes vectorise where shifting each result
 * into place one by one does not. */
static uint64_t pack64(const uint8_t *b)
{
    uint64_t out = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (size_t k = 0; k < 8; k++) {
        uint64_t x;
        memcpy(&x, b + 8 * k, sizeof x);
        /* Gathers the low bit of each byte into the top byte, in order. */
        out |= ((x * 0x0102040810204080u) >> 56) << (8 * k);
    }
#else
    for (size_t j = 0; j < 64; j++)
        out |= (uint64_t)b[j] << j;
#endif
    return out;
}

/* Known-true bits of one word of 64 rows starting at r0 (m of them real;
 * the vectors are padded to whole words with NULLs) for a leaf; *nn gets
 * the non-NULL bits. */
static uint64_t leaf_word(const instr_t *in, size_t r0, size_t m, uint64_t *nn)
{
    const col_t *c = in->col;
    uint8_t b[64];
    uint64_t notnull;
    if (c->type == NODE_COL_CATEGORICAL) {
        const uint32_t *x = c->codes + r0;
        for (size_t j = 0; j < 64; j++)
            b[j] = x[j] != 0;
        notnull = pack64(b);
    } else {
        notnull = c->present[r0 / 64];
    }
    *nn = notnull;
    if (in->kind == I_NULL)
        return ~notnull & low_bits(m);
    if (in->empty)
        return 0;
    if (c->type == NODE_COL_CATEGORICAL) {
        const uint32_t *x = c->codes + r0;
        if (in->kind == I_RANGE) {
            /* lo >= 1, so code 0 (NULL) wraps far above the span. */
            uint32_t lo = (uint32_t)in->lo, span = (uint32_t)(in->hi - in->lo);
            for (size_t j = 0; j < 64; j++)
                b[j] = x[j] - lo <= span;
        } else if (in->bits) {
            for (size_t j = 0; j < 64; j++)
                b[j] = (in->bits[x[j] / 64] >> (x[j] % 64)) & 1;
        } else {
            for (size_t j = 0; j < 64; j++)
                b[j] = set_has_u32(in->codes, in->nset, x[j]);
        }
    } else if (c->type == NODE_COL_DECIMAL) {
        const double *x = c->reals + r0;
        if (in->kind == I_RANGE) {
            for (size_t j = 0; j < 64; j++)
                b[j] = (x[j] >= in->dlo) & (x[j] <= in->dhi);
        } else {
            for (size_t j = 0; j < 64; j++)
                b[j] = set_has_f64(in->reals, in->nset, x[j]);
        }
    } else {
        const int64_t *x = c->ints + r0;
        if (in->kind == I_RANGE) {
            /* lo <= x <= hi as one unsigned comparison (lo <= hi here). */
            uint64_t lo = (uint64_t)in->lo, span = (uint64_t)in->hi - lo;
            for (size_t j = 0; j < 64; j++)
                b[j] = (uint64_t)x[j] - lo <= span;
        } else {
            for (size_t j = 0; j < 64; j++)
                b[j] = set_has_i64(in->ints, in->nset, x[j]);
        }
    }
    return pack64(b) & notnull;
}

/* Runs the program over rows [base, base + n) (n <= BLOCK_ROWS); the
 * known-true bits of the whole filter are left in stack[0..BLOCK_WORDS). */
static void eval_block(const prog_t *p, size_t base, size_t n, uint64_t *stack)
{
    size_t words = (n + 63) / 64, sp = 0;
    for (size_t i = 0; i < p->n; i++) {
        const instr_t *in = &p->code[i];
        uint64_t *top = stack + (sp - (sp > 0)) * 2 * BLOCK_WORDS;   /* T then F */
        switch (in->kind) {
        case I_AND:
        case I_OR: {
            uint64_t *a = stack + (sp - 2) * 2 * BLOCK_WORDS;
            for (size_t w = 0; w < words; w++) {
                if (in->kind == I_AND) {
                    a[w] &= top[w];
                    a[BLOCK_WORDS + w] |= top[BLOCK_WORDS + w];
                } else {
                    a[w] |= top[w];
                    a[BLOCK_WORDS + w] &= top[BLOCK_WORDS + w];
                }
            }
            sp--;
            break;
        }
        case I_NOT:
            for (size_t w = 0; w < words; w++) {
                uint64_t t = top[w];
                top[w] = top[BLOCK_WORDS + w];
                top[BLOCK_WORDS + w] = t;
            }
            break;
        case I_TRUE: {
            uint64_t *s = stack + sp++ * 2 * BLOCK_WORDS;
            for (size_t w = 0; w < words; w++) {
                s[w] = low_bits(n - w * 64);
                s[BLOCK_WORDS + w] = 0;
            }
            break;
        }
        default: {
            uint64_t *s = stack + sp++ * 2 * BLOCK_WORDS;
            for (size_t w = 0; w < words; w++) {
                uint64_t nn;
                size_t m = n - w * 64 < 64 ? n - w * 64 : 64;
                uint64_t t = leaf_word(in, base + w * 64, m, &nn);
                s[w] = t;
                s[BLOCK_WORDS + w] = in->kind == I_NULL ? nn : nn & ~t;
            }
            break;
        }
        }
    }
}

/* ---- counting ---------------------------------------------------------- */

/* A cell's dominance inputs, streamed: rows come in person order, so a
 * cell's persons arrive one after another. cur is the running sum of
 * |value| of the cell's current person (measured_last), -1 before the
 * first; top the largest sums of the persons before it, largest first, 0
 * where there is none yet (every sum is >= 0, so a 0 is never wrongly kept
 * over a real one, and how many are real follows from measured_persons).
 * Kept together: one pointer fewer in count_rows's crowded loop. */
typedef struct {
    double cur;
    double top[NODE_ENGINE_TOP];
} top_t;

/* Per-group counters, one array per field. Each row updates a few of them;
 * with separate 32-bit arrays the next row's load of a counter is served
 * straight from the previous row's store, where the fields of one struct
 * get merged into wider stores that a narrower load cannot forward from
 * (this alone made a grouped count several times slower). */
typedef struct {
    uint32_t *records, *persons, *last;
    /* With a measure only: */
    uint32_t *measured, *measured_persons, *measured_last;
    double *sum;
    top_t *top;
} cells_t;

typedef struct {
    const ds_t *d;
    size_t ngroup;
    const uint32_t *codes[NODE_ENGINE_MAX_GROUP_BY];
    size_t size[NODE_ENGINE_MAX_GROUP_BY];   /* dictionary size + 1 */
    const col_t *measure;
    bool dense;
    /* Dense: cell key for each combination, then the total at ncells - 1.
     * Hash: the total at 0, then one cell per group as it first occurs. */
    cells_t c;
    size_t ncells, cap;
    size_t total;
    uint32_t (*keys)[NODE_ENGINE_MAX_GROUP_BY];   /* hash: each cell's codes */
    uint32_t *slots;        /* hash: cell index, 0 = empty (0 is the total) */
    size_t nslots;
    uint32_t *cell;         /* BLOCK_ROWS: the cell of each row being counted */
} agg_t;

static void cells_grow(agg_t *a, size_t cap)
{
    cells_t *c = &a->c;
    size_t old = a->cap;
    c->records = hearth_reallocarray(c->records, cap, sizeof *c->records);
    c->persons = hearth_reallocarray(c->persons, cap, sizeof *c->persons);
    c->last = hearth_reallocarray(c->last, cap, sizeof *c->last);
    memset(c->records + old, 0, (cap - old) * sizeof *c->records);
    memset(c->persons + old, 0, (cap - old) * sizeof *c->persons);
    memset(c->last + old, 0, (cap - old) * sizeof *c->last);
    if (a->measure) {
        c->measured = hearth_reallocarray(c->measured, cap, sizeof *c->measured);
        c->measured_persons = hearth_reallocarray(c->measured_persons, cap,
                                                  sizeof *c->measured_persons);
        c->measured_last = hearth_reallocarray(c->measured_last, cap, sizeof *c->measured_last);
        c->sum = hearth_reallocarray(c->sum, cap, sizeof *c->sum);
        c->top = hearth_reallocarray(c->top, cap, sizeof *c->top);
        memset(c->measured + old, 0, (cap - old) * sizeof *c->measured);
        memset(c->measured_persons + old, 0, (cap - old) * sizeof *c->measured_persons);
        memset(c->measured_last + old, 0, (cap - old) * sizeof *c->measured_last);
        for (size_t i = old; i < cap; i++) {
            c->sum[i] = 0;
            c->top[i] = (top_t){.cur = -1};
        }
    }
    a->cap = cap;
}

static void agg_free(agg_t *a)
{
    free(a->c.records);
    free(a->c.persons);
    free(a->c.last);
    free(a->c.measured);
    free(a->c.measured_persons);
    free(a->c.measured_last);
    free(a->c.sum);
    free(a->c.top);
    free(a->keys);
    free(a->slots);
    free(a->cell);
}

static uint64_t key_hash(const uint32_t *k)
{
    uint64_t h = k[0] * 0x9e3779b97f4a7c15u;
    h = (h ^ k[1]) * 0xbf58476d1ce4e5b9u;
    h = (h ^ k[2]) * 0x94d049bb133111ebu;
    return h ^ (h >> 31);
}

static void agg_rehash(agg_t *a, size_t nslots)
{
    free(a->slots);
    a->slots = hearth_calloc(nslots, sizeof *a->slots);
    a->nslots = nslots;
    for (size_t c = 1; c < a->ncells; c++) {
        size_t i = key_hash(a->keys[c]) & (nslots - 1);
        while (a->slots[i])
            i = (i + 1) & (nslots - 1);
        a->slots[i] = (uint32_t)c;
    }
}

/* The cell of row's group in the hash, added when new. */
static size_t hash_cell(agg_t *a, size_t row)
{
    uint32_t k[NODE_ENGINE_MAX_GROUP_BY] = {0, 0, 0};
    for (size_t g = 0; g < a->ngroup; g++)
        k[g] = a->codes[g][row];
    if (a->ncells * 2 > a->nslots)
        agg_rehash(a, a->nslots ? a->nslots * 2 : 1024);
    size_t mask = a->nslots - 1, i = key_hash(k) & mask;
    while (a->slots[i]) {
        uint32_t c = a->slots[i];
        if (memcmp(a->keys[c], k, sizeof k) == 0)
            return c;
        i = (i + 1) & mask;
    }
    if (a->ncells == a->cap) {
        cells_grow(a, a->cap * 2);
        a->keys = hearth_reallocarray(a->keys, a->cap, sizeof *a->keys);
    }
    memcpy(a->keys[a->ncells], k, sizeof k);
    a->slots[i] = (uint32_t)a->ncells;
    return a->ncells++;
}

/* Keeps s in top (largest first, NODE_ENGINE_TOP of them) when it is among
 * the largest; a negative s is never kept. */
static void top_add(double *top, double s)
{
    if (s <= top[NODE_ENGINE_TOP - 1])
        return;
    size_t k = NODE_ENGINE_TOP - 1;
    for (; k > 0 && s > top[k - 1]; k--)
        top[k] = top[k - 1];
    top[k] = s;
}

/* c ? x : y, computed on the bits so that the compiler cannot turn it
 * into a branch (see count_rows). */
static inline double pick(bool c, double x, double y)
{
    uint64_t mask = -(uint64_t)c, xb, yb;
    memcpy(&xb, &x, sizeof xb);
    memcpy(&yb, &y, sizeof yb);
    uint64_t rb = (xb & mask) | (yb & ~mask);
    double r;
    memcpy(&r, &rb, sizeof r);
    return r;
}

/* Counts the rows sel[0..n) (ascending, at most BLOCK_ROWS): the total,
 * then each row's group, then the measure. Rows come in person order, so a
 * person is new to a cell when it differs from the last one the cell saw;
 * with a measure, that is also when the last one's contribution to the
 * cell is complete and is offered to the cell's top list. */
static void count_rows(agg_t *a, const uint32_t *sel, size_t n)
{
    const uint32_t *person = a->d->person;
    cells_t *c = &a->c;
    size_t t = a->total;
    uint32_t last = c->last[t], persons = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t p = person[sel[i]];
        persons += p != last;
        last = p;
    }
    c->records[t] += (uint32_t)n;
    c->persons[t] += persons;
    c->last[t] = last;
    uint32_t *cell = a->cell;
    if (a->ngroup > 0) {
        if (a->dense) {
            for (size_t i = 0; i < n; i++)
                cell[i] = a->codes[0][sel[i]];
            for (size_t g = 1; g < a->ngroup; g++)
                for (size_t i = 0; i < n; i++)
                    cell[i] = cell[i] * (uint32_t)a->size[g] + a->codes[g][sel[i]];
        } else {
            for (size_t i = 0; i < n; i++)
                cell[i] = (uint32_t)hash_cell(a, sel[i]);
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t g = cell[i], p = person[sel[i]];
            c->records[g]++;
            c->persons[g] += c->last[g] != p;
            c->last[g] = p;
        }
    }
    const col_t *m = a->measure;
    if (m == NULL)
        return;
    uint32_t measured = 0, mpersons = 0, mlast = c->measured_last[t];
    double sum = 0, cur = c->top[t].cur, top[NODE_ENGINE_TOP];
    memcpy(top, c->top[t].top, sizeof top);
    bool decimal = m->type == NODE_COL_DECIMAL;
    /* A new person in a cell closes the last one's sum and offers it to
     * the top list; written without a branch on "new", which a person's
     * one or two rows make unpredictable: the offer is -1 (never kept)
     * when the person goes on. */
    for (size_t i = 0; i < n; i++) {
        uint32_t r = sel[i];
        if (!((m->present[r / 64] >> (r % 64)) & 1))
            continue;
        uint32_t p = person[r];
        double v = decimal ? m->reals[r] : (double)m->ints[r], av = fabs(v);
        measured++;
        sum += v;
        bool fresh = p != mlast;
        top_add(top, pick(fresh, cur, -1));
        cur = pick(fresh, av, cur + av);
        mpersons += fresh;
        mlast = p;
        if (a->ngroup > 0) {
            uint32_t g = cell[i];
            c->measured[g]++;
            c->sum[g] += v;
            fresh = c->measured_last[g] != p;
            top_t *tg = &c->top[g];
            top_add(tg->top, pick(fresh, tg->cur, -1));
            tg->cur = pick(fresh, av, tg->cur + av);
            c->measured_persons[g] += fresh;
            c->measured_last[g] = p;
        }
    }
    c->measured[t] += measured;
    c->measured_persons[t] += mpersons;
    c->measured_last[t] = mlast;
    c->top[t].cur = cur;
    memcpy(c->top[t].top, top, sizeof top);
    c->sum[t] += sum;
}

/* The common case, kept apart so that it compiles to a tight loop: every
 * row, one group column, no measure. */
static void count_all_one_column(agg_t *a)
{
    const uint32_t *codes = a->codes[0], *person = a->d->person;
    uint32_t *records = a->c.records, *persons = a->c.persons, *last = a->c.last;
    size_t n = a->d->nrows;
    for (size_t r = 0; r < n; r++) {
        uint32_t g = codes[r], p = person[r];
        records[g]++;
        persons[g] += last[g] != p;
        last[g] = p;
    }
    records[a->total] = (uint32_t)n;
    persons[a->total] = n ? person[n - 1] : 0;
}

static void to_group(node_engine_group_t *g, const agg_t *a, size_t i)
{
    g->records = a->c.records[i];
    g->persons = a->c.persons[i];
    if (a->measure) {
        g->measured = a->c.measured[i];
        g->measured_persons = a->c.measured_persons[i];
        g->sum = a->c.sum[i];
        /* The cell's last person is still open: offer it too (-1, never
         * kept, when the cell has none). */
        memcpy(g->top, a->c.top[i].top, sizeof g->top);
        top_add(g->top, a->c.top[i].cur);
        g->ntop = (uint8_t)(g->measured_persons < NODE_ENGINE_TOP ? g->measured_persons
                                                                  : NODE_ENGINE_TOP);
    }
}

static int key_cmp(const void *x, const void *y)
{
    const uint32_t *a = x, *b = y;
    for (size_t g = 0; g < NODE_ENGINE_MAX_GROUP_BY; g++)
        if (a[g] != b[g])
            return a[g] < b[g] ? -1 : 1;
    return 0;
}

static void emit(const agg_t *a, node_engine_result_t *r)
{
    to_group(&r->total, a, a->total);
    if (a->ngroup == 0)
        return;
    if (a->dense) {
        size_t n = 0;
        for (size_t key = 0; key < a->total; key++)
            n += a->c.records[key] > 0;
        r->groups = hearth_calloc(n, sizeof *r->groups);
        for (size_t key = 0; key < a->total; key++) {
            if (a->c.records[key] == 0)
                continue;
            node_engine_group_t *g = &r->groups[r->ngroups++];
            size_t rest = key;
            for (size_t k = a->ngroup; k-- > 0;) {
                g->codes[k] = (uint32_t)(rest % a->size[k]);
                rest /= a->size[k];
            }
            to_group(g, a, key);
        }
        return;
    }
    /* Hash: sort (codes, cell) so that groups come out in code order. */
    size_t n = a->ncells - 1;
    uint32_t (*order)[NODE_ENGINE_MAX_GROUP_BY + 1] = hearth_reallocarray(NULL, n,
                                                                          sizeof *order);
    for (size_t i = 0; i < n; i++) {
        memcpy(order[i], a->keys[i + 1], sizeof a->keys[i + 1]);
        order[i][NODE_ENGINE_MAX_GROUP_BY] = (uint32_t)(i + 1);
    }
    qsort(order, n, sizeof *order, key_cmp);
    r->groups = hearth_calloc(n, sizeof *r->groups);
    for (size_t i = 0; i < n; i++) {
        node_engine_group_t *g = &r->groups[r->ngroups++];
        memcpy(g->codes, order[i], sizeof g->codes);
        to_group(g, a, order[i][NODE_ENGINE_MAX_GROUP_BY]);
    }
    free(order);
}

static hearth_err_t check_query(const node_engine_t *self, const node_engine_query_t *q,
                                char **cause)
{
    if (q->dataset >= self->nds) {
        hearth_cause_set(cause, "no such dataset");
        return HEARTH_ERR_NOT_FOUND;
    }
    const ds_t *d = &self->ds[q->dataset];
    if (q->ngroup > NODE_ENGINE_MAX_GROUP_BY) {
        hearth_cause_set(cause, "at most %d GROUP BY columns", NODE_ENGINE_MAX_GROUP_BY);
        return HEARTH_ERR_TOO_BIG;
    }
    for (size_t g = 0; g < q->ngroup; g++) {
        if (q->group[g] >= d->meta.ncolumns) {
            hearth_cause_set(cause, "no column %zu in dataset %s", q->group[g], d->meta.name);
            return HEARTH_ERR_NOT_FOUND;
        }
        const node_store_column_t *c = &d->meta.columns[q->group[g]];
        if (c->type != NODE_COL_CATEGORICAL) {
            hearth_cause_set(cause, "cannot GROUP BY '%s': its type is %s, and only "
                             "categorical columns can be grouped", c->name, type_name(c->type));
            return HEARTH_ERR_REFUSED;
        }
    }
    if (q->measure >= 0) {
        if ((size_t)q->measure >= d->meta.ncolumns) {
            hearth_cause_set(cause, "no column %d in dataset %s", q->measure, d->meta.name);
            return HEARTH_ERR_NOT_FOUND;
        }
        const node_store_column_t *c = &d->meta.columns[q->measure];
        if (c->type != NODE_COL_INTEGER && c->type != NODE_COL_DECIMAL) {
            hearth_cause_set(cause, "cannot sum '%s': its type is %s, and SUM and MEAN "
                             "need an integer or decimal column", c->name, type_name(c->type));
            return HEARTH_ERR_REFUSED;
        }
    }
    if (q->natoms > PROTO_COHORT_MAX_ATOMS) {
        hearth_cause_set(cause, "at most %d EXISTS sub-selects in one query",
                         PROTO_COHORT_MAX_ATOMS);
        return HEARTH_ERR_TOO_BIG;
    }
    if (q->nterms > NODE_ENGINE_MAX_TERMS) {
        hearth_cause_set(cause, "filter has %zu terms (limit %d)", q->nterms,
                         NODE_ENGINE_MAX_TERMS);
        return HEARTH_ERR_TOO_BIG;
    }
    if (q->nterms > 0 && q->terms == NULL) {
        hearth_cause_set(cause, "malformed filter");
        return HEARTH_ERR_PROTO;
    }
    return HEARTH_OK;
}

hearth_err_t node_engine_run(const node_engine_t *self, const node_engine_query_t *q,
                             node_engine_result_t **out, char **cause)
{
    *out = NULL;
    hearth_err_t rc = check_query(self, q, cause);
    if (rc != HEARTH_OK)
        return rc;
    const ds_t *d = &self->ds[q->dataset];
    prog_t prog = {0};
    rc = compile(d, q, &prog, cause);
    if (rc != HEARTH_OK) {
        prog_free(&prog);
        return rc;
    }
    agg_t a = {.d = d, .ngroup = q->ngroup,
               .measure = q->measure >= 0 ? &d->cols[q->measure] : NULL};
    size_t product = 1;
    a.dense = true;
    for (size_t g = 0; g < q->ngroup; g++) {
        const col_t *c = &d->cols[q->group[g]];
        a.codes[g] = c->codes;
        a.size[g] = (size_t)c->ndict + 1;
        if (product > DENSE_MAX / a.size[g])
            a.dense = false;
        else
            product *= a.size[g];
    }
    if (a.dense) {
        cells_grow(&a, product + 1);
        a.ncells = product + 1;
        a.total = product;
    } else {
        cells_grow(&a, 1024);
        a.keys = hearth_reallocarray(NULL, a.cap, sizeof *a.keys);
        a.ncells = 1;
        a.total = 0;
    }
    /* No filter, or a lone TRUE: every row. */
    bool all = prog.n == 0 || (prog.n == 1 && prog.code[0].kind == I_TRUE);
    if (all && q->ngroup == 1 && a.dense && a.measure == NULL) {
        count_all_one_column(&a);
    } else {
        /* Block by block: the rows that match, then count them. */
        uint64_t *stack = all ? NULL : hearth_reallocarray(NULL, prog.depth * 2 * BLOCK_WORDS,
                                                           sizeof *stack);
        uint32_t *sel = hearth_reallocarray(NULL, BLOCK_ROWS, sizeof *sel);
        a.cell = hearth_reallocarray(NULL, BLOCK_ROWS, sizeof *a.cell);
        for (size_t base = 0; base < d->nrows; base += BLOCK_ROWS) {
            size_t n = d->nrows - base < BLOCK_ROWS ? d->nrows - base : BLOCK_ROWS, k = 0;
            if (all) {
                for (; k < n; k++)
                    sel[k] = (uint32_t)(base + k);
            } else {
                eval_block(&prog, base, n, stack);
                for (size_t w = 0; w < (n + 63) / 64; w++)
                    for (uint64_t bits = stack[w]; bits; bits &= bits - 1)
                        sel[k++] = (uint32_t)(base + w * 64 + (size_t)__builtin_ctzll(bits));
            }
            count_rows(&a, sel, k);
        }
        free(sel);
        free(stack);
    }
    node_engine_result_t *r = hearth_calloc(1, sizeof *r);
    emit(&a, r);
    agg_free(&a);
    prog_free(&prog);
    *out = r;
    return HEARTH_OK;
}

hearth_err_t node_engine_select(const node_engine_t *self, const node_engine_query_t *q,
                                uint64_t *rows, char **cause)
{
    hearth_err_t rc = check_query(self, q, cause);
    if (rc != HEARTH_OK)
        return rc;
    const ds_t *d = &self->ds[q->dataset];
    size_t words = (d->nrows + 63) / 64;
    if (words > 0)
        memset(rows, 0, words * sizeof *rows);
    prog_t prog = {0};
    rc = compile(d, q, &prog, cause);
    if (rc == HEARTH_OK && prog.n == 0) {
        for (size_t w = 0; w < words; w++)
            rows[w] = low_bits(d->nrows - w * 64);
    } else if (rc == HEARTH_OK) {
        uint64_t *stack = hearth_reallocarray(NULL, prog.depth * 2 * BLOCK_WORDS, sizeof *stack);
        for (size_t base = 0; base < d->nrows; base += BLOCK_ROWS) {
            size_t n = d->nrows - base < BLOCK_ROWS ? d->nrows - base : BLOCK_ROWS;
            eval_block(&prog, base, n, stack);
            memcpy(rows + base / 64, stack, (n + 63) / 64 * sizeof *rows);
        }
        /* Past the last row the columns are NULL, so nothing is TRUE there;
         * cleared all the same, as the caller counts these bits. */
        if (d->nrows % 64)
            rows[words - 1] &= low_bits(d->nrows % 64);
        free(stack);
    }
    prog_free(&prog);
    return rc;
}

/* ---- views for node_cohort --------------------------------------------- */

size_t node_engine_npersons(const node_engine_t *self, size_t i)
{
    return i < self->nds ? self->ds[i].npersons : 0;
}

void node_engine_person_rows(const node_engine_t *self, size_t i, size_t p, size_t *first,
                             size_t *end)
{
    *first = *end = 0;
    if (i >= self->nds || p == 0 || p > self->ds[i].npersons)
        return;
    *first = self->ds[i].first_row[p - 1];
    *end = self->ds[i].first_row[p];
}

const uint8_t *node_engine_person_tokens(const node_engine_t *self, size_t i, size_t p,
                                         size_t *nnhs, size_t *ndsp)
{
    *nnhs = *ndsp = 0;
    if (i >= self->nds || p == 0 || p > self->ds[i].npersons)
        return NULL;
    const ds_t *d = &self->ds[i];
    size_t from = d->tok_start[p - 1], n = d->tok_start[p] - from;
    if (n == 0)
        return NULL;
    *nnhs = d->tok_nnhs[p - 1];
    *ndsp = n - *nnhs;
    return d->tokens + from * KEYS_TOKEN_LEN;
}

const uint32_t *node_engine_codes(const node_engine_t *self, size_t i, size_t col)
{
    const col_t *c = column(self, i, col);
    return c && c->type == NODE_COL_CATEGORICAL ? c->codes : NULL;
}

bool node_engine_number(const node_engine_t *self, size_t i, size_t col, size_t r, double *v)
{
    const col_t *c = column(self, i, col);
    if (c == NULL || (c->type != NODE_COL_INTEGER && c->type != NODE_COL_DECIMAL) ||
        r >= self->ds[i].nrows || !((c->present[r / 64] >> (r % 64)) & 1))
        return false;
    *v = c->type == NODE_COL_DECIMAL ? c->reals[r] : (double)c->ints[r];
    return true;
}

void node_engine_result_destroy(node_engine_result_t **r_p)
{
    if (r_p == NULL || *r_p == NULL)
        return;
    free((*r_p)->groups);
    free(*r_p);
    *r_p = NULL;
}
