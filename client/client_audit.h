/* client_audit — the IG officer's `hearth audit` commands (list, show,
 * export, verify, reconcile, report) over the gateway's analyst endpoint
 * (AuditLeaves/AuditCheckpoints/AuditConsistency requests, auditor role),
 * and the pure pieces behind them, which the tests drive directly:
 *
 *   - a log in memory (leaves and signed checkpoints) and its export file;
 *   - one row per query grouped from its events (list, report);
 *   - every event of a query, rendered (show);
 *   - reconciliation of a node's receipts file against the log.
 *
 * Export file (text, UTF-8, "\n" line ends, self-describing):
 *
 *   hearth-audit-export 1
 *   checkpoint <base64 of a signed checkpoint note>     (any number)
 *   leaf <index> <base64 of the leaf's bytes>            (any number, in order)
 *   end <number of checkpoint lines> <number of leaf lines>
 *
 * Numbers are canonical decimal; base64 is hearth_base64's (padded, strict);
 * nothing follows the end line, whose counts catch a truncated file.
 * `hearth audit verify --file` verifies such a file offline.
 *
 * Everything shown comes from the gateway: list, show and report display it
 * as sent, and only verify proves it. Strings are escaped for the terminal,
 * quoted for CSV and escaped for JSON, never used as formats. */
#ifndef CLIENT_AUDIT_H
#define CLIENT_AUDIT_H

#include "client_audit_verify.h"
#include "client_render.h"
#include "hearth_err.h"
#include "tlog_note.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Leaf bytes one log may hold, fetched or read. */
#define CLIENT_AUDIT_MAX_BYTES ((size_t)1 << 30)
/* The largest export file read (base64 of the above, and checkpoints). */
#define CLIENT_AUDIT_EXPORT_MAX ((size_t)3 << 29)
/* The largest node receipts file read. */
#define CLIENT_AUDIT_RECEIPTS_MAX ((size_t)256 << 20)
/* Leaves and checkpoints asked for per request. */
#define CLIENT_AUDIT_PAGE 1000u

/* ---- a log in memory ----------------------------------------------------- */

typedef struct {
    client_audit_leaf_t *leaves;   /* owned, data included; in the order added */
    size_t n_leaves, cap_leaves;
    char **notes;                  /* owned: signed checkpoint notes */
    size_t n_notes, cap_notes;
    size_t bytes;                  /* leaf bytes held */
    uint64_t log_size;             /* the log's size as the gateway last said; 0 offline */
} client_audit_log_t;

/* A new empty log; free with client_audit_log_destroy. */
client_audit_log_t *client_audit_log_new(void);
void client_audit_log_destroy(client_audit_log_t **self_p);

/* Appends a copy of data[0..len) as the leaf with this index.
 * HEARTH_ERR_TOO_BIG past AUDIT_LEAF_MAX or CLIENT_AUDIT_MAX_BYTES in all. */
hearth_err_t client_audit_log_add_leaf(client_audit_log_t *self, uint64_t index,
                                       const uint8_t *data, size_t len, char **cause)
    __attribute__((warn_unused_result));

/* Appends a copy of note[0..len). HEARTH_ERR_TOO_BIG past TLOG_NOTE_MAX;
 * HEARTH_ERR_FORMAT when it holds a NUL byte. */
hearth_err_t client_audit_log_add_note(client_audit_log_t *self, const char *note, size_t len,
                                       char **cause) __attribute__((warn_unused_result));

/* The export file of self (see above) as a new string (caller frees);
 * *len (may be NULL) is its length. */
char *client_audit_export_format(const client_audit_log_t *self, size_t *len);

/* Parses an export file text[0..len) into a new log (*out; caller frees).
 * HEARTH_ERR_FORMAT with the line number for anything but the format above;
 * HEARTH_ERR_TOO_BIG past the bounds. */
hearth_err_t client_audit_export_parse(const char *text, size_t len, client_audit_log_t **out,
                                       char **cause) __attribute__((warn_unused_result));

/* ---- times ---------------------------------------------------------------- */

/* Parses a UTC date "YYYY-MM-DD" or date-time "YYYY-MM-DDTHH:MM[:SS][Z]"
 * into milliseconds since the epoch. A bare date is its midnight, or, when
 * end_of_day, the next midnight (so --until DATE includes that day). False
 * for anything else. */
bool client_audit_time_parse(const char *s, bool end_of_day, uint64_t *ms);

/* Parses "YYYY-MM" into [since, until) in milliseconds (UTC). */
bool client_audit_month_parse(const char *s, uint64_t *since_ms, uint64_t *until_ms);

/* Writes ms as "YYYY-MM-DDTHH:MM:SSZ" (with_ms: ".mmm" before the Z) into
 * out, which holds 32 bytes. */
void client_audit_time_format(uint64_t ms, bool with_ms, char out[32]);

/* ---- one row per query ------------------------------------------------------ */

