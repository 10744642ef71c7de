/* gw_plan — turns a parsed query into one sub-query per node, checking
 * every name against what the nodes announced. Nothing from the analyst's
 * text travels except validated names and typed literal values. */
#ifndef GW_PLAN_H
#define GW_PLAN_H

#include "gw_parse.h"
#include "hearth.pb-c.h"
#include "hearth_err.h"

#include <stdbool.h>

/* A node's own limits on one sub-query (node/node_engine.h): the planner
 * refuses past them, so the analyst gets a clear query error, not a node
 * failure. */
#define GW_PLAN_MAX_TERMS 4096
#define GW_PLAN_MAX_VALUES 10000

/* What the planner knows of one node: its name and the datasets it last
 * announced (NULL when it has never connected). Both borrowed. */
typedef struct {
    const char *name;
    const Hearth__Hello *hello;
} gw_plan_node_t;

typedef struct {
    size_t node;              /* index into the nodes given to gw_plan_build */
    Hearth__SubQuery *sub;    /* owned */
} gw_plan_part_t;

typedef struct {
    gw_measure_t measure;
    bool measure_integer;     /* SUM/MEAN over integer columns only */
    size_t ngroup;
    char *group[3];           /* owned */
    gw_plan_part_t *parts;    /* owned */
    size_t nparts;
} gw_plan_t;

/* Plans q for query_id. On a name or type error returns HEARTH_ERR_PARSE
 * with err filled (offset into the query text, as for parse errors) — the
 * analyst's mistake. On a node that has not announced its datasets returns
 * HEARTH_ERR_NOT_FOUND with err->message naming it — not their mistake.
 * On an unsupported construct returns HEARTH_ERR_REFUSED. */
hearth_err_t gw_plan_build(const gw_query_t *q, const gw_plan_node_t *nodes, size_t nnodes,
                           const char *query_id, gw_plan_t **out, gw_parse_error_t *err)
    __attribute__((warn_unused_result));

void gw_plan_destroy(gw_plan_t **self_p);

/* Levenshtein distance of a and b, capped at cap+1 (for "did you mean"). */
size_t gw_plan_distance(const char *a, const char *b, size_t cap);

#endif
