/* Tests for gw_dp. The statistical tests use the seeded (test-only) random
 * source with fixed seeds, so they are deterministic; the expected values
 * they compare against are computed here in floating point, which is fine
 * in a test — the sampler itself has no floating point (see gw_dp.c). */
#include "gw_dp.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static gw_dp_rational_t q(uint64_t num, uint64_t den)
{
    return (gw_dp_rational_t){num, den};
}

static void expect_rational(gw_dp_rational_t got, uint64_t num, uint64_t den)
{
    cr_expect(got.num == num && got.den == den, "got %llu/%llu, want %llu/%llu",
              (unsigned long long)got.num, (unsigned long long)got.den,
              (unsigned long long)num, (unsigned long long)den);
}

/* ---- parsing ---------------------------------------------------------- */

Test(gw_dp, epsilon_parse_accepts_fractions_and_short_decimals_exactly)
{
    static const struct { const char *s; uint64_t num, den; } table[] = {
        {"1/2", 1, 2},           {"0.5", 1, 2},         {"2", 2, 1},
        {"0.125", 1, 8},         {"10", 10, 1},         {"2/4", 1, 2},
        {"0.1", 1, 10},          {"0.000001", 1, 1000000}, {"1/1000000", 1, 1000000},
        {"10.000000", 10, 1},    {"20/3", 20, 3},       {"1000000/100000", 10, 1},
        {"3.75", 15, 4},         {"0.333333", 333333, 1000000},
        {"2000000/4000000", 1, 2},
    };
    for (size_t i = 0; i < N_OF(table); i++) {
        gw_dp_rational_t r = {0, 0};
        char *cause = NULL;
        cr_expect_eq(gw_dp_epsilon_parse(table[i].s, &r, &cause), HEARTH_OK, "\"%s\": %s",
                     table[i].s, cause ? cause : "");
        expect_rational(r, table[i].num, table[i].den);
        cr_expect_null(cause);
        free(cause);
    }
}

Test(gw_dp, epsilon_parse_refuses_zero_negative_too_large_junk_and_overflow)
{
    static const char *table[] = {
        "",       "0",      "0/5",     "0.0",     "0.000000", "-1",     "+1",
        "-1/2",   "1/0",    "11",      "10.000001", "21/2",   "10/0.5", "abc",
        "1/2/3",  "1//2",   "/2",      "1/",      "1.",       ".5",     "1.2.3",
        "1e-1",   " 1",     "1 ",      "0x10",    "1.0000001", "0.0000001",
        "99999999999999999999",        "1/99999999999999999999",  "1/1000001",
        "1000001/1000000",  "1,5",     "½",       "1/2\n",    "0.5 ",   "1/-2",
        "1111111111111111111111111111111111111111111111111111111111111111111",
    };
    for (size_t i = 0; i < N_OF(table); i++) {
        gw_dp_rational_t r = {77, 78};
        char *cause = NULL;
        cr_expect_eq(gw_dp_epsilon_parse(table[i], &r, &cause), HEARTH_ERR_CONFIG,
                     "accepted \"%s\"", table[i]);
        expect_rational(r, 77, 78);
        cr_expect_not_null(cause, "no cause for \"%s\"", table[i]);
        free(cause);
    }
    gw_dp_rational_t r;
    cr_expect_eq(gw_dp_epsilon_parse(NULL, &r, NULL), HEARTH_ERR_CONFIG);
}

Test(gw_dp, epsilon_parse_causes_say_why_without_quoting_the_text)
{
    static const struct { const char *s, *why; } table[] = {
        {"0", "greater than 0"},
        {"12", "at most 10"},
        {"1/0", "zero denominator"},
        {"1/1000001", "above 1000000"},
        {"7x7", "fraction n/d or a decimal"},
    };
    for (size_t i = 0; i < N_OF(table); i++) {
        gw_dp_rational_t r;
        char *cause = NULL;
        cr_assert_eq(gw_dp_epsilon_parse(table[i].s, &r, &cause), HEARTH_ERR_CONFIG);
        cr_expect_not_null(strstr(cause, table[i].why), "\"%s\": %s", table[i].s, cause);
        cr_expect_null(strstr(cause, "7x7"));
        free(cause);
    }
}

