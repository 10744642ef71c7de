/* node_answer — answers one sub-query from the gateway over the node's
 * in-memory engine with aggregates only: per group and in total, records
 * and distinct persons (COUNT(*), COUNT(PERSONS)), or for SUM and MEAN the
 * records and persons behind the non-NULL values and their sum; never a
 * row.
 *
 * Names in the query (dataset, columns) are looked up in the engine's
 * catalogue and become ordinals; values are handed to the engine as typed
 * values. No text from a query ever reaches SQLite: the engine answers
 * from memory. */
#ifndef NODE_ANSWER_H
#define NODE_ANSWER_H

#include "hearth.pb-c.h"
#include "hearth_err.h"
#include "node_engine.h"

/* Answers q over what engine holds and returns a new SubResult in *out
 * (free with node_answer_free). A query the node cannot answer (unknown
 * dataset or column, malformed filter, a value of the wrong kind, a GROUP
 * BY or measure on the wrong type of column, a limit) is an error with
 * *cause set; the caller turns it into a refusal for the gateway. The
 * engine and q are borrowed. */
hearth_err_t node_answer_run(const node_engine_t *engine, const Hearth__SubQuery *q,
                             Hearth__SubResult **out, char **cause)
    __attribute__((warn_unused_result));

/* Frees a SubResult built by node_answer_run; NULL-safe; nulls *r_p. */
void node_answer_free(Hearth__SubResult **r_p);

#endif
