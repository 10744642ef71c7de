/* gw_diff — refusing the second half of a differencing pair.
 *
 * Two tables of the same family (same datasets, measure and group columns)
 * whose filters differ by exactly one conjunct (F against F AND P, or
 * F AND NOT P) describe two populations, one inside the other; subtracting
 * one released table from the other shows the people the extra conjunct
 * removed. When some cell's true counts differ by 1..threshold, the pair
 * singles out a few people, however well each table was protected alone.
 *
 * The check is syntactic: filters are compared as sets of canonically
 * formatted conjuncts (the WHERE split on AND), so it catches the classic
 * attack written any way round, but not a pair whose filters differ in a way
 * only algebra shows (a IN ('x', 'y') against a = 'x' OR a = 'y'). Rate
 * limits ([disclosure] max_queries_per_hour) bound what it cannot see.
 *
 * Use: gw_diff_family and gw_diff_conjuncts on the query, gw_diff_check
 * with the table's true counts before anything is released, then
 * gw_store_release_add with the same arguments before the answer is sent
 * (see gw_store.h on doing both atomically). */
#ifndef GW_DIFF_H
#define GW_DIFF_H

#include "gw_parse.h"
#include "gw_store.h"
#include "hearth_err.h"

#include <stddef.h>
#include <stdint.h>

/* The reason given for a refusal: no number, no cell, no earlier query. */
#define GW_DIFF_REFUSAL \
    "this answer, with an earlier one in this project, would single out a few people; " \
    "ask a broader question"

/* Writes to out the family of q: the lower-case hex SHA-256 of its FROM
 * datasets (sorted, so UNION order does not matter), its measure and
 * measure column, and its group columns in order. Returns HEARTH_OK, or
 * HEARTH_ERR_INTERNAL (out "") for a malformed tree (a missing name). */
hearth_err_t gw_diff_family(const gw_query_t *q, char out[65]) __attribute__((warn_unused_result));

/* Sets *out to q's WHERE split on AND at every level that is only AND
 * (a AND (b AND c) gives three), each part canonically formatted
 * (gw_expr_format), sorted (strcmp) and without duplicates; *n to how many
 * (0, *out NULL, when q has no WHERE). The caller frees with
 * gw_diff_conjuncts_free. HEARTH_ERR_INTERNAL (nothing allocated) when a
 * part cannot be formatted. */
hearth_err_t gw_diff_conjuncts(const gw_query_t *q, char ***out, size_t *n)
    __attribute__((warn_unused_result));

/* Frees what gw_diff_conjuncts gave; NULL-safe; sets *conjuncts_p to NULL. */
void gw_diff_conjuncts_free(char ***conjuncts_p, size_t n);

/* Returns a new key (caller frees) for a cell whose group values are
 * values[0..n) as text (NULL for a missing value): each written as
 * "<bytes>:<value>;" or "~;" for NULL, so no two lists give one key. The
 * total (n 0) is "". Returns NULL when the key would be longer than
 * GW_STORE_MAX_TEXT. */
char *gw_diff_cell_key(const char *const *values, size_t n);

/* Checks a table about to be released in project ("" for none) against
 * those already kept in store: family from gw_diff_family, conjuncts[0..n)
 * from gw_diff_conjuncts, cells[0..ncells) its cells with their true counts
 * (the total included, under key ""); all borrowed. Returns
 * HEARTH_ERR_REFUSED with *cause GW_DIFF_REFUSAL when some kept release of
 * the same project and family has conjuncts that are these plus one, or
 * these less one, and some cell's true counts differ by 1..threshold (a
 * cell missing on one side counts 0). Returns HEARTH_OK when none does
 * (always when threshold is 0), or the store's error. */
hearth_err_t gw_diff_check(gw_store_t *store, uint32_t threshold, const char *project,
                           const char *family, const char *const *conjuncts, size_t n,
                           const gw_store_cell_t *cells, size_t ncells, char **cause)
    __attribute__((warn_unused_result));

#endif
