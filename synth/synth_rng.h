/* synth_rng — the synthetic generator's own pseudo-random numbers:
 * xoshiro256** seeded through splitmix64. rand() and the clock are never
 * used, so the same seed gives the same neighbourhood on every machine. */
#ifndef SYNTH_RNG_H
#define SYNTH_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct synth_rng synth_rng_t;

/* A new generator whose whole stream is fixed by seed; caller destroys. */
synth_rng_t *synth_rng_new(uint64_t seed);

/* Frees *self_p (NULL-safe) and sets it to NULL. */
void synth_rng_destroy(synth_rng_t **self_p);

/* The next 64 uniformly random bits. */
uint64_t synth_rng_next(synth_rng_t *self);

/* A uniform integer in [0, n); n must be at least 1. Unbiased (rejection),
 * so no value is favoured however n divides 2^64. */
uint64_t synth_rng_below(synth_rng_t *self, uint64_t n);

/* A uniform integer in [lo, hi]; requires lo <= hi. */
int64_t synth_rng_range(synth_rng_t *self, int64_t lo, int64_t hi);

/* True with probability permille / 1000 (0 never, 1000 always). Rates are
 * whole per-mille so that no floating point rounding can differ between
 * compilers and change the output. */
int synth_rng_chance(synth_rng_t *self, unsigned permille);

/* An index in [0, n) drawn with probability weights[i] / sum(weights).
 * The weights are borrowed; n and the sum must be at least 1. */
size_t synth_rng_pick(synth_rng_t *self, const unsigned *weights, size_t n);

#endif
