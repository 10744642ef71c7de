#include "node_cohort.h"
#include "hearth_mem.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdlib.h>
#include <string.h>

_Static_assert(KEYS_QUERY_TOKEN_LEN == PROTO_COHORT_TOKEN_LEN,
               "a per-query token is what the cohort encoding carries");

/* 64-bit random numbers drawn per RAND_bytes call while shuffling. */
#define RANDOM_BATCH 512
/* Cells of one person's scratch to begin with; it grows as needed. */
#define FIRST_ENTRIES 16
/* The chunk loop asks for the memory of the person this many places ahead:
 * persons come in random order, so each one's rows and tokens would
 * otherwise be a handful of cache misses waited for in turn. */
#define PREFETCH_AHEAD 16

/* Building a cohort does the filtering once: for each EXISTS assignment a
 * (2^natoms of them) node_engine_select marks the matching rows, and each
 * row keeps the mask of the assignments it matches under (for SUM and
 * MEAN, none when its measure is NULL) and, when it has one, its cell. The
 * persons to send are then listed (where their rows and stored tokens are,
 * read in person order) and shuffled. Each chunk walks its persons' rows
 * (contiguous: rows are in person order) to gather their cells, masks and
 * values in a scratch that is reused, and re-keys their tokens into a fixed
 * buffer, so the re-keyed tokens of at most one person are ever held
 * outside the chunk. */

/* A person to send. */
typedef struct {
    const uint8_t *tokens;   /* the engine's stored tokens (borrowed), NHS first */
    uint32_t first, end;     /* its rows */
    uint8_t nnhs, ndsp;
} person_t;

struct node_cohort_t {
    const node_engine_t *engine;     /* borrowed */
    const keys_token_t *key;         /* borrowed: K_q */
    size_t dataset;
    bool cohort;                     /* a base dataset, else an EXISTS target */
    proto_cohort_payload_t payload;
    size_t nassign;                  /* 2^natoms */
    uint64_t *row_mask;              /* per row: the assignments it counts under */
    uint32_t *row_cell;              /* per row with a mask: its cell (NULL: all cell 0) */
    double *row_value;               /* SUMS: per row with a mask, its measure */
    size_t ngroup;
    size_t ncells;
    uint32_t (*cells)[NODE_ENGINE_MAX_GROUP_BY];   /* codes, in code order */
    person_t *persons;               /* to send, in the order they are sent */
    size_t npersons, next;
    /* One person's scratch, reused for every person. */
    uint32_t visit;                  /* numbers each person's gathering */
    uint32_t *stamp;                 /* per cell: the visit that last saw it */
    uint32_t *slot;                  /* per cell: its entry in that visit */
    size_t nent, entcap;
    uint32_t *ent_cell;
    uint64_t *ent_mask;
    uint32_t *ent_records;           /* entcap * nassign: per entry, per assignment */
    double *ent_sums;                /* likewise, for SUMS */
    uint64_t *ent_order;             /* cell << 32 | entry, to sort by cell */
    uint8_t tokens[2 * PROTO_COHORT_MAX_KIND_TOKENS * PROTO_COHORT_TOKEN_LEN];
};

/* ---- cells ------------------------------------------------------------- */

static int key_cmp(const void *x, const void *y)
{
    const uint32_t *a = x, *b = y;
    for (size_t g = 0; g <= NODE_ENGINE_MAX_GROUP_BY; g++)
        if (a[g] != b[g])
            return a[g] < b[g] ? -1 : 1;
    return 0;
}

static uint64_t key_hash(const uint32_t *k)
{
    uint64_t h = k[0] * 0x9e3779b97f4a7c15u;
    h = (h ^ k[1]) * 0xbf58476d1ce4e5b9u;
    h = (h ^ k[2]) * 0x94d049bb133111ebu;
    return h ^ (h >> 31);
}

/* Numbers the cells of the rows that have a mask, in code order (NULL
 * first, then values in byte order, column by column, as node_engine_run
 * lists its groups), and sets row_cell. The cells are first interned in an
 * open-addressing table in first-seen order, then sorted and renumbered. */