typedef enum {
    CLIENT_AUDIT_RELEASED,
    CLIENT_AUDIT_REFUSED,
    CLIENT_AUDIT_ERRORED,        /* an error or a timeout */
    CLIENT_AUDIT_INCOMPLETE,     /* received, no outcome (yet) */
    CLIENT_AUDIT_GOVERNANCE      /* not a query: a governance change */
} client_audit_outcome_t;

/* "released", "refused", "error", "incomplete", "governance" (static). */
const char *client_audit_outcome_name(client_audit_outcome_t o);

/* Parses a name above into *out; false for anything else. */
bool client_audit_outcome_parse(const char *s, client_audit_outcome_t *out);

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

/* Groups the log's leaves into rows (caller frees with
 * client_audit_rows_destroy). Leaves that do not decode are counted and
 * skipped (`verify` reports them). */
client_audit_rows_t *client_audit_rows_build(const client_audit_log_t *log);
void client_audit_rows_destroy(client_audit_rows_t **self_p);

/* What `list` selects; zero / NULL fields select everything. */
typedef struct {
    uint64_t since_ms, until_ms;     /* row time in [since, until) */
    const char *project;
    const char *analyst;             /* queries only: governance rows never match */
    bool has_outcome;
    client_audit_outcome_t outcome;  /* GOVERNANCE selects governance changes only */
} client_audit_filter_t;

/* True when row passes f. */
bool client_audit_row_matches(const client_audit_row_t *row, const client_audit_filter_t *f);

/* The rows passing f (NULL: all), rendered as a table, CSV or a JSON array
 * (a new string; caller frees). Columns: id, time, analyst, project,
 * outcome, cells_released, cells_suppressed, nodes, reason; JSON adds
 * "kind" ("query" or "governance") and "leaf". NULL past the output bound. */
char *client_audit_rows_render(const client_audit_rows_t *rows, const client_audit_filter_t *f,
                               client_format_t fmt);

/* ---- monthly per-project report -------------------------------------------------- */

typedef struct {
    char *project;          /* owned */
    uint64_t queries, released, refused, errors, incomplete;
    uint64_t cells_released, cells_suppressed;
} client_audit_report_line_t;

typedef struct {
    char month[8];                      /* "YYYY-MM" */
    client_audit_report_line_t *lines;  /* sorted by project */
    size_t n;
} client_audit_report_t;

/* Counts the queries (not governance changes) received in month (a string
 * client_audit_month_parse accepts; NULL returned otherwise), per project,
 * only project's when project is not NULL. Caller frees. */
client_audit_report_t *client_audit_report_build(const client_audit_rows_t *rows,
                                                 const char *month, const char *project);
void client_audit_report_destroy(client_audit_report_t **self_p);

/* The report as a table (with a total line), CSV or JSON
 * {"month": ..., "projects": [...]}; caller frees. */
char *client_audit_report_render(const client_audit_report_t *r, client_format_t fmt);

/* ---- show -------------------------------------------------------------------- */

/* Every leaf of log, in order, with its index, time, type and the fields
 * its type has, as text (fmt CLIENT_FORMAT_TABLE) or a JSON array
 * (CLIENT_FORMAT_JSON); a leaf that does not decode says so. Caller frees;
 * NULL for CSV or past the output bound. */
char *client_audit_events_render(const client_audit_log_t *log, client_format_t fmt);

/* ---- reconcile ------------------------------------------------------------------ */

/* Parses `hearth-node receipts` output text[0..len): one base64 signed note
 * per line (blank lines ignored) into *notes (n of them; caller frees each
 * and the array). HEARTH_ERR_FORMAT with the line number otherwise. */
hearth_err_t client_audit_receipts_parse(const char *text, size_t len, char ***notes, size_t *n,
                                         char **cause) __attribute__((warn_unused_result));

typedef struct {
    client_audit_findings_t findings;   /* the discrepancies, and notes */
    uint64_t receipts;                  /* receipts in the node's file */
    uint64_t in_log;                    /* of those, found in the log byte for byte */
    uint64_t dispatches;                /* DISPATCHED leaves to the node */
    uint64_t answered;                  /* of those, with a receipt in the file */
    bool ok;                            /* no discrepancy */
} client_audit_reconcile_t;

/* Reconciles node `node`'s receipts (signed notes, borrowed) with log:
 * every receipt must verify against key, be node's, and appear in the log
 * as a RECEIPT leaf with the identical note text; every DISPATCHED leaf to
 * node must have a receipt in the file naming its index. Caller frees the
 * result with client_audit_reconcile_destroy. */
client_audit_reconcile_t *client_audit_reconcile(const client_audit_log_t *log, const char *node,
                                                 const char *const *receipts, size_t n,
                                                 const tlog_verifier_t *key);
void client_audit_reconcile_destroy(client_audit_reconcile_t **self_p);

/* ---- the commands ---------------------------------------------------------------- */

/* Runs `hearth audit SUBCOMMAND ...` (argv[0] is "audit"), printing to
 * standard output and errors to standard error. Returns the exit status:
 * 0 done (verify: verified; reconcile: reconciled), 1 failed or error,
 * 2 usage. */
int client_audit_main(int argc, char **argv);

#endif
