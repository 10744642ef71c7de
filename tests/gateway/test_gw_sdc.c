#include "gw_sdc.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define OPEN UINT64_MAX /* an interval with no upper bound */

/* Notation in the worked examples: a cell is written count -> released, with
 * P for a primary (small) cell, S for a partner hidden to protect it; [lo, hi]
 * is the interval the analyst can derive (gw_sdc_attacker_interval). The
 * default policy is threshold 7, rounding 5, zeros released, protection 3: a
 * hidden small cell's interval must hold at least 3 of the values 1..7. */

/* Builds cells from true counts; out fields are filled with junk so the
 * tests also show that the apply functions overwrite them. */
static void cells_set(gw_sdc_cell_t *cells, const uint64_t *counts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cells[i] = (gw_sdc_cell_t){.count = counts[i], .suppressed = true, .secondary = true,
                                   .released = 999};
}

static gw_sdc_policy_t policy_with(uint32_t rounding)
{
    gw_sdc_policy_t p;
    gw_sdc_policy_default(&p);
    p.rounding = rounding;
    return p;
}

static size_t apply_default(gw_sdc_cell_t *cells, size_t n, gw_sdc_cell_t *total)
{
    gw_sdc_policy_t policy;
    gw_sdc_policy_default(&policy);
    return gw_sdc_apply(&policy, cells, n, total);
}

static void expect_released(const gw_sdc_cell_t *cell, uint64_t released)
{
    cr_expect_not(cell->suppressed, "count %llu suppressed", (unsigned long long)cell->count);
    cr_expect_not(cell->secondary);
    cr_expect_eq(cell->released, released, "count %llu released as %llu, want %llu",
                 (unsigned long long)cell->count, (unsigned long long)cell->released,
                 (unsigned long long)released);
}

static void expect_primary(const gw_sdc_cell_t *cell)
{
    cr_expect(cell->suppressed, "count %llu released", (unsigned long long)cell->count);
    cr_expect_not(cell->secondary, "count %llu is a secondary", (unsigned long long)cell->count);
    cr_expect_eq(cell->released, 0);
}

static void expect_secondary(const gw_sdc_cell_t *cell)
{
    cr_expect(cell->suppressed, "count %llu released", (unsigned long long)cell->count);
    cr_expect(cell->secondary, "count %llu is not a secondary", (unsigned long long)cell->count);
    cr_expect_eq(cell->released, 0);
}

/* A whole table's pattern in one string, a letter per cell in grid order:
 * P primary, S secondary, or R released (as gw_sdc_round of its count). */
static void expect_pattern(const gw_sdc_policy_t *p, const gw_sdc_table_t *t, const char *pattern)
{
    size_t n = strlen(pattern);
    for (size_t i = 0; i < n; i++) {
        const gw_sdc_cell_t *c = &t->cells[i];
        char got = !c->suppressed ? 'R' : c->secondary ? 'S' : 'P';
        cr_expect_eq(got, pattern[i], "cell %zu (count %llu) is %c, want %c", i,
                     (unsigned long long)c->count, got, pattern[i]);
        if (pattern[i] == 'R')
            cr_expect_eq(c->released, gw_sdc_round(c->count, p->rounding));
        else
            cr_expect_eq(c->released, 0);
    }
}

static void expect_interval(const gw_sdc_policy_t *p, const gw_sdc_table_t *t, size_t i,
                            uint64_t lo, uint64_t hi)
{
    uint64_t a = 0, b = 0;
    gw_sdc_attacker_interval(p, t, i, &a, &b);
    cr_expect(a == lo && b == hi, "cell %zu: interval [%llu, %llu], want [%llu, %llu]", i,
              (unsigned long long)a, (unsigned long long)b, (unsigned long long)lo,
              (unsigned long long)hi);
}

/* A table over cells (n of them, set from counts) whose total is their sum. */
static gw_sdc_table_t table_of(size_t ndims, size_t s0, size_t s1, size_t s2, gw_sdc_cell_t *cells,
                               const uint64_t *counts)
{
    gw_sdc_table_t t = {.ndims = ndims, .size = {s0, s1, s2}, .cells = cells};
    size_t n = 1;
    for (size_t k = 0; k < ndims; k++)
        n *= t.size[k];
    cells_set(cells, counts, n);
    for (size_t i = 0; i < n; i++)
        t.total.count += counts[i];
    t.unprotected = 99;
    return t;
}

/* ---- policy and rounding ------------------------------------------------- */

Test(gw_sdc, default_policy_is_seven_five_zeros_released_protection_three)
{
    gw_sdc_policy_t p = {0, 0, true, 0};
    gw_sdc_policy_default(&p);
    cr_assert_eq(p.threshold, 7);
    cr_assert_eq(p.rounding, 5);
    cr_assert_eq(p.zeros_disclosive, false);
    cr_assert_eq(p.protection, 3);
}

Test(gw_sdc, rounds_to_nearest_multiple)
{
    static const struct {
        uint64_t in, out;
    } table[] = {
        {0, 0},   {1, 0},   {2, 0},   {3, 5},     {5, 5},     {7, 5},     {8, 10},    {10, 10},
        {12, 10}, {13, 15}, {17, 15}, {18, 20},   {1003, 1005}, {1002, 1000}, {1405, 1405},
    };
    for (size_t i = 0; i < N_OF(table); i++)
        cr_expect_eq(gw_sdc_round(table[i].in, 5), table[i].out, "round(%llu) = %llu",
                     (unsigned long long)table[i].in,
                     (unsigned long long)gw_sdc_round(table[i].in, 5));
}

Test(gw_sdc, rounds_halves_upwards_with_even_base)
{
    cr_expect_eq(gw_sdc_round(5, 10), 10);
    cr_expect_eq(gw_sdc_round(4, 10), 0);
    cr_expect_eq(gw_sdc_round(15, 10), 20);
    cr_expect_eq(gw_sdc_round(25, 10), 30);
    cr_expect_eq(gw_sdc_round(1, 2), 2);
}

