/* client_audit_verify — the checks behind `hearth audit verify`: given the
 * audit log's leaves and signed checkpoints, as fetched from the gateway or
 * read from an export, prove in the client, against the pinned gateway
 * audit key, that the log is what the gateway signed and that its events
 * make sense. Pure computation: no network, no files.
 *
 * Integrity (the log is the one that was signed):
 *   - leaf indexes run 0, 1, 2, ... with no gap, repeat or reordering;
 *   - every checkpoint opens with the gateway's verifier key (signature and
 *     origin), its size is at most the number of leaves, and its root is
 *     the RFC 6962 root recomputed from the first `size` leaves;
 *   - at least one checkpoint verifies when there are leaves;
 *   - the checkpoint accepted by an earlier verify, when given, is no larger
 *     than the newest one, the gateway's consistency proof from it to the
 *     newest verifies, and the leaves reproduce its root too;
 *   - every leaf decodes (audit_event.h);
 *   - every node receipt names a checkpoint whose root is the log's root at
 *     that size, and, when the node's key is given, its signature verifies.
 *
 * Semantics (per query id, in log order; GOVERNANCE leaves stand alone):
 *   - RECEIVED comes first and once; nothing of a query precedes it;
 *   - ACCEPTED at most once, before any outcome;
 *   - DISPATCHED only after RECEIVED and ACCEPTED and before any outcome,
 *     under the ACCEPTED project, for a dataset the ACCEPTED event lists,
 *     of the node it names ("node.dataset"), with part < nparts;
 *   - RECEIPT answers an earlier DISPATCHED of the same query (its `leaf`
 *     is that dispatch's index; same node and part), at most one per
 *     dispatch; its text is a signed note whose text is an audit_receipt
 *     naming the same node, query, part, nparts, leaf and outcome, and a
 *     checkpoint size s with dispatch index < s <= the receipt's own index.
 *     Receipts may follow the query's outcome (a late answer);
 *   - at most one outcome (RELEASED, REFUSED, ERROR) per query, and after
 *     it nothing but RECEIPTs. REFUSED and ERROR may come at any point
 *     after RECEIVED (before or after dispatch). RELEASED needs ACCEPTED,
 *     at least one DISPATCHED and, for every DISPATCHED of the query, an
 *     earlier RECEIPT with outcome "answered": hearth releases no partial
 *     result, so a release without every node's receipt is an error;
 *   - a query received but with no outcome is reported as a note ("received,
 *     not completed": e.g. the gateway stopped between commit and dispatch),
 *     not an error.
 *
 * Findings name no identifier, token or query text: only leaf indexes,
 * query ids, node names, sizes and what failed. */
#ifndef CLIENT_AUDIT_VERIFY_H
#define CLIENT_AUDIT_VERIFY_H

#include "client_audit_findings.h"
#include "client_audit_log.h"
#include "tlog_checkpoint.h"
#include "tlog_merkle.h"
#include "tlog_note.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A node's receipt verifier key, for the node named `node` in the log. */
typedef struct {
    const char *node;        /* borrowed */
    tlog_verifier_t key;
} client_audit_node_key_t;

/* What to verify. Everything is borrowed for the call. */
typedef struct {
    const client_audit_leaf_t *leaves;   /* in the order fetched */
    size_t n_leaves;
    const char *const *checkpoints;      /* signed checkpoint notes (NUL-terminated) */
    size_t n_checkpoints;
    const tlog_verifier_t *gateway;      /* the pinned gateway audit key */
    const client_audit_node_key_t *node_keys;   /* optional */
    size_t n_node_keys;
    bool has_previous;                   /* an earlier verify accepted `previous` */
    tlog_checkpoint_t previous;
    bool has_proof;                      /* the gateway's consistency proof */
    uint64_t proof_size;                 /* ... from previous.size to this size */
    const uint8_t (*proof)[TLOG_HASH_LEN];
    size_t n_proof;
} client_audit_verify_in_t;

typedef struct {
    client_audit_findings_t findings;
    bool ok;                     /* no integrity or semantic finding */
    uint64_t leaves;             /* leaves examined */
    uint64_t checkpoints;        /* checkpoints that verified */
    uint64_t queries;            /* distinct query ids received */
    uint64_t released, refused, errors;   /* outcomes */
    uint64_t incomplete;         /* received, no outcome */
    uint64_t dispatched, receipts;
    uint64_t receipts_signed;    /* receipts whose signature was checked */
    uint64_t governance;
    bool has_newest;             /* a checkpoint verified: */
    tlog_checkpoint_t newest;    /* the largest that verified and matched */
    size_t newest_note;          /* its position in in->checkpoints */
} client_audit_verdict_t;

/* Verifies in (see above) into a new verdict (caller frees with
 * client_audit_verify_destroy). Never fails: every problem is a finding.
 * Findings come in this order: leaf sequence, checkpoints, the previous
 * checkpoint, then per-leaf decoding, receipt and semantic findings sorted
 * by leaf, then the queries not completed. */
client_audit_verdict_t *client_audit_verify(const client_audit_verify_in_t *in);

/* Frees the verdict and its findings, and sets *self_p to NULL;
 * NULL-safe. */
void client_audit_verify_destroy(client_audit_verdict_t **self_p);

/* Splits a signed note into its text without checking any signature: the
 * bytes up to and including the newline before the first blank line. A new
 * string (caller frees), or NULL when note has no blank line. */
char *client_audit_verify_note_text(const char *note, size_t len);

#endif