static void number_cells(node_cohort_t *self, const node_engine_query_t *q, size_t nrows)
{
    const uint32_t *codes[NODE_ENGINE_MAX_GROUP_BY] = {NULL, NULL, NULL};
    for (size_t g = 0; g < self->ngroup; g++)
        codes[g] = node_engine_codes(self->engine, self->dataset, q->group[g]);
    /* keys[i]: cell i's codes, then its first-seen number. */
    uint32_t (*keys)[NODE_ENGINE_MAX_GROUP_BY + 1] = NULL;
    size_t n = 0, cap = 0, nslots = 1024;
    uint32_t *slots = hearth_calloc(nslots, sizeof *slots);   /* number + 1, 0 = empty */
    self->row_cell = hearth_alloc_huge(nrows ? nrows : 1, sizeof *self->row_cell);
    for (size_t r = 0; r < nrows; r++) {
        if (self->row_mask[r] == 0)
            continue;
        uint32_t k[NODE_ENGINE_MAX_GROUP_BY] = {0, 0, 0};
        for (size_t g = 0; g < self->ngroup; g++)
            k[g] = codes[g][r];
        if ((n + 1) * 2 > nslots) {
            nslots *= 2;
            free(slots);
            slots = hearth_calloc(nslots, sizeof *slots);
            for (size_t c = 0; c < n; c++) {
                size_t i = key_hash(keys[c]) & (nslots - 1);
                while (slots[i])
                    i = (i + 1) & (nslots - 1);
                slots[i] = (uint32_t)c + 1;
            }
        }
        size_t i = key_hash(k) & (nslots - 1);
        while (slots[i] && memcmp(keys[slots[i] - 1], k, sizeof k) != 0)
            i = (i + 1) & (nslots - 1);
        if (slots[i] == 0) {
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                keys = hearth_reallocarray(keys, cap, sizeof *keys);
            }
            memcpy(keys[n], k, sizeof k);
            keys[n][NODE_ENGINE_MAX_GROUP_BY] = (uint32_t)n;
            slots[i] = (uint32_t)++n;
        }
        self->row_cell[r] = slots[i] - 1;
    }
    free(slots);
    if (n > 1)
        qsort(keys, n, sizeof *keys, key_cmp);
    uint32_t *rank = hearth_reallocarray(NULL, n ? n : 1, sizeof *rank);
    self->cells = hearth_reallocarray(NULL, n ? n : 1, sizeof *self->cells);
    for (size_t c = 0; c < n; c++) {
        rank[keys[c][NODE_ENGINE_MAX_GROUP_BY]] = (uint32_t)c;
        memcpy(self->cells[c], keys[c], sizeof self->cells[c]);
    }
    for (size_t r = 0; r < nrows; r++)
        if (self->row_mask[r] != 0)
            self->row_cell[r] = rank[self->row_cell[r]];
    self->ncells = n;
    free(rank);
    free(keys);
}

/* ---- choosing and shuffling the persons -------------------------------- */

/* Fisher–Yates with OpenSSL's CSPRNG. Each index is a 64-bit random number
 * scaled into [0, i] by multiply-shift; its bias, under i / 2^64, is
 * nothing a cohort of any size could show. */