Test(gw_sdc, base_zero_or_one_leaves_count_alone)
{
    cr_expect_eq(gw_sdc_round(13, 0), 13);
    cr_expect_eq(gw_sdc_round(13, 1), 13);
    cr_expect_eq(gw_sdc_round(UINT64_MAX, 0), UINT64_MAX);
}

Test(gw_sdc, rounding_never_wraps_past_uint64_max)
{
    /* UINT64_MAX = ...615, a remainder of 0 mod 5; one less rounds back up. */
    cr_expect_eq(gw_sdc_round(UINT64_MAX, 5), UINT64_MAX);
    cr_expect_eq(gw_sdc_round(UINT64_MAX - 1, 5), UINT64_MAX);
    /* UINT64_MAX mod 10 is 5: rounding up would wrap, so it rounds down. */
    cr_expect_eq(gw_sdc_round(UINT64_MAX, 10), UINT64_MAX - 5);
}

/* ---- one group column ----------------------------------------------------- */

Test(gw_sdc, suppresses_one_to_seven_and_releases_eight)
{
    for (uint64_t c = 1; c <= 7; c++) {
        gw_sdc_cell_t cell = {.count = c};
        gw_sdc_cell_t total = {.count = c};
        /* A one-cell table is its total: both small, both primary. */
        cr_expect_eq(apply_default(&cell, 1, &total), 2);
        expect_primary(&cell);
        expect_primary(&total);
    }
    gw_sdc_cell_t cell = {.count = 8};
    gw_sdc_cell_t total = {.count = 8};
    cr_expect_eq(apply_default(&cell, 1, &total), 0);
    expect_released(&cell, 10);
    expect_released(&total, 10);
}

Test(gw_sdc, releases_zero_as_zero)
{
    uint64_t counts[] = {0, 40, 0};
    gw_sdc_cell_t cells[3];
    cells_set(cells, counts, 3);
    gw_sdc_cell_t total = {.count = 40};
    cr_expect_eq(apply_default(cells, 3, &total), 0);
    expect_released(&cells[0], 0);
    expect_released(&cells[1], 40);
    expect_released(&cells[2], 0);
    expect_released(&total, 40);
}

Test(gw_sdc, total_follows_the_same_rules)
{
    gw_sdc_cell_t total = {.count = 6, .released = 999};
    cr_expect_eq(apply_default(NULL, 0, &total), 1);
    expect_primary(&total);

    total = (gw_sdc_cell_t){.count = 0};
    cr_expect_eq(apply_default(NULL, 0, &total), 0);
    expect_released(&total, 0);

    total = (gw_sdc_cell_t){.count = 1403};
    cr_expect_eq(apply_default(NULL, 0, &total), 0);
    expect_released(&total, 1405);
}

/* Worked example (no rounding): 120, 3 P, 45, 30, 90; total 288.
 * Alone, 3 = 288 - 120 - 45 - 30 - 90 exactly. The smallest other non-zero
 * cell, 30, is hidden too: then 3 + 30 = 33 and each is in [1, 32]. */
Test(gw_sdc, lone_small_cell_beside_total_takes_the_smallest_partner)
{
    gw_sdc_policy_t p = policy_with(1);
    uint64_t counts[] = {120, 3, 45, 30, 90};
    gw_sdc_cell_t cells[5];
    cells_set(cells, counts, 5);
    gw_sdc_cell_t total = {.count = 288};
    cr_expect_eq(gw_sdc_apply(&p, cells, 5, &total), 2);
    expect_released(&cells[0], 120);
    expect_primary(&cells[1]);
    expect_released(&cells[2], 45);
    expect_secondary(&cells[3]);
    expect_released(&cells[4], 90);
    expect_released(&total, 288);
    gw_sdc_table_t t = {.ndims = 1, .size = {5}, .cells = cells, .total = total};
    expect_interval(&p, &t, 1, 1, 32);
    expect_interval(&p, &t, 3, 1, 32);
}

/* Worked example (rounding to 5): 6 P, 102 -> 100; total 108 -> 110.
 * Released, 102 is in [98, 102] and the total in [108, 112], so the hidden
 * cell is in [108 - 102, 112 - 98] = [6, 14]: only 6 and 7 of 1..7, fewer
 * than 3. Hiding 102 as well leaves each in [1, 111]. */
Test(gw_sdc, lone_small_cell_takes_a_partner_when_rounding_leaves_too_little)
{
    gw_sdc_policy_t p = policy_with(5);
    uint64_t counts[] = {6, 102};
    gw_sdc_cell_t cells[2];
    gw_sdc_table_t t = table_of(1, 2, 0, 0, cells, counts);

    /* The lone cell first: the check sees [6, 14]. */
    cells[0].suppressed = true;
    cells[0].secondary = false;
    cells[1].suppressed = false;
    cells[1].secondary = false;
    t.total.suppressed = false;
    expect_interval(&p, &t, 0, 6, 14);

    cr_expect_eq(gw_sdc_apply_table(&p, &t), 2);
    expect_pattern(&p, &t, "PS");
    expect_released(&t.total, 110);
    cr_expect_eq(t.unprotected, 0);
    expect_interval(&p, &t, 0, 1, 111);
    expect_interval(&p, &t, 1, 1, 111);
}

/* Worked example (rounding to 5): 62 -> 60, 12 -> 10, 9 -> 10, 3 P;
 * total 86 -> 85. Released: 62 in [58, 62], 12 and 9 in [8, 12], the total in
 * [83, 87]. So 3 is in [83 - 86, 87 - 74] = [1, 13]: all of 1..7. The old
 * rule hid 9 as well; the check releases it. */
