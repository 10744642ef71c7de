/* gw_dp — optional differential privacy for counts: exact discrete Laplace
 * noise and an exact per-project epsilon budget.
 *
 * Noise is two-sided geometric (discrete Laplace) with pmf
 *     P(X = x) = (1 - a) / (1 + a) * a^|x|,   a = exp(-epsilon),
 * which is epsilon-differentially private for a count (sensitivity 1).
 * It is sampled exactly with integer arithmetic only, following Canonne,
 * Kamath and Steinke, "The Discrete Gaussian for Differential Privacy"
 * (2020), Algorithms 1 and 2. No floating point is used anywhere in
 * sampling: a floating-point Laplace leaks through the gaps and rounding of
 * doubles (Mironov, 2012). Uniform integers come from a gw_dp_rng_t; the
 * production one reads OpenSSL's RAND_bytes.
 *
 * Epsilon and budgets are exact rationals, so a budget of 1 spent as ten
 * queries at 1/10 is exactly 0 afterwards, not 1e-16 either side.
 *
 * Every loop in the sampler has a small expected cost (stated beside it in
 * gw_dp.c) and a hard cap whose chance of being reached with a working
 * random source is below 2^-290; reaching it returns HEARTH_ERR_INTERNAL
 * rather than a sample from a truncated distribution. Parameters that could
 * overflow 64-bit arithmetic are refused up front. */
#ifndef GW_DP_H
#define GW_DP_H

#include "hearth_err.h"

#include <stdbool.h>
#include <stdint.h>

/* Largest epsilon one query may use. */
#define GW_DP_EPSILON_MAX 10
/* Largest numerator or denominator of an epsilon in lowest terms (so the
 * smallest epsilon is 1/1000000, a noise scale of a million). Keeps every
 * product in the sampler far inside 64 bits. */
#define GW_DP_EPSILON_TERM_MAX 1000000u
/* Largest project budget, and largest numerator or denominator of any
 * budget rational in lowest terms. */
#define GW_DP_BUDGET_MAX 100
#define GW_DP_TERM_MAX 1000000000000000000u /* 10^18 */
/* Longest epsilon or budget text accepted by the parsers. */
#define GW_DP_TEXT_MAX 64
/* Fraction digits accepted in decimal input and printed on output. */
#define GW_DP_DECIMAL_DIGITS 6
/* Buffer sizes for the formatters, terminating NUL included. */
#define GW_DP_DECIMAL_SIZE 32  /* "1000000000000000000.999999" */
#define GW_DP_EXACT_SIZE 48    /* "1000000000000000000/1000000000000000000" */

/* A non-negative rational num/den. Every function here returns it in lowest
 * terms with 1 <= den <= GW_DP_TERM_MAX and num <= GW_DP_TERM_MAX; zero is
 * 0/1. A plain value: copy it freely. */
typedef struct {
    uint64_t num;
    uint64_t den;
} gw_dp_rational_t;

/* A source of uniform random integers. Opaque. */
typedef struct gw_dp_rng gw_dp_rng_t;

/* Returns a random source reading OpenSSL's CSPRNG (RAND_bytes) on every
 * draw; it holds no random state of its own. Caller destroys it. */
gw_dp_rng_t *gw_dp_rng_new(void);

/* TESTS ONLY. Returns a deterministic source (xoshiro256**, seeded through
 * splitmix64) so a test build can check the noise distribution against a
 * fixed seed. It is predictable by anyone who knows or guesses the seed and
 * is not cryptographic: never use it for a release. Caller destroys it. */
gw_dp_rng_t *gw_dp_rng_new_seeded(uint64_t seed);

/* Wipes and frees *self_p and sets it to NULL; NULL-safe. */
void gw_dp_rng_destroy(gw_dp_rng_t **self_p);

/* Sets *out to an integer uniform in [0, n), without modulo bias (draws
 * above the largest multiple of n are rejected and redrawn; expected draws
 * < 2). Returns HEARTH_ERR_USAGE when n is 0, HEARTH_ERR_CRYPTO when
 * RAND_bytes fails, HEARTH_ERR_INTERNAL when the rejection cap is hit (a
 * broken source); *cause (caller frees) says why. */
hearth_err_t gw_dp_rng_uniform(gw_dp_rng_t *rng, uint64_t n, uint64_t *out, char **cause);

/* Makes a rational from num/den, reduced to lowest terms. Returns
 * HEARTH_ERR_USAGE when den is 0 or a reduced term exceeds GW_DP_TERM_MAX. */
hearth_err_t gw_dp_rational_make(uint64_t num, uint64_t den, gw_dp_rational_t *out);