static hearth_err_t shuffle(person_t *a, size_t n, char **cause)
{
    uint64_t r[RANDOM_BATCH];
    size_t left = 0;
    hearth_err_t rc = HEARTH_OK;
    for (size_t i = n; i-- > 1;) {
        if (left == 0) {
            if (RAND_bytes((unsigned char *)r, sizeof r) != 1) {
                hearth_cause_set(cause, "the random number generator failed");
                rc = HEARTH_ERR_CRYPTO;
                break;
            }
            left = RANDOM_BATCH;
        }
        size_t j = (size_t)(((unsigned __int128)r[--left] * (i + 1)) >> 64);
        person_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
    OPENSSL_cleanse(r, sizeof r);
    return rc;
}

/* Marks each row with the assignments it matches under, clearing rows
 * whose measure is NULL when the payload is SUMS. */
static hearth_err_t mark_rows(node_cohort_t *self, const node_engine_query_t *q, size_t nrows,
                              char **cause)
{
    size_t words = (nrows + 63) / 64;
    uint64_t *bits = hearth_calloc(words ? words : 1, sizeof *bits);
    /* Read at random (persons go out shuffled), so on huge pages. */
    self->row_mask = hearth_alloc_huge(nrows ? nrows : 1, sizeof *self->row_mask);
    memset(self->row_mask, 0, (nrows ? nrows : 1) * sizeof *self->row_mask);
    node_engine_query_t eq = *q;
    hearth_err_t rc = HEARTH_OK;
    /* natoms is checked by the first select before 2^natoms is taken. */
    self->nassign = 1;
    for (size_t a = 0; a < self->nassign; a++) {
        eq.assignment = a;
        if ((rc = node_engine_select(self->engine, &eq, bits, cause)) != HEARTH_OK)
            goto done;
        self->nassign = (size_t)1 << q->natoms;
        for (size_t w = 0; w < words; w++)
            for (uint64_t b = bits[w]; b; b &= b - 1)
                self->row_mask[w * 64 + (size_t)__builtin_ctzll(b)] |= (uint64_t)1 << a;
    }
    /* Kept beside the masks so that the chunk loop reads (and prefetches)
     * one more array rather than calling into the engine per row. */
    if (self->payload == PROTO_COHORT_SUMS) {
        self->row_value = hearth_alloc_huge(nrows ? nrows : 1, sizeof *self->row_value);
        memset(self->row_value, 0, (nrows ? nrows : 1) * sizeof *self->row_value);
        for (size_t r = 0; r < nrows; r++)
            if (self->row_mask[r] && !node_engine_number(self->engine, self->dataset,
                                                         (size_t)q->measure, r,
                                                         &self->row_value[r]))
                self->row_mask[r] = 0;
    }
done:
    free(bits);
    return rc;
}

/* Lists the persons to send, in person order: for a cohort those with a
 * marked row; for a target those with a row matching (under the only
 * assignment) and at least one token. */
static void choose_persons(node_cohort_t *self)
{
    size_t np = node_engine_npersons(self->engine, self->dataset);
    self->persons = hearth_alloc_huge(np ? np : 1, sizeof *self->persons);   /* shuffled */
    for (size_t p = 1; p <= np; p++) {
        size_t first, end, nnhs, ndsp;
        node_engine_person_rows(self->engine, self->dataset, p, &first, &end);
        uint64_t any = 0;
        for (size_t r = first; r < end && !any; r++)
            any = self->row_mask[r];
        const uint8_t *t = node_engine_person_tokens(self->engine, self->dataset, p, &nnhs,
                                                     &ndsp);
        if (any && (self->cohort || t != NULL))
            self->persons[self->npersons++] = (person_t){t, (uint32_t)first, (uint32_t)end,
                                                         (uint8_t)nnhs, (uint8_t)ndsp};
    }
}

hearth_err_t node_cohort_new(const node_engine_t *engine, const node_engine_query_t *q,
                             bool cohort, proto_cohort_payload_t payload,
                             const keys_token_t *query_key, size_t min_persons,
                             node_cohort_t **out, char **cause)
{
    *out = NULL;
    if ((unsigned)payload > PROTO_COHORT_SUMS) {
        hearth_cause_set(cause, "malformed sub-query: unknown payload");
        return HEARTH_ERR_PROTO;
    }
    /* A target sends tokens only, whatever payload it is given. */
    if (cohort && payload == PROTO_COHORT_SUMS && q->measure < 0) {
        hearth_cause_set(cause, "malformed sub-query: SUM and MEAN need a measure");
        return HEARTH_ERR_PROTO;
    }
    if (!cohort && q->natoms > 0) {
        hearth_cause_set(cause, "malformed sub-query: an EXISTS target has EXISTS atoms");
        return HEARTH_ERR_PROTO;
    }
    node_cohort_t *self = hearth_calloc(1, sizeof *self);
    self->engine = engine;
    self->key = query_key;
    self->dataset = q->dataset;
    self->cohort = cohort;
    self->payload = cohort ? payload : PROTO_COHORT_PERSONS_ONLY;
    self->ngroup = cohort ? q->ngroup : 0;
    size_t nrows = node_engine_nrows(engine, q->dataset);
    hearth_err_t rc = mark_rows(self, q, nrows, cause);
    if (rc != HEARTH_OK)
        goto fail;
    choose_persons(self);
    if (self->npersons > 0 && self->npersons < min_persons) {
        hearth_cause_set(cause, "this node does not contribute a cohort of fewer than %zu "
                         "persons", min_persons);
        rc = HEARTH_ERR_REFUSED;
        goto fail;
    }
    if (cohort && self->ngroup > 0) {
        number_cells(self, q, nrows);
    } else if (cohort && self->npersons > 0) {
        /* No GROUP BY: one cell, the total, and row_cell is not needed. */
        self->ncells = 1;
        self->cells = hearth_calloc(1, sizeof *self->cells);
    }
    if ((rc = shuffle(self->persons, self->npersons, cause)) != HEARTH_OK)
        goto fail;
    if (cohort) {
        self->stamp = hearth_calloc(self->ncells ? self->ncells : 1, sizeof *self->stamp);
        self->slot = hearth_calloc(self->ncells ? self->ncells : 1, sizeof *self->slot);
    }
    *out = self;
    return HEARTH_OK;
fail:
    node_cohort_destroy(&self);
    return rc;
}

size_t node_cohort_npersons(const node_cohort_t *self)
{
    return self->npersons;
}

size_t node_cohort_ncells(const node_cohort_t *self)
{
    return self->ncells;
}

const uint32_t *node_cohort_cell_codes(const node_cohort_t *self, size_t i)
{
    return i < self->ncells ? self->cells[i] : NULL;
}

/* ---- writing persons --------------------------------------------------- */

/* A new entry for cell c in the person's scratch, its values zeroed. */
static uint32_t new_entry(node_cohort_t *self, uint32_t c)
{
    if (self->nent == self->entcap) {
        size_t cap = self->entcap ? self->entcap * 2 : FIRST_ENTRIES;
        self->ent_cell = hearth_reallocarray(self->ent_cell, cap, sizeof *self->ent_cell);
        self->ent_mask = hearth_reallocarray(self->ent_mask, cap, sizeof *self->ent_mask);
        self->ent_order = hearth_reallocarray(self->ent_order, cap, sizeof *self->ent_order);
        if (self->payload != PROTO_COHORT_PERSONS_ONLY)
            self->ent_records = hearth_reallocarray(self->ent_records, cap * self->nassign,
                                                    sizeof *self->ent_records);
        if (self->payload == PROTO_COHORT_SUMS)
            self->ent_sums = hearth_reallocarray(self->ent_sums, cap * self->nassign,
                                                 sizeof *self->ent_sums);
        self->entcap = cap;
    }
    size_t e = self->nent++;
    self->ent_cell[e] = c;
    self->ent_mask[e] = 0;
    if (self->payload != PROTO_COHORT_PERSONS_ONLY)
        memset(self->ent_records + e * self->nassign, 0, self->nassign * sizeof *self->ent_records);
    if (self->payload == PROTO_COHORT_SUMS)
        for (size_t a = 0; a < self->nassign; a++)
            self->ent_sums[e * self->nassign + a] = 0;
    return (uint32_t)e;
}

/* Gathers person p's cells from its marked rows into the scratch. */
static void gather(node_cohort_t *self, const person_t *p)
{
    if (++self->visit == 0) {
        /* Wrapped: no stamp may look like this visit's. */
        memset(self->stamp, 0, self->ncells * sizeof *self->stamp);
        self->visit = 1;
    }
    self->nent = 0;
    for (size_t r = p->first; r < p->end; r++) {
        uint64_t m = self->row_mask[r];
        if (m == 0)
            continue;
        uint32_t c = self->row_cell ? self->row_cell[r] : 0;
        if (self->stamp[c] != self->visit) {
            self->stamp[c] = self->visit;
            self->slot[c] = new_entry(self, c);
        }
        uint32_t e = self->slot[c];
        self->ent_mask[e] |= m;
        if (self->payload == PROTO_COHORT_PERSONS_ONLY)
            continue;
        double v = self->row_value ? self->row_value[r] : 0;
        for (; m; m &= m - 1) {
            size_t i = e * self->nassign + (size_t)__builtin_ctzll(m);
            self->ent_records[i]++;
            if (self->payload == PROTO_COHORT_SUMS)
                self->ent_sums[i] += v;
        }
    }
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Appends person p: its re-keyed tokens, then (for a cohort) its cells in
 * ascending order, each with its mask and per set bit its values. */
static hearth_err_t put_person(node_cohort_t *self, const person_t *p, hearth_buf_t *out)
{
    size_t nnhs = p->nnhs, ndsp = p->ndsp;
    keys_token_requery_many(self->key, p->tokens, nnhs + ndsp, self->tokens);
    if (!self->cohort)
        return proto_cohort_put_person(out, nnhs, ndsp, self->tokens, 0);
    gather(self, p);
    for (size_t e = 0; e < self->nent; e++)
        self->ent_order[e] = (uint64_t)self->ent_cell[e] << 32 | e;
    if (self->nent > 1)
        qsort(self->ent_order, self->nent, sizeof *self->ent_order, u64_cmp);
    hearth_err_t rc = proto_cohort_put_person(out, nnhs, ndsp, self->tokens,
                                              (uint32_t)self->nent);
    for (size_t k = 0; k < self->nent && rc == HEARTH_OK; k++) {
        size_t e = (uint32_t)self->ent_order[k];
        uint64_t m = self->ent_mask[e];
        rc = proto_cohort_put_cell(out, self->ent_cell[e], m);
        if (self->payload == PROTO_COHORT_PERSONS_ONLY)
            continue;
        for (; m && rc == HEARTH_OK; m &= m - 1) {
            size_t i = e * self->nassign + (size_t)__builtin_ctzll(m);
            double sum = self->payload == PROTO_COHORT_SUMS ? self->ent_sums[i] : 0;
            rc = proto_cohort_put_values(out, self->payload, self->ent_records[i], sum);
        }
    }
    return rc;
}

hearth_err_t node_cohort_next_chunk(node_cohort_t *self, hearth_buf_t *out, bool *more,
                                    char **cause)
{
    hearth_buf_reset(out);
    hearth_err_t rc = HEARTH_OK;
    while (self->next < self->npersons) {
        if (self->next + PREFETCH_AHEAD < self->npersons) {
            /* Written out here: GCC takes a function holding nothing but
             * prefetches for one without effect, and drops its calls. */
            const person_t *p = &self->persons[self->next + PREFETCH_AHEAD];
            __builtin_prefetch(p->tokens);
            __builtin_prefetch(p->tokens + (p->nnhs + p->ndsp) * KEYS_TOKEN_LEN);
            if (self->cohort) {
                __builtin_prefetch(&self->row_mask[p->first]);
                if (self->row_cell)
                    __builtin_prefetch(&self->row_cell[p->first]);
                if (self->row_value)
                    __builtin_prefetch(&self->row_value[p->first]);
            }
        }
        size_t mark = out->len;
        rc = put_person(self, &self->persons[self->next], out);
        if (rc != HEARTH_OK) {
            /* Take the partly written person back out (the buffer's fields
             * are its interface); with others before it, it opens the next
             * chunk instead. */
            out->len = mark;
            if (out->data)
                out->data[mark] = '\0';
            if (rc == HEARTH_ERR_TOO_BIG && mark > 0) {
                rc = HEARTH_OK;
                break;
            }
            hearth_cause_set(cause, rc == HEARTH_ERR_TOO_BIG
                                        ? "a person's records do not fit in one chunk"
                                        : "a person could not be encoded");
            break;
        }
        self->next++;
        if (out->len > PROTO_COHORT_CHUNK_BYTES)
            break;
    }
    *more = self->next < self->npersons;
    return rc;
}

void node_cohort_destroy(node_cohort_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    node_cohort_t *self = *self_p;
    OPENSSL_cleanse(self->tokens, sizeof self->tokens);
    free(self->row_mask);
    free(self->row_cell);
    free(self->row_value);
    free(self->cells);
    free(self->persons);
    free(self->stamp);
    free(self->slot);
    free(self->ent_cell);
    free(self->ent_mask);
    free(self->ent_records);
    free(self->ent_sums);
    free(self->ent_order);
    free(self);
    *self_p = NULL;
}