Test(gw_sdc, rounding_alone_can_protect_a_lone_small_cell)
{
    gw_sdc_policy_t p = policy_with(5);
    uint64_t counts[] = {62, 12, 9, 3};
    gw_sdc_cell_t cells[4];
    gw_sdc_table_t t = table_of(1, 4, 0, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 1);
    expect_pattern(&p, &t, "RRRP");
    expect_released(&t.total, 85);
    expect_interval(&p, &t, 3, 1, 13);
    expect_interval(&p, &t, 0, 58, 62);
}

/* Worked example (no rounding): 3 P, 5 P, 2 P; total 10. Each is in
 * [1, 10 - 1 - 1] = [1, 8]: they protect one another. */
Test(gw_sdc, all_small_cells_protect_one_another)
{
    gw_sdc_policy_t p = policy_with(1);
    uint64_t counts[] = {3, 5, 2};
    gw_sdc_cell_t cells[3];
    gw_sdc_table_t t = table_of(1, 3, 0, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 3);
    expect_pattern(&p, &t, "PPP");
    expect_released(&t.total, 10);
    for (size_t i = 0; i < 3; i++)
        expect_interval(&p, &t, i, 1, 8);
}

Test(gw_sdc, secondary_tie_goes_to_lowest_index)
{
    gw_sdc_policy_t p = policy_with(1);
    uint64_t counts[] = {60, 12, 5, 12, 9, 9};
    gw_sdc_cell_t cells[6];
    gw_sdc_table_t t = table_of(1, 6, 0, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 2);
    expect_pattern(&p, &t, "RRPRSR");
    expect_released(&t.total, 107);
}

/* Zeros are released exactly and hiding one protects nothing, so the partner
 * is the smallest non-zero cell: 0, 50, 2 P, 0, 20 S; total 72. */
Test(gw_sdc, secondary_skips_zero_cells)
{
    gw_sdc_policy_t p = policy_with(1);
    uint64_t counts[] = {0, 50, 2, 0, 20};
    gw_sdc_cell_t cells[5];
    gw_sdc_table_t t = table_of(1, 5, 0, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 2);
    expect_pattern(&p, &t, "RRPRS");
    expect_released(&t.total, 72);
    expect_interval(&p, &t, 2, 1, 21);
    expect_interval(&p, &t, 0, 0, 0);
}

Test(gw_sdc, two_small_cells_need_no_secondary)
{
    uint64_t counts[] = {4, 100, 6, 20};
    gw_sdc_cell_t cells[4];
    cells_set(cells, counts, 4);
    gw_sdc_cell_t total = {.count = 130};
    cr_expect_eq(apply_default(cells, 4, &total), 2);
    expect_primary(&cells[0]);
    expect_released(&cells[1], 100);
    expect_primary(&cells[2]);
    expect_released(&cells[3], 20);
    expect_released(&total, 130);
}

/* 0, 5 P, 0; total 5 P. The analyst holds a hidden total, known to be in
 * 1..7, and the cell is that total: [1, 7]. Nothing more to hide. */
Test(gw_sdc, lone_small_cell_beside_small_total_needs_no_secondary)
{
    uint64_t counts[] = {0, 5, 0};
    gw_sdc_cell_t cells[3];
    cells_set(cells, counts, 3);
    gw_sdc_cell_t total = {.count = 5};
    cr_expect_eq(apply_default(cells, 3, &total), 2);
    expect_released(&cells[0], 0);
    expect_primary(&cells[1]);
    expect_released(&cells[2], 0);
    expect_primary(&total);
    gw_sdc_policy_t p;
    gw_sdc_policy_default(&p);
    gw_sdc_table_t t = {.ndims = 1, .size = {3}, .cells = cells, .total = total};
    expect_interval(&p, &t, 1, 1, 7);
}

Test(gw_sdc, single_cell_table)
{
    gw_sdc_cell_t cell = {.count = 50};
    gw_sdc_cell_t total = {.count = 50};
    cr_expect_eq(apply_default(&cell, 1, &total), 0);
    expect_released(&cell, 50);
    expect_released(&total, 50);

    /* A total larger than its one cell (people in no group) is released on
     * its own count: it says nothing about the cell beyond "at most". */
    cell = (gw_sdc_cell_t){.count = 4};
    total = (gw_sdc_cell_t){.count = 11};
    cr_expect_eq(apply_default(&cell, 1, &total), 1);
    expect_primary(&cell);
    expect_released(&total, 10);
}

/* A policy written with designated initialisers before protection existed
 * gets the default protection (0 means 3), not none. Threshold 10, no
 * rounding: 10 P, 11 S (the smallest partner), 24, 25, 300; total 370. */
Test(gw_sdc, zero_protection_means_the_default)
{
    gw_sdc_policy_t policy = {.threshold = 10, .rounding = 1};
    uint64_t counts[] = {10, 11, 24, 25, 300};
    gw_sdc_cell_t cells[5];
    cells_set(cells, counts, 5);
    gw_sdc_cell_t total = {.count = 370};
    cr_expect_eq(gw_sdc_apply(&policy, cells, 5, &total), 2);
    expect_primary(&cells[0]);
    expect_secondary(&cells[1]);
    expect_released(&cells[2], 24);
    expect_released(&cells[3], 25);
    expect_released(&cells[4], 300);
    expect_released(&total, 370);
}

/* Threshold 10, rounding 10: 10 P, 11 -> 10, 24 -> 20, 25 -> 30, 300;
 * total 370. The released counts are in [11, 14], [15, 24], [25, 34] and
 * [295, 304], the total in [365, 374]: 10 is in [1, 28]. No partner. */
Test(gw_sdc, honours_non_default_policy)
{
    gw_sdc_policy_t policy = {.threshold = 10, .rounding = 10};
    uint64_t counts[] = {10, 11, 24, 25, 300};
    gw_sdc_cell_t cells[5];
    gw_sdc_table_t t = table_of(1, 5, 0, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&policy, &t), 1);
    expect_pattern(&policy, &t, "PRRRR");
    expect_released(&cells[1], 10);
    expect_released(&t.total, 370);
    expect_interval(&policy, &t, 0, 1, 28);
    expect_interval(&policy, &t, 1, 11, 14);
}