Test(gw_dp, budget_parse_allows_zero_and_large_terms_up_to_one_hundred)
{
    static const struct { const char *s; uint64_t num, den; } ok[] = {
        {"0", 0, 1},     {"1", 1, 1},     {"100", 100, 1},   {"3/7", 3, 7},
        {"0.25", 1, 4},  {"0/9", 0, 1},
        {"333333333333333333/1000000000000000000", 333333333333333333u,
         1000000000000000000u},
    };
    for (size_t i = 0; i < N_OF(ok); i++) {
        gw_dp_rational_t r = {0, 0};
        cr_expect_eq(gw_dp_budget_parse(ok[i].s, &r, NULL), HEARTH_OK, "\"%s\"", ok[i].s);
        expect_rational(r, ok[i].num, ok[i].den);
    }
    static const char *bad[] = {"101", "100.000001", "-0", "1/0", "", "1000000000000000001/2"};
    for (size_t i = 0; i < N_OF(bad); i++) {
        gw_dp_rational_t r;
        char *cause = NULL;
        cr_expect_eq(gw_dp_budget_parse(bad[i], &r, &cause), HEARTH_ERR_CONFIG, "\"%s\"", bad[i]);
        free(cause);
    }
}

/* ---- exact arithmetic ------------------------------------------------- */

Test(gw_dp, rational_make_reduces_and_refuses_a_zero_denominator)
{
    gw_dp_rational_t r;
    cr_assert_eq(gw_dp_rational_make(6, 8, &r), HEARTH_OK);
    expect_rational(r, 3, 4);
    cr_assert_eq(gw_dp_rational_make(0, 8, &r), HEARTH_OK);
    expect_rational(r, 0, 1);
    cr_expect_eq(gw_dp_rational_make(1, 0, &r), HEARTH_ERR_USAGE);
    cr_expect_eq(gw_dp_rational_make(UINT64_MAX, 1, &r), HEARTH_ERR_USAGE);
}

Test(gw_dp, rational_cmp_is_exact_for_close_values)
{
    cr_expect_eq(gw_dp_rational_cmp(q(1, 2), q(2, 4)), 0);
    cr_expect_eq(gw_dp_rational_cmp(q(1, 3), q(1, 2)), -1);
    cr_expect_eq(gw_dp_rational_cmp(q(1, 2), q(1, 3)), 1);
    cr_expect_eq(gw_dp_rational_cmp(q(0, 1), q(0, 7)), 0);
    /* Differ by 1/(10^18 * (10^18 - 1)): no double can tell them apart. */
    cr_expect_eq(gw_dp_rational_cmp(q(999999999999999999u, 1000000000000000000u),
                                    q(999999999999999998u, 999999999999999999u)), 1);
}

Test(gw_dp, rational_add_is_exact_and_refuses_overflow)
{
    gw_dp_rational_t r;
    cr_assert_eq(gw_dp_rational_add(q(1, 2), q(1, 3), &r), HEARTH_OK);
    expect_rational(r, 5, 6);
    cr_assert_eq(gw_dp_rational_add(q(5, 6), q(1, 6), &r), HEARTH_OK);
    expect_rational(r, 1, 1);
    r = q(9, 9);
    cr_expect_eq(gw_dp_rational_add(q(1, 1000000007), q(1, 1000000009), &r), HEARTH_ERR_TOO_BIG);
    expect_rational(r, 9, 9);
    cr_expect_eq(gw_dp_rational_add(q(1, 0), q(1, 2), &r), HEARTH_ERR_USAGE);
}

