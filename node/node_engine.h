/* node_engine — the node's datasets held in memory as column vectors, and
 * the evaluation of filters, groupings and measures over them, so that a
 * query never re-scans SQLite.
 *
 * SQLite stays the durable store: node_engine_load reads each dataset once
 * with a fixed SELECT built from integers (d_<id>, a<ordinal>) and keeps
 *   - rows re-ordered by person, so distinct persons in any subset of rows
 *     are counted in one pass by remembering the last person seen;
 *   - categorical columns dictionary-encoded: uint32 codes, 0 for NULL, the
 *     dictionary sorted in byte order (memcmp, shorter first on a tie, as
 *     SQLite's BINARY collation), so code order is value order and every
 *     comparison with a text becomes a range of codes;
 *   - integer and date columns as int64 (a date as days since 1970-01-01),
 *     decimal columns as double, each with a bitset of non-NULL cells;
 *   - for each categorical column the catalogue values: those held by at
 *     least NODE_ENGINE_VALUE_MIN_PERSONS distinct persons.
 *
 * A query arrives as a postfix program over column ordinals with typed
 * values (node_answer builds it from the wire). It is evaluated in blocks
 * of rows with SQL's three-valued logic kept as two bitsets (known true,
 * known false; neither is UNKNOWN), with an explicit stack: nothing
 * recurses, whatever the filter's shape. Nothing here ever returns a row. */
#ifndef NODE_ENGINE_H
#define NODE_ENGINE_H

#include "hearth_err.h"
#include "node_store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_ENGINE_MAX_GROUP_BY 3
#define NODE_ENGINE_MAX_TERMS 4096
#define NODE_ENGINE_MAX_VALUES 10000
/* A categorical value is listed in the catalogue when at least this many
 * distinct persons hold it, so the catalogue discloses no small number. */
#define NODE_ENGINE_VALUE_MIN_PERSONS 8
/* At most this many values are listed per column (then "truncated"). */
#define NODE_ENGINE_MAX_CATALOGUE_VALUES 200
/* Longer values are never listed (and mark the list truncated): a
 * catalogue is for reading, and a Hello must stay a sane size. */
#define NODE_ENGINE_CATALOGUE_VALUE_MAX_LEN 1024

/* Filter operators, numerically equal to the wire's Hearth__TermOp. */
typedef enum {
    NODE_ENGINE_TRUE = 0,
    NODE_ENGINE_EQ = 1,
    NODE_ENGINE_NE = 2,
    NODE_ENGINE_LT = 3,
    NODE_ENGINE_LE = 4,
    NODE_ENGINE_GT = 5,
    NODE_ENGINE_GE = 6,
    NODE_ENGINE_IN = 7,
    NODE_ENGINE_BETWEEN = 8,
    NODE_ENGINE_IS_NULL = 9,
    NODE_ENGINE_IS_NOT_NULL = 10,
    NODE_ENGINE_AND = 11,
    NODE_ENGINE_OR = 12,
    NODE_ENGINE_NOT = 13
} node_engine_op_t;

/* The kind of a filter value as it arrived. Text goes with categorical
 * columns, and with date columns as 'YYYY-MM-DD'; integers and decimals go
 * with integer and decimal columns. Any other pairing is refused. */
typedef enum {
    NODE_ENGINE_VALUE_TEXT,
    NODE_ENGINE_VALUE_INTEGER,
    NODE_ENGINE_VALUE_DECIMAL
} node_engine_value_kind_t;

typedef struct {
    node_engine_value_kind_t kind;
    const char *text;     /* TEXT: borrowed, len bytes (need not end in NUL) */
    size_t len;
    int64_t integer;      /* INTEGER */
    double decimal;       /* DECIMAL; NaN is refused */
} node_engine_value_t;

/* One postfix term. Leaves (EQ .. IS_NOT_NULL) name a column by ordinal and
 * carry 1 value (comparisons), 2 (BETWEEN), 1 or more (IN) or none (IS
 * [NOT] NULL); TRUE, AND, OR and NOT carry none and ignore column. */
typedef struct {
    node_engine_op_t op;
    size_t column;
    size_t nvalues;
    const node_engine_value_t *values;   /* borrowed */
} node_engine_term_t;

