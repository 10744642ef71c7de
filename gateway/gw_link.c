/* gw_link — see gw_link.h.
 *
 * Layout, chosen for a million persons a part in well under 200 MB:
 *
 * - Elements are the persons in arrival order (uint32 ids). Per element one
 *   uint32 word: its union-find parent, or for a root a flag and its rank
 *   (so union by rank needs no second array), and in two more bits its
 *   matched kinds (so marking them touches no other cache line). Which
 *   part an element came from is kept as runs (one per chunk), since only
 *   finish needs it and reads it in order.
 * - Each DISTINCT token is copied once into a pool of fixed-size blocks,
 *   21 bytes an entry: the token, its owner (the first element that sent
 *   it, with two flags) and the owner's part. Blocks never move, so no
 *   realloc leaves an unwiped copy of a token in freed memory. The chunk
 *   itself is the caller's and is not kept.
 * - An open-addressing table (linear probing, power-of-two size, load at
 *   most 1/2) holds per slot only a uint32: the pool index + 1 and a few
 *   hash bits (a tag), so most mismatching slots are passed over without
 *   touching the pool.
 * - Cohort persons keep only (element, global cell, mask) per cell and, for
 *   COUNT(*) and SUM/MEAN, the values of the mask's set bits in side arrays
 *   (in entry order, so no offset is stored).
 *
 * gw_link_add reads a chunk in two passes over windows of tokens: first
 * through the bounds-checked reader (persons become elements, token
 * references are collected with their hashes), then it looks the tokens
 * up, prefetching several tokens ahead, since nearly every lookup misses
 * the cache: the slot, and for a token seen before the pool entry and the
 * owner's word. Large arrays ask for transparent huge pages: read at
 * random, with 4 KiB pages nearly every access would also miss the TLB,
 * and every first touch of 4 KiB would fault.
 *
 * Linkage kinds. A base (cohort) element matched through kind k when one of
 * its tokens of kind k was also sent for a person of another dataset. Per
 * distinct token the pool keeps the owner's part (so its dataset) and a
 * "multi" flag set the first time the token arrives from another dataset.
 * A cohort element whose token is found already multi, or makes it multi,
 * is marked at once; one that finds the token only in its own dataset so
 * far is remembered in a pending list, resolved in finish (the token may
 * yet arrive from another dataset). A linked person's kinds are those of
 * all its base elements, gathered into its root's word in finish. */
#include "gw_link.h"

#include "hearth_mem.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <string.h>

#define TOK_LEN PROTO_COHORT_TOKEN_LEN

/* Token kinds, as bits of an element's matched kinds. */
#define KIND_NHS 1u
#define KIND_DSP 2u

/* A pool entry: token, owner (uint32, unaligned), owner's part (uint8). */
#define ENTRY_LEN (TOK_LEN + 5)
#define ENTRY_OWNER TOK_LEN
#define ENTRY_PART (TOK_LEN + 4)
#define OWNER_ELEM 0x3fffffffu      /* the owning element */
#define OWNER_DSP 0x40000000u       /* the owner sent it as a DSP token */
#define OWNER_MULTI 0x80000000u     /* sent for persons of two datasets */

/* An element's word: UF_ROOT, its kinds (KIND_* << UF_KIND_SHIFT), and in
 * UF_LINK its parent or, for a root, its rank (bits 0..4) and, once
 * finish has resolved the roots, its assignment (from UF_ASSIGN_SHIFT). */
#define UF_ROOT 0x80000000u
#define UF_KIND_SHIFT 29
#define UF_KINDS (3u << UF_KIND_SHIFT)
#define UF_LINK 0x1fffffffu
#define UF_RANK 0x1fu
#define UF_ASSIGN_SHIFT 8
#define MAX_ELEMS ((size_t)UF_LINK + 1)

/* Table slot: tag << IDX_BITS | (pool index + 1); 0 is empty. IDX_BITS
 * caps the distinct tokens (and so the tokens) of one query at 2^26 - 2,
 * over a gigabyte of tokens, far past any gateway's memory bound. */
#define IDX_BITS 26
#define IDX_MASK ((1u << IDX_BITS) - 1)
#define TAG_BITS (32 - IDX_BITS)
#define MAX_TOKENS ((size_t)IDX_MASK - 1)
#define TABLE_MIN_BITS 12

/* Pool blocks of 4 MiB: two huge pages, a little wasted at the end. */
#define POOL_BLOCK (((size_t)4 << 20) / ENTRY_LEN)

