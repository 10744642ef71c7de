/* gw_plan — turns a parsed query into sub-queries for the nodes, checking
 * every name against what the nodes announced. Nothing from the analyst's
 * text travels except validated names and typed literal values.
 *
 * An aggregate query becomes one AGGREGATE part per FROM dataset. A linked
 * query (EXISTS anywhere in WHERE, or COUNT(PERSONS) over a UNION) becomes
 * one COHORT part per FROM dataset, whose filter has each EXISTS replaced by
 * a TERM_EXISTS atom, then one TARGET part per EXISTS, in source order (see
 * docs/design/linkage.md and proto/hearth.proto). */
#ifndef GW_PLAN_H
#define GW_PLAN_H

#include "gw_parse.h"
#include "hearth.pb-c.h"
#include "hearth_err.h"
#include "proto_cohort.h"

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
    Hearth__SubQuery *sub;    /* owned; kind, atoms, part and nparts filled in */
    Hearth__SubQueryKind kind;      /* as sub->kind */
    unsigned atom;            /* TARGET: the EXISTS it answers (0..natoms-1) */
    /* What each person carries per set mask bit: from the measure for
     * AGGREGATE and COHORT parts, PERSONS_ONLY for TARGET parts. */
    proto_cohort_payload_t payload;
    /* Equal for parts on the same node.dataset, numbered 0, 1, ... in part
     * order (the linker tells links within a dataset from links across). */
    unsigned dataset;
} gw_plan_part_t;

typedef struct {
    gw_measure_t measure;
    bool measure_integer;     /* SUM/MEAN over integer columns only */
    size_t ngroup;
    char *group[3];           /* owned */
    /* The nfrom base parts in FROM order (AGGREGATE, or COHORT when
     * linked), then for a linked query the natoms TARGET parts in EXISTS
     * order. Parts sent to one node carry part 0..n-1 and nparts n. */
    gw_plan_part_t *parts;    /* owned */
    size_t nparts;
    bool linked;              /* persons are linked across the parts */
    unsigned natoms;          /* EXISTS sub-selects: 0..PROTO_COHORT_MAX_ATOMS */
} gw_plan_t;

/* Plans q for query_id. On a name or type error returns HEARTH_ERR_PARSE
 * with err filled (offset into the query text, as for parse errors) — the
 * analyst's mistake. On a node that has not announced its datasets returns
 * HEARTH_ERR_NOT_FOUND with err->message naming it — not their mistake.
 * On an unsupported construct (more than PROTO_COHORT_MAX_ATOMS EXISTS)
 * returns HEARTH_ERR_REFUSED. A filter past GW_PLAN_MAX_TERMS or
 * GW_PLAN_MAX_VALUES in any one part is HEARTH_ERR_TOO_BIG. On success *out
 * is a new plan the caller frees with gw_plan_destroy. */
hearth_err_t gw_plan_build(const gw_query_t *q, const gw_plan_node_t *nodes, size_t nnodes,
                           const char *query_id, gw_plan_t **out, gw_parse_error_t *err)
    __attribute__((warn_unused_result));

/* Frees the plan and its sub-queries; NULL-safe; nulls *self_p. */
void gw_plan_destroy(gw_plan_t **self_p);

/* Levenshtein distance of a and b, capped at cap+1 (for "did you mean"). */
size_t gw_plan_distance(const char *a, const char *b, size_t cap);

#endif
