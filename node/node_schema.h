/* node_schema — column types at ingest: which values each type accepts and
 * how they are written, and the schema file with which a data manager
 * types, renames or excludes an extract's columns and says which column
 * holds each identifier.
 *
 * The schema file (INI; `;` starts a comment):
 *   [columns]
 *   <column> = categorical | integer | decimal | date | exclude
 *   [rename]
 *   <column> = <new column name>
 *   [identifiers]
 *   nhs_number = <column>        ; also date_of_birth, sex, postcode
 * Every column name, key or value, is normalised the way a header cell is
 * (node_ingest_column_name), and always names the column as the extract's
 * header does, before any [rename]. Loading checks the file on its own;
 * whether the names exist is checked against the header at ingest. */
#ifndef NODE_SCHEMA_H
#define NODE_SCHEMA_H

#include "hearth_err.h"
#include "node_store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text a number may have; anything longer is not a number. */
#define NODE_SCHEMA_NUMBER_MAX 400
/* Most digits a decimal may have before its point (leading zeros aside):
 * so every decimal is a finite double. */
#define NODE_SCHEMA_DECIMAL_DIGITS 308
/* "YYYY-MM-DD" */
#define NODE_SCHEMA_DATE_LEN 10
/* Settings a schema file may hold (an extract has at most 1 024 columns). */
#define NODE_SCHEMA_MAX_ENTRIES 4096

/* What [columns] says about a column: a node_col_type_t, or one of these. */
#define NODE_SCHEMA_AUTO (-1)     /* not named: the type is inferred */
#define NODE_SCHEMA_EXCLUDE (-2)  /* never stored */

/* The name of a type as the schema file, reports and messages write it:
 * "categorical", "integer", "decimal" or "date" (static). */
const char *node_schema_type_name(node_col_type_t type);

/* The values below are cells with surrounding blanks already trimmed;
 * each reads at most len bytes of s, which need not be NUL-terminated. */

/* An integer: an optional sign and digits, whose value fits in int64, in
 * at most NODE_SCHEMA_NUMBER_MAX characters (so every integer is a decimal).
 * On success stores the value in *out and sets *canonical when s is
 * exactly how the value prints (no '+', no leading zero, no "-0"), so that
 * printing the stored value gives back the same text. */
bool node_schema_integer(const char *s, size_t len, int64_t *out, bool *canonical);

/* A decimal: an optional sign, digits, then optionally '.' and digits; no
 * exponent, no thousands separators, at most NODE_SCHEMA_NUMBER_MAX
 * characters and NODE_SCHEMA_DECIMAL_DIGITS digits before the point
 * (leading zeros aside). Every integer is a decimal. On success stores the
 * nearest double in *out when out is not NULL. */
bool node_schema_decimal(const char *s, size_t len, double *out);

/* A date that exists in the Gregorian calendar, years 0001 to 9999, written
 * YYYY-MM-DD or DD/MM/YYYY (day and month may have one digit: D/M/YYYY).
 * On success writes "YYYY-MM-DD" and a NUL to out when out is not NULL,
 * and sets *iso (when not NULL) if s was already written that way. */
bool node_schema_date(const char *s, size_t len, char out[NODE_SCHEMA_DATE_LEN + 1],
                      bool *iso);

typedef struct node_schema_t node_schema_t;

/* Reads the schema file at path into *out (caller destroys). Refuses, with
 * "<path>:<line>: <reason>" in *cause: an unknown section, key or type, a
 * name with no letter or digit, a column set twice in one section, two
 * columns renamed to one name, a column given for two identifiers, and
 * more than NODE_SCHEMA_MAX_ENTRIES settings. HEARTH_ERR_NOT_FOUND when
 * the file cannot be read, HEARTH_ERR_CONFIG otherwise. */
hearth_err_t node_schema_load(const char *path, node_schema_t **out, char **cause)
    __attribute__((warn_unused_result));

/* NULL-safe; nulls *self_p. */
void node_schema_destroy(node_schema_t **self_p);

/* The path the schema was read from (borrowed). */
const char *node_schema_path(const node_schema_t *self);

/* What [columns] says about column (a normalised header name): a
 * node_col_type_t, NODE_SCHEMA_EXCLUDE or NODE_SCHEMA_AUTO. */
int node_schema_column(const node_schema_t *self, const char *column);

/* The new name [rename] gives column, or NULL (borrowed). */
const char *node_schema_rename(const node_schema_t *self, const char *column);

/* The column [identifiers] names for identifier ("nhs_number",
 * "date_of_birth", "sex" or "postcode"), or NULL (borrowed). */
const char *node_schema_identifier(const node_schema_t *self, const char *identifier);

/* The first column the schema names that is not among header[0..n), or
 * NULL when all are there; *section (when not NULL) is set to the section
 * naming it, e.g. "columns". Both borrowed from self. */
const char *node_schema_unknown(const node_schema_t *self, const char *const *header,
                                size_t n, const char **section);

/* The schema file that goes with the extract at csv_path when none is
 * given: csv_path with a final ".csv" (any case) replaced by ".schema.ini",
 * or with ".schema.ini" appended when it has no such ending. Returns that
 * path if something exists there (caller frees), else NULL. */
char *node_schema_sidecar(const char *csv_path);

#endif