/* Tokens looked ahead when prefetching table slots; pool entries are
 * prefetched AHEAD / 2 early, the owner's parent AHEAD / 4. */
#define AHEAD 32

/* Tokens read before they are linked: bounds the scratch references
 * (24 bytes each) whatever the size of a chunk. */
#define REF_WINDOW 65536

/* Parts are recorded in one byte. */
#define MAX_PARTS 256

/* A token of the chunk being added (points into the caller's chunk). */
typedef struct {
    const uint8_t *tok;
    uint64_t hash;
    uint32_t elem;
    uint32_t kind;      /* KIND_NHS or KIND_DSP */
} tref_t;

/* A cohort element's token seen so far only in its own dataset. */
typedef struct {
    uint32_t elem;
    uint32_t token;     /* pool index; bit 31 set for a DSP token */
} pending_t;

typedef struct {
    uint32_t elem;
    uint32_t cell;      /* global */
    uint64_t mask;
} entry_t;

/* Elements start .. (the next run's start - 1) came from part. */
typedef struct {
    uint32_t start;
    uint32_t part;
} run_t;

typedef struct {
    gw_link_part_t spec;
    uint32_t *global_cell;  /* owned; ncells entries */
    size_t ncells;
    bool cells_set;
    bool started;           /* a chunk has been added */
} part_t;

struct gw_link_t {
    part_t *parts;
    size_t nparts;
    size_t max_persons, max_tokens;
    const char *bad;        /* why the parts given to new are unusable, or NULL */
    bool broken;            /* an add failed: only destroy is allowed */
    bool finished;
    uint64_t mul_lo, mul_hi;    /* odd hash multipliers, random per linker */

    /* elements */
    uint32_t *parent;       /* see UF_ROOT */
    size_t nelem, elem_cap;
    run_t *runs;
    size_t nruns, runs_cap;
    size_t ntokens;         /* tokens received, all parts */

    /* distinct tokens */
    uint8_t **blocks;       /* POOL_BLOCK entries of ENTRY_LEN bytes each */
    size_t nblocks, blocks_cap;
    size_t ndistinct;
    uint32_t *table;
    unsigned table_bits;

    pending_t *pending;
    size_t npending, pending_cap;
    tref_t *refs;           /* scratch for one chunk */
    size_t refs_cap;

    /* cohort persons */
    entry_t *entries;
    size_t nentries, entries_cap;
    uint32_t *vrec;
    size_t nvrec, vrec_cap;
    double *vsum;
    size_t nvsum, vsum_cap;
};

/* ---- memory --------------------------------------------------------------- */

/* Returns p (holding used items of size) grown geometrically to hold at
 * least need items; copies rather than reallocs, so that the new array is
 * hearth_alloc_huge's. */
static void *grow(void *p, size_t *cap, size_t used, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t n = *cap < 1024 ? 1024 : *cap;
    while (n < need)
        n *= 2;
    void *q = hearth_alloc_huge(n, size);
    if (used > 0)
        memcpy(q, p, used * size);
    free(p);
    *cap = n;
    return q;
}

/* ---- hashing, the pool, union-find ----------------------------------------- */

/* Tokens are HMAC output, so any 64 bits of one are uniformly random; but a
 * misbehaving node chooses what it sends, so both halves are mixed with odd
 * multipliers drawn per linker: it cannot aim many tokens at one slot and
 * turn the probing quadratic. All 16 bytes are still compared. */
static uint64_t tok_hash(const gw_link_t *self, const uint8_t *tok)
{
    uint64_t lo, hi;
    memcpy(&lo, tok, sizeof lo);
    memcpy(&hi, tok + 8, sizeof hi);
    return (lo + hi * self->mul_hi) * self->mul_lo;
}

/* The table index is the hash's top bits (multiplication mixes upwards). */
static size_t slot_of(uint64_t hash, unsigned bits)
{
    return (size_t)(hash >> (64 - bits));
}

/* Bits 26..31 of the hash: below any table index (at most 27 top bits). */
static uint32_t tag_of(uint64_t hash)
{
    return (uint32_t)(hash >> 26) & ((1u << TAG_BITS) - 1);
}

static uint8_t *pool_at(const gw_link_t *self, uint32_t idx)
{
    return self->blocks[idx / POOL_BLOCK] + (idx % POOL_BLOCK) * ENTRY_LEN;
}

static uint32_t owner_get(const uint8_t *entry)
{
    uint32_t v;
    memcpy(&v, entry + ENTRY_OWNER, sizeof v);
    return v;
}

