/* gw_lp — a small linear-programme solver for the disclosure check.
 *
 * Solves   minimise or maximise  c'x
 *          subject to            row_lo <= A x <= row_hi,  col_lo <= x <= col_hi
 * with a bounded-variable primal simplex (docs/design/disclosure.md):
 *
 *   - every row gets a slack s = A x, bounded by the row's bounds, so the
 *     basis always exists (the slacks) and redundant rows are harmless;
 *   - the basis inverse is a product of eta columns on top of -I (no dense
 *     m x m matrix), so memory grows with the pivots, not with m squared;
 *   - a non-basic variable may sit anywhere within its bounds, not only at
 *     one of them, so a solve may start from any point — gw_sdc starts from
 *     the table's true counts, which are always feasible;
 *   - a start that breaks a row's bounds is repaired first (phase 1:
 *     minimise the sum of the basic variables' bound violations);
 *   - Dantzig pricing, with Bland's rule once pivots stop making progress,
 *     so degenerate problems cannot cycle; an iteration limit as a last
 *     resort.
 *
 * Doubles with tolerances: values within GW_LP_FEAS_TOL of a bound are at
 * it. Callers with integer data snap the answers (gw_lp_integral tells them
 * whether the solution found is integral).
 *
 * Inputs are bounded: at most GW_LP_MAX_COLS columns and GW_LP_MAX_ROWS rows;
 * gw_lp_new refuses more. Out of memory aborts (common/hearth_mem.h). */
#ifndef GW_LP_H
#define GW_LP_H

#include <stdbool.h>
#include <stddef.h>

#define GW_LP_MAX_COLS 1000000
#define GW_LP_MAX_ROWS 1000000
#define GW_LP_FEAS_TOL 1e-6

typedef struct gw_lp gw_lp_t;

typedef enum {
    GW_LP_OPTIMAL,    /* *value is the optimum */
    GW_LP_REACHED,    /* stopped early: the objective reached the caller's stop_at */
    GW_LP_UNBOUNDED,  /* the objective improves without limit */
    GW_LP_INFEASIBLE, /* no point satisfies the bounds */
    GW_LP_STALLED     /* the iteration limit was hit; *value is not an optimum */
} gw_lp_status_t;

/* A problem with ncols variables and nrows constraints, no entries yet and
 * every bound free (-INFINITY..INFINITY). Returns NULL when either count is
 * beyond its GW_LP_MAX_*. Caller frees with gw_lp_destroy. */
gw_lp_t *gw_lp_new(size_t ncols, size_t nrows);

/* Frees *self_p (NULL-safe) and sets it to NULL. */
void gw_lp_destroy(gw_lp_t **self_p);

/* Adds value to A[row][col]. Entries may be added until the next
 * gw_lp_start; an out-of-range row or col is ignored. */
void gw_lp_entry(gw_lp_t *self, size_t row, size_t col, double value);

/* Sets the bounds of column col, or of row row (lo may be -INFINITY and hi
 * INFINITY; lo > hi makes the problem infeasible). Bounds may change between
 * solves: the next solve repairs whatever they make infeasible. An
 * out-of-range index is ignored. */
void gw_lp_col_bounds(gw_lp_t *self, size_t col, double lo, double hi);
void gw_lp_row_bounds(gw_lp_t *self, size_t row, double lo, double hi);

/* Forgets the basis and starts again from x (ncols values, borrowed;
 * each clamped into its column's bounds), or, when x is NULL, from each
 * column's bound nearest zero. The slacks form the basis. */
void gw_lp_start(gw_lp_t *self, const double *x);

/* Starts again from the point the last gw_lp_start made (with the slack
 * basis), without recomputing it: cheap where gw_lp_start is O(entries).
 * Bounds changed since are honoured by the next solve. Without an earlier
 * start (or after new entries) it is gw_lp_start(self, NULL). */
void gw_lp_restart(gw_lp_t *self);

/* Optimises cost'x (cost: ncols values, borrowed) from where the last
 * start or solve left off, so a sequence of solves over the same rows is
 * warm. With stop_at finite, stops as soon as a feasible point reaches it
 * (>= when maximising, <= when minimising) and returns GW_LP_REACHED;
 * pass INFINITY (maximising) or -INFINITY (minimising) to solve to the
 * optimum. Sets *value to the objective at the point reached (for
 * UNBOUNDED: at the last point before the unbounded ray; for INFEASIBLE:
 * undefined). */
gw_lp_status_t gw_lp_solve(gw_lp_t *self, const double *cost, bool maximise, double stop_at,
                           double *value);

/* The value of column col, or the activity (A x) of row row, at the point
 * the last solve reached; 0 for an out-of-range index. */
double gw_lp_col_value(const gw_lp_t *self, size_t col);
double gw_lp_row_value(const gw_lp_t *self, size_t row);

/* Returns true when every column's value is within tol of an integer. */
bool gw_lp_integral(const gw_lp_t *self, double tol);

/* Pivots and bound flips made since gw_lp_new (for measurements). */
size_t gw_lp_iterations(const gw_lp_t *self);

#endif
