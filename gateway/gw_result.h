/* gw_result — builds what the analyst receives: the nodes' answers
 * combined cell by cell, disclosure control applied, and only released
 * values placed in the result. True counts stay inside this module. */
#ifndef GW_RESULT_H
#define GW_RESULT_H

#include "gw_plan.h"
#include "gw_sdc.h"
#include "hearth.pb-c.h"

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

void gw_result_free(Hearth__QueryResult **r_p);

#endif
