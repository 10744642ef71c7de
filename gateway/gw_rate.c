#include "gw_rate.h"
#include "hearth_mem.h"

#include <stdlib.h>
#include <string.h>

/* One analyst's questions in the window: their times, oldest first, in a
 * ring that grows to at most the limit. */
typedef struct {
    uint64_t *times;             /* owned; cap entries */
    size_t cap, head, n;
} ring_t;

struct gw_rate_t {
    const gw_config_t *cfg;
    ring_t *rings;               /* owned: one per configured analyst */
};

gw_rate_t *gw_rate_new(const gw_config_t *cfg)
{
    gw_rate_t *self = hearth_calloc(1, sizeof *self);
    self->cfg = cfg;
    self->rings = hearth_calloc(cfg->nanalysts ? cfg->nanalysts : 1, sizeof *self->rings);
    return self;
}

void gw_rate_destroy(gw_rate_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    gw_rate_t *self = *self_p;
    for (size_t i = 0; i < self->cfg->nanalysts; i++)
        free(self->rings[i].times);
    free(self->rings);
    free(self);
    *self_p = NULL;
}

/* The ring of the configured analyst called name, or NULL (ZAP admits
 * only configured analysts, so NULL is not expected). */
static ring_t *ring_of(gw_rate_t *self, const char *name)
{
    for (size_t i = 0; i < self->cfg->nanalysts; i++)
        if (strcmp(self->cfg->analysts[i].name, name) == 0)
            return &self->rings[i];
    return NULL;
}

/* Forgets the questions older than the window. */
static void prune(ring_t *r, uint64_t now)
{
    while (r->n > 0 && r->times[r->head] + GW_RATE_WINDOW_MS <= now) {
        r->head = (r->head + 1) % r->cap;
        r->n--;
    }
}

bool gw_rate_allows(gw_rate_t *self, const char *name, uint64_t now)
{
    uint32_t max = self->cfg->max_queries_per_hour;
    ring_t *r = ring_of(self, name);
    if (max == 0 || r == NULL)
        return max == 0;
    prune(r, now);
    return r->n < max;
}

void gw_rate_record(gw_rate_t *self, const char *name, uint64_t now)
{
    uint32_t max = self->cfg->max_queries_per_hour;
    ring_t *r = ring_of(self, name);
    if (max == 0 || r == NULL)
        return;
    prune(r, now);
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        if (cap > max)
            cap = max;
        uint64_t *times = hearth_calloc(cap, sizeof *times);
        for (size_t i = 0; i < r->n; i++)
            times[i] = r->times[(r->head + i) % r->cap];
        free(r->times);
        r->times = times;
        r->cap = cap;
        r->head = 0;
    }
    r->times[(r->head + r->n) % r->cap] = now;
    r->n++;
}
