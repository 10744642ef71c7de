/* client_audit_reconcile — `hearth audit reconcile`: a node's own record
 * of what it answered (the signed receipts `hearth-node receipts` prints)
 * held against the gateway's audit log, so that neither can drop or add a
 * dispatch unseen. Pure computation over a log already in memory.
 *
 * Findings name no identifier, token or query text: only receipt numbers,
 * leaf indexes, query ids, node names and what failed. */
#ifndef CLIENT_AUDIT_RECONCILE_H
#define CLIENT_AUDIT_RECONCILE_H

#include "client_audit_findings.h"
#include "client_audit_log.h"
#include "hearth_err.h"
#include "tlog_note.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest node receipts file read. */
#define CLIENT_AUDIT_RECEIPTS_MAX ((size_t)256 << 20)

/* Parses `hearth-node receipts` output text[0..len): one base64 signed note
 * per line (blank lines and CRLF line ends tolerated) into *notes (n of
 * them; caller frees each and the array). HEARTH_ERR_FORMAT with the line
 * number otherwise, *notes NULL and *n 0. */
hearth_err_t client_audit_reconcile_receipts_parse(const char *text, size_t len, char ***notes,
                                                   size_t *n, char **cause)
    __attribute__((warn_unused_result));

typedef struct {
    client_audit_findings_t findings;   /* the discrepancies, and notes */
    uint64_t receipts;                  /* receipts in the node's file */
    uint64_t in_log;                    /* of those, found in the log byte for byte */
    uint64_t dispatches;                /* DISPATCHED leaves to the node */
    uint64_t answered;                  /* of those, with a receipt in the file */
    bool ok;                            /* no discrepancy */
} client_audit_reconcile_t;

/* Reconciles node `node`'s receipts (signed notes) with log, everything
 * borrowed: every receipt must verify against key, be node's, and appear
 * in the log as a RECEIPT leaf with the identical note text; every
 * DISPATCHED leaf to node must have a receipt in the file naming its
 * index. Never fails: every problem is a finding. Caller frees the result
 * with client_audit_reconcile_destroy. */
client_audit_reconcile_t *client_audit_reconcile(const client_audit_log_t *log, const char *node,
                                                 const char *const *receipts, size_t n,
                                                 const tlog_verifier_t *key);

/* Frees the result and its findings, and sets *self_p to NULL; NULL-safe. */
void client_audit_reconcile_destroy(client_audit_reconcile_t **self_p);

#endif