typedef struct {
    size_t dataset;                          /* index, as node_engine_dataset */
    size_t ngroup;                           /* 0..NODE_ENGINE_MAX_GROUP_BY */
    size_t group[NODE_ENGINE_MAX_GROUP_BY];  /* categorical column ordinals */
    int measure;                 /* numeric column ordinal for SUM/MEAN, or -1 */
    size_t nterms;               /* 0: every record */
    const node_engine_term_t *terms;         /* borrowed; postfix */
} node_engine_query_t;

/* One cell of an answer. */
typedef struct {
    uint32_t codes[NODE_ENGINE_MAX_GROUP_BY]; /* per group column; 0 = NULL */
    uint64_t records;            /* matching records */
    uint64_t persons;            /* distinct persons among them */
    uint64_t measured;           /* of those, records with a non-NULL measure */
    uint64_t measured_persons;   /* distinct persons among the measured */
    double sum;                  /* sum of the measure over the measured */
} node_engine_group_t;

typedef struct {
    size_t ngroups;
    node_engine_group_t *groups;  /* owned; every combination that occurs, NULL
                                   * first then values in byte order, column by
                                   * column */
    node_engine_group_t total;    /* all matching records (codes all 0) */
} node_engine_result_t;

typedef struct node_engine_t node_engine_t;

/* A new engine holding no dataset. Free with node_engine_destroy. */
node_engine_t *node_engine_new(void);

/* Frees the engine and everything it loaded; NULL-safe; nulls *self_p. */
void node_engine_destroy(node_engine_t **self_p);

/* Re-reads the store's catalogue (node_store_reload) and every dataset's
 * rows in one read transaction, so the two agree, and replaces what the
 * engine held. On error the engine keeps what it held before and *cause
 * says why (naming datasets and columns, never a value). The store is
 * borrowed. */
hearth_err_t node_engine_load(node_engine_t *self, node_store_t *store, char **cause)
    __attribute__((warn_unused_result));

/* Datasets held, in the store's order (by name). */
size_t node_engine_ndatasets(const node_engine_t *self);
/* Dataset i's name and columns as loaded (borrowed, valid until the next
 * load or destroy); NULL past the end. */
const node_store_dataset_t *node_engine_dataset(const node_engine_t *self, size_t i);
/* Index of the dataset called name, or -1. */
int node_engine_find(const node_engine_t *self, const char *name);
/* Rows loaded for dataset i. */
size_t node_engine_nrows(const node_engine_t *self, size_t i);

/* The catalogue values of column col of dataset i: the column's values held
 * by at least NODE_ENGINE_VALUE_MIN_PERSONS distinct persons, in byte order,
 * at most NODE_ENGINE_MAX_CATALOGUE_VALUES, each valid UTF-8 and NUL-
 * terminated. *truncated is set when some qualifying value is not listed.
 * Returns the array (borrowed, valid until the next load or destroy) and
 * its length in *n; none for a column that is not categorical. */
const char *const *node_engine_catalogue(const node_engine_t *self, size_t i, size_t col,
                                         size_t *n, bool *truncated);

/* The text of categorical code in column col of dataset i, NUL-terminated
 * (borrowed; *len bytes when len is not NULL), or NULL for code 0 (NULL) or
 * a code out of range. */
const char *node_engine_text(const node_engine_t *self, size_t i, size_t col, uint32_t code,
                             size_t *len);

/* Evaluates q and returns its per-group and total counts in *out (free with
 * node_engine_result_destroy). Refuses, with *cause set: a malformed postfix
 * program or term (HEARTH_ERR_PROTO: "malformed filter", "malformed filter
 * term"), a value of the wrong kind for its column (PROTO), a GROUP BY on a
 * column that is not categorical or a measure on one that is not numeric
 * (HEARTH_ERR_REFUSED), limits (HEARTH_ERR_TOO_BIG), an unknown dataset or
 * column index (HEARTH_ERR_NOT_FOUND). Never returns a row. */
hearth_err_t node_engine_run(const node_engine_t *self, const node_engine_query_t *q,
                             node_engine_result_t **out, char **cause)
    __attribute__((warn_unused_result));

/* Frees a result; NULL-safe; nulls *r_p. */
void node_engine_result_destroy(node_engine_result_t **r_p);

/* Parses a date 'YYYY-MM-DD' (exactly, and a day that exists) into days
 * since 1970-01-01; false otherwise. */
bool node_engine_parse_date(const char *s, size_t len, int64_t *days);

#endif