Test(gw_sdc, policy_without_rounding_releases_exact_counts)
{
    gw_sdc_policy_t policy = {.threshold = 2, .rounding = 1};
    uint64_t counts[] = {3, 8, 13};
    gw_sdc_cell_t cells[3];
    cells_set(cells, counts, 3);
    gw_sdc_cell_t total = {.count = 24};
    cr_expect_eq(gw_sdc_apply(&policy, cells, 3, &total), 0);
    expect_released(&cells[0], 3);
    expect_released(&cells[1], 8);
    expect_released(&cells[2], 13);
    expect_released(&total, 24);
}

Test(gw_sdc, returns_number_suppressed_including_total)
{
    uint64_t counts[] = {1, 2, 3, 0};
    gw_sdc_cell_t cells[4];
    cells_set(cells, counts, 4);
    gw_sdc_cell_t total = {.count = 6};
    /* Three primary cells plus a small total; no secondary needed. */
    cr_expect_eq(apply_default(cells, 4, &total), 4);
    expect_primary(&cells[0]);
    expect_primary(&cells[1]);
    expect_primary(&cells[2]);
    expect_released(&cells[3], 0);
    expect_primary(&total);

    gw_sdc_cell_t none = {.count = 0};
    cr_expect_eq(apply_default(NULL, 0, &none), 0);
}

/* ---- protection and zeros --------------------------------------------------- */

/* 6 P, 102; total 108 (rounding 5): the lone cell's [6, 14] holds two values
 * of 1..7. Protection 1 or 2 accepts that; 3 asks for a partner. Note what
 * protection 1 means: the interval need only meet 1..threshold, which a small
 * cell's own value always does, so a cell known exactly passes. */
Test(gw_sdc, protection_one_accepts_what_three_refuses)
{
    uint64_t counts[] = {6, 102};
    gw_sdc_cell_t cells[2];
    for (uint32_t prot = 1; prot <= 3; prot++) {
        gw_sdc_policy_t p = policy_with(5);
        p.protection = prot;
        gw_sdc_table_t t = table_of(1, 2, 0, 0, cells, counts);
        cr_expect_eq(gw_sdc_apply_table(&p, &t), prot < 3 ? 1 : 2, "protection %u", prot);
        expect_pattern(&p, &t, prot < 3 ? "PR" : "PS");
    }

    /* Two group columns, no rounding: 4 P and 6 P share column 0; with
     * protection 1 each is released to the analyst exactly. */
    gw_sdc_policy_t p = policy_with(1);
    p.protection = 1;
    uint64_t grid[] = {4, 9, 30, 6, 11, 40, 25, 35, 50};
    gw_sdc_cell_t g[9];
    gw_sdc_table_t t = table_of(2, 3, 3, 0, g, grid);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 2);
    expect_pattern(&p, &t, "PRRPRRRRR");
    expect_interval(&p, &t, 0, 4, 4);
    expect_interval(&p, &t, 3, 6, 6);
}

Test(gw_sdc, protection_is_capped_at_the_threshold)
{
    /* Threshold 2, protection 3 (capped to 2): 2 P, 40 S; total 42. */
    gw_sdc_policy_t p = {.threshold = 2, .rounding = 1, .protection = 3};
    uint64_t counts[] = {2, 40};
    gw_sdc_cell_t cells[2];
    gw_sdc_table_t t = table_of(1, 2, 0, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 2);
    expect_pattern(&p, &t, "PS");
    expect_interval(&p, &t, 0, 1, 41);
}

/* Zeros disclosive, no rounding: 0 P, 20 S, 30; total 50. Alone, the hidden
 * zero is 50 - 20 - 30 = 0: none of 1..7. With 20 hidden too (hidden cells
 * may now be 0), each is in [0, 20]. */
Test(gw_sdc, disclosive_zeros_are_hidden_and_protected)
{
    gw_sdc_policy_t p = policy_with(1);
    p.zeros_disclosive = true;
    uint64_t counts[] = {0, 20, 30};
    gw_sdc_cell_t cells[3];
    gw_sdc_table_t t = table_of(1, 3, 0, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 2);
    expect_pattern(&p, &t, "PSR");
    expect_interval(&p, &t, 0, 0, 20);
    expect_interval(&p, &t, 1, 0, 20);

    /* A zero total is hidden too. */
    gw_sdc_cell_t none = {.count = 0};
    cr_expect_eq(gw_sdc_apply(&p, NULL, 0, &none), 1);
    expect_primary(&none);
}

/* Two columns, zeros disclosive, no rounding:
 *      0 P  20 S  30        row totals  50
 *     25 S   0 P  40                    65
 * The hypercube through (0,0) is the rectangle with (0,1) and (1,0); (1,1)
 * is hidden already. */
Test(gw_sdc, disclosive_zeros_in_two_columns)
{
    gw_sdc_policy_t p = policy_with(1);
    p.zeros_disclosive = true;
    uint64_t counts[] = {0, 20, 30, 25, 0, 40};
    gw_sdc_cell_t cells[6];
    gw_sdc_table_t t = table_of(2, 2, 3, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 4);
    expect_pattern(&p, &t, "PSRSPR");
    expect_interval(&p, &t, 0, 0, 20);
    expect_interval(&p, &t, 4, 0, 20);
    expect_interval(&p, &t, 3, 5, 25);
}

/* ---- two group columns ----------------------------------------------------- */

/* Worked example (no rounding): the old rule, blind to margins, hid 20 as the
 * partner of 3 — the smallest other cell of the flattened table:
 *
 *      3 P  40   50    | 93          row 0's total is released by its own
 *     30    20 S 60    | 110         query, so 3 = 93 - 40 - 50 exactly.
 *
 * The check hides the cheapest rectangle through 3 instead:
 *
 *      3 P  40 S 50    | 93          3 in [1, 32], 40 in [11, 42],
 *     30 S  20 S 60    | 110         30 in [1, 32], 20 in [18, 49].  */
