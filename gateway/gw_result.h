/* gw_result — builds what the analyst receives: the nodes' answers
 * combined cell by cell (or, for a linked query, the linker's counts),
 * disclosure control applied, and only released values placed in the
 * result. True counts stay inside this module (and the gateway's store,
 * for differencing). Aggregate and linked results go through one release
 * path, in this order (docs/design/disclosure.md):
 *
 *   1. the table: its rows (the combined cells, in group order) placed in
 *      the full grid of the group columns' values, a combination no one is
 *      in counting 0; past max_cells rows or GW_SDC_MAX_GRID grid cells the
 *      table is refused;
 *   2. differential privacy, when the project asks for it: every row's
 *      count and the total get discrete Laplace noise (gw_dp);
 *   3. the dominance rule, when on, for SUM and MEAN: a dominated cell is
 *      hidden as a primary suppression;
 *   4. gw_sdc on the grid: primary suppression, attacker-checked secondary
 *      suppression, rounding;
 *   5. with a store, in one transaction committed before anything is
 *      returned: the DP budget charged (refused when spent), the
 *      differencing check against the project's earlier releases
 *      (gw_diff), and this release recorded.
 * Without DP the same counts always give the same released table. */
#ifndef GW_RESULT_H
#define GW_RESULT_H

#include "gw_dp.h"
#include "gw_link.h"
#include "gw_plan.h"
#include "gw_policy.h"
#include "gw_sdc.h"
#include "gw_store.h"
#include "hearth.pb-c.h"
#include "hearth_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Refusal reasons; none holds a number. */
#define GW_RESULT_TOO_MANY_ROWS                                                            \
    "the result would have more cells than this gateway releases in one table; group by " \
    "fewer columns"
#define GW_RESULT_GRID_TOO_BIG                                                             \
    "the table has too many cells to check for disclosure; group by fewer columns"
#define GW_RESULT_UNPROTECTABLE                                                            \
    "a small cell of this table could be worked out from its margins whatever is hidden; " \
    "ask a broader question"
#define GW_RESULT_BUDGET_SPENT "this project's privacy budget is spent"
#define GW_RESULT_DP_COUNTS_ONLY                                                           \
    "this project adds noise to counts only; SUM and MEAN cannot be asked under it"
#define GW_RESULT_DOMINANCE_LINKED                                                         \
    "the dominance rule cannot yet be checked for a SUM or MEAN with EXISTS or over a "   \
    "linked UNION; ask without them"

/* How one table is released, besides its counts. Everything is borrowed. */
typedef struct {
    const gw_policy_t *policy;    /* the rules (gw_policy_resolve) */
    size_t max_cells;             /* the most rows one table may have */
    /* The gateway's record of releases and DP budgets. NULL only in tests
     * of the table alone: nothing is then checked against earlier releases
     * or recorded, and a query of a DP project is an error (no budget can
     * be charged). */
    gw_store_t *store;
    const char *family;           /* with store: gw_diff_family of the query */
    const char *const *conjuncts; /* with store: gw_diff_conjuncts of the query */
    size_t nconjuncts;
    /* Where DP noise comes from; NULL: a gw_dp_rng_new (OpenSSL's CSPRNG)
     * made for the release. Tests pass a seeded one. */
    gw_dp_rng_t *rng;
} gw_result_release_t;

/* Combines subs[i] (the answer to plan->parts[i]) and releases the table
 * as rel says (see the top of this file). Returns a new result: released;
 * refused with a reason that holds no number (too many cells, a cell that
 * cannot be protected, a differencing pair, a spent budget, SUM or MEAN
 * under DP); or an error (a malformed answer from a node: more persons than
 * records, a group with the wrong number of values, more than 3 top
 * contributions, no total; or the store failing). Caller frees with
 * gw_result_free; plan, subs and rel are borrowed. */
Hearth__QueryResult *gw_result_combine(const gw_plan_t *plan, Hearth__SubResult *const *subs,
                                       const gw_result_release_t *rel, const char *query_id);

/* A result with no table: status refused or error, with a reason (copied).
 * usage marks the analyst's own mistake (client exit code 2). */
Hearth__QueryResult *gw_result_refusal(const char *query_id, Hearth__QueryStatus status,
                                       const char *reason, bool usage);

/* Appends a node's status line (copied). */
void gw_result_add_node(Hearth__QueryResult *r, const char *node, const char *status,
                        uint32_t ms);

/* The measure's name in results: "count_records", "count_persons", ... */
const char *gw_result_measure_name(gw_measure_t m);

/* Frees a result built here (its linkage section included); NULL-safe;
 * nulls *r_p. */
void gw_result_free(Hearth__QueryResult **r_p);

/* ---- linked queries ----------------------------------------------------- */

/* The cells of a linked query: the distinct group-value tuples listed by its
 * COHORT parts, numbered 0, 1, ... in order of first sight. These are the
 * global cell numbers gw_link counts in. Values are copied in. */
typedef struct gw_result_cells_t gw_result_cells_t;

/* An empty table of cells of ngroup values each (0..3), holding at most
 * max_cells cells. */
gw_result_cells_t *gw_result_cells_new(size_t ngroup, size_t max_cells);

/* Numbers the n cells a COHORT part listed in its chunk 0 (the group values
 * of groups[0..n), borrowed; counts ignored): global[i] receives the number
 * of groups[i], an existing one when equal values were seen before in any
 * part (values compare as result rows sort: 1 equals 1.0). Returns
 * HEARTH_ERR_PROTO with *cause when a group has not ngroup values, and
 * HEARTH_ERR_TOO_BIG past max_cells; the table is unchanged after an
 * error. */
hearth_err_t gw_result_cells_map(gw_result_cells_t *self, Hearth__GroupCount *const *groups,
                                 size_t n, uint32_t *global, char **cause)
    __attribute__((warn_unused_result));

/* The number of distinct cells numbered so far. */
size_t gw_result_cells_count(const gw_result_cells_t *self);

/* Frees the table; NULL-safe; nulls *self_p. */
void gw_result_cells_destroy(gw_result_cells_t **self_p);

/* Builds the released result of a linked query from lr, which gw_link
 * counted over the global numbers of cells (lr->ncells must equal their
 * count, else an error result). Rows come out in group order, through the
 * same release path as gw_result_combine (COUNT(*) judged on records, the
 * rest on persons; SUM and MEAN follow their persons). A cell no one
 * counts in is left out, as a node leaves out a group with no record;
 * without group columns there are no rows, only the total. The linker
 * keeps no per-person contributions, so a linked SUM or MEAN is refused
 * while the dominance rule is on.
 * The linkage section holds lr->linkage as a one-dimensional table of four
 * cells whose total is their sum (the persons of the total), noised when
 * the table is, then suppressed and rounded by gw_sdc_apply like any
 * table; disclosure.suppressed_cells counts the main table only. Caller
 * frees with gw_result_free; cells, lr and rel are borrowed. */
Hearth__QueryResult *gw_result_linked(const gw_plan_t *plan, const gw_result_cells_t *cells,
                                      const gw_link_result_t *lr,
                                      const gw_result_release_t *rel, const char *query_id);

#endif
