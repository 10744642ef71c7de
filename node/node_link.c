#include "node_link.h"
#include "hearth_mem.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t tok[NODE_LINK_TOKEN_LEN];
    size_t rec;
} entry_t;

struct node_link_t {
    size_t n, cap;          /* records */
    size_t *parent;         /* union-find forest */
    int64_t *existing;      /* current person id per record, 0 = new */
    int64_t *person;        /* resolved ids */
    entry_t *entries;       /* distinct tokens seen */
    size_t nentries, entries_cap;
    uint32_t *slots;        /* open addressing: entry index + 1, 0 = empty */
    size_t nslots;          /* power of two */
};

node_link_t *node_link_new(void)
{
    node_link_t *self = hearth_calloc(1, sizeof *self);
    self->nslots = 1024;
    self->slots = hearth_calloc(self->nslots, sizeof *self->slots);
    return self;
}

void node_link_destroy(node_link_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    node_link_t *self = *self_p;
    if (self->entries)
        OPENSSL_cleanse(self->entries, self->entries_cap * sizeof *self->entries);
    free(self->entries);
    free(self->slots);
    free(self->parent);
    free(self->existing);
    free(self->person);
    free(self);
    *self_p = NULL;
}

static size_t find(node_link_t *self, size_t x)
{
    while (self->parent[x] != x) {
        self->parent[x] = self->parent[self->parent[x]]; /* path halving */
        x = self->parent[x];
    }
    return x;
}

static void unite(node_link_t *self, size_t a, size_t b)
{
    a = find(self, a);
    b = find(self, b);
    if (a == b)
        return;
    /* The smaller index becomes the root: deterministic, and cheap since
     * records arrive in order. */
    if (a < b)
        self->parent[b] = a;
    else
        self->parent[a] = b;
}

static uint64_t hash(const uint8_t *tok)
{
    /* Tokens are HMAC outputs: already uniformly distributed. */
    uint64_t h;
    memcpy(&h, tok, sizeof h);
    return h;
}

static void grow_slots(node_link_t *self)
{
    size_t nslots = self->nslots * 2;
    uint32_t *slots = hearth_calloc(nslots, sizeof *slots);
    for (size_t i = 0; i < self->nentries; i++) {
        size_t s = hash(self->entries[i].tok) & (nslots - 1);
        while (slots[s])
            s = (s + 1) & (nslots - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(self->slots);
    self->slots = slots;
    self->nslots = nslots;
}

/* Returns the record that first carried tok, or registers rec for it. */
static size_t lookup_or_insert(node_link_t *self, const uint8_t *tok, size_t rec)
{
    if ((self->nentries + 1) * 2 > self->nslots)
        grow_slots(self);
    size_t s = hash(tok) & (self->nslots - 1);
    while (self->slots[s]) {
        entry_t *e = &self->entries[self->slots[s] - 1];
        if (memcmp(e->tok, tok, NODE_LINK_TOKEN_LEN) == 0)
            return e->rec;
        s = (s + 1) & (self->nslots - 1);
    }
    if (self->nentries == self->entries_cap) {
        self->entries_cap = self->entries_cap ? self->entries_cap * 2 : 1024;
        self->entries = hearth_reallocarray(self->entries, self->entries_cap,
                                            sizeof *self->entries);
    }
    entry_t *e = &self->entries[self->nentries++];
    memcpy(e->tok, tok, NODE_LINK_TOKEN_LEN);
    e->rec = rec;
    self->slots[s] = (uint32_t)self->nentries;
    return rec;
}

size_t node_link_add(node_link_t *self, const uint8_t *t_nhs, const uint8_t *t_dsp,
                     int64_t existing)
{
    if (self->n == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 1024;
        self->parent = hearth_reallocarray(self->parent, self->cap, sizeof *self->parent);
        self->existing = hearth_reallocarray(self->existing, self->cap, sizeof *self->existing);
    }
    size_t rec = self->n++;
    self->parent[rec] = rec;
    self->existing[rec] = existing;
    if (t_nhs)
        unite(self, rec, lookup_or_insert(self, t_nhs, rec));
    if (t_dsp)
        unite(self, rec, lookup_or_insert(self, t_dsp, rec));
    return rec;
}

const int64_t *node_link_resolve(node_link_t *self, uint64_t *npersons)
{
    size_t n = self->n;
    free(self->person);
    self->person = hearth_calloc(n, sizeof *self->person);
    /* best[root]: smallest existing id in the group (0 = none). */
    int64_t *best = hearth_calloc(n, sizeof *best);
    int64_t max_existing = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t e = self->existing[i];
        if (e <= 0)
            continue;
        size_t r = find(self, i);
        if (best[r] == 0 || e < best[r])
            best[r] = e;
        if (e > max_existing)
            max_existing = e;
    }
    /* An existing id may be the best of two groups when a re-ingest split a
     * person; only the first group (lowest root) keeps it. */
    uint8_t *claimed = hearth_calloc((size_t)max_existing / 8 + 1, 1);
    int64_t next = max_existing + 1;
    uint64_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        if (find(self, i) != i)
            continue;
        groups++;
        int64_t id = best[i];
        if (id > 0 && !(claimed[id / 8] & (1u << (id % 8))))
            claimed[id / 8] |= (uint8_t)(1u << (id % 8));
        else
            id = next++;
        self->person[i] = id;
    }
    for (size_t i = 0; i < n; i++)
        self->person[i] = self->person[find(self, i)];
    free(best);
    free(claimed);
    if (npersons)
        *npersons = groups;
    return self->person;
}
