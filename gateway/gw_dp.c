/* gw_dp — exact discrete Laplace noise and exact epsilon budgets.
 *
 * Integer arithmetic only: there is no float or double in this file, by
 * design, so sampling cannot inherit the gaps and rounding of floating
 * point that Mironov (2012) showed break a floating-point Laplace. The
 * samplers follow Canonne, Kamath and Steinke (2020), "The Discrete
 * Gaussian for Differential Privacy", Algorithms 1 and 2, and are built
 * from one primitive: an unbiased uniform integer in [0, n).
 *
 * Loop bounds. Each loop states its expected cost and a hard cap; with a
 * working random source the chance of reaching any cap is below 2^-290,
 * and reaching one returns HEARTH_ERR_INTERNAL instead of a sample, so the
 * samples returned are exactly from the stated distribution. */
#include "gw_dp.h"
#include "hearth_xoshiro.h"

#include "hearth_mem.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Uniform: a draw is rejected with probability (2^64 mod n) / 2^64 < 1/2,
 * so 128 draws all rejected has probability below 2^-128; for the n this
 * module uses (at most 6.4e7) below 2^-4700. */
#define UNIFORM_CAP 128
/* Bernoulli(exp(-gamma)), gamma <= 1: the k-th trial is reached with
 * probability gamma^(k-1)/(k-1)! (expected trials at most e); all of 64
 * succeeding has probability at most 1/64! < 2^-295. */
#define BERNOULLI_K_CAP 64
/* Discrete Laplace: an attempt is accepted with probability at least
 * (1 - 1/e) / 2 > 0.316 (D = 1 with probability >= 1 - 1/e, and the sign
 * step rejects at most half), so expected attempts < 3.2 and 1024 failures
 * have probability below 0.684^1024 < 2^-560. */
#define LAPLACE_ATTEMPT_CAP 1024
/* Discrete Laplace: V counts successes of Bernoulli(exp(-1)) before the
 * first failure (expected 0.58); V reaching 256 has probability e^-256 <
 * 2^-369. Also keeps X = U + t*V below 2^29. */
#define LAPLACE_V_CAP 256

struct gw_dp_rng {
    bool seeded;    /* false: RAND_bytes on every draw; true: xoshiro (tests) */
    uint64_t s[4];  /* hearth_xoshiro state, used only when seeded */
};

/* ---- random source ---------------------------------------------------- */


gw_dp_rng_t *gw_dp_rng_new(void)
{
    gw_dp_rng_t *self = hearth_calloc(1, sizeof *self);
    self->seeded = false;
    return self;
}

gw_dp_rng_t *gw_dp_rng_new_seeded(uint64_t seed)
{
    gw_dp_rng_t *self = hearth_calloc(1, sizeof *self);
    self->seeded = true;
    hearth_xoshiro_seed(self->s, seed);
    return self;
}

void gw_dp_rng_destroy(gw_dp_rng_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    OPENSSL_cleanse(*self_p, sizeof **self_p);
    free(*self_p);
    *self_p = NULL;
}

static hearth_err_t rng_u64(gw_dp_rng_t *rng, uint64_t *out, char **cause)
{
    if (rng->seeded) {
        *out = hearth_xoshiro_next(rng->s);
        return HEARTH_OK;
    }
    unsigned char b[8];
    if (RAND_bytes(b, sizeof b) != 1) {
        hearth_cause_set(cause, "differential privacy: RAND_bytes failed");
        return HEARTH_ERR_CRYPTO;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof b; i++)
        v = (v << 8) | b[i];
    OPENSSL_cleanse(b, sizeof b);
    *out = v;
    return HEARTH_OK;
}