Test(gw_dp, ten_spends_of_one_tenth_use_a_budget_of_one_exactly)
{
    gw_dp_rational_t remaining, tenth;
    cr_assert_eq(gw_dp_budget_parse("1", &remaining, NULL), HEARTH_OK);
    cr_assert_eq(gw_dp_epsilon_parse("0.1", &tenth, NULL), HEARTH_OK);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(gw_dp_budget_spend(&remaining, tenth), HEARTH_OK, "spend %d", i);
    expect_rational(remaining, 0, 1);
    cr_expect_eq(gw_dp_budget_spend(&remaining, tenth), HEARTH_ERR_REFUSED);
    expect_rational(remaining, 0, 1);
}

Test(gw_dp, many_mixed_spends_never_drift)
{
    gw_dp_rational_t remaining = q(1, 1);
    /* 1000 x 1/1000 = 1 exactly. */
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(gw_dp_budget_spend(&remaining, q(1, 1000)), HEARTH_OK);
    expect_rational(remaining, 0, 1);
    /* 1/3 + 1/7 + 1/2 + 1/42 = 1 exactly, in any order. */
    remaining = q(1, 1);
    const gw_dp_rational_t parts[] = {q(1, 3), q(1, 7), q(1, 2), q(1, 42)};
    for (size_t i = 0; i < N_OF(parts); i++)
        cr_assert_eq(gw_dp_budget_spend(&remaining, parts[i]), HEARTH_OK);
    expect_rational(remaining, 0, 1);
    /* 2 - 300 x 1/300 - 3 x 1/3 = 0. */
    remaining = q(2, 1);
    for (int i = 0; i < 300; i++)
        cr_assert_eq(gw_dp_budget_spend(&remaining, q(1, 300)), HEARTH_OK);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(gw_dp_budget_spend(&remaining, q(1, 3)), HEARTH_OK);
    expect_rational(remaining, 0, 1);
}

Test(gw_dp, spend_over_the_remaining_budget_is_refused_and_leaves_it_unchanged)
{
    gw_dp_rational_t remaining = q(1, 1);
    cr_assert_eq(gw_dp_budget_spend(&remaining, q(3, 4)), HEARTH_OK);
    expect_rational(remaining, 1, 4);
    cr_expect_eq(gw_dp_budget_spend(&remaining, q(1, 2)), HEARTH_ERR_REFUSED);
    expect_rational(remaining, 1, 4);
    /* Over by 1/(4 * 1000000) only. */
    cr_expect_eq(gw_dp_budget_spend(&remaining, q(250001, 1000000)), HEARTH_ERR_REFUSED);
    expect_rational(remaining, 1, 4);
    cr_expect_eq(gw_dp_budget_spend(&remaining, q(1, 4)), HEARTH_OK);
    expect_rational(remaining, 0, 1);
}

Test(gw_dp, spend_refuses_zero_and_unrepresentable_differences)
{
    gw_dp_rational_t remaining = q(1, 2);
    cr_expect_eq(gw_dp_budget_spend(&remaining, q(0, 1)), HEARTH_ERR_USAGE);
    cr_expect_eq(gw_dp_budget_spend(&remaining, q(1, 0)), HEARTH_ERR_USAGE);
    cr_expect_eq(gw_dp_budget_spend(NULL, q(1, 2)), HEARTH_ERR_USAGE);
    expect_rational(remaining, 1, 2);
    /* (2^40 - 1)/2^40 - 1/3^13 needs denominator 2^40 * 3^13 > 10^18. */
    uint64_t p2 = UINT64_C(1) << 40, p3 = 1594323;
    remaining = q(p2 - 1, p2);
    cr_expect_eq(gw_dp_budget_spend(&remaining, q(1, p3)), HEARTH_ERR_TOO_BIG);
    expect_rational(remaining, p2 - 1, p2);
}

