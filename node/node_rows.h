/* node_rows — reads an extract's data rows on a worker thread while the
 * ingest stores them, handing them over in fixed-size chunks through a
 * bounded queue (so memory stays flat whatever the file's size).
 *
 * For each row the worker normalises the identifiers, computes the tokens,
 * adds the row to the node's linkage and notes its provisional person id;
 * rejected rows go to the report. The raw identifiers exist only on the
 * worker's stack for the row being read. */
#ifndef NODE_ROWS_H
#define NODE_ROWS_H

#include "hearth_buf.h"
#include "hearth_err.h"
#include "keys_token.h"
#include "node_csv.h"
#include "node_ingest.h"
#include "node_link.h"

#define NODE_ROWS_CHUNK 8192
#define NODE_ROWS_IN_FLIGHT 8
#define NODE_ROWS_CELL_NULL UINT32_MAX

/* What the ingest does with one header column. */
typedef struct {
    int role;        /* a node_id_field_t, or -1 for none */
    int attr;        /* attribute ordinal, or -1 when not stored */
} node_rows_col_t;

typedef struct node_rows_chunk_t node_rows_chunk_t;
struct node_rows_chunk_t {
    node_rows_chunk_t *next;
    size_t nrows;
    size_t first;                                   /* index of the first row (0-based) */
    uint8_t flags[NODE_ROWS_CHUNK];                 /* bit 0: NHS token, bit 1: DOB+sex+postcode */
    uint8_t nhs[NODE_ROWS_CHUNK][KEYS_TOKEN_LEN];
    uint8_t dsp[NODE_ROWS_CHUNK][KEYS_TOKEN_LEN];
    int64_t person[NODE_ROWS_CHUNK];                /* provisional person ids */
    size_t *cell_off;                               /* NODE_ROWS_CHUNK * nattr, into text */
    uint32_t *cell_len;                             /* NODE_ROWS_CELL_NULL for NULL */
    hearth_buf_t text;
};

typedef struct node_rows_t node_rows_t;

/* Starts the worker. Everything passed is borrowed and must not be touched
 * by the caller until node_rows_finish: the reader (positioned after the
 * header), tok, cols[0..ncols), link (with the node's existing records
 * already added; the worker adds each new row after them) and the report,
 * whose row counts and rejects the worker fills in. */
node_rows_t *node_rows_start(node_csv_t *csv, const keys_token_t *tok,
                             const node_rows_col_t *cols, size_t ncols, size_t nattr,
                             node_link_t *link, node_ingest_report_t *report);

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