static void owner_put(uint8_t *entry, uint32_t v)
{
    memcpy(entry + ENTRY_OWNER, &v, sizeof v);
}

static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
    /* Path halving: every other node on the path skips to its grandparent
     * (keeping its own kinds). */
    for (;;) {
        uint32_t w = parent[x];
        if (w & UF_ROOT)
            return x;
        uint32_t p = w & UF_LINK;
        uint32_t g = parent[p];
        if (g & UF_ROOT)
            return p;
        g &= UF_LINK;
        parent[x] = (w & UF_KINDS) | g;
        x = g;
    }
}

static void uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a == b)
        return;
    uint32_t ra = parent[a] & UF_RANK, rb = parent[b] & UF_RANK;
    if (ra < rb) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    parent[b] = (parent[b] & UF_KINDS) | a;
    if (ra == rb)
        parent[a]++;    /* rank + 1: at most log2 of the elements, so below 32 */
}

static void kinds_mark(uint32_t *parent, uint32_t e, uint32_t kind)
{
    parent[e] |= kind << UF_KIND_SHIFT;
}

/* ---- the token pool and table -------------------------------------------- */

static void table_wipe_free(uint32_t *table, unsigned bits)
{
    if (table == NULL)
        return;
    OPENSSL_cleanse(table, ((size_t)1 << bits) * sizeof *table);
    free(table);
}

static void pool_wipe_free(gw_link_t *self)
{
    for (size_t i = 0; i < self->nblocks; i++) {
        /* Only the used entries (a reserved block may hold none): cleansing
         * the rest would fault untouched pages in for nothing. */
        size_t start = i * POOL_BLOCK;
        size_t used = self->ndistinct <= start ? 0 : self->ndistinct - start;
        if (used > POOL_BLOCK)
            used = POOL_BLOCK;
        OPENSSL_cleanse(self->blocks[i], used * ENTRY_LEN);
        free(self->blocks[i]);
    }
    free(self->blocks);
    self->blocks = NULL;
    self->nblocks = self->blocks_cap = 0;
    self->ndistinct = 0;
    table_wipe_free(self->table, self->table_bits);
    self->table = NULL;
    free(self->pending);
    self->pending = NULL;
    self->npending = self->pending_cap = 0;
}

/* Makes room for `more` new distinct tokens: pool blocks, and a table kept
 * at most half full (rehashed from the pool when it doubles). */
static void tokens_reserve(gw_link_t *self, size_t more)
{
    size_t need = self->ndistinct + more;
    size_t nblocks = (need + POOL_BLOCK - 1) / POOL_BLOCK;
    if (nblocks > self->nblocks) {
        self->blocks = grow(self->blocks, &self->blocks_cap, self->nblocks, nblocks,
                            sizeof *self->blocks);
        while (self->nblocks < nblocks)
            self->blocks[self->nblocks++] = hearth_alloc_huge(POOL_BLOCK, ENTRY_LEN);
    }
    unsigned bits = self->table ? self->table_bits : TABLE_MIN_BITS;
    while (need > ((size_t)1 << bits) / 2)
        bits++;
    if (self->table && bits == self->table_bits)
        return;
    size_t cap = (size_t)1 << bits, mask = cap - 1;
    uint32_t *table = hearth_alloc_huge(cap, sizeof *table);
    memset(table, 0, cap * sizeof *table);
    /* Reinserts the pool in order; each slot is prefetched AHEAD entries
     * early (the hashes wait in a ring), as nearly every write misses. */
    uint64_t ring[AHEAD];
    size_t n = self->ndistinct;
    for (size_t idx = 0; idx < n + AHEAD; idx++) {
        if (idx >= AHEAD) {
            size_t done = idx - AHEAD;
            uint64_t h = ring[done % AHEAD];
            size_t i = slot_of(h, bits);
            while (table[i] != 0)
                i = (i + 1) & mask;
            table[i] = tag_of(h) << IDX_BITS | (uint32_t)(done + 1);
        }
        if (idx < n) {
            uint64_t h = tok_hash(self, pool_at(self, (uint32_t)idx));
            __builtin_prefetch(&table[slot_of(h, bits)], 1);
            ring[idx % AHEAD] = h;
        }
    }
    table_wipe_free(self->table, self->table_bits);
    self->table = table;
    self->table_bits = bits;
}

/* A token already in the pool (entry e, index idx) arrives again, for
 * element r->elem of a part of `dataset`. */
