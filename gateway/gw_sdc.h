/* gw_sdc — statistical disclosure control on the gateway's combined result.
 *
 * The rules run on the final table (cells plus their total), never on one
 * node's part of it, because only the combined counts are released:
 *
 *   1. primary suppression: a true count from 1 to threshold is hidden;
 *   2. secondary suppression: a hidden cell must not be recoverable from the
 *      released total (see gw_sdc_apply);
 *   3. rounding: every released count is rounded to the nearest multiple of
 *      rounding; a zero is released as 0.
 *
 * Each rule is a separate function in gw_sdc.c working on a policy and a
 * cells array, so a later, margin-aware attacker check can replace rule 2
 * without touching the others. */
#ifndef GW_SDC_H
#define GW_SDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_SDC_DEFAULT_THRESHOLD 7
#define GW_SDC_DEFAULT_ROUNDING 5

/* The disclosure rules for one query. A project may make them stricter than
 * the defaults, never looser; checking that is the caller's job. */
typedef struct {
    uint32_t threshold;   /* true counts 1..threshold are suppressed; 0 = none */
    uint32_t rounding;    /* released counts rounded to a multiple of this;
                             0 or 1 = no rounding */
} gw_sdc_policy_t;

/* Fills *p with the brief's defaults (threshold 7, rounding 5). */
void gw_sdc_policy_default(gw_sdc_policy_t *p);

/* One cell of a result table. The caller sets count; gw_sdc_apply sets the
 * rest (any earlier values of the out fields are overwritten). */
typedef struct {
    uint64_t count;      /* true (unreleased) count; never leaves the gateway */
    bool suppressed;     /* out */
    bool secondary;      /* out: suppressed to protect another cell */
    uint64_t released;   /* out: rounded count when not suppressed, else 0 */
} gw_sdc_cell_t;

/* Applies policy to cells[0..n) and *total in place (both borrowed; cells
 * may be NULL when n is 0). Cells are expected in group-key order: ties in
 * secondary suppression go to the lowest index.
 *
 * Secondary rule: when exactly one cell is primary-suppressed and the total
 * is released, the unsuppressed cell with the smallest non-zero true count is
 * suppressed as well; when there is no such cell (every other cell is zero,
 * or the table has one cell), the total is suppressed instead.
 *
 * Returns the number of suppressed cells, the total included. */
size_t gw_sdc_apply(const gw_sdc_policy_t *policy, gw_sdc_cell_t *cells, size_t n,
                    gw_sdc_cell_t *total);

/* Returns count rounded to the nearest multiple of base, halves upwards.
 * base 0 or 1 means no rounding. Where rounding up would overflow uint64_t,
 * the largest multiple below is returned instead. */
uint64_t gw_sdc_round(uint64_t count, uint32_t base);

#endif