hearth_err_t gw_dp_rng_uniform(gw_dp_rng_t *rng, uint64_t n, uint64_t *out, char **cause)
{
    if (rng == NULL || n == 0) {
        hearth_cause_set(cause, "differential privacy: uniform draw from an empty range");
        return HEARTH_ERR_USAGE;
    }
    /* 2^64 = q*n + r: accept only v < q*n = 2^64 - r, so each residue of n
     * is hit by exactly q values of v. */
    uint64_t r = (UINT64_MAX % n + 1) % n;
    for (int i = 0; i < UNIFORM_CAP; i++) {
        uint64_t v;
        hearth_err_t err = rng_u64(rng, &v, cause);
        if (err != HEARTH_OK)
            return err;
        if (v <= UINT64_MAX - r) {
            *out = v % n;
            return HEARTH_OK;
        }
    }
    hearth_cause_set(cause, "differential privacy: random source failed (uniform rejection cap)");
    return HEARTH_ERR_INTERNAL;
}

/* ---- samplers --------------------------------------------------------- */

/* Bernoulli(num/den), 0 <= num <= den, den >= 1: one uniform draw. */
static hearth_err_t bernoulli_frac(gw_dp_rng_t *rng, uint64_t num, uint64_t den, bool *out,
                                   char **cause)
{
    uint64_t u;
    hearth_err_t err = gw_dp_rng_uniform(rng, den, &u, cause);
    if (err == HEARTH_OK)
        *out = u < num;
    return err;
}

/* Bernoulli(exp(-num/den)) for 0 <= num <= den <= GW_DP_EPSILON_TERM_MAX
 * (CKS Algorithm 1, gamma in [0, 1]): run Bernoulli(gamma/k) for k = 1, 2,
 * ... until one fails; answer 1 when the failing k is odd. P(K > k) =
 * gamma^k/k!, and the alternating sum of these is exp(-gamma). den*k stays
 * below 6.4e7. */
static hearth_err_t bernoulli_exp_le1(gw_dp_rng_t *rng, uint64_t num, uint64_t den, bool *out,
                                      char **cause)
{
    for (uint64_t k = 1; k <= BERNOULLI_K_CAP; k++) {
        bool a;
        hearth_err_t err = bernoulli_frac(rng, num, den * k, &a, cause);
        if (err != HEARTH_OK)
            return err;
        if (!a) {
            *out = (k & 1) == 1;
            return HEARTH_OK;
        }
    }
    hearth_cause_set(cause, "differential privacy: random source failed (Bernoulli cap)");
    return HEARTH_ERR_INTERNAL;
}

/* Bernoulli(exp(-num/den)) for any gamma >= 0 (CKS Algorithm 1): exp(-gamma)
 * = exp(-1)^floor(gamma) * exp(-frac(gamma)), so one failed Bernoulli(exp(-1))
 * answers 0. Stops at the first failure: expected exp(-1) trials < 1.6
 * whatever gamma is, and at most floor(gamma) <= 10^6 even for a source that
 * never fails one. */
static hearth_err_t bernoulli_exp(gw_dp_rng_t *rng, uint64_t num, uint64_t den, bool *out,
                                  char **cause)
{
    uint64_t whole = num / den;
    for (uint64_t i = 0; i < whole; i++) {
        bool b;
        hearth_err_t err = bernoulli_exp_le1(rng, 1, 1, &b, cause);
        if (err != HEARTH_OK)
            return err;
        if (!b) {
            *out = false;
            return HEARTH_OK;
        }
    }
    return bernoulli_exp_le1(rng, num % den, den, out, cause);
}

