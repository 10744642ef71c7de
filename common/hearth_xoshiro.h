/* hearth_xoshiro — xoshiro256** (Blackman and Vigna, 2018) seeded through
 * splitmix64: a fast, reproducible, NOT cryptographic generator, for the
 * synthetic-data generator and for tests that need a fixed random stream.
 * Nothing that protects anyone (tokens, shuffles, noise in production)
 * may use it: those draw from OpenSSL's RAND_bytes. */
#ifndef HEARTH_XOSHIRO_H
#define HEARTH_XOSHIRO_H

#include <stdint.h>

/* Fills s from seed (nearby seeds give unrelated streams; never all zero). */
void hearth_xoshiro_seed(uint64_t s[4], uint64_t seed);

/* The next 64 bits of the stream in s. */
uint64_t hearth_xoshiro_next(uint64_t s[4]);

#endif