/* Parses an epsilon for one query into *out (lowest terms). Accepts a
 * fraction "n/d" or a decimal "2", "0.5", "0.125" with at most 6 fraction
 * digits, converted exactly; digits only (no sign, exponent, spaces or
 * bare "." / ".5"), at most GW_DP_TEXT_MAX characters. Refuses zero, more
 * than GW_DP_EPSILON_MAX, and a reduced numerator or denominator above
 * GW_DP_EPSILON_TERM_MAX. Returns HEARTH_OK, or HEARTH_ERR_CONFIG with
 * *cause (caller frees) saying why; the text itself is never quoted. */
hearth_err_t gw_dp_epsilon_parse(const char *s, gw_dp_rational_t *out, char **cause);

/* Parses a project budget, or a remaining budget as stored: the same
 * syntax as gw_dp_epsilon_parse, but zero is allowed, the limit is
 * GW_DP_BUDGET_MAX and terms may reach GW_DP_TERM_MAX (a remaining budget
 * after many spends can have a large denominator; store it with
 * gw_dp_rational_format_exact). Returns HEARTH_OK or HEARTH_ERR_CONFIG. */
hearth_err_t gw_dp_budget_parse(const char *s, gw_dp_rational_t *out, char **cause);

/* Returns -1, 0 or 1 as a is less than, equal to or greater than b,
 * exactly (128-bit cross products). Both must have den >= 1. */
int gw_dp_rational_cmp(gw_dp_rational_t a, gw_dp_rational_t b);

/* Sets *out to a + b exactly, in lowest terms. Returns HEARTH_ERR_TOO_BIG
 * (leaving *out alone) when a reduced term would exceed GW_DP_TERM_MAX,
 * HEARTH_ERR_USAGE when a denominator is 0. */
hearth_err_t gw_dp_rational_add(gw_dp_rational_t a, gw_dp_rational_t b, gw_dp_rational_t *out);

/* Charges eps to a budget: *remaining becomes *remaining - eps, exactly.
 * Returns HEARTH_ERR_REFUSED when eps > *remaining, HEARTH_ERR_USAGE when
 * eps is zero or a denominator is 0, HEARTH_ERR_TOO_BIG when the exact
 * difference would need a term above GW_DP_TERM_MAX; on any error
 * *remaining is unchanged. */
hearth_err_t gw_dp_budget_spend(gw_dp_rational_t *remaining, gw_dp_rational_t eps);

/* Writes r as a short decimal for results ("0.25", "1", "0.333333", "0"),
 * rounded DOWN to GW_DP_DECIMAL_DIGITS places so a remaining budget is
 * never overstated; trailing zeros are dropped. Returns buf. */
char *gw_dp_rational_format(gw_dp_rational_t r, char buf[GW_DP_DECIMAL_SIZE]);

/* Writes r exactly as "n/d", or "n" when den is 1, for storage; it parses
 * back with gw_dp_budget_parse. Returns buf. */
char *gw_dp_rational_format_exact(gw_dp_rational_t r, char buf[GW_DP_EXACT_SIZE]);

/* Sets *out to 1 with probability exp(-gamma), else 0, exactly
 * (Canonne-Kamath-Steinke Algorithm 1). gamma >= 0 with num and den at most
 * GW_DP_EPSILON_TERM_MAX; expected uniform draws below e (2.72) for
 * gamma <= 1 and below 8 above. Returns HEARTH_ERR_USAGE for a bad gamma,
 * or an error from the random source. Exposed so tests can check it. */
hearth_err_t gw_dp_bernoulli_exp(gw_dp_rng_t *rng, gw_dp_rational_t gamma, bool *out,
                                 char **cause);

/* Sets *noise to a draw from the discrete Laplace distribution with scale
 * 1/epsilon (Canonne-Kamath-Steinke Algorithm 2, s/t = epsilon), the noise
 * for one count. epsilon must be as gw_dp_epsilon_parse returns (0 <
 * epsilon <= GW_DP_EPSILON_MAX, terms <= GW_DP_EPSILON_TERM_MAX), else
 * HEARTH_ERR_USAGE. Expected attempts below 3.2. Errors from the random
 * source are returned with *cause (caller frees); *noise is then untouched. */
hearth_err_t gw_dp_noise(gw_dp_rng_t *rng, gw_dp_rational_t epsilon, int64_t *noise,
                         char **cause);

/* Sets *out to count plus gw_dp_noise, clamped at 0. Clamping is
 * post-processing of a differentially private value, so it costs no
 * privacy; it biases small counts upwards, which suppression and rounding
 * (applied afterwards) absorb. Returns HEARTH_ERR_TOO_BIG when count
 * exceeds INT64_MAX or the sum would, otherwise as gw_dp_noise. */
hearth_err_t gw_dp_noisy_count(gw_dp_rng_t *rng, gw_dp_rational_t epsilon, uint64_t count,
                               uint64_t *out, char **cause);

#endif
