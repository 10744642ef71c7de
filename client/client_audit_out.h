/* client_audit_out — the bounded text buffer the `hearth audit`
 * renderings (list, show, report, findings) write into. It remembers that
 * it overflowed, so a renderer appends without checking every call and
 * learns once, at client_audit_out_take, that the rendering was too large.
 *
 * Everything shown comes from the gateway: strings from it go through the
 * escaping writers (_term, _json, _csv, _table), never used as formats;
 * _add and _add_n copy text as it is, for what the client itself wrote. */
#ifndef CLIENT_AUDIT_OUT_H
#define CLIENT_AUDIT_OUT_H

#include "hearth_buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest rendering built in memory. */
#define CLIENT_AUDIT_OUT_MAX ((size_t)1 << 30)

/* A rendering under way; a value on the caller's stack, started with
 * client_audit_out_init and finished with client_audit_out_take. */
typedef struct {
    hearth_buf_t b;   /* the text so far (owned until taken) */
    bool full;        /* an append would have passed CLIENT_AUDIT_OUT_MAX */
} client_audit_out_t;

/* Starts an empty rendering. */
void client_audit_out_init(client_audit_out_t *o);

/* Appends s (borrowed) as it is. */
void client_audit_out_add(client_audit_out_t *o, const char *s);

/* Appends s[0..n) as it is. */
void client_audit_out_add_n(client_audit_out_t *o, const char *s, size_t n);

/* Appends v in decimal. */
void client_audit_out_u64(client_audit_out_t *o, uint64_t v);

/* Appends s as a JSON string literal (client_render_json_string). */
void client_audit_out_json(client_audit_out_t *o, const char *s);

/* Appends s escaped for the terminal (client_render_term_text). */
void client_audit_out_term(client_audit_out_t *o, const char *s);

/* Appends s as one CSV field, quoted as RFC 4180 asks (as client_render
 * writes CSV) when it holds a comma, a quote or a line break. */
void client_audit_out_csv(client_audit_out_t *o, const char *s);

/* Appends n spaces. */
void client_audit_out_spaces(client_audit_out_t *o, size_t n);

/* Appends a table: the header row, then nrows rows of ncols cells
 * (cells[r * ncols + c]; every string borrowed), columns padded to their
 * widest cell and two spaces apart, every string escaped for the terminal,
 * each row a line with no trailing spaces. right[c] marks a right-aligned
 * (numeric) column. */
void client_audit_out_table(client_audit_out_t *o, size_t ncols, const char *const *header,
                            const bool *right, const char *const *cells, size_t nrows);

/* Ends the rendering: its text (caller frees), or NULL (the text freed)
 * when it overflowed. */
char *client_audit_out_take(client_audit_out_t *o);

#endif