static void token_seen(gw_link_t *self, const tref_t *r, uint32_t idx, uint8_t *e,
                       unsigned dataset, bool cohort)
{
    uint32_t ow = owner_get(e);
    uint32_t owner = ow & OWNER_ELEM;
    if (!(ow & OWNER_MULTI)) {
        const gw_link_part_t *op = &self->parts[e[ENTRY_PART]].spec;
        if (op->dataset != dataset) {
            owner_put(e, ow | OWNER_MULTI);
            if (op->cohort)
                kinds_mark(self->parent, owner, (ow & OWNER_DSP) ? KIND_DSP : KIND_NHS);
            if (cohort)
                kinds_mark(self->parent, r->elem, r->kind);
        } else if (cohort) {
            self->pending = grow(self->pending, &self->pending_cap, self->npending,
                                 self->npending + 1, sizeof *self->pending);
            self->pending[self->npending++] = (pending_t){
                .elem = r->elem, .token = idx | (r->kind == KIND_DSP ? 0x80000000u : 0)};
        }
    } else if (cohort) {
        kinds_mark(self->parent, r->elem, r->kind);
    }
    uf_union(self->parent, r->elem, owner);
}

static void token_link(gw_link_t *self, const tref_t *r, uint8_t part, unsigned dataset,
                       bool cohort)
{
    size_t mask = ((size_t)1 << self->table_bits) - 1;
    size_t i = slot_of(r->hash, self->table_bits);
    uint32_t tag = tag_of(r->hash);
    for (;;) {
        uint32_t v = self->table[i];
        if (v == 0)
            break;
        if (v >> IDX_BITS == tag) {
            uint32_t idx = (v & IDX_MASK) - 1;
            uint8_t *e = pool_at(self, idx);
            if (memcmp(e, r->tok, TOK_LEN) == 0) {
                token_seen(self, r, idx, e, dataset, cohort);
                return;
            }
        }
        i = (i + 1) & mask;
    }
    uint32_t idx = (uint32_t)self->ndistinct++;
    uint8_t *e = pool_at(self, idx);
    memcpy(e, r->tok, TOK_LEN);
    owner_put(e, r->elem | (r->kind == KIND_DSP ? OWNER_DSP : 0));
    e[ENTRY_PART] = part;
    self->table[i] = tag << IDX_BITS | (idx + 1);
}

/* Links the chunk's m token references (all of one part). Three stages of
 * prefetch run ahead of the lookup: the token's home slot; then, if the
 * slot holds an entry with the token's tag (nearly always the token
 * itself), that pool entry (both ends: an entry may straddle two cache
 * lines); then that entry's owner's word. */
static void tokens_link(gw_link_t *self, size_t m, size_t part)
{
    const gw_link_part_t *spec = &self->parts[part].spec;
    tokens_reserve(self, m);
    const tref_t *refs = self->refs;
    const unsigned bits = self->table_bits;
    const uint32_t *table = self->table;
    for (size_t k = 0; k < m; k++) {
        if (k + AHEAD < m)
            __builtin_prefetch(&table[slot_of(refs[k + AHEAD].hash, bits)]);
        if (k + AHEAD / 2 < m) {
            uint64_t h = refs[k + AHEAD / 2].hash;
            uint32_t v = table[slot_of(h, bits)];
            if (v != 0 && v >> IDX_BITS == tag_of(h)) {
                const uint8_t *e = pool_at(self, (v & IDX_MASK) - 1);
                __builtin_prefetch(e);
                __builtin_prefetch(e + ENTRY_LEN - 1);
            }
        }
        if (k + AHEAD / 4 < m) {
            uint64_t h = refs[k + AHEAD / 4].hash;
            uint32_t v = table[slot_of(h, bits)];
            if (v != 0 && v >> IDX_BITS == tag_of(h)) {
                uint32_t owner = owner_get(pool_at(self, (v & IDX_MASK) - 1)) & OWNER_ELEM;
                __builtin_prefetch(&self->parent[owner]);
            }
        }
        token_link(self, &refs[k], (uint8_t)part, spec->dataset, spec->cohort);
    }
}

/* ---- public ---------------------------------------------------------------- */