Test(gw_sdc, a_row_total_exposes_the_old_partner_and_the_check_hides_a_rectangle)
{
    gw_sdc_policy_t p = policy_with(1);
    uint64_t counts[] = {3, 40, 50, 30, 20, 60};
    gw_sdc_cell_t cells[6];
    gw_sdc_table_t t = table_of(2, 2, 3, 0, cells, counts);

    /* The old pattern: 3 and 20 hidden, all else released. */
    for (size_t i = 0; i < 6; i++)
        cells[i].suppressed = cells[i].secondary = false;
    cells[0].suppressed = true;
    cells[4].suppressed = cells[4].secondary = true;
    t.total.suppressed = false;
    expect_interval(&p, &t, 0, 3, 3);
    expect_interval(&p, &t, 4, 20, 20);

    cr_expect_eq(gw_sdc_apply_table(&p, &t), 4);
    expect_pattern(&p, &t, "PSRSSR");
    expect_released(&t.total, 203);
    cr_expect_eq(t.unprotected, 0);
    expect_interval(&p, &t, 0, 1, 32);
    expect_interval(&p, &t, 1, 11, 42);
    expect_interval(&p, &t, 3, 1, 32);
    expect_interval(&p, &t, 4, 18, 49);
    expect_interval(&p, &t, 2, 50, 50);
}

/* The same table rounded to 5: row 0 is 93 -> 95, in [93, 97], and 40, 50
 * are in [38, 42] and [48, 52], so row 0 alone puts 3 in [93 - 94, 97 - 86] =
 * [1, 11]; column 0 (33 -> 35, in [33, 37], less 30's [28, 32]) narrows that to
 * [1, 9]. Seven values of 1..7 from the rounding alone: no partner. */
Test(gw_sdc, rounding_protects_a_small_cell_beside_its_row_total)
{
    gw_sdc_policy_t p = policy_with(5);
    uint64_t counts[] = {3, 40, 50, 30, 20, 60};
    gw_sdc_cell_t cells[6];
    gw_sdc_table_t t = table_of(2, 2, 3, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 1);
    expect_pattern(&p, &t, "PRRRRR");
    expect_released(&t.total, 205);
    expect_interval(&p, &t, 0, 1, 9);
}

/* No rounding: 4 P and 6 P share column 0.
 *      4 P   9 S  30
 *      6 P  11 S  40
 *     25    35    50
 * One rectangle protects both: each small cell is in [1, 9]. */
Test(gw_sdc, two_small_cells_in_a_column_share_one_rectangle)
{
    gw_sdc_policy_t p = policy_with(1);
    uint64_t counts[] = {4, 9, 30, 6, 11, 40, 25, 35, 50};
    gw_sdc_cell_t cells[9];
    gw_sdc_table_t t = table_of(2, 3, 3, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 4);
    expect_pattern(&p, &t, "PSRPSRRRR");
    expect_interval(&p, &t, 0, 1, 9);
    expect_interval(&p, &t, 3, 1, 9);
    expect_interval(&p, &t, 1, 4, 12);
}

/* No rounding:  3 P  0 / 0  50. No rectangle has non-zero corners and 50
 * does not help (row 1's own total pins it), so the grand total goes: 3 is
 * then its row's hidden total, in [1, 7]. The partner tried on the way, 50,
 * is released again by the minimality pass. */
Test(gw_sdc, the_grand_total_is_the_last_resort)
{
    gw_sdc_policy_t p = policy_with(1);
    uint64_t counts[] = {3, 0, 0, 50};
    gw_sdc_cell_t cells[4];
    gw_sdc_table_t t = table_of(2, 2, 2, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 2);
    expect_pattern(&p, &t, "PRRR");
    expect_secondary(&t.total);
    expect_interval(&p, &t, 0, 1, 7);
}

/* Rounding 5:
 *      0  17 -> 15  0   0   0    | 17 -> 15
 *      0   7 P     12  13  44    | 76 -> 75
 *         24 -> 25                 (column 1's total)
 * Row 0's total (15, so in [13, 17]) is all in the cell of 17 once the zeros
 * are read; column 1's total is in [23, 27]; so the 7 is at least
 * 23 - 17 = 6 whatever this table hides: [6, 11] holds only 6 and 7. The
 * margins, released by their own queries, pin it; the check reports it
 * (t->unprotected) rather than hiding cells that cannot help. */
Test(gw_sdc, a_cell_pinned_by_other_queries_margins_is_reported)
{
    gw_sdc_policy_t p = policy_with(5);
    uint64_t counts[] = {0, 17, 0, 0, 0, 0, 7, 12, 13, 44};
    gw_sdc_cell_t cells[10];
    gw_sdc_table_t t = table_of(2, 2, 5, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 1);
    expect_pattern(&p, &t, "RRRRRRPRRR");
    cr_expect_eq(t.unprotected, 1);
    expect_interval(&p, &t, 6, 6, 11);
}

/* A dimension of one value adds nothing: a 3 x 1 table is the 1-D table
 * 3 P, 50 S, 60 (no rounding). */
Test(gw_sdc, a_dimension_of_one_value_is_dropped)
{
    gw_sdc_policy_t p = policy_with(1);
    uint64_t counts[] = {3, 50, 60};
    gw_sdc_cell_t cells[3];
    gw_sdc_table_t t = table_of(2, 3, 1, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 2);
    expect_pattern(&p, &t, "PSR");
    expect_interval(&p, &t, 0, 1, 52);
    t = table_of(3, 1, 3, 1, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 2);
    expect_pattern(&p, &t, "PSR");
}

