/* gw_parse — the parser for the analyst's query language.
 *
 * Turns the small SQL dialect of the product brief ("Query language") into a
 * syntax tree, and renders parse errors for a human with a caret under the
 * offending token. It checks syntax and the purely syntactic rules (GROUP BY
 * lists exactly the SELECT list's group columns, no duplicate group columns,
 * no EXISTS inside an EXISTS sub-select); it does not know the catalogue, so
 * whether a column or dataset exists is the planner's question.
 *
 *   query       := SELECT select_list FROM from_list [WHERE expr]
 *                  [GROUP BY ident {, ident}] [;]
 *   select_list := [ident {, ident} ,] measure    (0..3 group columns)
 *   measure     := COUNT(*) | COUNT(PERSONS) | SUM(ident) | MEAN(ident)
 *   from_list   := dsref {UNION dsref}            dsref := ident . ident
 *   expr        := or_expr; OR < AND < NOT < comparison (SQL precedence)
 *   predicate   := ( expr ) | EXISTS (SELECT * FROM dsref [WHERE expr])
 *                | ident cmp literal | ident [NOT] IN (literal {, literal})
 *                | ident [NOT] BETWEEN literal AND literal
 *                | ident IS [NOT] NULL
 *   literal     := 'string' | integer | decimal | -number | DATE 'YYYY-MM-DD'
 *
 * Lexical rules:
 * - Keywords are case-insensitive. The reserved words (which must be written
 *   "quoted" to be used as names) are SELECT FROM WHERE GROUP BY AND OR NOT
 *   IN BETWEEN IS NULL EXISTS UNION DATE. COUNT, SUM, MEAN and PERSONS are
 *   recognised only where a measure is expected, so columns may bear them.
 * - Bare identifiers are folded to lower case (as PostgreSQL does), so
 *   `Ward` and `ward` are one column; "Quoted" identifiers keep their case
 *   and may hold any printable UTF-8 ("" for a quote). Identifiers in the
 *   tree are the folded or unescaped name, never the source spelling.
 * - Strings use '' for a quote and may not contain control characters.
 * - There are no comments; whitespace is space, tab, CR and LF.
 *
 * Every identifier, string and literal text in the tree is owned by the tree
 * and freed with free() by gw_query_destroy(), so a planner may build or
 * edit trees with hearth_malloc/hearth_strdup and free them the same way. */
#ifndef GW_PARSE_H
#define GW_PARSE_H

#include "hearth_err.h"

#include <stddef.h>
#include <stdint.h>

/* Bounds on hostile input. Exceeding any is HEARTH_ERR_TOO_BIG with an
 * error message naming the limit. */
typedef struct {
    size_t max_query_len;   /* bytes of query text */
    size_t max_in_list;     /* values in one IN (...) list */
    size_t max_depth;       /* nesting of parentheses, NOT and EXISTS */
    size_t max_ident_len;   /* bytes of one identifier (after unescaping) */
    size_t max_string_len;  /* bytes of one string literal (after unescaping) */
} gw_parse_limits_t;

/* max_depth above this is treated as this, so that no configuration can let
 * an input exhaust the parser's stack. */
#define GW_PARSE_MAX_DEPTH_CAP 256

/* Longest text gw_query_format() will produce (a hand-built tree could be
 * larger than any parsed one). */
#define GW_PARSE_FORMAT_MAX ((size_t)16 * 1024 * 1024)

typedef enum {
    GW_MEASURE_COUNT_RECORDS,   /* COUNT(*) */
    GW_MEASURE_COUNT_PERSONS,   /* COUNT(PERSONS) */
    GW_MEASURE_SUM,             /* SUM(col) */
    GW_MEASURE_MEAN             /* MEAN(col) */
} gw_measure_t;

typedef enum { GW_LIT_STRING, GW_LIT_INTEGER, GW_LIT_DECIMAL, GW_LIT_DATE } gw_lit_kind_t;

typedef struct {
    gw_lit_kind_t kind;
    /* Owned, never NULL in a parsed tree:
     *   STRING:  the unescaped value;
     *   INTEGER: the value in decimal ("-5"; leading zeros dropped);
     *   DECIMAL: canonical source text: sign only when not zero, integer
     *            part without leading zeros, fraction without trailing zeros
     *            but at least one digit ("-0012.50" gives "-12.5");
     *   DATE:    "YYYY-MM-DD", a real calendar date in years 0001-9999. */
    char *text;
    int64_t integer;   /* INTEGER: the value */
    double decimal;    /* DECIMAL: the nearest double to text */
    size_t offset;     /* byte offset of the literal's first token ('-', DATE) */
} gw_literal_t;

typedef enum { GW_CMP_EQ, GW_CMP_NE, GW_CMP_LT, GW_CMP_LE, GW_CMP_GT, GW_CMP_GE } gw_cmp_t;

