/* node_answer — answers one sub-query over the node's own data with
 * aggregates only: per-group COUNT(*) and COUNT(PERSONS), never a row.
 *
 * SQL is built only from the validated plan: table and column names come
 * from the store's catalogue (d_<id>, a<ordinal>), every value is a bound
 * parameter, so no text from a query ever reaches sqlite3_prepare. */
#ifndef NODE_ANSWER_H
#define NODE_ANSWER_H

#include "hearth.pb-c.h"
#include "hearth_err.h"
#include "node_store.h"

/* Limits on a sub-query, checked before any SQL is built. */
#define NODE_ANSWER_MAX_GROUP_BY 3

/* Answers q and returns a new SubResult in *out (free with
 * node_answer_free). A query the node cannot answer (unknown dataset or
 * column, malformed filter) is an error with *cause set; the caller turns
 * it into a refusal for the gateway. */
hearth_err_t node_answer_run(node_store_t *store, const Hearth__SubQuery *q,
                             Hearth__SubResult **out, char **cause)
    __attribute__((warn_unused_result));

/* Frees a SubResult built by node_answer_run; NULL-safe; nulls *r_p. */
void node_answer_free(Hearth__SubResult **r_p);

#endif