Test(gw_sdc, a_table_without_group_columns_is_its_total)
{
    gw_sdc_policy_t p;
    gw_sdc_policy_default(&p);
    uint64_t counts[] = {4};
    gw_sdc_cell_t cells[1];
    gw_sdc_table_t t = table_of(0, 0, 0, 0, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 2);
    expect_pattern(&p, &t, "P");
    expect_primary(&t.total);
    expect_interval(&p, &t, 0, 1, OPEN);
}

Test(gw_sdc, a_grid_past_its_bound_is_hidden_whole)
{
    gw_sdc_policy_t p;
    gw_sdc_policy_default(&p);
    size_t n = 3 * 7000;
    gw_sdc_cell_t *cells = calloc(n, sizeof *cells);
    cr_assert_not_null(cells);
    for (size_t i = 0; i < n; i++)
        cells[i].count = 100;
    gw_sdc_table_t t = {.ndims = 2, .size = {3, 7000}, .cells = cells, .total = {.count = 100 * n}};
    cr_expect_eq(gw_sdc_apply_table(&p, &t), n + 1);
    cr_expect(cells[0].suppressed && cells[n - 1].suppressed && t.total.suppressed);
    uint64_t lo, hi;
    gw_sdc_attacker_interval(&p, &t, 0, &lo, &hi);
    cr_expect(lo == 0 && hi == 0);
    free(cells);

    /* Sizes whose product overflows: only the total can be touched. */
    gw_sdc_table_t huge = {.ndims = 3, .size = {SIZE_MAX, SIZE_MAX, 2}, .cells = NULL};
    cr_expect_eq(gw_sdc_apply_table(&p, &huge), 1);
    cr_expect(huge.total.suppressed);
}

/* ---- three group columns ----------------------------------------------------- */

/* No rounding, every two-way margin released: a single small cell needs the
 * whole 2 x 2 x 2 cube. Layer 0 then layer 1:
 *      3 P  20 S     22 S  27 S
 *     25 S  30 S     33 S  35 S
 * 3 is in [1, 22]. */
Test(gw_sdc, three_columns_hide_a_cube)
{
    gw_sdc_policy_t p = policy_with(1);
    uint64_t counts[] = {3, 20, 25, 30, 22, 27, 33, 35};
    gw_sdc_cell_t cells[8];
    gw_sdc_table_t t = table_of(3, 2, 2, 2, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 8);
    expect_pattern(&p, &t, "PSSSSSSS");
    expect_released(&t.total, 195);
    expect_interval(&p, &t, 0, 1, 22);
    expect_interval(&p, &t, 3, 28, 49);
}

/* The same cube rounded to 5: every margin is uncertain by up to 4, and the
 * small cell is in [2, 6] — five values of 1..7, no partner needed. */
Test(gw_sdc, three_columns_rounded_need_no_partner)
{
    gw_sdc_policy_t p = policy_with(5);
    uint64_t counts[] = {3, 20, 25, 30, 22, 27, 33, 35};
    gw_sdc_cell_t cells[8];
    gw_sdc_table_t t = table_of(3, 2, 2, 2, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 1);
    expect_pattern(&p, &t, "PRRRRRRR");
    expect_interval(&p, &t, 0, 2, 6);
    expect_interval(&p, &t, 4, 21, 22);
}

/* No rounding, 2 x 2 x 3: the cube sits on the first two values of the last
 * column; the third value's cells stay released. */
Test(gw_sdc, three_columns_choose_the_cheapest_cube)
{
    gw_sdc_policy_t p = policy_with(1);
    uint64_t counts[] = {3, 20, 25, 30, 22, 27, 33, 35, 24, 26, 28, 31};
    gw_sdc_cell_t cells[12];
    gw_sdc_table_t t = table_of(3, 2, 2, 3, cells, counts);
    cr_expect_eq(gw_sdc_apply_table(&p, &t), 8);
    expect_pattern(&p, &t, "PSRSSRSSRSSR");
    expect_interval(&p, &t, 0, 1, 22);
}

/* ---- properties over random tables ------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint64_t covered(const gw_sdc_policy_t *p, uint64_t lo, uint64_t hi)
{
    uint64_t a = lo > 1 ? lo : 1, b = hi < p->threshold ? hi : p->threshold;
    return a <= b ? b - a + 1 : 0;
}

static uint64_t need_of(const gw_sdc_policy_t *p)
{
    uint64_t need = p->protection ? p->protection : 3;
    return need < p->threshold ? need : p->threshold;
}

/* How far primary cell i falls short of protection (0 for other cells). */
static uint64_t shortfall(const gw_sdc_policy_t *p, const gw_sdc_table_t *t, size_t i)
{
    if (!t->cells[i].suppressed || t->cells[i].secondary)
        return 0;
    uint64_t lo, hi, need = need_of(p);
    gw_sdc_attacker_interval(p, t, i, &lo, &hi);
    uint64_t c = covered(p, lo, hi);
    return c < need ? need - c : 0;
}

static void random_table(uint64_t *seed, gw_sdc_policy_t *p, gw_sdc_table_t *t,
                         gw_sdc_cell_t *cells, size_t *n)
{
    gw_sdc_policy_default(p);
    uint64_t r = rng_next(seed);
    if (r % 4 == 0)
        p->rounding = 1;
    if (r % 7 == 0)
        p->zeros_disclosive = true;
    p->protection = 1 + (uint32_t)((r >> 8) % 3);
    if ((r >> 12) % 5 == 0) {
        p->threshold = 10;
        p->rounding = 10;
    }
    *t = (gw_sdc_table_t){.ndims = 1 + rng_next(seed) % 3, .size = {1, 1, 1}, .cells = cells};
    *n = 1;
    for (size_t k = 0; k < t->ndims; k++) {
        t->size[k] = 1 + rng_next(seed) % 5;
        *n *= t->size[k];
    }
    for (size_t i = 0; i < *n; i++) {
        uint64_t q = rng_next(seed) % 10;
        uint64_t v = q < 3 ? 0 : q < 6 ? 1 + rng_next(seed) % 7 : 8 + rng_next(seed) % 60;
        cells[i] = (gw_sdc_cell_t){.count = v};
        t->total.count += v;
    }
}

