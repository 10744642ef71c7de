/* gw_link — links the persons of a linked query's parts through their
 * per-query tokens, evaluates EXISTS / NOT EXISTS / UNION per person, and
 * counts per cell. Tokens live only in this module's memory, are wiped
 * when it is destroyed, and are never logged or written.
 *
 * Persons are added chunk by chunk as the nodes' answers arrive (parts
 * interleave freely), so linking overlaps the nodes' work; gw_link_finish
 * then counts. Two persons are the same when they share any token,
 * transitively, across datasets and partners (a union-find). */
#ifndef GW_LINK_H
#define GW_LINK_H

#include "hearth_err.h"
#include "proto_cohort.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the linker needs to know of each part of the plan. */
typedef struct {
    bool cohort;                    /* a base dataset (cells) or an EXISTS target */
    unsigned atom;                  /* target: which EXISTS atom (0..atoms-1) */
    unsigned atoms;                 /* cohort: EXISTS atoms in its filter */
    proto_cohort_payload_t payload; /* cohort: per set bit; targets: PERSONS_ONLY */
    unsigned dataset;               /* equal for parts on the same node.dataset */
} gw_link_part_t;

typedef struct {
    uint64_t records;   /* COUNT(*): records; SUM/MEAN: records with a value */
    uint64_t persons;   /* distinct linked persons behind the cell */
    double sum;         /* SUM/MEAN */
} gw_link_count_t;

enum { GW_LINK_NHS_ONLY, GW_LINK_DSP_ONLY, GW_LINK_BOTH, GW_LINK_NONE, GW_LINK_KINDS };

typedef struct {
    size_t ncells;
    gw_link_count_t *cells;     /* owned; indexed by global cell number */
    gw_link_count_t total;      /* each person once */
    uint64_t linkage[GW_LINK_KINDS];  /* persons in the total, by how they linked */
} gw_link_result_t;

typedef struct gw_link_t gw_link_t;

/* A linker for nparts parts (copied); caller destroys. max_persons bounds
 * the persons of all parts together and max_tokens their tokens
 * (HEARTH_ERR_TOO_BIG from gw_link_add past either; the linker also stops
 * at 2^29 persons and 2^26 - 2 tokens whatever the bounds say). Parts it
 * cannot represent (more than 256, a cohort with more than
 * PROTO_COHORT_MAX_ATOMS atoms or an unknown payload, a target atom not
 * below PROTO_COHORT_MAX_ATOMS) make every later call fail with
 * HEARTH_ERR_USAGE. */
gw_link_t *gw_link_new(const gw_link_part_t *parts, size_t nparts, size_t max_persons,
                       size_t max_tokens);

/* Maps cohort part `part`'s local cells (the order of its chunk 0's groups)
 * to global cell numbers (the caller numbers distinct group values across
 * the parts of a UNION 0, 1, ...). Must be called once per cohort part,
 * before its first gw_link_add; global_cell is copied. HEARTH_ERR_USAGE
 * for a target part, a second call, or a call after the part's first add. */
hearth_err_t gw_link_set_cells(gw_link_t *self, size_t part, const uint32_t *global_cell,
                               size_t ncells, char **cause)
    __attribute__((warn_unused_result));

/* Reads one chunk of part's persons (proto_cohort encoding; borrowed only
 * for the call) and links them. HEARTH_ERR_PROTO with *cause for malformed
 * bytes (a person with more cells than its part lists included), a part
 * not below nparts, or a cohort part whose cells were never set;
 * HEARTH_ERR_TOO_BIG past the bounds. After an error the linker must only
 * be destroyed (further calls return HEARTH_ERR_USAGE). */
hearth_err_t gw_link_add(gw_link_t *self, size_t part, const void *persons, size_t len,
                         char **cause) __attribute__((warn_unused_result));

/* Counts global cells 0..nglobal-1 (every global number given to
 * gw_link_set_cells must be below nglobal, else HEARTH_ERR_USAGE) and the
 * total, and classifies how the persons in the total linked, into *out
 * (caller frees with gw_link_result_free; zeroed on error). A person's
 * linkage is the union of the kinds through which its base (cohort)
 * elements' tokens matched a token sent for another dataset. Called once;
 * the linker's tokens are wiped and freed here, and it must then only be
 * destroyed. */
hearth_err_t gw_link_finish(gw_link_t *self, size_t nglobal, gw_link_result_t *out,
                            char **cause)
    __attribute__((warn_unused_result));

void gw_link_result_free(gw_link_result_t *r);

/* Wipes and frees everything; NULL-safe; nulls *self_p. */
void gw_link_destroy(gw_link_t **self_p);

#endif
