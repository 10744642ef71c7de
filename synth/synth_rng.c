#include "synth_rng.h"
#include "hearth_mem.h"
#include "hearth_xoshiro.h"

#include <stdlib.h>

struct synth_rng {
    uint64_t s[4]; /* xoshiro256** state; never all zero */
};

synth_rng_t *synth_rng_new(uint64_t seed)
{
    synth_rng_t *self = hearth_calloc(1, sizeof *self);
    hearth_xoshiro_seed(self->s, seed);
    return self;
}

void synth_rng_destroy(synth_rng_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free(*self_p);
    *self_p = NULL;
}

uint64_t synth_rng_next(synth_rng_t *self)
{
    return hearth_xoshiro_next(self->s);
}

uint64_t synth_rng_below(synth_rng_t *self, uint64_t n)
{
    /* Reject the short top slice of 2^64 that n does not divide evenly. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t r = synth_rng_next(self);
        if (r >= threshold)
            return r % n;
    }
}

int64_t synth_rng_range(synth_rng_t *self, int64_t lo, int64_t hi)
{
    return lo + (int64_t)synth_rng_below(self, (uint64_t)(hi - lo) + 1);
}

int synth_rng_chance(synth_rng_t *self, unsigned permille)
{
    return synth_rng_below(self, 1000) < permille;
}

size_t synth_rng_pick(synth_rng_t *self, const unsigned *weights, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += weights[i];
    uint64_t r = synth_rng_below(self, total);
    for (size_t i = 0; i < n; i++) {
        if (r < weights[i])
            return i;
        r -= weights[i];
    }
    return n - 1; /* unreachable: r < total */
}