Test(gw_dp, format_rounds_down_to_six_places_and_drops_trailing_zeros)
{
    static const struct { uint64_t num, den; const char *want; } table[] = {
        {1, 4, "0.25"},          {1, 1, "1"},             {1, 3, "0.333333"},
        {2, 3, "0.666666"},      {0, 1, "0"},             {1, 10000000, "0"},
        {7, 2, "3.5"},           {999999, 1000000, "0.999999"},
        {1999999, 2000000, "0.999999"},                   {100, 1, "100"},
        {1, 8, "0.125"},         {999999999999999999u, 1000000000000000000u, "0.999999"},
        {1000000000000000000u, 1, "1000000000000000000"},
    };
    for (size_t i = 0; i < N_OF(table); i++) {
        char buf[GW_DP_DECIMAL_SIZE];
        cr_expect_str_eq(gw_dp_rational_format(q(table[i].num, table[i].den), buf),
                         table[i].want);
    }
}

Test(gw_dp, exact_format_parses_back_to_the_same_budget)
{
    const gw_dp_rational_t table[] = {q(0, 1), q(1, 1), q(1, 3), q(100, 1),
                                      q(333333333333333333u, 1000000000000000000u)};
    static const char *want[] = {"0", "1", "1/3", "100", "333333333333333333/1000000000000000000"};
    for (size_t i = 0; i < N_OF(table); i++) {
        char buf[GW_DP_EXACT_SIZE];
        cr_expect_str_eq(gw_dp_rational_format_exact(table[i], buf), want[i]);
        gw_dp_rational_t back = {9, 9};
        cr_expect_eq(gw_dp_budget_parse(buf, &back, NULL), HEARTH_OK);
        expect_rational(back, table[i].num, table[i].den);
    }
}

/* ---- random source ---------------------------------------------------- */

Test(gw_dp, seeded_source_repeats_for_a_seed_and_differs_between_seeds)
{
    gw_dp_rng_t *a = gw_dp_rng_new_seeded(42), *b = gw_dp_rng_new_seeded(42);
    gw_dp_rng_t *c = gw_dp_rng_new_seeded(43);
    int same_ac = 0;
    for (int i = 0; i < 100; i++) {
        int64_t x, y, z;
        cr_assert_eq(gw_dp_noise(a, q(1, 2), &x, NULL), HEARTH_OK);
        cr_assert_eq(gw_dp_noise(b, q(1, 2), &y, NULL), HEARTH_OK);
        cr_assert_eq(gw_dp_noise(c, q(1, 2), &z, NULL), HEARTH_OK);
        cr_expect_eq(x, y);
        same_ac += x == z;
    }
    cr_expect_lt(same_ac, 50);
    gw_dp_rng_destroy(&a);
    gw_dp_rng_destroy(&b);
    gw_dp_rng_destroy(&c);
    cr_expect_null(a);
    gw_dp_rng_destroy(&a);
    gw_dp_rng_destroy(NULL);
}

Test(gw_dp, uniform_refuses_an_empty_range_and_stays_in_range)
{
    gw_dp_rng_t *rng = gw_dp_rng_new_seeded(1);
    uint64_t v = 5;
    char *cause = NULL;
    cr_expect_eq(gw_dp_rng_uniform(rng, 0, &v, &cause), HEARTH_ERR_USAGE);
    cr_expect_not_null(cause);
    free(cause);
    cr_expect_eq(v, 5);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(gw_dp_rng_uniform(rng, 1, &v, NULL), HEARTH_OK);
        cr_expect_eq(v, 0);
    }
    /* Just over 2^63: nearly half of all draws are rejected. */
    uint64_t n = (UINT64_C(1) << 63) + 1;
    int high = 0;
    for (int i = 0; i < 10000; i++) {
        cr_assert_eq(gw_dp_rng_uniform(rng, n, &v, NULL), HEARTH_OK);
        cr_assert_lt(v, n);
        high += v >= (UINT64_C(1) << 62);
    }
    /* Half the range is at or above 2^62: 5000 +- 5 x 50. */
    cr_expect(high > 4750 && high < 5250, "high %d", high);
    gw_dp_rng_destroy(&rng);
}

