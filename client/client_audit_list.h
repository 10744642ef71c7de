/* client_audit_list — `hearth audit list`: the log's events grouped into
 * one row per query (and one per governance change), the filters that
 * select rows, and the rows rendered as a table, CSV or JSON. The rows are
 * also what the monthly report counts (client_audit_report).
 *
 * Everything shown comes from the gateway, as sent (only verify proves
 * it): strings are escaped for the terminal, quoted for CSV and escaped
 * for JSON, never used as formats. */
#ifndef CLIENT_AUDIT_LIST_H
#define CLIENT_AUDIT_LIST_H

#include "client_audit_log.h"
#include "client_render.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CLIENT_AUDIT_RELEASED,
    CLIENT_AUDIT_REFUSED,
    CLIENT_AUDIT_ERRORED,        /* an error or a timeout */
    CLIENT_AUDIT_INCOMPLETE,     /* received, no outcome (yet) */
    CLIENT_AUDIT_GOVERNANCE      /* not a query: a governance change */
} client_audit_outcome_t;

/* "released", "refused", "error", "incomplete", "governance" (static). */
const char *client_audit_list_outcome_name(client_audit_outcome_t o);

/* Parses a name above into *out; false for anything else (NULL too). */
bool client_audit_list_outcome_parse(const char *s, client_audit_outcome_t *out);

/* A query (all its events) or a governance change (one leaf). Strings are
 * owned, never NULL ("" when absent). */
typedef struct {
    client_audit_outcome_t outcome;
    uint64_t leaf;          /* its RECEIVED leaf (else its first), or the governance leaf */
    uint64_t time_ms;       /* when received (else its first event), or of the change */
    char *id;               /* the query id; a governance change's leaf index in decimal */
    char *analyst;          /* a governance change: who made it (actor) */
    char *project;          /* as received, else as accepted */
    uint64_t released;      /* cells released (RELEASED) */
    uint64_t suppressed;    /* cells suppressed (RELEASED) */
    char *reason;           /* refused or error reason ("timeout" prefixed for a
                             * timeout); a governance change: its action */
    char *nodes;            /* the nodes dispatched to, comma-separated, first first */
    bool received;          /* its RECEIVED leaf was among those grouped */
} client_audit_row_t;

typedef struct {
    client_audit_row_t *rows;   /* in log order (of each row's leaf) */
    size_t n;
    size_t undecodable;         /* leaves skipped because they do not decode */
} client_audit_rows_t;

/* Groups the leaves of log (borrowed) into rows (caller frees with
 * client_audit_list_rows_destroy). Leaves that do not decode are counted
 * and skipped (`verify` reports them). */
client_audit_rows_t *client_audit_list_rows_build(const client_audit_log_t *log);

/* Frees the rows and their strings, and sets *self_p to NULL; NULL-safe. */
void client_audit_list_rows_destroy(client_audit_rows_t **self_p);

/* What `list` selects; zero / NULL fields select everything. Strings are
 * borrowed. */
typedef struct {
    uint64_t since_ms, until_ms;     /* row time in [since, until) */
    const char *project;
    const char *analyst;             /* queries only: governance rows never match */
    bool has_outcome;
    client_audit_outcome_t outcome;  /* GOVERNANCE selects governance changes only */
} client_audit_filter_t;

/* True when row passes f (NULL: every row passes). */
bool client_audit_list_row_matches(const client_audit_row_t *row,
                                   const client_audit_filter_t *f);

/* The rows passing f (NULL: all), rendered as a table, CSV or a JSON array
 * (a new string; caller frees). Columns: id, time, analyst, project,
 * outcome, cells_released, cells_suppressed, nodes, reason; JSON adds
 * "kind" ("query" or "governance") and "leaf". NULL past
 * CLIENT_AUDIT_OUT_MAX. */
char *client_audit_list_rows_render(const client_audit_rows_t *rows,
                                    const client_audit_filter_t *f, client_format_t fmt);

#endif