static void release_again(const gw_sdc_policy_t *p, gw_sdc_cell_t *c)
{
    c->suppressed = c->secondary = false;
    c->released = gw_sdc_round(c->count, p->rounding);
}

static void hide_again(gw_sdc_cell_t *c)
{
    c->suppressed = c->secondary = true;
    c->released = 0;
}

/* 10 000 random tables of one to three columns of one to five values, counts
 * a mix of zeros, 1..7 and larger, under varied policies (fixed seed):
 *   - no released count is in 1..threshold (nor a zero, when disclosive),
 *     and every released count is the rounded true count, a multiple of the
 *     base;
 *   - every primary cell's interval holds at least `protection` values of
 *     1..threshold, except those the table reports as pinned by its margins;
 *   - no partner (cell or total) could be released again: each one, released,
 *     leaves some primary cell short, or a pinned one shorter. */
Test(gw_sdc, random_tables_are_protected_and_minimal, .timeout = 280)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    gw_sdc_cell_t cells[125];
    size_t pinned_tables = 0, partners = 0;
    for (int it = 0; it < 10000; it++) {
        gw_sdc_policy_t p;
        gw_sdc_table_t t;
        size_t n;
        random_table(&seed, &p, &t, cells, &n);
        gw_sdc_apply_table(&p, &t);
        uint64_t base = p.rounding > 1 ? p.rounding : 1;
        for (size_t i = 0; i <= n; i++) {
            const gw_sdc_cell_t *c = i < n ? &cells[i] : &t.total;
            if (c->secondary)
                cr_assert(c->suppressed && c->count > 0, "table %d cell %zu", it, i);
            if (c->suppressed)
                continue;
            cr_assert(c->count == 0 || c->count > p.threshold, "table %d: %llu released", it,
                      (unsigned long long)c->count);
            cr_assert(!(c->count == 0 && p.zeros_disclosive), "table %d: zero released", it);
            cr_assert_eq(c->released, gw_sdc_round(c->count, p.rounding));
            cr_assert_eq(c->released % base, 0);
        }
        uint64_t before[125];
        size_t short_cells = 0;
        for (size_t i = 0; i < n; i++) {
            before[i] = shortfall(&p, &t, i);
            short_cells += before[i] > 0;
        }
        cr_assert_eq(short_cells, t.unprotected, "table %d: %zu cells short, %zu reported", it,
                     short_cells, t.unprotected);
        pinned_tables += t.unprotected > 0;
        /* Releasing a partner can only widen shortfalls: look for one. */
        for (size_t i = 0; i <= n; i++) {
            gw_sdc_cell_t *c = i < n ? &cells[i] : &t.total;
            if (!c->secondary)
                continue;
            partners++;
            release_again(&p, c);
            bool needed = false;
            for (size_t j = 0; j < n && !needed; j++)
                needed = shortfall(&p, &t, j) > before[j];
            hide_again(c);
            cr_assert(needed, "table %d: partner %zu is not needed", it, i);
        }
    }
    /* The mix is rich enough to exercise both. */
    cr_expect_gt(partners, 1000);
    cr_expect_gt(pinned_tables, 0);
}

/* ---- the attacker check against exhaustive search ----------------------------- */

/* The analyst's knowledge, rebuilt from the design note independently of
 * gw_sdc.c, for tables whose sizes are all 2 or more: the set of values
 * that round to the released one and are releasable, as a hull. */
static void oracle_released_box(const gw_sdc_policy_t *p, uint64_t count, uint64_t *lo,
                                uint64_t *hi)
{
    uint64_t r = gw_sdc_round(count, p->rounding);
    bool any = false;
    for (uint64_t v = 0; v <= r + p->rounding + 1; v++) {
        bool ok = gw_sdc_round(v, p->rounding) == r &&
                  (v > p->threshold || (v == 0 && !p->zeros_disclosive));
        if (ok && !any) {
            *lo = v;
            any = true;
        }
        if (ok)
            *hi = v;
    }
    cr_assert(any);
}

typedef struct {
    size_t n, nm;
    uint64_t clo[16], chi[16];
    size_t member[16][8], per;
    uint64_t mlo[64], mhi[64];
    uint64_t sum[64], left_hi[64];
    uint64_t val[16], best_lo[16], best_hi[16];
    bool found;
} oracle_t;

static void oracle_search(oracle_t *o, size_t i)
{
    if (i == o->n) {
        for (size_t m = 0; m < o->nm; m++)
            if (o->sum[m] < o->mlo[m] || o->sum[m] > o->mhi[m])
                return;
        for (size_t c = 0; c < o->n; c++) {
            if (!o->found || o->val[c] < o->best_lo[c])
                o->best_lo[c] = o->val[c];
            if (!o->found || o->val[c] > o->best_hi[c])
                o->best_hi[c] = o->val[c];
        }
        o->found = true;
        return;
    }
    for (size_t a = 0; a < o->per; a++)
        o->left_hi[o->member[i][a]] -= o->chi[i];
    for (uint64_t v = o->clo[i]; v <= o->chi[i]; v++) {
        bool ok = true;
        for (size_t a = 0; a < o->per; a++) {
            size_t m = o->member[i][a];
            uint64_t s = o->sum[m] + v;
            if (s > o->mhi[m] || s + o->left_hi[m] < o->mlo[m])
                ok = false;
        }
        if (!ok)
            continue;
        o->val[i] = v;
        for (size_t a = 0; a < o->per; a++)
            o->sum[o->member[i][a]] += v;
        oracle_search(o, i + 1);
        for (size_t a = 0; a < o->per; a++)
            o->sum[o->member[i][a]] -= v;
    }
    for (size_t a = 0; a < o->per; a++)
        o->left_hi[o->member[i][a]] += o->chi[i];
}