Test(gw_dp, uniform_of_three_is_unbiased)
{
    gw_dp_rng_t *rng = gw_dp_rng_new_seeded(3);
    const int draws = 300000;
    int hits[3] = {0, 0, 0};
    for (int i = 0; i < draws; i++) {
        uint64_t v;
        cr_assert_eq(gw_dp_rng_uniform(rng, 3, &v, NULL), HEARTH_OK);
        hits[v]++;
    }
    double sd = sqrt(draws * (1.0 / 3) * (2.0 / 3));
    for (int k = 0; k < 3; k++)
        cr_expect(fabs(hits[k] - draws / 3.0) < 5 * sd, "value %d: %d", k, hits[k]);
    gw_dp_rng_destroy(&rng);
}

Test(gw_dp, system_source_produces_varied_noise)
{
    gw_dp_rng_t *rng = gw_dp_rng_new();
    int neg = 0, pos = 0, zero = 0;
    for (int i = 0; i < 2000; i++) {
        int64_t x;
        char *cause = NULL;
        cr_assert_eq(gw_dp_noise(rng, q(1, 2), &x, &cause), HEARTH_OK, "%s", cause);
        neg += x < 0;
        pos += x > 0;
        zero += x == 0;
    }
    /* P(0) = 0.245, P(<0) = P(>0) = 0.378 at epsilon 1/2. */
    cr_expect_gt(neg, 500);
    cr_expect_gt(pos, 500);
    cr_expect_gt(zero, 300);
    uint64_t a, b;
    cr_assert_eq(gw_dp_rng_uniform(rng, UINT64_MAX, &a, NULL), HEARTH_OK);
    cr_assert_eq(gw_dp_rng_uniform(rng, UINT64_MAX, &b, NULL), HEARTH_OK);
    cr_expect_neq(a, b);
    gw_dp_rng_destroy(&rng);
}

/* ---- Bernoulli(exp(-gamma)) ------------------------------------------- */

Test(gw_dp, bernoulli_exp_of_zero_is_always_one)
{
    gw_dp_rng_t *rng = gw_dp_rng_new_seeded(7);
    for (int i = 0; i < 10000; i++) {
        bool b = false;
        cr_assert_eq(gw_dp_bernoulli_exp(rng, q(0, 1), &b, NULL), HEARTH_OK);
        cr_assert(b);
    }
    gw_dp_rng_destroy(&rng);
}

Test(gw_dp, bernoulli_exp_frequencies_match_exp_minus_gamma)
{
    static const struct { uint64_t num, den; } gammas[] = {
        {1, 2}, {1, 1}, {3, 2}, {7, 3}, {1, 1000000}, {999999, 1000000}, {5, 1}, {1, 10},
    };
    const int draws = 200000;
    gw_dp_rng_t *rng = gw_dp_rng_new_seeded(20200101);
    for (size_t g = 0; g < N_OF(gammas); g++) {
        int ones = 0;
        for (int i = 0; i < draws; i++) {
            bool b;
            cr_assert_eq(gw_dp_bernoulli_exp(rng, q(gammas[g].num, gammas[g].den), &b, NULL),
                         HEARTH_OK);
            ones += b;
        }
        double p = exp(-(double)gammas[g].num / (double)gammas[g].den);
        double sd = sqrt(draws * p * (1 - p));
        cr_expect(fabs(ones - draws * p) < 5 * sd, "gamma %llu/%llu: %d ones, want %.1f +- %.1f",
                  (unsigned long long)gammas[g].num, (unsigned long long)gammas[g].den, ones,
                  draws * p, 5 * sd);
    }
    gw_dp_rng_destroy(&rng);
}

Test(gw_dp, bernoulli_exp_refuses_an_out_of_range_gamma)
{
    gw_dp_rng_t *rng = gw_dp_rng_new_seeded(7);
    bool b;
    cr_expect_eq(gw_dp_bernoulli_exp(rng, q(1, 0), &b, NULL), HEARTH_ERR_USAGE);
    cr_expect_eq(gw_dp_bernoulli_exp(rng, q(1, 1000001), &b, NULL), HEARTH_ERR_USAGE);
    cr_expect_eq(gw_dp_bernoulli_exp(rng, q(1000001, 1), &b, NULL), HEARTH_ERR_USAGE);
    gw_dp_rng_destroy(&rng);
}

