/* client_render — turns a QueryResult from the gateway into what the analyst
 * sees: an aligned table for a terminal, CSV for spreadsheets and R/Python,
 * or the stable JSON shape of the product brief. A linked query's result
 * also says how its persons were linked: a "linkage" object after
 * "disclosure" in JSON, a "linkage:" line under the table; CSV carries the
 * table only.
 *
 * JSON's "disclosure" object states the rules applied, every key always
 * present and in this order: "threshold", "rounding", "suppressed_cells",
 * "zeros" ("released" or "disclosive"), "protection", "dominance" ("off",
 * "p% P" or "n,k N K"), "project" (a name, or null); then, only when noise
 * was added, "dp": {"epsilon": "0.5", "budget_remaining": "1.5"}. The
 * table's footer adds a line for each rule beyond the defaults in force:
 * zeros hidden, the dominance rule (SUM and MEAN), noise and the budget
 * left.
 *
 * Every string in a result came from the network. They are only ever copied
 * as data (escaped for JSON, quoted for CSV, control characters made visible
 * for the terminal), never used as a format string. A suppressed cell's value
 * is never rendered, whatever the message carries. */
#ifndef CLIENT_RENDER_H
#define CLIENT_RENDER_H

#include "hearth.pb-c.h"
#include "hearth_buf.h"
#include "hearth_err.h"

#include <stdbool.h>
#include <stddef.h>

/* The largest rendering client_render_result produces. A result off the
 * wire is at most PROTO_MAX_CLIENT_MSG bytes, but group column names repeat
 * on every JSON row, so the output needs its own bound. */
#define CLIENT_RENDER_MAX (64u << 20)

typedef enum {
    CLIENT_FORMAT_TABLE,
    CLIENT_FORMAT_CSV,
    CLIENT_FORMAT_JSON
} client_format_t;

/* Parses "table", "csv" or "json" (exactly, lower case) into *out.
 * Returns false, leaving *out alone, for anything else or NULL. */
bool client_format_parse(const char *name, client_format_t *out);

/* Renders r (borrowed) in fmt into a new NUL-terminated string ending in a
 * newline (caller frees). Returns NULL when r is NULL, fmt is not a
 * client_format_t, or the rendering would exceed CLIENT_RENDER_MAX bytes.
 * NULL strings and absent sub-messages in r read as their protobuf
 * defaults, so a hand-built result renders like a decoded one. */
char *client_render_result(const Hearth__QueryResult *r, client_format_t fmt);

/* The escapes client_render_result uses, for other renderings of network
 * strings (client_catalogue). s is borrowed; NULL reads as "". */

/* Appends s to b as a JSON string literal, quotes included: '"' and '\\'
 * escaped, control characters as \n, \r, \t or \u00XX, other bytes as they
 * are. Returns HEARTH_ERR_TOO_BIG when b's maximum is reached, leaving part
 * of the literal in b (the caller discards b). */
hearth_err_t client_render_json_string(hearth_buf_t *b, const char *s)
    __attribute__((warn_unused_result));

/* Appends s to b as one CSV field, quoted as RFC 4180 asks when it holds a
 * separator, a quote or a line break (records end in "\n" rather than
 * CRLF: R, Python and spreadsheets read both, and "\n" is what a Unix
 * pipeline expects). HEARTH_ERR_TOO_BIG past b's bound. */
hearth_err_t client_render_csv_field(hearth_buf_t *b, const char *s)
    __attribute__((warn_unused_result));

/* Appends s to b for a terminal: C0 controls and DEL shown as \xHH, C1
 * controls as \u00HH, so nothing from the network can move the cursor.
 * Returns HEARTH_ERR_TOO_BIG as client_render_json_string does. */
hearth_err_t client_render_term_text(hearth_buf_t *b, const char *s)
    __attribute__((warn_unused_result));

/* The width in terminal columns of s as client_render_term_text writes it
 * (UTF-8 code points, each escape counted in full). */
size_t client_render_term_width(const char *s);

#endif