hearth_err_t gw_dp_bernoulli_exp(gw_dp_rng_t *rng, gw_dp_rational_t gamma, bool *out,
                                 char **cause)
{
    if (rng == NULL || gamma.den == 0 || gamma.den > GW_DP_EPSILON_TERM_MAX ||
        gamma.num > GW_DP_EPSILON_TERM_MAX) {
        hearth_cause_set(cause, "differential privacy: gamma out of range");
        return HEARTH_ERR_USAGE;
    }
    return bernoulli_exp(rng, gamma.num, gamma.den, out, cause);
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Discrete Laplace with pmf proportional to exp(-|x| * s/t), s, t >= 1
 * (CKS Algorithm 2). U + t*V with U uniform on [0, t) kept with probability
 * exp(-U/t), and V geometric in exp(-1), is geometric with ratio exp(-1/t);
 * dividing by s gives ratio exp(-s/t); a random sign, rejecting -0 so 0 is
 * not counted twice, makes it two-sided. */
static hearth_err_t laplace(gw_dp_rng_t *rng, uint64_t s, uint64_t t, int64_t *out, char **cause)
{
    hearth_err_t err;
    for (int attempt = 0; attempt < LAPLACE_ATTEMPT_CAP; attempt++) {
        uint64_t u;
        if ((err = gw_dp_rng_uniform(rng, t, &u, cause)) != HEARTH_OK)
            return err;
        bool d;
        if ((err = bernoulli_exp_le1(rng, u, t, &d, cause)) != HEARTH_OK)
            return err;
        if (!d)
            continue;
        uint64_t v = 0;
        for (;;) {
            bool a;
            if ((err = bernoulli_exp_le1(rng, 1, 1, &a, cause)) != HEARTH_OK)
                return err;
            if (!a)
                break;
            if (++v >= LAPLACE_V_CAP) {
                hearth_cause_set(cause, "differential privacy: random source failed "
                                        "(geometric cap)");
                return HEARTH_ERR_INTERNAL;
            }
        }
        uint64_t x = u + t * v;  /* < 10^6 * 257: no overflow */
        uint64_t y = x / s;
        uint64_t b;
        if ((err = gw_dp_rng_uniform(rng, 2, &b, cause)) != HEARTH_OK)
            return err;
        if (b == 1 && y == 0)
            continue;
        *out = b == 1 ? -(int64_t)y : (int64_t)y;
        return HEARTH_OK;
    }
    hearth_cause_set(cause, "differential privacy: random source failed (attempt cap)");
    return HEARTH_ERR_INTERNAL;
}

static bool epsilon_valid(gw_dp_rational_t e)
{
    return e.num >= 1 && e.den >= 1 && e.num <= GW_DP_EPSILON_TERM_MAX &&
           e.den <= GW_DP_EPSILON_TERM_MAX && e.num <= (uint64_t)GW_DP_EPSILON_MAX * e.den;
}

hearth_err_t gw_dp_noise(gw_dp_rng_t *rng, gw_dp_rational_t epsilon, int64_t *noise,
                         char **cause)
{
    if (rng == NULL || !epsilon_valid(epsilon)) {
        hearth_cause_set(cause, "differential privacy: epsilon out of range");
        return HEARTH_ERR_USAGE;
    }
    /* Sensitivity 1: pmf proportional to exp(-epsilon*|x|), so s/t = num/den. */
    uint64_t g = gcd64(epsilon.num, epsilon.den);
    return laplace(rng, epsilon.num / g, epsilon.den / g, noise, cause);
}

hearth_err_t gw_dp_noisy_count(gw_dp_rng_t *rng, gw_dp_rational_t epsilon, uint64_t count,
                               uint64_t *out, char **cause)
{
    if (count > INT64_MAX) {
        hearth_cause_set(cause, "differential privacy: count too large to perturb");
        return HEARTH_ERR_TOO_BIG;
    }
    int64_t noise, sum;
    hearth_err_t err = gw_dp_noise(rng, epsilon, &noise, cause);
    if (err != HEARTH_OK)
        return err;
    if (__builtin_add_overflow((int64_t)count, noise, &sum)) {
        hearth_cause_set(cause, "differential privacy: count too large to perturb");
        return HEARTH_ERR_TOO_BIG;
    }
    /* Post-processing: clamping a private value spends no privacy. */
    *out = sum < 0 ? 0 : (uint64_t)sum;
    return HEARTH_OK;
}

/* ---- exact rationals -------------------------------------------------- */

typedef unsigned __int128 u128;

/* Reduces n/d (d >= 1) into *out; HEARTH_ERR_TOO_BIG when a reduced term
 * exceeds GW_DP_TERM_MAX. */
static hearth_err_t reduce128(u128 n, u128 d, gw_dp_rational_t *out)
{
    if (n == 0) {
        *out = (gw_dp_rational_t){0, 1};
        return HEARTH_OK;
    }
    u128 a = n, b = d;
    while (b != 0) {
        u128 t = a % b;
        a = b;
        b = t;
    }
    n /= a;
    d /= a;
    if (n > GW_DP_TERM_MAX || d > GW_DP_TERM_MAX)
        return HEARTH_ERR_TOO_BIG;
    *out = (gw_dp_rational_t){(uint64_t)n, (uint64_t)d};
    return HEARTH_OK;
}

static bool rational_valid(gw_dp_rational_t r)
{
    return r.den >= 1 && r.den <= GW_DP_TERM_MAX && r.num <= GW_DP_TERM_MAX;
}

hearth_err_t gw_dp_rational_make(uint64_t num, uint64_t den, gw_dp_rational_t *out)
{
    if (den == 0)
        return HEARTH_ERR_USAGE;
    return reduce128(num, den, out) == HEARTH_OK ? HEARTH_OK : HEARTH_ERR_USAGE;
}

int gw_dp_rational_cmp(gw_dp_rational_t a, gw_dp_rational_t b)
{
    u128 l = (u128)a.num * b.den, r = (u128)b.num * a.den;
    return l < r ? -1 : l > r ? 1 : 0;
}

hearth_err_t gw_dp_rational_add(gw_dp_rational_t a, gw_dp_rational_t b, gw_dp_rational_t *out)
{
    if (!rational_valid(a) || !rational_valid(b))
        return HEARTH_ERR_USAGE;
    /* Terms below 2^60, so each product is below 2^120 and the sum fits. */
    return reduce128((u128)a.num * b.den + (u128)b.num * a.den, (u128)a.den * b.den, out);
}

hearth_err_t gw_dp_budget_spend(gw_dp_rational_t *remaining, gw_dp_rational_t eps)
{
    if (remaining == NULL || !rational_valid(*remaining) || !rational_valid(eps) || eps.num == 0)
        return HEARTH_ERR_USAGE;
    if (gw_dp_rational_cmp(eps, *remaining) > 0)
        return HEARTH_ERR_REFUSED;
    u128 n = (u128)remaining->num * eps.den - (u128)eps.num * remaining->den;
    return reduce128(n, (u128)remaining->den * eps.den, remaining);
}

char *gw_dp_rational_format(gw_dp_rational_t r, char buf[GW_DP_DECIMAL_SIZE])
{
    if (r.den == 0) {
        snprintf(buf, GW_DP_DECIMAL_SIZE, "?");
        return buf;
    }
    int len = snprintf(buf, GW_DP_DECIMAL_SIZE, "%" PRIu64, r.num / r.den);
    /* Long division, truncating: the digits never round up. */
    char frac[GW_DP_DECIMAL_DIGITS + 1];
    u128 rem = r.num % r.den;
    int last = -1;
    for (int i = 0; i < GW_DP_DECIMAL_DIGITS; i++) {
        rem *= 10;
        frac[i] = (char)('0' + (int)(rem / r.den));
        rem %= r.den;
        if (frac[i] != '0')
            last = i;
    }
    if (last >= 0)
        snprintf(buf + len, (size_t)(GW_DP_DECIMAL_SIZE - len), ".%.*s", last + 1, frac);
    return buf;
}

char *gw_dp_rational_format_exact(gw_dp_rational_t r, char buf[GW_DP_EXACT_SIZE])
{
    if (r.den == 1)
        snprintf(buf, GW_DP_EXACT_SIZE, "%" PRIu64, r.num);
    else
        snprintf(buf, GW_DP_EXACT_SIZE, "%" PRIu64 "/%" PRIu64, r.num, r.den);
    return buf;
}

/* Reads a run of at least one ASCII digit at *p into *v, refusing values
 * above GW_DP_TERM_MAX. Advances *p. */
static bool parse_digits(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    while (*s >= '0' && *s <= '9') {
        uint64_t d = (uint64_t)(*s - '0');
        if (x > (GW_DP_TERM_MAX - d) / 10)
            return false;
        x = x * 10 + d;
        s++;
    }
    if (s == *p)
        return false;
    *p = s;
    *v = x;
    return true;
}

/* The grammar shared by epsilons and budgets: digits ["/" digits | "."
 * 1-6 digits]. what names the value in causes; the text is never quoted. */
static hearth_err_t rational_parse(const char *s, const char *what, bool allow_zero,
                                   uint64_t max, uint64_t term_max, gw_dp_rational_t *out,
                                   char **cause)
{
    if (s == NULL || strnlen(s, GW_DP_TEXT_MAX + 1) > GW_DP_TEXT_MAX) {
        hearth_cause_set(cause, "%s is missing or longer than %d characters", what,
                         GW_DP_TEXT_MAX);
        return HEARTH_ERR_CONFIG;
    }
    const char *p = s;
    uint64_t a, b, num, den = 1;
    if (!parse_digits(&p, &a))
        goto syntax;
    if (*p == '/') {
        p++;
        if (!parse_digits(&p, &b) || *p != '\0')
            goto syntax;
        if (b == 0) {
            hearth_cause_set(cause, "%s has a zero denominator", what);
            return HEARTH_ERR_CONFIG;
        }
        num = a;
        den = b;
    } else if (*p == '.') {
        p++;
        const char *start = p;
        uint64_t f;
        if (!parse_digits(&p, &f) || *p != '\0' || p - start > GW_DP_DECIMAL_DIGITS)
            goto syntax;
        if (a > max)
            goto too_big;
        for (const char *q = start; q < p; q++)
            den *= 10;
        num = a * den + f;  /* a <= max <= 100, den <= 10^6: fits */
    } else if (*p == '\0') {
        num = a;
    } else {
        goto syntax;
    }

    gw_dp_rational_t r;
    if (reduce128(num, den, &r) != HEARTH_OK)
        goto syntax;  /* unreachable: parse_digits bounds both terms */
    if (r.num == 0 && !allow_zero) {
        hearth_cause_set(cause, "%s must be greater than 0", what);
        return HEARTH_ERR_CONFIG;
    }
    if (r.num / r.den > max || (r.num / r.den == max && r.num % r.den != 0))
        goto too_big;
    if (r.num > term_max || r.den > term_max) {
        hearth_cause_set(cause, "%s needs a numerator or denominator above %" PRIu64
                                " in lowest terms", what, term_max);
        return HEARTH_ERR_CONFIG;
    }
    *out = r;
    return HEARTH_OK;

syntax:
    hearth_cause_set(cause, "%s must be a fraction n/d or a decimal with at most %d fraction "
                            "digits, digits only, at most %" PRIu64 " each",
                     what, GW_DP_DECIMAL_DIGITS, (uint64_t)GW_DP_TERM_MAX);
    return HEARTH_ERR_CONFIG;
too_big:
    hearth_cause_set(cause, "%s must be at most %" PRIu64, what, max);
    return HEARTH_ERR_CONFIG;
}

hearth_err_t gw_dp_epsilon_parse(const char *s, gw_dp_rational_t *out, char **cause)
{
    return rational_parse(s, "epsilon", false, GW_DP_EPSILON_MAX, GW_DP_EPSILON_TERM_MAX, out,
                          cause);
}

hearth_err_t gw_dp_budget_parse(const char *s, gw_dp_rational_t *out, char **cause)
{
    return rational_parse(s, "budget", true, GW_DP_BUDGET_MAX, GW_DP_TERM_MAX, out, cause);
}