/* ---- discrete Laplace ------------------------------------------------- */

static double pmf(double a, long x)
{
    return (1 - a) / (1 + a) * pow(a, (double)labs(x));
}

/* Chi-squared statistic of samples against the discrete Laplace pmf with
 * a = exp(-eps): bins -L..L where each expects at least 10, plus the two
 * tails P(X > L) = P(X < -L) = a^(L+1)/(1+a). Sets *df. */
static double chi_squared(const int64_t *xs, int n, double a, int *df)
{
    long L = 0;
    while (n * pmf(a, L + 1) >= 10 && n * pow(a, (double)L + 2) / (1 + a) >= 10)
        L++;
    size_t bins = (size_t)(2 * L + 3);
    long *obs = calloc(bins, sizeof *obs);
    for (int i = 0; i < n; i++) {
        long x = (long)xs[i];
        size_t b = x < -L ? 0 : x > L ? bins - 1 : (size_t)(x + L + 1);
        obs[b]++;
    }
    double chi = 0;
    for (size_t b = 0; b < bins; b++) {
        double p = b == 0 || b == bins - 1 ? pow(a, (double)L + 1) / (1 + a)
                                           : pmf(a, (long)b - L - 1);
        double e = n * p;
        chi += (obs[b] - e) * (obs[b] - e) / e;
    }
    free(obs);
    *df = (int)bins - 1;
    return chi;
}

/* Upper 0.1% point of chi-squared with df degrees of freedom
 * (Wilson-Hilferty; accurate to about 1% for df >= 10). */
static double chi_squared_critical(int df)
{
    double k = df, z = 3.090;
    double c = 1 - 2 / (9 * k) + z * sqrt(2 / (9 * k));
    return k * c * c * c;
}

static int64_t *laplace_draws(uint64_t seed, gw_dp_rational_t eps, int n)
{
    int64_t *xs = calloc((size_t)n, sizeof *xs);
    gw_dp_rng_t *rng = gw_dp_rng_new_seeded(seed);
    for (int i = 0; i < n; i++)
        cr_assert_eq(gw_dp_noise(rng, eps, &xs[i], NULL), HEARTH_OK);
    gw_dp_rng_destroy(&rng);
    return xs;
}

static void expect_discrete_laplace(uint64_t seed, gw_dp_rational_t eps)
{
    const int n = 100000;
    int64_t *xs = laplace_draws(seed, eps, n);
    double a = exp(-(double)eps.num / (double)eps.den);

    int df;
    double chi = chi_squared(xs, n, a, &df);
    cr_expect_lt(chi, chi_squared_critical(df), "epsilon %llu/%llu: chi2 %.1f on %d df",
                 (unsigned long long)eps.num, (unsigned long long)eps.den, chi, df);

    /* Moments: mean 0, variance 2a/(1-a)^2, fourth moment summed from the
     * pmf for the standard error of the sample variance. */
    double sum = 0, sumsq = 0;
    long neg = 0, pos = 0;
    for (int i = 0; i < n; i++) {
        sum += (double)xs[i];
        sumsq += (double)xs[i] * (double)xs[i];
        neg += xs[i] < 0;
        pos += xs[i] > 0;
    }
    double var = 2 * a / ((1 - a) * (1 - a));
    double m4 = 0;
    for (long x = -5000; x <= 5000; x++)
        m4 += pow((double)x, 4) * pmf(a, x);
    double mean = sum / n, svar = sumsq / n - mean * mean;
    cr_expect_lt(fabs(mean), 5 * sqrt(var / n), "mean %.4f", mean);
    cr_expect_lt(fabs(svar - var), 5 * sqrt((m4 - var * var) / n), "variance %.4f, want %.4f",
                 svar, var);
    /* Symmetry: P(X < 0) = P(X > 0) = a/(1+a). */
    double p = a / (1 + a);
    cr_expect_lt(labs(neg - pos), 5 * sqrt(2.0 * n * p), "%ld negative, %ld positive", neg, pos);
    free(xs);
}

