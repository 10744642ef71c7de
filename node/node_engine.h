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
 * It also keeps, for linked queries (node_cohort), each person's distinct
 * stored tokens (read from the table's t_nhs and t_dsp) and where the
 * person's rows start.
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
    NODE_ENGINE_NOT = 13,
    NODE_ENGINE_EXISTS = 14     /* an EXISTS atom, fixed by the query's assignment */
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
 * [NOT] NULL); TRUE, AND, OR and NOT carry none and ignore column. EXISTS
 * carries none and holds its atom's index (0..natoms-1) in column; it is
 * TRUE for every row, or FALSE for every row (never UNKNOWN), as bit atom
 * of the query's assignment says. */
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
    size_t natoms;               /* EXISTS atoms, 0..PROTO_COHORT_MAX_ATOMS */
    uint64_t assignment;         /* bit i: the truth of atom i (bits from natoms on
                                  * are ignored) */
} node_engine_query_t;

/* How many of a cell's largest per-person contributions are kept, for
 * the gateway's dominance rule on SUM cells. */
#define NODE_ENGINE_TOP 3

/* One cell of an answer. */
typedef struct {
    uint32_t codes[NODE_ENGINE_MAX_GROUP_BY]; /* per group column; 0 = NULL */
    uint64_t records;            /* matching records */
    uint64_t persons;            /* distinct persons among them */
    uint64_t measured;           /* of those, records with a non-NULL measure */
    uint64_t measured_persons;   /* distinct persons among the measured */
    double sum;                  /* sum of the measure over the measured */
    /* With a measure: for each measured person, the sum of the absolute
     * values of its measured records in the cell; the ntop largest such
     * sums, largest first (ntop = measured_persons, at most
     * NODE_ENGINE_TOP). Entries from ntop on are 0; ntop is 0 without a
     * measure. */
    double top[NODE_ENGINE_TOP];
    uint8_t ntop;
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

/* Evaluates q's filter, with its EXISTS atoms fixed by q->assignment, and
 * sets bit r % 64 of rows[r / 64] for each row r it is known TRUE for (rows
 * in person order, as everywhere here). rows is the caller's, of
 * (node_engine_nrows + 63) / 64 words, and is zeroed here first (its
 * content is unspecified on error). Checks q as node_engine_run does
 * (grouping and measure included) and refuses the same way. */
hearth_err_t node_engine_select(const node_engine_t *self, const node_engine_query_t *q,
                                uint64_t *rows, char **cause)
    __attribute__((warn_unused_result));

/* ---- read-only views for node_cohort ------------------------------------
 * Each is borrowed and valid until the next load or destroy. Rows are in
 * person order; persons of dataset i are numbered 1..npersons in row order. */

/* Distinct persons loaded for dataset i (0 past the end). */
size_t node_engine_npersons(const node_engine_t *self, size_t i);

/* The rows of person p (1..npersons) of dataset i: [*first, *end). Both 0
 * when i or p is out of range. */
void node_engine_person_rows(const node_engine_t *self, size_t i, size_t p, size_t *first,
                             size_t *end);

/* Person p's distinct stored tokens (KEYS_TOKEN_LEN bytes each), *nnhs NHS-
 * number tokens then *ndsp DOB+sex+postcode tokens, each kind in the order
 * the person's rows first carry it, at most PROTO_COHORT_MAX_KIND_TOKENS
 * per kind (further ones are not kept). Returns NULL, both counts 0, when
 * the person has none or i or p is out of range. */
const uint8_t *node_engine_person_tokens(const node_engine_t *self, size_t i, size_t p,
                                         size_t *nnhs, size_t *ndsp);

/* The per-row codes of categorical column col of dataset i (0 = NULL, else
 * as node_engine_text), node_engine_nrows of them; NULL when col is not a
 * categorical column. */
const uint32_t *node_engine_codes(const node_engine_t *self, size_t i, size_t col);

/* Whether row r of integer or decimal column col of dataset i holds a
 * value; when it does, *v gets it (an integer as a double). false for a
 * NULL, a column of another type, or anything out of range. */
bool node_engine_number(const node_engine_t *self, size_t i, size_t col, size_t r, double *v);

/* Frees a result; NULL-safe; nulls *r_p. */
void node_engine_result_destroy(node_engine_result_t **r_p);

/* Parses a date 'YYYY-MM-DD' (exactly, and a day that exists) into days
 * since 1970-01-01; false otherwise. */
bool node_engine_parse_date(const char *s, size_t len, int64_t *days);

#endif