typedef enum {
    GW_EXPR_AND, GW_EXPR_OR, GW_EXPR_NOT, GW_EXPR_CMP, GW_EXPR_IN, GW_EXPR_BETWEEN,
    GW_EXPR_IS_NULL, GW_EXPR_IS_NOT_NULL, GW_EXPR_EXISTS
} gw_expr_kind_t;

/* A dataset reference node.dataset; both names owned. */
typedef struct {
    char *node;
    char *dataset;
    size_t offset;   /* byte offset of the node name */
} gw_dsref_t;

typedef struct gw_expr_t gw_expr_t;

/* One node of a WHERE tree. `x NOT IN (...)` and `x NOT BETWEEN a AND b` are
 * NOT over IN / BETWEEN; NOT EXISTS is NOT over EXISTS. AND and OR chains
 * are left-deep (a AND b AND c is AND(AND(a, b), c)); parentheses leave no
 * node of their own. Every pointer is owned by the node. */
struct gw_expr_t {
    gw_expr_kind_t kind;
    size_t offset;              /* byte offset of the expression's first token */
    gw_expr_t *left, *right;    /* AND, OR (both), NOT (left) */
    char *column;               /* CMP, IN, BETWEEN, IS [NOT] NULL */
    size_t column_offset;
    gw_cmp_t cmp;               /* CMP */
    gw_literal_t *values;       /* CMP: 1, IN: n (>= 1), BETWEEN: 2 (low, high) */
    size_t nvalues;
    gw_dsref_t exists_from;     /* EXISTS */
    gw_expr_t *exists_where;    /* EXISTS; NULL when the sub-select has no WHERE */
};

typedef struct {
    char *group[3];             /* group columns in SELECT-list order; owned */
    size_t group_offset[3];
    size_t ngroup;              /* 0..3; GROUP BY lists exactly these */
    gw_measure_t measure;
    char *measure_column;       /* SUM, MEAN: owned; COUNT: NULL */
    size_t measure_offset;      /* SUM, MEAN: offset of the column; COUNT: of COUNT */
    gw_dsref_t *from;           /* nfrom >= 1 datasets joined by UNION; owned */
    size_t nfrom;
    gw_expr_t *where;           /* NULL when absent */
} gw_query_t;

typedef struct {
    size_t offset;       /* 0-based byte offset of the offending token; for
                          * "end of query", just past the last token */
    char message[256];   /* "expected FROM after the SELECT list, found 'FORM'";
                          * quotes at most 32 bytes of any token and never a
                          * string literal's content */
} gw_parse_error_t;

/* The default limits: 16384-byte query, 1000 IN values, depth 32,
 * 63-byte identifiers, 1024-byte strings. */
gw_parse_limits_t gw_parse_limits_default(void);

/* Parses len bytes of sql (NUL bytes and invalid UTF-8 anywhere are errors;
 * sql need not be NUL-terminated) under limits (NULL: the defaults).
 * On success returns HEARTH_OK and sets *out to a new tree the caller frees
 * with gw_query_destroy(). On failure sets *out to NULL, fills *err (when
 * err is not NULL) and returns HEARTH_ERR_TOO_BIG when a limit was exceeded
 * or HEARTH_ERR_PARSE for any other fault. */
hearth_err_t gw_parse(const char *sql, size_t len, const gw_parse_limits_t *limits,
                      gw_query_t **out, gw_parse_error_t *err);

/* Frees a tree and everything it points to; NULL-safe; sets *self_p to NULL. */
void gw_query_destroy(gw_query_t **self_p);

/* Returns the canonical SQL text of q (caller frees): upper-case keywords,
 * single spaces, the fewest parentheses that keep the tree, identifiers
 * quoted only when they must be, strings re-escaped, GROUP BY in SELECT-list
 * order, no trailing ';'. gw_parse() of the text gives an equal tree (offsets
 * aside). Returns NULL if q is malformed (an unknown kind, a missing name or
 * value) or the text would exceed GW_PARSE_FORMAT_MAX. */
char *gw_query_format(const gw_query_t *q);

/* Returns the canonical text of one WHERE expression (caller frees), by the
 * same rules as gw_query_format() and with no enclosing parentheses: the
 * text gw_query_format() writes after " WHERE " for a query whose WHERE is
 * e. Returns NULL if e is NULL or malformed, or the text would exceed
 * GW_PARSE_FORMAT_MAX. */
char *gw_expr_format(const gw_expr_t *e);

/* Renders err for a human (caller frees), as three lines without a final
 * newline:
 *     SELECT ward COUNT(*) FROM trust.ae
 *                 ^
 *     error: expected ',' after 'ward', found 'COUNT'
 * A multi-line query shows only the offending line, prefixed "line N: ".
 * A line longer than 100 characters is cut to 100 around the caret, with
 * "..." where text was left out. Control characters, invalid UTF-8 and
 * bidirectional-override characters are shown as '?', tabs as spaces, so
 * the caret stays under the token. Nothing but that line of the query is
 * echoed. */
char *gw_parse_error_render(const char *sql, size_t len, const gw_parse_error_t *err);

#endif
