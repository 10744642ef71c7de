/* gw_sdc — statistical disclosure control on the gateway's combined result.
 *
 * The rules run on the final table (its grid of cells plus the grand
 * total), never on one node's part of it, because only the combined counts
 * are released (docs/design/disclosure.md):
 *
 *   1. primary suppression: a true count from 1 to threshold is hidden (and
 *      a zero too when zeros are disclosive);
 *   2. secondary suppression, decided by an attacker check: the analyst is
 *      assumed to hold every margin of the table as its own query would
 *      release it (rows, columns, the grand total; for three group columns
 *      also the two-way margins). For each primary cell the check computes
 *      the interval [lo, hi] the analyst can derive from everything released
 *      — exactly: by propagation for one group column, by a small linear
 *      programme (gw_lp) for two, and for three by that LP with a small
 *      branch and bound — and hides partner cells until every such interval
 *      holds at least `protection` values of 1..threshold; then it releases
 *      again every partner that turns out not to be needed;
 *   3. rounding: every released count is rounded to the nearest multiple of
 *      rounding, halves upwards; a zero is released as 0.
 *
 * Deterministic: the same table and policy give the same pattern. */
#ifndef GW_SDC_H
#define GW_SDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_SDC_DEFAULT_THRESHOLD 7
#define GW_SDC_DEFAULT_ROUNDING 5
#define GW_SDC_DEFAULT_PROTECTION 3

/* The largest grid (product of the dimension sizes) gw_sdc_apply_table
 * protects. Refusing a larger table is the caller's job (gw_result does,
 * before building the grid); handed one, gw_sdc_apply_table hides every cell
 * and the total rather than release anything unchecked. */
#define GW_SDC_MAX_GRID 20000

/* Nodes a three-way table's branch and bound may visit for one end of one
 * cell's interval before the design note's fallback (see
 * gw_sdc_attacker_interval). */
#define GW_SDC_BRANCH_NODES 64

/* The disclosure rules for one query. A project may make them stricter than
 * the defaults, never looser; checking that is the caller's job. */
typedef struct {
    uint32_t threshold;    /* true counts 1..threshold are suppressed; 0 = none */
    uint32_t rounding;     /* released counts rounded to a multiple of this;
                              0 or 1 = no rounding */
    bool zeros_disclosive; /* hide zeros too (false: a zero is released as 0) */
    uint32_t protection;   /* a primary cell's attacker interval must hold at
                              least this many values of 1..threshold (capped at
                              threshold); 0 means the default, so a policy
                              written before this field existed is never looser */
} gw_sdc_policy_t;

/* Fills *p with the defaults: threshold 7, rounding 5, zeros released,
 * protection 3. */
void gw_sdc_policy_default(gw_sdc_policy_t *p);

/* One cell of a result table. The caller sets count; the apply functions set
 * the rest (any earlier values of the out fields are overwritten). */
typedef struct {
    uint64_t count;    /* true (unreleased) count; never leaves the gateway */
    bool suppressed;   /* out */
    bool secondary;    /* out: suppressed to protect another cell */
    uint64_t released; /* out: rounded count when not suppressed, else 0 */
} gw_sdc_cell_t;

/* A table of up to three group columns. */
typedef struct {
    size_t ndims;         /* 0..3 */
    size_t size[3];       /* values per dimension (size[0..ndims)); the grid is
                             their product (1 when ndims is 0) */
    gw_sdc_cell_t *cells; /* the full grid, row-major, last dimension fastest; a
                             combination that does not occur has count 0 (a true
                             zero). Borrowed; may be NULL when the grid is empty */
    gw_sdc_cell_t total;  /* the grand total: released unless small, or hidden as
                             a last resort to protect a cell */
    size_t unprotected;   /* out: primary cells left with a narrower interval than
                             protection asks, because the table's other margins
                             (released by their own queries) pin them whatever this
                             table hides. 0 in nearly every table; when not, the
                             caller should refuse the table */
} gw_sdc_table_t;