gw_link_t *gw_link_new(const gw_link_part_t *parts, size_t nparts, size_t max_persons,
                       size_t max_tokens)
{
    gw_link_t *self = hearth_calloc(1, sizeof *self);
    self->max_persons = max_persons < MAX_ELEMS ? max_persons : MAX_ELEMS;
    self->max_tokens = max_tokens < MAX_TOKENS ? max_tokens : MAX_TOKENS;
    if (nparts > MAX_PARTS || (nparts > 0 && parts == NULL)) {
        self->bad = "linker: too many parts";
        nparts = 0;
    }
    self->nparts = nparts;
    self->parts = hearth_calloc(nparts ? nparts : 1, sizeof *self->parts);
    for (size_t i = 0; i < nparts; i++) {
        const gw_link_part_t *p = &parts[i];
        self->parts[i].spec = *p;
        if (p->cohort && (p->atoms > PROTO_COHORT_MAX_ATOMS ||
                          (p->payload != PROTO_COHORT_PERSONS_ONLY &&
                           p->payload != PROTO_COHORT_RECORDS &&
                           p->payload != PROTO_COHORT_SUMS)))
            self->bad = "linker: a cohort part has too many atoms or an unknown payload";
        if (!p->cohort) {
            if (p->atom >= PROTO_COHORT_MAX_ATOMS)
                self->bad = "linker: a target part's atom is out of range";
            self->parts[i].spec.payload = PROTO_COHORT_PERSONS_ONLY;
            self->parts[i].spec.atoms = 0;
        }
    }
    uint64_t seed[2];
    if (RAND_bytes((unsigned char *)seed, sizeof seed) != 1) {
        /* Fixed constants: correctness does not depend on them, only the
         * resistance to deliberately colliding tokens does. */
        seed[0] = 0x9e3779b97f4a7c15u;
        seed[1] = 0xc2b2ae3d27d4eb4fu;
    }
    self->mul_lo = seed[0] | 1;
    self->mul_hi = seed[1] | 1;
    OPENSSL_cleanse(seed, sizeof seed);
    return self;
}

/* HEARTH_ERR_USAGE when the linker was built from parts it cannot
 * represent, or is used after an error or after finish. */
static hearth_err_t check_usable(const gw_link_t *self, char **cause)
{
    if (self->bad) {
        hearth_cause_set(cause, "%s", self->bad);
        return HEARTH_ERR_USAGE;
    }
    if (self->broken || self->finished) {
        hearth_cause_set(cause, "linker: used after an error or after finish");
        return HEARTH_ERR_USAGE;
    }
    return HEARTH_OK;
}

hearth_err_t gw_link_set_cells(gw_link_t *self, size_t part, const uint32_t *global_cell,
                               size_t ncells, char **cause)
{
    if (self->bad) {
        hearth_cause_set(cause, "%s", self->bad);
        return HEARTH_ERR_USAGE;
    }
    if (self->finished || part >= self->nparts || !self->parts[part].spec.cohort ||
        self->parts[part].cells_set || self->parts[part].started || ncells > UINT32_MAX ||
        (ncells > 0 && global_cell == NULL)) {
        hearth_cause_set(cause, "linker: cells set twice, late, or for a part that is not "
                                "a cohort");
        return HEARTH_ERR_USAGE;
    }
    part_t *p = &self->parts[part];
    p->global_cell = hearth_reallocarray(NULL, ncells ? ncells : 1, sizeof *p->global_cell);
    if (ncells > 0)
        memcpy(p->global_cell, global_cell, ncells * sizeof *global_cell);
    p->ncells = ncells;
    p->cells_set = true;
    return HEARTH_OK;
}

/* Appends element ids for one person of part; returns the id. */
static uint32_t element_add(gw_link_t *self, size_t part)
{
    if (self->nelem == self->elem_cap) {
        size_t cap = self->elem_cap;
        self->parent = grow(self->parent, &cap, self->nelem, self->nelem + 1,
                            sizeof *self->parent);
        self->elem_cap = cap;
    }
    if (self->nruns == 0 || self->runs[self->nruns - 1].part != part) {
        self->runs = grow(self->runs, &self->runs_cap, self->nruns, self->nruns + 1,
                          sizeof *self->runs);
        self->runs[self->nruns++] = (run_t){.start = (uint32_t)self->nelem,
                                            .part = (uint32_t)part};
    }
    uint32_t elem = (uint32_t)self->nelem++;
    self->parent[elem] = UF_ROOT;
    return elem;
}

/* Reads a chunk: persons become elements, cells become entries, and tokens
 * become references in self->refs, linked every REF_WINDOW tokens and at
 * the end. */
