#include "gw_lp.h"

#include <criterion/criterion.h>
#include <math.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* max 3x + 5y  s.t.  x <= 4, 2y <= 12, 3x + 2y <= 18, x, y >= 0: the
 * textbook example, optimum 36 at (2, 6). */
static gw_lp_t *textbook(void)
{
    gw_lp_t *lp = gw_lp_new(2, 3);
    cr_assert_not_null(lp);
    gw_lp_entry(lp, 0, 0, 1);
    gw_lp_entry(lp, 1, 1, 2);
    gw_lp_entry(lp, 2, 0, 3);
    gw_lp_entry(lp, 2, 1, 2);
    gw_lp_row_bounds(lp, 0, -INFINITY, 4);
    gw_lp_row_bounds(lp, 1, -INFINITY, 12);
    gw_lp_row_bounds(lp, 2, -INFINITY, 18);
    gw_lp_col_bounds(lp, 0, 0, INFINITY);
    gw_lp_col_bounds(lp, 1, 0, INFINITY);
    return lp;
}

Test(gw_lp, solves_the_textbook_maximisation)
{
    gw_lp_t *lp = textbook();
    const double cost[] = {3, 5};
    double v = 0;
    cr_assert_eq(gw_lp_solve(lp, cost, true, INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, 36.0, 1e-9);
    cr_expect_float_eq(gw_lp_col_value(lp, 0), 2.0, 1e-9);
    cr_expect_float_eq(gw_lp_col_value(lp, 1), 6.0, 1e-9);
    cr_expect_float_eq(gw_lp_row_value(lp, 2), 18.0, 1e-9);
    cr_expect(gw_lp_integral(lp, 1e-9));
    gw_lp_destroy(&lp);
    cr_assert_null(lp);
}

Test(gw_lp, starts_from_an_interior_point)
{
    gw_lp_t *lp = textbook();
    const double start[] = {1, 1};
    gw_lp_start(lp, start);
    const double cost[] = {3, 5};
    double v = 0;
    cr_assert_eq(gw_lp_solve(lp, cost, true, INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, 36.0, 1e-9);
    /* and minimising from there goes back to the origin */
    cr_assert_eq(gw_lp_solve(lp, cost, false, -INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, 0.0, 1e-9);
    gw_lp_destroy(&lp);
}

Test(gw_lp, repairs_an_infeasible_start)
{
    /* x + y = 10 (row bounds 10..10), x in 0..7, y in 0..7: the start (0, 0)
     * breaks the row; phase 1 must find a point before min x gives 3. */
    gw_lp_t *lp = gw_lp_new(2, 1);
    gw_lp_entry(lp, 0, 0, 1);
    gw_lp_entry(lp, 0, 1, 1);
    gw_lp_row_bounds(lp, 0, 10, 10);
    gw_lp_col_bounds(lp, 0, 0, 7);
    gw_lp_col_bounds(lp, 1, 0, 7);
    gw_lp_start(lp, NULL);
    const double cost[] = {1, 0};
    double v = 0;
    cr_assert_eq(gw_lp_solve(lp, cost, false, -INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, 3.0, 1e-9);
    cr_expect_float_eq(gw_lp_col_value(lp, 1), 7.0, 1e-9);
    cr_assert_eq(gw_lp_solve(lp, cost, true, INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, 7.0, 1e-9);
    gw_lp_destroy(&lp);
}

Test(gw_lp, reports_infeasible)
{
    gw_lp_t *lp = gw_lp_new(2, 1);
    gw_lp_entry(lp, 0, 0, 1);
    gw_lp_entry(lp, 0, 1, 1);
    gw_lp_row_bounds(lp, 0, 5, 5);
    gw_lp_col_bounds(lp, 0, 0, 1);
    gw_lp_col_bounds(lp, 1, 0, 1);
    const double cost[] = {1, 1};
    double v;
    cr_expect_eq(gw_lp_solve(lp, cost, true, INFINITY, &v), GW_LP_INFEASIBLE);
    gw_lp_destroy(&lp);
}

Test(gw_lp, reports_unbounded)
{
    /* x - y = 0, x >= 0, y >= 0: max x has no limit. */
    gw_lp_t *lp = gw_lp_new(2, 1);
    gw_lp_entry(lp, 0, 0, 1);
    gw_lp_entry(lp, 0, 1, -1);
    gw_lp_row_bounds(lp, 0, 0, 0);
    gw_lp_col_bounds(lp, 0, 0, INFINITY);
    gw_lp_col_bounds(lp, 1, 0, INFINITY);
    const double cost[] = {1, 0};
    double v;
    cr_expect_eq(gw_lp_solve(lp, cost, true, INFINITY, &v), GW_LP_UNBOUNDED);
    cr_expect_eq(gw_lp_solve(lp, cost, false, -INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, 0.0, 1e-9);
    gw_lp_destroy(&lp);
}

Test(gw_lp, stops_once_the_target_is_reached)
{
    gw_lp_t *lp = textbook();
    const double cost[] = {3, 5};
    double v = 0;
    cr_assert_eq(gw_lp_solve(lp, cost, true, 10.0, &v), GW_LP_REACHED);
    cr_expect_geq(v, 10.0);
    cr_expect_leq(v, 36.0 + 1e-9);
    gw_lp_destroy(&lp);
}

Test(gw_lp, does_not_cycle_on_beales_example)
{
    /* Beale (1955): cycles under textbook Dantzig pricing.
     * min -3/4 a + 20 b - 1/2 c + 6 d
     *   1/4 a - 8 b - c + 9 d <= 0;  1/2 a - 12 b - 1/2 c + 3 d <= 0;  c <= 1;
     * all >= 0. Optimum -5/4 at a = 1, c = 1. */
    gw_lp_t *lp = gw_lp_new(4, 3);
    const double r0[] = {0.25, -8, -1, 9}, r1[] = {0.5, -12, -0.5, 3};
    for (size_t j = 0; j < 4; j++) {
        gw_lp_entry(lp, 0, j, r0[j]);
        gw_lp_entry(lp, 1, j, r1[j]);
        gw_lp_col_bounds(lp, j, 0, INFINITY);
    }
    gw_lp_entry(lp, 2, 2, 1);
    gw_lp_row_bounds(lp, 0, -INFINITY, 0);
    gw_lp_row_bounds(lp, 1, -INFINITY, 0);
    gw_lp_row_bounds(lp, 2, -INFINITY, 1);
    const double cost[] = {-0.75, 20, -0.5, 6};
    double v = 0;
    cr_assert_eq(gw_lp_solve(lp, cost, false, -INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, -1.25, 1e-9);
    cr_expect_float_eq(gw_lp_col_value(lp, 0), 1.0, 1e-9);
    cr_expect_float_eq(gw_lp_col_value(lp, 2), 1.0, 1e-9);
    gw_lp_destroy(&lp);
}

Test(gw_lp, bounds_may_change_between_solves)
{
    gw_lp_t *lp = textbook();
    const double cost[] = {3, 5};
    double v = 0;
    cr_assert_eq(gw_lp_solve(lp, cost, true, INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, 36.0, 1e-9);
    /* Tighten y to at most 3: the old optimum (2, 6) is now outside. */
    gw_lp_col_bounds(lp, 1, 0, 3);
    cr_assert_eq(gw_lp_solve(lp, cost, true, INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, 3 * 4 + 5 * 3, 1e-9);
    /* A basic row pushed out of its bounds is repaired too. */
    gw_lp_row_bounds(lp, 2, 20, 30);
    cr_assert_eq(gw_lp_solve(lp, cost, false, -INFINITY, &v), GW_LP_INFEASIBLE);
    gw_lp_row_bounds(lp, 2, 15, 18);
    cr_assert_eq(gw_lp_solve(lp, cost, false, -INFINITY, &v), GW_LP_OPTIMAL);
    /* min 3x + 5y with 3x + 2y >= 15, x <= 4, y <= 3: x = 4, y = 1.5. */
    cr_expect_float_eq(v, 12 + 7.5, 1e-9);
    cr_expect_not(gw_lp_integral(lp, 1e-6));
    gw_lp_destroy(&lp);
}

Test(gw_lp, transportation_bounds_are_integral)
{
    /* A 2 x 3 table with row sums 9, 11, column sums 6, 6, 8: cell (0,0)
     * ranges over 0..6, and each optimum is an integral table. */
    gw_lp_t *lp = gw_lp_new(6, 5);
    for (size_t r = 0; r < 2; r++)
        for (size_t c = 0; c < 3; c++) {
            gw_lp_entry(lp, r, r * 3 + c, 1);
            gw_lp_entry(lp, 2 + c, r * 3 + c, 1);
            gw_lp_col_bounds(lp, r * 3 + c, 0, INFINITY);
        }
    const double rows[] = {9, 11, 6, 6, 8};
    for (size_t i = 0; i < N_OF(rows); i++)
        gw_lp_row_bounds(lp, i, rows[i], rows[i]);
    double cost[6] = {1, 0, 0, 0, 0, 0};
    double v = 0;
    cr_assert_eq(gw_lp_solve(lp, cost, true, INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, 6.0, 1e-9);
    cr_expect(gw_lp_integral(lp, 1e-9));
    cr_assert_eq(gw_lp_solve(lp, cost, false, -INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, 0.0, 1e-9);
    cr_expect(gw_lp_integral(lp, 1e-9));
    gw_lp_destroy(&lp);
}

Test(gw_lp, a_problem_without_rows_moves_columns_to_their_bounds)
{
    gw_lp_t *lp = gw_lp_new(2, 0);
    gw_lp_col_bounds(lp, 0, -2, 5);
    gw_lp_col_bounds(lp, 1, 1, 3);
    const double cost[] = {1, -1};
    double v = 0;
    cr_assert_eq(gw_lp_solve(lp, cost, true, INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, 5 - 1, 1e-9);
    cr_assert_eq(gw_lp_solve(lp, cost, false, -INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(v, -2 - 3, 1e-9);
    gw_lp_destroy(&lp);
}

Test(gw_lp, refuses_problems_past_its_bounds)
{
    cr_expect_null(gw_lp_new(GW_LP_MAX_COLS + 1, 1));
    cr_expect_null(gw_lp_new(1, GW_LP_MAX_ROWS + 1));
}

Test(gw_lp, ignores_out_of_range_indices_and_destroys_null)
{
    gw_lp_t *lp = gw_lp_new(1, 1);
    gw_lp_entry(lp, 5, 0, 1);
    gw_lp_entry(lp, 0, 5, 1);
    gw_lp_col_bounds(lp, 9, 0, 1);
    gw_lp_row_bounds(lp, 9, 0, 1);
    cr_expect_eq(gw_lp_col_value(lp, 9), 0.0);
    cr_expect_eq(gw_lp_row_value(lp, 9), 0.0);
    gw_lp_destroy(&lp);
    gw_lp_destroy(&lp);
    gw_lp_destroy(NULL);
}

Test(gw_lp, restart_returns_to_the_last_start)
{
    gw_lp_t *lp = textbook();
    const double start[] = {1, 2};
    gw_lp_start(lp, start);
    const double cost[] = {3, 5};
    double v = 0;
    cr_assert_eq(gw_lp_solve(lp, cost, true, INFINITY, &v), GW_LP_OPTIMAL);
    cr_expect_float_eq(gw_lp_col_value(lp, 0), 2.0, 1e-9);
    gw_lp_restart(lp);
    cr_expect_float_eq(gw_lp_col_value(lp, 0), 1.0, 1e-9);
    cr_expect_float_eq(gw_lp_col_value(lp, 1), 2.0, 1e-9);
    cr_expect_float_eq(gw_lp_row_value(lp, 2), 3 * 1 + 2 * 2, 1e-9);
    /* Stop early from there: 3x + 5y reaches 20 before its optimum. */
    cr_assert_eq(gw_lp_solve(lp, cost, true, 20.0, &v), GW_LP_REACHED);
    cr_expect_geq(v, 20.0);
    /* A restart without a start is a start from the bounds nearest zero. */
    gw_lp_t *fresh = textbook();
    gw_lp_restart(fresh);
    cr_expect_float_eq(gw_lp_col_value(fresh, 0), 0.0, 1e-9);
    gw_lp_destroy(&fresh);
    gw_lp_destroy(&lp);
}

Test(gw_lp, counts_its_pivots)
{
    gw_lp_t *lp = textbook();
    cr_expect_eq(gw_lp_iterations(lp), 0);
    const double cost[] = {3, 5};
    double v;
    gw_lp_solve(lp, cost, true, INFINITY, &v);
    cr_expect_gt(gw_lp_iterations(lp), 0);
    gw_lp_destroy(&lp);
}
