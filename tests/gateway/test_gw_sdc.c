#include "gw_sdc.h"

#include <criterion/criterion.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Builds cells from true counts; out fields are filled with junk so the
 * tests also show that gw_sdc_apply overwrites them. */
static void cells_set(gw_sdc_cell_t *cells, const uint64_t *counts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cells[i] = (gw_sdc_cell_t){.count = counts[i], .suppressed = true,
                                   .secondary = true, .released = 999};
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
    cr_expect_not(cell->secondary);
    cr_expect_eq(cell->released, 0);
}

static void expect_secondary(const gw_sdc_cell_t *cell)
{
    cr_expect(cell->suppressed, "count %llu released", (unsigned long long)cell->count);
    cr_expect(cell->secondary);
    cr_expect_eq(cell->released, 0);
}

Test(gw_sdc, default_policy_is_seven_and_five)
{
    gw_sdc_policy_t p = {0, 0};
    gw_sdc_policy_default(&p);
    cr_assert_eq(p.threshold, 7);
    cr_assert_eq(p.rounding, 5);
}

Test(gw_sdc, rounds_to_nearest_multiple)
{
    static const struct { uint64_t in, out; } table[] = {
        {0, 0},     {1, 0},       {2, 0},       {3, 5},       {5, 5},
        {7, 5},     {8, 10},      {10, 10},     {12, 10},     {13, 15},
        {17, 15},   {18, 20},     {1003, 1005}, {1002, 1000}, {1405, 1405},
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

Test(gw_sdc, suppresses_one_to_seven_and_releases_eight)
{
    for (uint64_t c = 1; c <= 7; c++) {
        gw_sdc_cell_t cell = {.count = c};
        gw_sdc_cell_t total = {.count = 1000};
        /* A lone small cell drags in the total as its secondary. */
        cr_expect_eq(apply_default(&cell, 1, &total), 2);
        expect_primary(&cell);
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

Test(gw_sdc, suppresses_lone_cell_beside_total_and_next_smallest)
{
    uint64_t counts[] = {120, 3, 45, 30, 90};
    gw_sdc_cell_t cells[5];
    cells_set(cells, counts, 5);
    gw_sdc_cell_t total = {.count = 288};
    cr_expect_eq(apply_default(cells, 5, &total), 2);
    expect_released(&cells[0], 120);
    expect_primary(&cells[1]);
    expect_released(&cells[2], 45);
    expect_secondary(&cells[3]);
    expect_released(&cells[4], 90);
    expect_released(&total, 290);
}

Test(gw_sdc, secondary_skips_zero_cells)
{
    uint64_t counts[] = {0, 50, 2, 0, 20};
    gw_sdc_cell_t cells[5];
    cells_set(cells, counts, 5);
    gw_sdc_cell_t total = {.count = 72};
    cr_expect_eq(apply_default(cells, 5, &total), 2);
    expect_released(&cells[0], 0);
    expect_released(&cells[1], 50);
    expect_primary(&cells[2]);
    expect_released(&cells[3], 0);
    expect_secondary(&cells[4]);
    expect_released(&total, 70);
}

Test(gw_sdc, secondary_tie_goes_to_lowest_index)
{
    uint64_t counts[] = {60, 12, 5, 12, 9, 9};
    gw_sdc_cell_t cells[6];
    cells_set(cells, counts, 6);
    gw_sdc_cell_t total = {.count = 107};
    cr_expect_eq(apply_default(cells, 6, &total), 2);
    expect_released(&cells[0], 60);
    expect_released(&cells[1], 10);
    expect_primary(&cells[2]);
    expect_released(&cells[3], 10);
    expect_secondary(&cells[4]);
    expect_released(&cells[5], 10);
    expect_released(&total, 105);
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

Test(gw_sdc, lone_small_cell_among_zeros_suppresses_total)
{
    uint64_t counts[] = {0, 5, 0};
    gw_sdc_cell_t cells[3];
    cells_set(cells, counts, 3);
    gw_sdc_cell_t total = {.count = 9};
    cr_expect_eq(apply_default(cells, 3, &total), 2);
    expect_released(&cells[0], 0);
    expect_primary(&cells[1]);
    expect_released(&cells[2], 0);
    expect_secondary(&total);
}

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
}

Test(gw_sdc, single_cell_table)
{
    gw_sdc_cell_t cell = {.count = 50};
    gw_sdc_cell_t total = {.count = 50};
    cr_expect_eq(apply_default(&cell, 1, &total), 0);
    expect_released(&cell, 50);
    expect_released(&total, 50);

    /* Small cell, larger total (say, people in no group): the total goes. */
    cell = (gw_sdc_cell_t){.count = 4};
    total = (gw_sdc_cell_t){.count = 11};
    cr_expect_eq(apply_default(&cell, 1, &total), 2);
    expect_primary(&cell);
    expect_secondary(&total);

    cell = (gw_sdc_cell_t){.count = 4};
    total = (gw_sdc_cell_t){.count = 4};
    cr_expect_eq(apply_default(&cell, 1, &total), 2);
    expect_primary(&cell);
    expect_primary(&total);
}

Test(gw_sdc, honours_non_default_policy)
{
    gw_sdc_policy_t policy = {.threshold = 10, .rounding = 10};
    uint64_t counts[] = {10, 11, 24, 25, 300};
    gw_sdc_cell_t cells[5];
    cells_set(cells, counts, 5);
    gw_sdc_cell_t total = {.count = 370};
    cr_expect_eq(gw_sdc_apply(&policy, cells, 5, &total), 2);
    expect_primary(&cells[0]);
    expect_secondary(&cells[1]);
    expect_released(&cells[2], 20);
    expect_released(&cells[3], 30);
    expect_released(&cells[4], 300);
    expect_released(&total, 370);
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