static hearth_err_t chunk_add(gw_link_t *self, size_t part, const void *persons, size_t len,
                              char **cause)
{
    part_t *p = &self->parts[part];
    const gw_link_part_t *spec = &p->spec;
    proto_cohort_reader_t rd;
    proto_cohort_reader_init(&rd, persons, len, spec->payload, spec->atoms,
                             (uint32_t)p->ncells);
    size_t nref = 0;
    for (;;) {
        proto_cohort_person_t pe;
        hearth_err_t rc = proto_cohort_next_person(&rd, &pe, cause);
        if (rc == HEARTH_ERR_NOT_FOUND)
            break;
        if (rc != HEARTH_OK)
            return rc;
        size_t ntok = pe.nnhs + pe.ndsp;
        if (self->nelem >= self->max_persons) {
            hearth_cause_set(cause, "linker: the query's persons exceed the gateway's bound");
            return HEARTH_ERR_TOO_BIG;
        }
        if (ntok > self->max_tokens - self->ntokens) {
            hearth_cause_set(cause, "linker: the query's tokens exceed the gateway's bound");
            return HEARTH_ERR_TOO_BIG;
        }
        /* A person is in each listed cell at most once. */
        if (pe.ncells > p->ncells) {
            hearth_cause_set(cause, "linker: a person has more cells than part %zu lists",
                             part);
            return HEARTH_ERR_PROTO;
        }
        self->ntokens += ntok;
        uint32_t elem = element_add(self, part);
        if (nref >= REF_WINDOW) {
            tokens_link(self, nref, part);
            nref = 0;
        }

        self->refs = grow(self->refs, &self->refs_cap, nref, nref + ntok, sizeof *self->refs);
        for (size_t k = 0; k < ntok; k++) {
            const uint8_t *tok = pe.tokens + k * TOK_LEN;
            self->refs[nref++] = (tref_t){.tok = tok, .hash = tok_hash(self, tok),
                                          .elem = elem,
                                          .kind = k < pe.nnhs ? KIND_NHS : KIND_DSP};
        }

        for (uint32_t c = 0; c < pe.ncells; c++) {
            proto_cohort_cell_t cell;
            rc = proto_cohort_next_cell(&rd, &cell, cause);
            if (rc != HEARTH_OK)
                return rc;
            self->entries = grow(self->entries, &self->entries_cap, self->nentries,
                                 self->nentries + 1, sizeof *self->entries);
            self->entries[self->nentries++] = (entry_t){
                .elem = elem, .cell = p->global_cell[cell.cell], .mask = cell.mask};
            if (spec->payload == PROTO_COHORT_PERSONS_ONLY)
                continue;
            unsigned nbits = (unsigned)__builtin_popcountll(cell.mask);
            self->vrec = grow(self->vrec, &self->vrec_cap, self->nvrec, self->nvrec + nbits,
                              sizeof *self->vrec);
            if (spec->payload == PROTO_COHORT_SUMS)
                self->vsum = grow(self->vsum, &self->vsum_cap, self->nvsum,
                                  self->nvsum + nbits, sizeof *self->vsum);
            for (unsigned j = 0; j < nbits; j++) {
                uint32_t records;
                double sum;
                proto_cohort_values_at(&rd, &cell, j, &records, &sum);
                self->vrec[self->nvrec++] = records;
                if (spec->payload == PROTO_COHORT_SUMS)
                    self->vsum[self->nvsum++] = sum;
            }
        }
    }
    tokens_link(self, nref, part);
    return HEARTH_OK;
}

hearth_err_t gw_link_add(gw_link_t *self, size_t part, const void *persons, size_t len,
                         char **cause)
{
    hearth_err_t rc;
    if ((rc = check_usable(self, cause)) != HEARTH_OK)
        return rc;
    if (part >= self->nparts) {
        hearth_cause_set(cause, "linker: part %zu is not among the query's %zu parts", part,
                         self->nparts);
        rc = HEARTH_ERR_PROTO;
        goto fail;
    }
    part_t *p = &self->parts[part];
    if (p->spec.cohort && !p->cells_set) {
        hearth_cause_set(cause, "linker: cohort part %zu has no cells", part);
        rc = HEARTH_ERR_PROTO;
        goto fail;
    }
    p->started = true;
    rc = chunk_add(self, part, persons, len, cause);
    if (rc != HEARTH_OK)
        goto fail;
    return HEARTH_OK;
fail:
    self->broken = true;
    return rc;
}

/* ---- finish ------------------------------------------------------------------ */

/* Sorts n keys of `bits` significant bits (LSD radix, 11 bits a pass);
 * returns whichever of a and tmp holds the result. */
