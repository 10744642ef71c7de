/* node_answer — answers one aggregate sub-query from the gateway over the
 * node's in-memory engine: per group and in total, records and distinct
 * persons (COUNT(*), COUNT(PERSONS)), or for SUM and MEAN the records and
 * persons behind the non-NULL values, their sum, and the largest per-person
 * sums of their absolute values (GroupCount.top, at most NODE_ENGINE_TOP,
 * largest first: the inputs of the gateway's dominance rule); never a
 * row. It also
 * turns any sub-query (aggregate, cohort or target) into the engine's
 * terms, for node_cohort to answer linked parts with.
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

/* A sub-query in the engine's terms: names become ordinals, wire values
 * typed values, TERM_EXISTS terms NODE_ENGINE_EXISTS terms on their atom. */
typedef struct {
    node_engine_query_t q;         /* q.terms points at terms */
    node_engine_term_t *terms;     /* owned */
    node_engine_value_t *values;   /* owned; their texts are borrowed from the
                                    * SubQuery, which must outlive this */
} node_answer_query_t;

/* Turns sq into *out over what engine holds (free with
 * node_answer_query_free, also after a failure). Refuses, with *cause set:
 * an unknown dataset or column (HEARTH_ERR_NOT_FOUND), an unknown
 * operator, measure or kind, a NULL filter value, EXISTS atoms on a part
 * other than a cohort, or an EXISTS term whose atom is not below
 * sq->atoms (HEARTH_ERR_PROTO), more than NODE_ENGINE_MAX_GROUP_BY groups,
 * NODE_ENGINE_MAX_TERMS terms, NODE_ENGINE_MAX_VALUES values or
 * PROTO_COHORT_MAX_ATOMS atoms (HEARTH_ERR_TOO_BIG). The shape of the
 * postfix program and the kinds of its values are the engine's to check.
 * engine and sq are borrowed. */
hearth_err_t node_answer_query_init(const node_engine_t *engine, const Hearth__SubQuery *sq,
                                    node_answer_query_t *out, char **cause)
    __attribute__((warn_unused_result));

/* Frees what q owns and clears it; safe to call twice. */
void node_answer_query_free(node_answer_query_t *q);

/* Answers the aggregate sub-query q over what engine holds and returns a
 * new SubResult (with q's part) in *out (free with node_answer_free). A
 * query the node cannot answer (not an aggregate, unknown dataset or
 * column, malformed filter, a value of the wrong kind, a GROUP BY or
 * measure on the wrong type of column, a limit) is an error with *cause
 * set; the caller turns it into a refusal for the gateway. The engine and
 * q are borrowed. */
hearth_err_t node_answer_run(const node_engine_t *engine, const Hearth__SubQuery *q,
                             Hearth__SubResult **out, char **cause)
    __attribute__((warn_unused_result));

/* Frees a SubResult built by node_answer_run; NULL-safe; nulls *r_p. */
void node_answer_free(Hearth__SubResult **r_p);

#endif
