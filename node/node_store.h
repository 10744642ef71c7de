/* node_store — the node's SQLite file: which datasets it holds, their
 * attribute columns, and one table per dataset version.
 *
 * Schema (identifiers are never stored; tokens are keyed hashes):
 *   meta(key, value)                 schema_version, linkage_key_id
 *   datasets(id, name, rows, persons, ingested_at)
 *   columns(dataset_id, ordinal, name, type)
 *   d_<id>(rec, person, t_nhs, t_dsp, a0, a1, ...)   one per dataset version
 * Table and column names in SQL are built only from integers (d_<id>,
 * a<ordinal>), never from a CSV header or a query. */
#ifndef NODE_STORE_H
#define NODE_STORE_H

#include "hearth_err.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_STORE_SCHEMA_VERSION "1"

/* Column types, numerically equal to the wire's Hearth__ColumnType. */
typedef enum {
    NODE_COL_CATEGORICAL = 0,
    NODE_COL_INTEGER = 1,
    NODE_COL_DECIMAL = 2,
    NODE_COL_DATE = 3
} node_col_type_t;

typedef struct {
    char *name;             /* owned */
    node_col_type_t type;
} node_store_column_t;

typedef struct {
    int64_t id;             /* the table is d_<id> */
    char *name;             /* owned; dataset name without the node prefix */
    int64_t rows;
    int64_t persons;
    size_t ncolumns;
    node_store_column_t *columns;   /* owned; attribute columns a0.. in order */
} node_store_dataset_t;

typedef struct node_store_t node_store_t;

/* Opens (creating if needed) the SQLite file at path with a rollback journal and
 * synchronous=FULL, creates the schema and loads the catalogue. */
hearth_err_t node_store_open(const char *path, node_store_t **out, char **cause)
    __attribute__((warn_unused_result));

void node_store_destroy(node_store_t **self_p);

/* The connection, borrowed: ingest and query code prepare their own
 * statements on it. */
sqlite3 *node_store_db(node_store_t *self);

/* Re-reads the datasets and columns tables (after an ingest). */
hearth_err_t node_store_reload(node_store_t *self, char **cause)
    __attribute__((warn_unused_result));

/* Sets *changed when another process (an ingest) has committed to the file
 * since the last call or since open, using SQLite's data_version; cheap
 * enough to call every second. */
hearth_err_t node_store_changed(node_store_t *self, bool *changed, char **cause)
    __attribute__((warn_unused_result));

size_t node_store_ndatasets(const node_store_t *self);
/* Borrowed; valid until the next reload or destroy. */
const node_store_dataset_t *node_store_dataset(const node_store_t *self, size_t i);
/* The dataset called name, or NULL. */
const node_store_dataset_t *node_store_find(const node_store_t *self, const char *name);
/* Ordinal of the column called name in ds, or -1. */
int node_store_column_index(const node_store_dataset_t *ds, const char *name);

/* Reads meta key into a new string (*value, caller frees; NULL if absent). */
hearth_err_t node_store_meta_get(node_store_t *self, const char *key, char **value,
                                 char **cause);
hearth_err_t node_store_meta_set(node_store_t *self, const char *key, const char *value,
                                 char **cause);

/* Runs one SQL statement with no parameters and no result (DDL, BEGIN...).
 * The text must be built by our code, never contain input. */
hearth_err_t node_store_exec(node_store_t *self, const char *sql, char **cause);

#endif