static uint64_t *radix_sort(uint64_t *a, uint64_t *tmp, size_t n, unsigned bits)
{
    enum { DIGIT = 11, RADIX = 1 << DIGIT };
    size_t count[RADIX];
    for (unsigned shift = 0; shift < bits; shift += DIGIT) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[(a[i] >> shift) & (RADIX - 1)]++;
        if (n == 0 || count[(a[0] >> shift) & (RADIX - 1)] == n)
            continue;   /* every key has this digit: the pass would change nothing */
        size_t sum = 0;
        for (size_t d = 0; d < RADIX; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(a[i] >> shift) & (RADIX - 1)]++] = a[i];
        uint64_t *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

static unsigned bits_for(uint64_t n)
{
    unsigned b = 0;
    while (b < 64 && (n >> b) != 0)
        b++;
    return b;
}

static void cohort_free(gw_link_t *self)
{
    free(self->entries);
    free(self->vrec);
    free(self->vsum);
    self->entries = NULL;
    self->vrec = NULL;
    self->vsum = NULL;
    self->nentries = self->entries_cap = self->nvrec = self->vrec_cap = 0;
    self->nvsum = self->vsum_cap = 0;
}

/* Frees everything but the parts, wiping the tokens. */
static void state_free(gw_link_t *self)
{
    pool_wipe_free(self);
    free(self->refs);
    self->refs = NULL;
    self->refs_cap = 0;
    free(self->parent);
    free(self->runs);
    self->parent = NULL;
    self->runs = NULL;
    self->nelem = self->elem_cap = self->nruns = self->runs_cap = 0;
    cohort_free(self);
}

static size_t run_end(const gw_link_t *self, size_t k)
{
    return k + 1 < self->nruns ? self->runs[k + 1].start : self->nelem;
}

/* The root of e once roots_resolve has run. */
static uint32_t root_of(const uint32_t *parent, size_t e)
{
    return (parent[e] & UF_ROOT) ? (uint32_t)e : parent[e] & UF_LINK;
}

/* Points every element that is not a root straight at its root (roots keep
 * their flag: see root_of), ORing its kinds into its root's (targets have
 * none), then sets each root's assignment (bit i: atom i's target has a
 * person in it). Roots are read at random, so they are prefetched AHEAD
 * elements early. */
static void roots_resolve(gw_link_t *self)
{
    uint32_t *parent = self->parent;
    size_t n = self->nelem;
    for (size_t e = 0; e < n; e++) {
        if (e + AHEAD < n && !(parent[e + AHEAD] & UF_ROOT))
            __builtin_prefetch(&parent[parent[e + AHEAD] & UF_LINK]);
        if (parent[e] & UF_ROOT)
            continue;
        uint32_t r = uf_find(parent, (uint32_t)e);
        uint32_t kinds = parent[e] & UF_KINDS;
        parent[e] = kinds | r;
        parent[r] |= kinds;
    }
    for (size_t k = 0; k < self->nruns; k++) {
        const gw_link_part_t *sp = &self->parts[self->runs[k].part].spec;
        if (sp->cohort)
            continue;
        size_t end = run_end(self, k);
        uint32_t bit = (1u << sp->atom) << UF_ASSIGN_SHIFT;
        for (size_t e = self->runs[k].start; e < end; e++) {
            if (e + AHEAD < end)
                __builtin_prefetch(&parent[root_of(parent, e + AHEAD)]);
            parent[root_of(parent, e)] |= bit;
        }
    }
}