Test(gw_dp, discrete_laplace_matches_its_pmf_at_epsilon_one_half)
{
    expect_discrete_laplace(1234, q(1, 2));
}

Test(gw_dp, discrete_laplace_matches_its_pmf_at_epsilon_one)
{
    expect_discrete_laplace(5678, q(1, 1));
}

Test(gw_dp, discrete_laplace_matches_its_pmf_at_epsilon_three_halves)
{
    expect_discrete_laplace(91011, q(3, 2));
}

Test(gw_dp, chi_squared_check_rejects_the_wrong_epsilon)
{
    /* The test has teeth: epsilon 1 draws are far from the epsilon 1/2 pmf. */
    const int n = 100000;
    int64_t *xs = laplace_draws(5678, q(1, 1), n);
    int df;
    double chi = chi_squared(xs, n, exp(-0.5), &df);
    cr_expect_gt(chi, 10 * chi_squared_critical(df), "chi2 %.1f on %d df", chi, df);
    free(xs);
}

Test(gw_dp, noise_refuses_an_epsilon_out_of_range)
{
    gw_dp_rng_t *rng = gw_dp_rng_new_seeded(9);
    const gw_dp_rational_t bad[] = {q(0, 1), q(1, 0), q(11, 1), q(21, 2), q(1, 1000001),
                                    q(1000001, 1000000)};
    for (size_t i = 0; i < N_OF(bad); i++) {
        int64_t x = 77;
        char *cause = NULL;
        cr_expect_eq(gw_dp_noise(rng, bad[i], &x, &cause), HEARTH_ERR_USAGE, "case %zu", i);
        cr_expect_eq(x, 77);
        cr_expect_not_null(cause);
        free(cause);
    }
    int64_t x;
    cr_expect_eq(gw_dp_noise(NULL, q(1, 1), &x, NULL), HEARTH_ERR_USAGE);
    /* The extremes are accepted. */
    cr_expect_eq(gw_dp_noise(rng, q(10, 1), &x, NULL), HEARTH_OK);
    cr_expect_eq(gw_dp_noise(rng, q(1, 1000000), &x, NULL), HEARTH_OK);
    gw_dp_rng_destroy(&rng);
}

Test(gw_dp, noisy_count_of_zero_is_clamped_at_zero_half_the_time_and_more)
{
    gw_dp_rng_t *rng = gw_dp_rng_new_seeded(11);
    const int draws = 100000;
    int zeros = 0;
    for (int i = 0; i < draws; i++) {
        uint64_t c;
        cr_assert_eq(gw_dp_noisy_count(rng, q(1, 1), 0, &c, NULL), HEARTH_OK);
        zeros += c == 0;
    }
    /* P(0 + X <= 0) = 1/(1+a). */
    double p = 1 / (1 + exp(-1.0));
    cr_expect_lt(fabs(zeros - draws * p), 5 * sqrt(draws * p * (1 - p)), "%d zeros", zeros);
    gw_dp_rng_destroy(&rng);
}

Test(gw_dp, noisy_count_stays_close_at_large_epsilon_and_refuses_huge_counts)
{
    gw_dp_rng_t *rng = gw_dp_rng_new_seeded(12);
    int exact = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t c;
        cr_assert_eq(gw_dp_noisy_count(rng, q(10, 1), 1000, &c, NULL), HEARTH_OK);
        cr_expect(c >= 998 && c <= 1002, "%llu", (unsigned long long)c);
        exact += c == 1000;
    }
    /* P(X = 0) = (1 - e^-10)/(1 + e^-10) = 0.99991. */
    cr_expect_gt(exact, 995);
    uint64_t c = 5;
    char *cause = NULL;
    cr_expect_eq(gw_dp_noisy_count(rng, q(1, 1), (uint64_t)INT64_MAX + 1, &c, &cause),
                 HEARTH_ERR_TOO_BIG);
    cr_expect_eq(c, 5);
    free(cause);
    gw_dp_rng_destroy(&rng);
}