/* Every integer table consistent with what t releases; false when some
 * hidden cell has no finite bound (the search would not end). */
static bool oracle_intervals(const gw_sdc_policy_t *p, const gw_sdc_table_t *t, oracle_t *o)
{
    memset(o, 0, sizeof *o);
    size_t d = t->ndims, n = 1;
    for (size_t k = 0; k < d; k++)
        n *= t->size[k];
    o->n = n;
    /* Margins: for each proper subset K of the dimensions, keyed by the
     * cell's coordinates on K. */
    size_t full = ((size_t)1 << d) - 1, offset = 0;
    for (size_t mask = 0; mask < full; mask++) {
        size_t groups = 1;
        for (size_t k = 0; k < d; k++)
            if (mask & ((size_t)1 << k))
                groups *= t->size[k];
        for (size_t c = 0; c < n; c++) {
            size_t coords[3], rest = c, key = 0;
            for (size_t k = d; k-- > 0;) {
                coords[k] = rest % t->size[k];
                rest /= t->size[k];
            }
            for (size_t k = 0; k < d; k++)
                if (mask & ((size_t)1 << k))
                    key = key * t->size[k] + coords[k];
            o->member[c][o->per] = offset + key;
        }
        o->per++;
        offset += groups;
    }
    o->nm = offset;
    uint64_t msum[64] = {0};
    for (size_t c = 0; c < n; c++)
        for (size_t a = 0; a < o->per; a++)
            msum[o->member[c][a]] += t->cells[c].count;
    size_t grand = 0; /* mask 0 (no dimension kept) came first: the total */
    for (size_t m = 0; m < o->nm; m++) {
        uint64_t s = msum[m];
        bool small = s == 0 ? p->zeros_disclosive : s <= p->threshold;
        if (small) {
            o->mlo[m] = p->zeros_disclosive ? 0 : 1;
            o->mhi[m] = p->threshold;
        } else if (m == grand && t->total.suppressed) {
            o->mlo[m] = p->zeros_disclosive ? 0 : 1;
            o->mhi[m] = UINT64_MAX;
        } else {
            oracle_released_box(p, s, &o->mlo[m], &o->mhi[m]);
        }
    }
    for (size_t c = 0; c < n; c++) {
        const gw_sdc_cell_t *cell = &t->cells[c];
        if (!cell->suppressed) {
            oracle_released_box(p, cell->count, &o->clo[c], &o->chi[c]);
            continue;
        }
        o->clo[c] = (p->zeros_disclosive || cell->count == 0) ? 0 : 1;
        o->chi[c] = UINT64_MAX;
        for (size_t a = 0; a < o->per; a++)
            if (o->mhi[o->member[c][a]] < o->chi[c])
                o->chi[c] = o->mhi[o->member[c][a]];
        if (o->chi[c] == UINT64_MAX)
            return false;
    }
    for (size_t m = 0; m < o->nm; m++) {
        o->left_hi[m] = 0;
        for (size_t c = 0; c < n; c++)
            for (size_t a = 0; a < o->per; a++)
                if (o->member[c][a] == m)
                    o->left_hi[m] += o->chi[c];
    }
    oracle_search(o, 0);
    return o->found;
}

/* Small two- and three-way tables, the check's own pattern plus a few more
 * hidden cells: gw_sdc_attacker_interval equals the range of each cell over
 * every integer table consistent with what is released. This is what makes
 * the two-way LP (totally unimodular) and the three-way branch and bound
 * exact rather than bounds. */
Test(gw_sdc, attacker_interval_equals_exhaustive_search, .timeout = 280)
{
    static const size_t shapes[][4] = {
        {2, 2, 2, 0}, {2, 2, 3, 0}, {2, 3, 3, 0}, {3, 2, 2, 2},
    };
    uint64_t seed = 0x2545f4914f6cdd1dULL;
    gw_sdc_cell_t cells[16];
    size_t compared = 0;
    for (int it = 0; it < 400; it++) {
        const size_t *shape = shapes[it % N_OF(shapes)];
        gw_sdc_policy_t p;
        gw_sdc_policy_default(&p);
        /* Rounding widens the search a lot: not on the 3 x 3 shape. */
        p.rounding = shape[1] * shape[2] < 9 && (it / 4) % 3 == 0 ? 5 : 1;
        gw_sdc_table_t t = {.ndims = shape[0], .size = {shape[1], shape[2], shape[3]},
                            .cells = cells};
        size_t n = 1;
        for (size_t k = 0; k < t.ndims; k++)
            n *= t.size[k];
        for (size_t i = 0; i < n; i++) {
            uint64_t q = rng_next(&seed) % 10;
            cells[i] = (gw_sdc_cell_t){.count = q < 2 ? 0 : q < 5 ? 1 + rng_next(&seed) % 7
                                                                  : 8 + rng_next(&seed) % 8};
            t.total.count += cells[i].count;
        }
        gw_sdc_apply_table(&p, &t);
        for (size_t i = 0; i < n; i++)
            if (!cells[i].suppressed && cells[i].count > 0 && rng_next(&seed) % 5 == 0)
                hide_again(&cells[i]);
        oracle_t o;
        if (!oracle_intervals(&p, &t, &o))
            continue;
        for (size_t i = 0; i < n; i++) {
            uint64_t lo, hi;
            gw_sdc_attacker_interval(&p, &t, i, &lo, &hi);
            cr_assert(lo == o.best_lo[i] && hi == o.best_hi[i],
                      "table %d cell %zu: [%llu, %llu], search [%llu, %llu]", it, i,
                      (unsigned long long)lo, (unsigned long long)hi,
                      (unsigned long long)o.best_lo[i], (unsigned long long)o.best_hi[i]);
            compared++;
        }
    }
    cr_expect_gt(compared, 1000);
}
