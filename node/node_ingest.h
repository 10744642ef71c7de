/* node_ingest — loads one CSV extract into the node's store as a dataset.
 *
 * Identifier columns (nhs_number, date_of_birth, sex, postcode, and common
 * aliases of them) are normalised and turned into tokens; their raw values
 * are never written anywhere, reported, or kept past the row being read.
 * Columns that look like direct identifiers with no token role (names,
 * addresses, contact details) are excluded. Every other column is stored
 * as an attribute, typed categorical, integer, decimal or date: as a
 * schema file (node_schema.h) declares, else inferred from all its values
 * (integer if every non-empty value is one, else decimal, else date, else
 * categorical). A schema may also rename or exclude columns and say which
 * column holds each identifier.
 *
 * The whole ingest is one SQLite transaction: on any failure the previous
 * version of the dataset (and every other dataset) stays as it was. Rows of
 * the same person across the node's datasets share one local person id. */
#ifndef NODE_INGEST_H
#define NODE_INGEST_H

#include "hearth_err.h"
#include "keys_ident.h"
#include "keys_token.h"
#include "node_schema.h"
#include "node_store.h"

#include <stdbool.h>
#include <stdint.h>

/* Rejected rows listed one by one in a report; the rest are counted. */
#define NODE_INGEST_MAX_LISTED 100

typedef enum { NODE_ID_NHS, NODE_ID_DOB, NODE_ID_SEX, NODE_ID_POSTCODE, NODE_ID_COUNT } node_id_field_t;

typedef struct {
    uint64_t line;          /* physical line where the row starts */
    char reason[96];        /* never contains a value from the row */
} node_ingest_reject_t;

typedef struct {
    char *dataset;                   /* owned */
    uint64_t rows_read, rows_stored, rows_rejected;
    /* Stored rows carrying an NHS-number token, a DOB+sex+postcode token
     * (with_nhs and with_dsp both count a row with both), both, neither. */
    uint64_t with_nhs, with_dsp, with_both, with_none;
    /* The same for the dataset's persons: a person carries a kind of token
     * when any of its rows in this dataset does. These are the persons a
     * linked query can match through each route. */
    uint64_t persons_with_nhs, persons_with_dsp, persons_with_both, persons_with_none;
    uint64_t persons_dataset;        /* distinct persons in this dataset */
    uint64_t persons_node;           /* distinct persons across the node */
    bool has_id[NODE_ID_COUNT];      /* which identifier columns the file has */
    uint64_t id_status[NODE_ID_COUNT][KEYS_IDENT_BAD_DATE + 1];
    char id_columns[NODE_ID_COUNT][64];  /* header name of each identifier column, or "" */
    size_t nattributes;
    char **attributes;               /* owned: stored column names */
    node_col_type_t *types;          /* owned: the type of each attribute */
    bool typed;                      /* types[] is known (every row was read) */
    size_t nexcluded;
    char **excluded;                 /* owned: direct identifiers, not stored */
    size_t nomitted;
    char **omitted;                  /* owned: columns the schema excludes */
    char *schema;                    /* owned: the schema file's path, or NULL */
    size_t nrejects;                 /* listed, at most NODE_INGEST_MAX_LISTED */
    node_ingest_reject_t rejects[NODE_INGEST_MAX_LISTED];
} node_ingest_report_t;

typedef struct {
    bool strict;                   /* any rejected row aborts the ingest */
    const node_schema_t *schema;   /* borrowed; NULL: every type inferred */
} node_ingest_options_t;

/* Ingests csv_path as dataset into store, tokenising with tok. key_id is
 * the linkage key's id: an ingest with a different key from the one the
 * store was built with is refused, since its tokens would never link.
 * opt may be NULL. A schema that names a column the header lacks, or that
 * contradicts itself against the header, is refused (HEARTH_ERR_CONFIG)
 * before anything is stored.
 * On success *report (caller destroys) says what happened. On failure
 * nothing changed in the store, *cause says why, and *report may still be
 * set to say what was read. */
hearth_err_t node_ingest_run(node_store_t *store, const keys_token_t *tok,
                             const char *key_id, const char *dataset,
                             const char *csv_path, const node_ingest_options_t *opt,
                             node_ingest_report_t **report, char **cause)
    __attribute__((warn_unused_result));

/* A human-readable report (caller frees). */
char *node_ingest_report_format(const node_ingest_report_t *r);

void node_ingest_report_destroy(node_ingest_report_t **self_p);

/* Normalises a CSV header cell into a column name: lower case, runs of
 * anything but [a-z0-9] become one '_', no leading or trailing '_', a
 * leading digit gets a 'c_' prefix. Returns false when nothing is left or
 * the name would exceed 63 bytes. out must hold 64 bytes. */
bool node_ingest_column_name(const char *in, size_t len, char out[64]);

#endif
