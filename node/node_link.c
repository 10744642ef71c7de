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
    int64_t *best;          /* per root: smallest existing id in its group, 0 = none */
    int64_t max_existing;   /* largest existing id added */
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
    free(self->best);
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
     * records arrive in order. The root carries the group's best id. */
    size_t root = a < b ? a : b, child = a < b ? b : a;
    self->parent[child] = root;
    int64_t x = self->best[root], y = self->best[child];
    if (x == 0 || (y != 0 && y < x))
        self->best[root] = y;
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
        self->best = hearth_reallocarray(self->best, self->cap, sizeof *self->best);
    }
    size_t rec = self->n++;
    self->parent[rec] = rec;
    self->best[rec] = existing > 0 ? existing : 0;
    if (existing > self->max_existing)
        self->max_existing = existing;
    if (t_nhs)
        unite(self, rec, lookup_or_insert(self, t_nhs, rec));
    if (t_dsp)
        unite(self, rec, lookup_or_insert(self, t_dsp, rec));
    return rec;
}

int64_t node_link_provisional(node_link_t *self, size_t rec)
{
    size_t r = find(self, rec);
    return self->best[r] > 0 ? self->best[r] : self->max_existing + 1 + (int64_t)r;
}

const int64_t *node_link_resolve(node_link_t *self, uint64_t *npersons)
{
    size_t n = self->n;
    free(self->person);
    self->person = hearth_calloc(n, sizeof *self->person);
    /* An existing id may be the best of two groups when a re-ingest split a
     * person; only the first group (lowest root) keeps it, the other takes
     * the id its root gives. */
    uint8_t *claimed = hearth_calloc((size_t)self->max_existing / 8 + 1, 1);
    uint64_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        if (find(self, i) != i)
            continue;
        groups++;
        int64_t id = self->best[i];
        if (id > 0 && !(claimed[id / 8] & (1u << (id % 8))))
            claimed[id / 8] |= (uint8_t)(1u << (id % 8));
        else
            id = self->max_existing + 1 + (int64_t)i;
        self->person[i] = id;
    }
    for (size_t i = 0; i < n; i++)
        self->person[i] = self->person[find(self, i)];
    free(claimed);
    if (npersons)
        *npersons = groups;
    return self->person;
}