/* Applies primary suppression, the attacker-checked secondary suppression
 * and rounding to t's cells and total in place (t and its cells borrowed).
 *
 * Model of the analyst, cells and margins alike: a released count r is in
 * [r - floor(B/2), r + ceil(B/2) - 1] and, if not 0, above threshold; a
 * released 0 is 0 (when the rounding base is large enough that a count above
 * threshold can round to 0, the released 0 is taken as the whole range that
 * rounds to it); a hidden cell is at least 1 (0 when zeros are disclosive);
 * a margin hidden by its own query (a small margin) is in 1..threshold (from 0
 * when zeros are disclosive); a margin is the sum of its cells. Size-1
 * dimensions are dropped first (their margins are the table itself). The
 * total's own count decides only whether the total itself is released; the
 * model's grand total is the sum of the grid, which is the total for counts of
 * records (for counts of persons a person in two cells is counted in both, so
 * the sum is an upper bound and the model stays on the analyst's side).
 *
 * Secondary rule: while some primary cell is unprotected, take the worst
 * protected one (fewest values of 1..threshold; ties to the lowest grid
 * index) and hide, for one group column, the released cell with the smallest
 * non-zero true count; for two or three, the released corners of the
 * cheapest rectangle or 2 x 2 x 2 cube through it whose corners are all
 * non-zero (cost: the true counts it newly hides; ties to the first in grid
 * order). Without such a structure, the smallest non-zero released cell
 * sharing a line with it, else a plane, else the whole table; without any,
 * the grand total; and when that is hidden already, or when even hiding
 * everything would not protect the cell, count it in t->unprotected. Then
 * try releasing each partner again, last chosen first, keeping it released
 * when every primary cell stays protected (and no unprotected one loses
 * more).
 *
 * Returns the number of suppressed cells, the total included. A grid larger
 * than GW_SDC_MAX_GRID, or sizes whose product overflows, gets every cell and
 * the total hidden. */
size_t gw_sdc_apply_table(const gw_sdc_policy_t *policy, gw_sdc_table_t *t);

/* The one-dimensional case of gw_sdc_apply_table: cells[0..n) (in group-key
 * order, so ties go to the first) and their total *total, borrowed; cells may
 * be NULL when n is 0. Returns the number of suppressed cells, the total
 * included. */
size_t gw_sdc_apply(const gw_sdc_policy_t *policy, gw_sdc_cell_t *cells, size_t n,
                    gw_sdc_cell_t *total);

/* For tests and docs: sets [*lo, *hi] to the interval the analyst can derive
 * for grid cell i from what t releases — its cells as marked (suppressed or
 * not), its total as marked, and every other margin as its own query would
 * release it — under the model described at gw_sdc_apply_table. *hi is
 * UINT64_MAX when nothing bounds the cell. Exact for one and two group
 * columns (a two-way table's LP is totally unimodular); for three, exact
 * when a branch and bound of GW_SDC_BRANCH_NODES nodes settles it (nearly
 * always), and otherwise, as the design note asks, the LP bound rounded
 * inwards and narrowed by one (never past a table the search found, nor the
 * true count). A pattern that releases a count the policy
 * would hide is modelled by that count's rounding interval alone. An
 * out-of-range i, or a grid past GW_SDC_MAX_GRID, gives [count, count] (or
 * [0, 0]). */
void gw_sdc_attacker_interval(const gw_sdc_policy_t *policy, const gw_sdc_table_t *t, size_t i,
                              uint64_t *lo, uint64_t *hi);

/* Returns count rounded to the nearest multiple of base, halves upwards.
 * base 0 or 1 means no rounding. Where rounding up would overflow uint64_t,
 * the largest multiple below is returned instead. */
uint64_t gw_sdc_round(uint64_t count, uint32_t base);

#endif
