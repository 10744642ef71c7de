/* node_cohort — a node's answer to a linked sub-query: the persons that
 * match, each as its per-query tokens and (for the base dataset) the cells
 * it has matching records in, streamed in chunks in random person order.
 * The encoding is proto/proto_cohort.h; the semantics are in
 * docs/design/linkage.md. Nothing about a person but its re-keyed tokens,
 * its cells' masks and (for COUNT(*), SUM, MEAN) per-cell record counts and
 * sums ever leaves here. */
#ifndef NODE_COHORT_H
#define NODE_COHORT_H

#include "hearth_buf.h"
#include "hearth_err.h"
#include "keys_token.h"
#include "node_engine.h"
#include "proto_cohort.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct node_cohort_t node_cohort_t;

/* Selects the persons of q over engine (both borrowed; they must outlive
 * the cohort). cohort: a base dataset (cells, masks over 2^q->natoms
 * assignments, payload per set bit) or else an EXISTS target (persons with
 * at least one token, no cells; q->natoms must be 0). query_key is the
 * context from keys_token_for_query for this query id (borrowed). Refuses
 * with HEARTH_ERR_REFUSED when between 1 and min_persons - 1 persons would
 * be sent (the cause states the node's minimum, never the number), and with
 * the engine's errors for a bad query. On success *out is a new cohort
 * (free with node_cohort_destroy). */
hearth_err_t node_cohort_new(const node_engine_t *engine, const node_engine_query_t *q,
                             bool cohort, proto_cohort_payload_t payload,
                             const keys_token_t *query_key, size_t min_persons,
                             node_cohort_t **out, char **cause)
    __attribute__((warn_unused_result));

/* Persons that will be sent. */
size_t node_cohort_npersons(const node_cohort_t *self);

/* Cells persons refer to (0 for a target): cell i's group codes, one per
 * q->group column (0 = NULL), valid until destroy; turn them into text with
 * node_engine_text. Cells are numbered in code order (NULL first, then
 * values in byte order, column by column), as node_engine_run lists its
 * groups; with no GROUP BY there is one cell (when any person is sent). */
size_t node_cohort_ncells(const node_cohort_t *self);
const uint32_t *node_cohort_cell_codes(const node_cohort_t *self, size_t i);

/* Resets out and appends the next persons to it in the proto_cohort
 * encoding until it passes PROTO_COHORT_CHUNK_BYTES or every person is
 * written; *more is set when persons remain. A chunk may be empty only
 * when there are no persons at all. */
hearth_err_t node_cohort_next_chunk(node_cohort_t *self, hearth_buf_t *out, bool *more,
                                    char **cause) __attribute__((warn_unused_result));

/* Frees the cohort, wiping the per-query tokens it built; NULL-safe. */
void node_cohort_destroy(node_cohort_t **self_p);

#endif
