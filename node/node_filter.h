/* node_filter — compiles a sub-query's postfix filter into an SQL WHERE
 * clause over a dataset's internal column names (a0, a1, ...), with every
 * value a numbered parameter (?1, ?2, ... in term order).
 *
 * Chains of the same operator are flattened and emitted in groups of at
 * most NODE_FILTER_FANOUT, so a long OR chain from an analyst neither
 * overflows SQLite's parser stack (about 100 nested parentheses) nor its
 * expression depth limit (1000). */
#ifndef NODE_FILTER_H
#define NODE_FILTER_H

#include "hearth.pb-c.h"
#include "hearth_err.h"
#include "node_store.h"

#define NODE_FILTER_MAX_TERMS 4096
#define NODE_FILTER_MAX_VALUES 10000
/* Alternations of AND / OR / NOT allowed after flattening. */
#define NODE_FILTER_MAX_DEPTH 16
#define NODE_FILTER_FANOUT 32

/* Writes the WHERE clause for q's filter over ds into *where (caller
 * frees); "1" when there is no filter. Refuses malformed postfix, terms
 * with the wrong number of values, unknown columns and filters over the
 * limits above, with *cause set. */
hearth_err_t node_filter_sql(const node_store_dataset_t *ds, const Hearth__SubQuery *q,
                             char **where, char **cause) __attribute__((warn_unused_result));

/* Binds q's filter values to st in term order, matching the ?N numbering
 * of node_filter_sql. Values are borrowed (SQLITE_STATIC): q must outlive
 * the statement's use. */
hearth_err_t node_filter_bind(sqlite3_stmt *st, const Hearth__SubQuery *q, char **cause)
    __attribute__((warn_unused_result));

#endif