hearth_err_t gw_link_finish(gw_link_t *self, size_t nglobal, gw_link_result_t *out,
                            char **cause)
{
    memset(out, 0, sizeof *out);
    hearth_err_t rc = check_usable(self, cause);
    if (rc != HEARTH_OK)
        return rc;
    if (nglobal > UINT32_MAX) {
        hearth_cause_set(cause, "linker: too many cells");
        return HEARTH_ERR_USAGE;
    }
    for (size_t i = 0; i < self->nparts; i++)
        for (size_t c = 0; c < self->parts[i].ncells; c++)
            if (self->parts[i].global_cell[c] >= nglobal) {
                hearth_cause_set(cause, "linker: part %zu maps a cell past the %zu cells", i,
                                 nglobal);
                return HEARTH_ERR_USAGE;
            }
    self->finished = true;

    /* Tokens first: resolve the pending kinds, then wipe them. */
    for (size_t i = 0; i < self->npending; i++) {
        const pending_t *pd = &self->pending[i];
        if (owner_get(pool_at(self, pd->token & 0x7fffffffu)) & OWNER_MULTI)
            kinds_mark(self->parent, pd->elem,
                       (pd->token & 0x80000000u) ? KIND_DSP : KIND_NHS);
    }
    pool_wipe_free(self);
    free(self->refs);
    self->refs = NULL;
    self->refs_cap = 0;

    roots_resolve(self);
    const uint32_t *parent = self->parent;

    /* Per entry: counted when the bit of its root's assignment is set. */
    out->ncells = nglobal;
    out->cells = hearth_calloc(nglobal ? nglobal : 1, sizeof *out->cells);
    unsigned cell_bits = bits_for(nglobal > 0 ? nglobal - 1 : 0);
    unsigned key_bits = cell_bits + bits_for(self->nelem > 0 ? self->nelem - 1 : 0);
    uint64_t *keys = hearth_alloc_huge(self->nentries ? self->nentries : 1, sizeof *keys);
    size_t nkeys = 0, vr = 0, vs = 0, run = 0;
    for (size_t i = 0; i < self->nentries; i++) {
        const entry_t *en = &self->entries[i];
        if (i + AHEAD < self->nentries)
            __builtin_prefetch(&parent[root_of(parent, self->entries[i + AHEAD].elem)]);
        while (run_end(self, run) <= en->elem)
            run++;
        proto_cohort_payload_t payload = self->parts[self->runs[run].part].spec.payload;
        uint32_t r = root_of(parent, en->elem);
        unsigned a = (parent[r] >> UF_ASSIGN_SHIFT) & ((1u << PROTO_COHORT_MAX_ATOMS) - 1);
        if ((en->mask >> a) & 1) {
            gw_link_count_t *c = &out->cells[en->cell];
            if (payload != PROTO_COHORT_PERSONS_ONLY) {
                /* The values of bit a: after those of the lower set bits. */
                unsigned j = (unsigned)__builtin_popcountll(en->mask &
                                                            ((UINT64_C(1) << a) - 1));
                c->records += self->vrec[vr + j];
                out->total.records += self->vrec[vr + j];
                if (payload == PROTO_COHORT_SUMS) {
                    c->sum += self->vsum[vs + j];
                    out->total.sum += self->vsum[vs + j];
                }
            }
            keys[nkeys++] = (uint64_t)r << cell_bits | en->cell;
        }
        if (payload != PROTO_COHORT_PERSONS_ONLY) {
            unsigned nbits = (unsigned)__builtin_popcountll(en->mask);
            vr += nbits;
            if (payload == PROTO_COHORT_SUMS)
                vs += nbits;
        }
    }
    cohort_free(self);

    /* Distinct (root, cell) pairs: sorted with the root in the high bits, a
     * root's pairs are adjacent and the total counts it once. */
    uint64_t *tmp = hearth_alloc_huge(nkeys ? nkeys : 1, sizeof *tmp);
    uint64_t *sorted = radix_sort(keys, tmp, nkeys, key_bits);
    uint64_t cell_mask = (UINT64_C(1) << cell_bits) - 1;
    for (size_t i = 0; i < nkeys; i++) {
        uint64_t k = sorted[i];
        if (i > 0 && sorted[i - 1] == k)
            continue;
        out->cells[k & cell_mask].persons++;
        uint64_t root = k >> cell_bits;
        if (i > 0 && sorted[i - 1] >> cell_bits == root)
            continue;
        out->total.persons++;
        switch ((parent[root] & UF_KINDS) >> UF_KIND_SHIFT) {
        case KIND_NHS:
            out->linkage[GW_LINK_NHS_ONLY]++;
            break;
        case KIND_DSP:
            out->linkage[GW_LINK_DSP_ONLY]++;
            break;
        case KIND_NHS | KIND_DSP:
            out->linkage[GW_LINK_BOTH]++;
            break;
        default:
            out->linkage[GW_LINK_NONE]++;
            break;
        }
    }
    free(keys);
    free(tmp);
    state_free(self);
    return HEARTH_OK;
}

void gw_link_result_free(gw_link_result_t *r)
{
    if (r == NULL)
        return;
    free(r->cells);
    memset(r, 0, sizeof *r);
}

void gw_link_destroy(gw_link_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    gw_link_t *self = *self_p;
    state_free(self);
    for (size_t i = 0; i < self->nparts; i++)
        free(self->parts[i].global_cell);
    free(self->parts);
    OPENSSL_cleanse(self, sizeof *self);
    free(self);
    *self_p = NULL;
}
