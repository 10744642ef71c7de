/* node_rows — reads an extract's data rows on a worker thread while the
 * ingest stores them, handing them over in fixed-size chunks through a
 * bounded queue (so memory stays flat whatever the file's size).
 *
 * For each row the worker normalises the identifiers, computes the tokens,
 * adds the row to the node's linkage and notes its provisional person id,
 * parses attribute values of declared types and tracks which types the
 * values of the other columns fit; rejected rows go to the report. The raw identifiers exist only on the
 * worker's stack for the row being read. */
#ifndef NODE_ROWS_H
#define NODE_ROWS_H

#include "hearth_buf.h"
#include "hearth_err.h"
#include "keys_token.h"
#include "node_csv.h"
#include "node_ingest.h"
#include "node_link.h"
#include "node_store.h"

#define NODE_ROWS_CHUNK 8192
#define NODE_ROWS_IN_FLIGHT 8
/* node_rows_col_t.type of a column whose type is inferred. */
#define NODE_ROWS_INFER (-1)

/* What the ingest does with one header column. */
typedef struct {
    int role;          /* a node_id_field_t, or -1 for none */
    int attr;          /* attribute ordinal, or -1 when not stored */
    int type;          /* declared node_col_type_t, or NODE_ROWS_INFER */
    const char *name;  /* stored name, for reject reasons (borrowed) */
} node_rows_col_t;

/* How one attribute cell is handed over. */
typedef enum {
    NODE_ROWS_NULL,    /* empty cell */
    NODE_ROWS_TEXT,    /* .text: bytes of the chunk's text */
    NODE_ROWS_INT,     /* .i */
    NODE_ROWS_REAL     /* .d */
} node_rows_kind_t;

/* One attribute cell; its kind says which member holds it. */
typedef union {
    struct {
        uint32_t off;  /* into the chunk's text, which stays below 2 GiB */
        uint32_t len;
    } text;
    int64_t i;
    double d;
} node_rows_cell_t;

/* Bits of node_rows_stats_t.fits. */
#define NODE_ROWS_FITS_INT 1u
#define NODE_ROWS_FITS_DEC 2u
#define NODE_ROWS_FITS_DATE 4u

/* What the worker learnt about one inferred attribute column from the rows
 * it handed over (rejected rows count for nothing).
 *
 * A type is known only once every value has been seen, but rows are
 * stored as they arrive; so while a column may still be integer, each
 * value written exactly as it prints goes over as an integer, the rest as
 * text, and the ingest converts what needs converting at the end. */
typedef struct {
    unsigned fits;          /* NODE_ROWS_FITS_* bits every value satisfies */
    uint64_t values;        /* non-empty cells */
    uint64_t bound_int;     /* cells handed over as integers */
    uint64_t text_int;      /* integers handed over as text ("007", "+5") */
    uint64_t slash_dates;   /* dates handed over as D/M/YYYY text */
} node_rows_stats_t;

/* The type the stats infer: integer, else decimal, else date, when every
 * value fits it and there is at least one; else categorical. */
node_col_type_t node_rows_stats_type(const node_rows_stats_t *s);

typedef struct node_rows_chunk_t node_rows_chunk_t;
struct node_rows_chunk_t {
    node_rows_chunk_t *next;
    size_t nrows;
    size_t first;                                   /* index of the first row (0-based) */
    uint8_t flags[NODE_ROWS_CHUNK];                 /* bit 0: NHS token, bit 1: DOB+sex+postcode */
    uint8_t nhs[NODE_ROWS_CHUNK][KEYS_TOKEN_LEN];
    uint8_t dsp[NODE_ROWS_CHUNK][KEYS_TOKEN_LEN];
    int64_t person[NODE_ROWS_CHUNK];                /* provisional person ids */
    /* Attribute cells, row-major: NODE_ROWS_CHUNK * nattr of each. */
    uint8_t *kind;                                  /* node_rows_kind_t */
    node_rows_cell_t *cell;
    hearth_buf_t text;
};

typedef struct node_rows_t node_rows_t;

/* Starts the worker. Everything passed is borrowed and must not be touched
 * by the caller until node_rows_finish: the reader (positioned after the
 * header), tok, cols[0..ncols), link (with the node's existing records
 * already added; the worker adds each new row after them), the report,
 * whose row counts and rejects the worker fills in, and stats[0..nattr),
 * which the worker initialises and fills in for the inferred columns.
 * A row with a value that does not parse as its column's declared type is
 * rejected ("column 'age': not an integer"; never the value). */
node_rows_t *node_rows_start(node_csv_t *csv, const keys_token_t *tok,
                             const node_rows_col_t *cols, size_t ncols, size_t nattr,
                             node_link_t *link, node_ingest_report_t *report,
                             node_rows_stats_t *stats);

/* The next chunk in row order (caller frees with node_rows_chunk_free), or
 * NULL when the worker has finished or failed. Blocks until one is ready. */
node_rows_chunk_t *node_rows_next(node_rows_t *self);

/* Wipes the chunk's tokens and frees it; NULL-safe; nulls *chunk_p. */
void node_rows_chunk_free(node_rows_chunk_t **chunk_p);

/* Stops the worker if it is still running (discarding unread chunks),
 * waits for it, and returns its result: HEARTH_OK when every row was read.
 * NULL-safe; nulls *self_p. */
hearth_err_t node_rows_finish(node_rows_t **self_p, char **cause);

#endif
