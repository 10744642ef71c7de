/* gw_result — builds what the analyst receives: the nodes' answers
 * combined cell by cell (or, for a linked query, the linker's counts),
 * disclosure control applied, and only released values placed in the
 * result. True counts stay inside this module. Aggregate and linked results
 * go through one release path: the same cells, the same gw_sdc rules, the
 * same rounding. */
#ifndef GW_RESULT_H
#define GW_RESULT_H

#include "gw_link.h"
#include "gw_plan.h"
#include "gw_sdc.h"
#include "hearth.pb-c.h"
#include "hearth_err.h"

#include <stddef.h>
#include <stdint.h>

/* Combines subs[i] (the answer to plan->parts[i]) and applies policy.
 * Returns a new released result, or a refusal when the table would have
 * more than max_cells cells. Caller frees with gw_result_free. */
Hearth__QueryResult *gw_result_combine(const gw_plan_t *plan, Hearth__SubResult *const *subs,
                                       const gw_sdc_policy_t *policy, const char *query_id,
                                       size_t max_cells);

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
 * same disclosure control as gw_result_combine (COUNT(*) judged on records,
 * the rest on persons; SUM and MEAN follow their persons). A cell no one
 * counts in is left out, as a node leaves out a group with no record;
 * without group columns there are no rows, only the total.
 * The linkage section holds lr->linkage as a one-dimensional table of four
 * cells whose total is their sum (the persons of the total), suppressed and
 * rounded by gw_sdc like any table; disclosure.suppressed_cells counts the
 * main table only. Returns a refusal past max_cells rows. Caller frees
 * with gw_result_free; cells and lr are borrowed. */
Hearth__QueryResult *gw_result_linked(const gw_plan_t *plan, const gw_result_cells_t *cells,
                                      const gw_link_result_t *lr,
                                      const gw_sdc_policy_t *policy, const char *query_id,
                                      size_t max_cells);

#endif
